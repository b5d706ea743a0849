// One direction of a WebSocket read from its bytes as they pass, without taking part in it: ws's
// own frame Receiver (masking, fragmentation, control frames, limits) turns the frames into
// messages, and permessage-deflate, when the server accepted it, is undone synchronously
// (sync-inflater.ts). Used wherever WebSockets are relayed as they are and only watched: live over
// HTTP/1.1 (proxy/layers/upgrade-relay.ts) and over HTTP/2 (RFC 8441,
// proxy/layers/http2-websocket-tunnel.ts), and read back from a recorded session
// (capture-file/websocket-offline.ts, http2-offline.ts). Frames it cannot read stop the reading,
// never the bytes.

import * as wsModule from 'ws';
import { SyncInflater } from '../capture-file/sync-inflater.js';

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

/** Largest message reassembled (ws's own default); a larger one stops the reading. */
export const MAX_WEBSOCKET_MESSAGE_BYTES = 100 * 1024 * 1024;

/** Whether the server's Sec-WebSocket-Extensions (one field, or its lines as Node lists them) accepted permessage-deflate. */
export function acceptsDeflate(extensions: string | readonly string[] | undefined): boolean {
  const fields = typeof extensions === 'string' ? [extensions] : extensions ?? [];
  return fields.some((field) => field.split(',').some((offer) => offer.split(';')[0]!.trim().toLowerCase() === 'permessage-deflate'));
}

export interface FrameReaderEvents {
  message(data: Buffer, binary: boolean): void;
  /** A close frame, with its code (1005 when it gave none). */
  close(code: number): void;
  /** The reading stopped on frames it could not read (told once; the bytes still go on). */
  unreadable?(reason: string): void;
}

export class WebSocketFrameReader {
  readonly #fromClient: boolean;
  readonly #receiver: FrameReceiver;
  readonly #events: FrameReaderEvents;
  #failure: string | undefined;

  /** `fromClient`: the client's frames, which are masked (read as a server reads them). */
  constructor(fromClient: boolean, deflate: boolean, events: FrameReaderEvents, maxMessageBytes = MAX_WEBSOCKET_MESSAGE_BYTES) {
    this.#fromClient = fromClient;
    this.#events = events;
    this.#receiver = new Receiver({
      isServer: fromClient, maxPayload: maxMessageBytes, skipUTF8Validation: true, allowSynchronousEvents: true,
      extensions: deflate ? { 'permessage-deflate': new SyncInflater(maxMessageBytes) } : {},
    });
    this.#receiver.on('message', (data, binary) => events.message(data, binary));
    this.#receiver.on('conclude', (code) => events.close(code));
  }

  /** Why the reading stopped, once it has. */
  get failure(): string | undefined {
    return this.#failure;
  }

  /** The next bytes of this direction, in order. The reader never changes them. */
  push(chunk: Buffer): void {
    if (this.#failure !== undefined || chunk.length === 0) return;
    // ws unmasks a client's payload where it lies: a copy, so that the bytes given here (which a
    // relay sends on as they are) keep their mask.
    this.#receiver._write(this.#fromClient ? Buffer.from(chunk) : chunk, 'buffer', (error) => {
      if (!error || this.#failure !== undefined) return;
      this.#failure = `${this.#fromClient ? 'client' : 'server'} WebSocket frames: ${error.message}`;
      this.#events.unreadable?.(this.#failure);
    });
  }
}

/** Where a watched WebSocket's messages and facts go (an exchange's recorder). */
export interface WebSocketRecord {
  webSocketMessage(fromClient: boolean, data: Buffer, binary: boolean): void;
  tag(tag: string): void;
  /** Frames that could not be read, told once; without it, the record is tagged `websocket:frames-unread`. */
  unreadable?(reason: string): void;
}

/**
 * The two readers of a WebSocket watched as it passes, telling `record` each message, each close
 * frame (`websocket:close-client-1000`, `websocket:close-server-1001`…) and, once, frames that
 * could not be read.
 */
export function watchWebSocket(record: WebSocketRecord, deflate: boolean): { fromClient: WebSocketFrameReader; fromServer: WebSocketFrameReader } {
  let unreadTold = false;
  const reader = (fromClient: boolean): WebSocketFrameReader => new WebSocketFrameReader(fromClient, deflate, {
    message: (data, binary) => record.webSocketMessage(fromClient, data, binary),
    close: (code) => record.tag(`websocket:close-${fromClient ? 'client' : 'server'}-${code}`),
    unreadable: (reason) => {
      if (unreadTold) return;
      unreadTold = true;
      if (record.unreadable) record.unreadable(reason);
      else record.tag('websocket:frames-unread');
    },
  });
  return { fromClient: reader(true), fromServer: reader(false) };
}
