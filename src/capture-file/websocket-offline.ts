// The WebSocket after an accepted upgrade, read back from a recorded session: ws's own frame
// Receiver reads each direction (masking, fragmentation, control frames, limits), fed the
// recorded chunks in the order they passed so the messages keep their order across directions.
// permessage-deflate, when the server accepted it, is undone synchronously (sync-inflater.ts)
// so reading a capture stays a pure function.

import * as wsModule from 'ws';
import type { Flow } from '../model/flow.js';
import type { OfflineConnection } from './offline-connection.js';
import type { RecordedExchange } from './recorded-exchange.js';
import { SyncInflater } from './sync-inflater.js';

/** The part of ws's Receiver (a Writable; not in @types/ws) we drive. */
interface FrameReceiver {
  on(event: 'message', listener: (data: Buffer, binary: boolean) => void): void;
  on(event: 'conclude', listener: (code: number, reason: Buffer) => void): void;
  /** Writable's implementation hook, called directly so parsing stays synchronous and errors come back here. */
  _write(chunk: Buffer, encoding: string, callback: (error?: Error | null) => void): void;
}

interface ReceiverOptions {
  isServer: boolean;
  extensions: Record<string, unknown>;
  maxPayload: number;
  skipUTF8Validation: boolean;
  allowSynchronousEvents: boolean;
}

const Receiver = (wsModule as unknown as { Receiver: new (options: ReceiverOptions) => FrameReceiver }).Receiver;

/** Largest message we reassemble (ws's own default). */
const MAX_MESSAGE_BYTES = 100 * 1024 * 1024;

/** Whether the server's Sec-WebSocket-Extensions accepted permessage-deflate. */
export function acceptsDeflate(extensions: string | undefined): boolean {
  return (extensions ?? '').split(',').some((offer) => offer.split(';')[0]!.trim().toLowerCase() === 'permessage-deflate');
}

/**
 * `upFrom`/`downFrom`: where the frames start in each direction (just past the upgrade request
 * and the 101). The flow ends with the session, or when a direction stops parsing.
 */
export function webSocketFlow(connection: OfflineConnection, exchange: RecordedExchange, upFrom: number, downFrom: number, extensions: string | undefined): Flow {
  const deflate = acceptsDeflate(extensions);
  let time = '';
  let error: string | undefined;
  const sides = [true, false].map((fromClient) => {
    // The client's frames are masked: ws reads them as a server would.
    const receiver = new Receiver({
      isServer: fromClient, maxPayload: MAX_MESSAGE_BYTES, skipUTF8Validation: true, allowSynchronousEvents: true,
      extensions: deflate ? { 'permessage-deflate': new SyncInflater(MAX_MESSAGE_BYTES) } : {},
    });
    receiver.on('message', (data, binary) => exchange.webSocketMessage(fromClient, data, binary, time));
    receiver.on('conclude', (code) => {
      exchange.tag(`websocket:close-${fromClient ? 'client' : 'server'}-${code}`);
    });
    return { fromClient, receiver, at: 0, start: fromClient ? upFrom : downFrom, failed: false };
  });
  for (const chunk of connection.session.chunks) {
    const side = sides[chunk.fromClient ? 0 : 1]!;
    const begin = side.at;
    side.at += chunk.data.length;
    if (side.failed || side.at <= side.start || chunk.data.length === 0) continue;
    time = chunk.time;
    const part = begin >= side.start ? chunk.data : chunk.data.subarray(side.start - begin);
    side.receiver._write(part, 'buffer', (err) => {
      if (!err) return;
      side.failed = true;
      error ??= `${side.fromClient ? 'client' : 'server'} WebSocket frames: ${err.message}`;
    });
  }
  return exchange.finish(error, connection.session.endedAt);
}
