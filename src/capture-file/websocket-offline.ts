// The WebSocket after an accepted upgrade, read back from a recorded session: each direction is
// read by a WebSocketFrameReader (ws's frame Receiver, permessage-deflate undone synchronously, so
// reading a capture stays a pure function), fed the recorded chunks in the order they passed so
// the messages keep their order across directions.

import type { Flow } from '../model/flow.js';
import { acceptsDeflate, watchWebSocket } from '../flow/websocket-frame-reader.js';
import type { OfflineConnection } from './offline-connection.js';
import type { RecordedExchange } from './recorded-exchange.js';

/**
 * `upFrom`/`downFrom`: where the frames start in each direction (just past the upgrade request
 * and the 101). The flow ends with the session, or when a direction stops parsing.
 */
export function webSocketFlow(connection: OfflineConnection, exchange: RecordedExchange, upFrom: number, downFrom: number, extensions: string | undefined): Flow {
  let time = '';
  let error: string | undefined;
  // A frame that cannot be read ends the flow here with an error (the live relays only tag it:
  // their bytes go on, a capture's reading of that direction stops).
  const watch = watchWebSocket({
    webSocketMessage: (fromClient, data, binary) => exchange.webSocketMessage(fromClient, data, binary, time),
    tag: (tag) => exchange.tag(tag),
    unreadable: (reason) => { error ??= reason; },
  }, acceptsDeflate(extensions));
  const sides = [{ reader: watch.fromClient, at: 0, start: upFrom }, { reader: watch.fromServer, at: 0, start: downFrom }];
  for (const chunk of connection.session.chunks) {
    const side = sides[chunk.fromClient ? 0 : 1]!;
    const begin = side.at;
    side.at += chunk.data.length;
    if (side.reader.failure !== undefined || side.at <= side.start || chunk.data.length === 0) continue;
    time = chunk.time;
    side.reader.push(begin >= side.start ? chunk.data : chunk.data.subarray(side.start - begin));
  }
  return exchange.finish(error, connection.session.endedAt);
}
