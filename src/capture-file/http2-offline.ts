// HTTP/2 read back from a recorded session, one flow per stream like the live Http2Layer: the
// recorded chunks are cut into frames in the order they passed, header blocks (HEADERS and its
// CONTINUATIONs, PUSH_PROMISE too, to keep the tables in step) are decoded with one HPACK table
// per direction, DATA goes to its stream without padding, a second header block is the trailers,
// 1xx heads are passed over, RST_STREAM ends a stream with its code. gRPC calls are split into
// messages by the live recorder; an accepted WebSocket over HTTP/2 (RFC 8441's extended CONNECT)
// has its DATA read as frames, into messages, as the live tunnel records them. A frame that
// cannot be read ends the reading: the streams still open get the error, and the bytes after it
// become a raw remainder.

import { headerValue, type Flow, type HeaderList } from '../model/flow.js';
import { describeError } from '../util/errors.js';
import { acceptsDeflate, watchWebSocket, type WebSocketFrameReader } from '../flow/websocket-frame-reader.js';
import { HpackDecoder } from './hpack-decoder.js';
import { FrameFlag, FrameType, Http2FrameReader, type Http2Frame } from './http2-frames.js';
import { requestUrl, type OfflineConnection } from './offline-connection.js';
import { rawFlow } from './raw-offline.js';
import { RecordedDirection } from './recorded-direction.js';
import { RecordedExchange } from './recorded-exchange.js';

const NO_ERROR = 0;
const CANCEL = 8;

interface StreamState {
  readonly exchange: RecordedExchange;
  responded: boolean;
  clientEnded: boolean;
  serverEnded: boolean;
  /** An extended CONNECT for a WebSocket (RFC 8441), whose DATA become frames once accepted. */
  readonly webSocket: boolean;
  /** The frame readers of an accepted WebSocket: the client's, then the server's. */
  frames?: readonly [WebSocketFrameReader, WebSocketFrameReader];
}

/** A header block being gathered from HEADERS (or PUSH_PROMISE) and CONTINUATION frames. */
interface OpenBlock {
  readonly streamId: number;
  readonly endStream: boolean;
  readonly push: boolean;
  readonly fragments: Buffer[];
  bytes: number;
}

/** Largest header block we gather (the live layer allows 64 KiB of decoded headers; encoded is smaller). */
const MAX_HEADER_BLOCK_BYTES = 256 * 1024;

class Direction {
  readonly reader: Http2FrameReader;
  readonly hpack = new HpackDecoder();
  block: OpenBlock | undefined;

  constructor(readonly fromClient: boolean) {
    this.reader = new Http2FrameReader(fromClient);
  }
}

/** The payload without its padding (PADDED flag), and without HEADERS' priority fields. */
function unpadded(frame: Http2Frame): Buffer {
  let payload = frame.payload;
  if (frame.flags & FrameFlag.PADDED && (frame.type === FrameType.DATA || frame.type === FrameType.HEADERS || frame.type === FrameType.PUSH_PROMISE)) {
    const pad = payload[0] ?? 0;
    if (pad >= payload.length) throw new Error(`frame padding of ${pad} bytes in a ${payload.length}-byte payload`);
    payload = payload.subarray(1, payload.length - pad);
  }
  if (frame.type === FrameType.HEADERS && frame.flags & FrameFlag.PRIORITY) payload = payload.subarray(5);
  return payload;
}

/** Readers of an accepted WebSocket over HTTP/2, recording into `exchange` at the time `now` gives. */
function webSocketReaders(exchange: RecordedExchange, deflate: boolean, now: () => string): [WebSocketFrameReader, WebSocketFrameReader] {
  const { fromClient, fromServer } = watchWebSocket({ webSocketMessage: (client, data, binary) => exchange.webSocketMessage(client, data, binary, now()), tag: (tag) => exchange.tag(tag) }, deflate);
  return [fromClient, fromServer];
}

export function http2Flows(connection: OfflineConnection): Flow[] {
  const flows: Flow[] = [];
  const streams = new Map<number, StreamState>();
  const directions = [new Direction(true), new Direction(false)] as const;
  const endedAt = connection.session.endedAt;
  let time = connection.session.startedAt;

  const finish = (id: number, error?: string): void => {
    const stream = streams.get(id);
    if (!stream) return;
    streams.delete(id);
    flows.push(stream.exchange.finish(error, time));
  };

  const headerBlock = (direction: Direction, block: OpenBlock, headers: HeaderList): void => {
    if (block.push) return; // a promised stream: decoded only to keep the table in step; live refuses pushes
    const id = block.streamId;
    let stream = streams.get(id);
    if (direction.fromClient) {
      if (!stream) {
        const authority = headerValue(headers, ':authority') ?? headerValue(headers, 'host');
        const request = { method: headerValue(headers, ':method') ?? 'GET', url: requestUrl(connection, authority, headerValue(headers, ':path') ?? '/'), httpVersion: 'HTTP/2.0', headers };
        const webSocket = request.method === 'CONNECT' && headerValue(headers, ':protocol')?.toLowerCase() === 'websocket';
        stream = { exchange: new RecordedExchange(connection, request, authority, time), responded: false, clientEnded: false, serverEnded: false, webSocket };
        streams.set(id, stream);
      } else {
        stream.exchange.trailers(true, headers, time);
      }
      if (block.endStream) stream.clientEnded = true;
    } else {
      if (!stream) return; // an answer to a stream the capture did not show opening
      const status = Number(headerValue(headers, ':status') ?? 0);
      if (!stream.responded && status >= 100 && status < 200) {
        stream.exchange.tag(`http:interim-${status}`);
      } else if (!stream.responded) {
        stream.responded = true;
        stream.exchange.response({ status, statusText: '', httpVersion: 'HTTP/2.0', headers }, time);
        if (stream.webSocket && status >= 200 && status < 300) stream.frames = webSocketReaders(stream.exchange, acceptsDeflate(headerValue(headers, 'sec-websocket-extensions')), () => time);
      } else {
        stream.exchange.trailers(false, headers, time);
      }
      if (block.endStream) stream.serverEnded = true;
    }
    if (stream.clientEnded && stream.serverEnded) finish(id);
  };

  const onFrame = (direction: Direction, frame: Http2Frame): void => {
    const open = direction.block;
    if (open && (frame.type !== FrameType.CONTINUATION || frame.streamId !== open.streamId)) throw new Error('a header block was interrupted by another frame');
    switch (frame.type) {
      case FrameType.HEADERS:
      case FrameType.PUSH_PROMISE:
      case FrameType.CONTINUATION: {
        if (frame.type === FrameType.CONTINUATION && !open) throw new Error('CONTINUATION without a header block');
        let fragment = frame.type === FrameType.CONTINUATION ? frame.payload : unpadded(frame);
        if (frame.type === FrameType.PUSH_PROMISE) fragment = fragment.subarray(4); // the promised stream id
        const block = open ?? { streamId: frame.streamId, endStream: (frame.flags & FrameFlag.END_STREAM) !== 0, push: frame.type === FrameType.PUSH_PROMISE, fragments: [], bytes: 0 };
        block.fragments.push(fragment);
        block.bytes += fragment.length;
        if (block.bytes > MAX_HEADER_BLOCK_BYTES) throw new Error(`a header block longer than ${MAX_HEADER_BLOCK_BYTES} bytes`);
        if ((frame.flags & FrameFlag.END_HEADERS) === 0) {
          direction.block = block;
          return;
        }
        direction.block = undefined;
        const headers = direction.hpack.decode(block.fragments.length === 1 ? block.fragments[0]! : Buffer.concat(block.fragments));
        headerBlock(direction, block, headers);
        return;
      }
      case FrameType.DATA: {
        const stream = streams.get(frame.streamId);
        if (!stream) return;
        const data = unpadded(frame);
        const reader = stream.frames?.[direction.fromClient ? 0 : 1];
        if (reader && data.length > 0) reader.push(data);
        else if (data.length > 0) stream.exchange.data(direction.fromClient, data, time);
        else stream.exchange.saw(time);
        if (frame.flags & FrameFlag.END_STREAM) {
          if (direction.fromClient) stream.clientEnded = true;
          else stream.serverEnded = true;
          if (stream.clientEnded && stream.serverEnded) finish(frame.streamId);
        }
        return;
      }
      case FrameType.RST_STREAM: {
        const stream = streams.get(frame.streamId);
        if (!stream || frame.payload.length < 4) return;
        const code = frame.payload.readUInt32BE(0);
        if (code === NO_ERROR) {
          finish(frame.streamId);
          return;
        }
        stream.exchange.tag(direction.fromClient ? `h2:rst-stream-${code}` : `h2:server-rst-stream-${code}`);
        const reason = direction.fromClient
          ? code === CANCEL ? 'the stream was cancelled before it completed' : `the stream was reset with code ${code}`
          : `the server reset the stream with code ${code}`;
        finish(frame.streamId, reason);
        return;
      }
      default:
        // SETTINGS, PING, GOAWAY, WINDOW_UPDATE, PRIORITY and unknown types carry no exchange data.
        return;
    }
  };

  let failure: string | undefined;
  for (const chunk of connection.session.chunks) {
    const direction = directions[chunk.fromClient ? 0 : 1];
    time = chunk.time;
    try {
      for (const frame of direction.reader.push(chunk.data)) onFrame(direction, frame);
    } catch (error) {
      failure = `${direction.fromClient ? 'client' : 'server'} HTTP/2 frames: ${describeError(error)}`;
      break;
    }
  }
  time = endedAt;
  const unfinished = failure ?? (directions.some((d) => d.reader.pending) ? 'the capture ended inside an HTTP/2 frame' : 'the capture ended before the stream completed');
  for (const id of [...streams.keys()]) finish(id, unfinished);
  // A frame cut by the end of the capture, or bytes that never made a frame, are kept as raw bytes.
  if (!failure && directions.some((d) => d.reader.pending)) failure = 'the capture ended inside an HTTP/2 frame';
  if (failure) {
    const up = RecordedDirection.of(connection.session, true);
    const down = RecordedDirection.of(connection.session, false);
    flows.push(rawFlow(connection, up, down, 'unparsed', { up: directions[0].reader.consumed, down: directions[1].reader.consumed, error: failure, tags: ['h2:unparsed'] }));
  }
  return flows;
}
