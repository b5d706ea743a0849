// Relays bytes between a client socket and an upstream TCP connection, with backpressure (pipe),
// byte counts, optional bounded capture of each direction, and an idle timeout. Used for opaque
// TLS tunnels (passthrough) and for non-HTTP streams inside CONNECT (SMTP, IMAP, POP3…). A
// captured stream still open may be handed on in parts (StreamParts), cut where it went quiet.

import net from 'node:net';
import type { Duplex } from 'node:stream';
import { BodyCapture, type CapturedBody } from '../../flow/body-capture.js';
import { describeError } from '../../util/errors.js';
import { keepOpenAfterDeviceEnds } from '../half-close.js';
import { isReset, resetConnection } from '../connection-reset.js';
import { refuse } from '../replies.js';
import { upstreamFailure } from '../upstream.js';
import type { ConnectionTap } from '../connection-tap.js';

export interface StreamRelayResult {
  /** Of this part, when the stream was cut in parts; else of the whole stream. */
  readonly bytesUp: number;
  readonly bytesDown: number;
  readonly destination?: { ip: string; port: number };
  readonly up?: CapturedBody;
  readonly down?: CapturedBody;
  readonly error?: string;
  /** The machine-readable side of an upstream failure (`upstream:ECONNREFUSED`…), when there was one. */
  readonly errorTag?: string;
  /** Which part this is, once the stream was cut: absent for a stream handed on whole. */
  readonly part?: StreamPartPlace;
}

export interface StreamPartPlace {
  /** 1, 2, 3… */
  readonly index: number;
  /** The bytes each side sent before this part. */
  readonly bytesBefore: { readonly up: number; readonly down: number };
  /** The part handed to `done`, when the stream ended. */
  readonly last: boolean;
  /** When this part began (the stream's start for the first). */
  readonly startedMs: number;
}

/**
 * How a captured stream still open is cut in parts, so that what it carries is inspected and on
 * disk while it lasts (an IMAP session held for hours, an MQTT link held for days) and each part
 * has a capture of its own. A part ends only where both sides have been quiet for `quietMs`: a
 * client waits for its answer between commands, so a pause that long falls between them, not
 * inside a mail or a packet.
 */
export interface StreamParts {
  /** A part of the stream still open; the last part goes to `done`. */
  readonly onPart: (part: StreamRelayResult) => void;
  /** A part is cut once its first bytes are this old, or once a side has filled its capture… */
  readonly intervalMs: number;
  /** …at the first moment both sides have been quiet this long. */
  readonly quietMs: number;
  /**
   * Whether the stream can still be cut, given the client's bytes of the part under way. False
   * once what follows cannot be read without what came before (IMAP after COMPRESS DEFLATE): the
   * rest of the stream then stays one part.
   */
  readonly mayCut: (clientBytes: Buffer) => boolean;
}

export interface StreamRelayOptions {
  readonly host: string;
  readonly port: number;
  /** Bytes the client already sent that must reach upstream first. */
  readonly firstBytes?: Buffer;
  /** Capture each direction up to this many bytes; 0 for none (opaque tunnels). */
  readonly captureBytes: number;
  readonly idleTimeoutMs: number;
  readonly lookup?: net.LookupFunction;
  /** Called once upstream accepted the connection (to answer CONNECT with 200 only then). */
  readonly onConnected?: () => void;
  /** Called when upstream could not be reached, before the client is closed (to answer 502). */
  readonly onConnectFailed?: (reason: string) => void;
  /**
   * Makes the upstream connection instead of a plain TCP one (TLS to the server for a decrypted
   * stream), resolved once it is ready to carry bytes; a rejection is an upstream failure.
   */
  readonly connect?: () => Promise<net.Socket>;
  /** A TCP connection to the server already made (first-connection.ts), used instead of making one. */
  readonly connected?: net.Socket | undefined;
  /**
   * Called once upstream is connected, with the address actually reached: a tap that is handed
   * each chunk as it passes (opaque.pcapng). Absent, nothing is attached.
   */
  readonly observe?: (destination: { ip: string; port: number }) => ConnectionTap | undefined;
  /** Cut a captured stream still open in parts; absent, it is handed on whole when it ends. */
  readonly parts?: StreamParts;
}

/** Connects upstream and relays until both sides are closed; `done` is called exactly once. */
export function relayStream(client: Duplex, options: StreamRelayOptions, done: (result: StreamRelayResult) => void): { destroy(): void } {
  let up = new BodyCapture(options.captureBytes);
  let down = new BodyCapture(options.captureBytes);
  let error: string | undefined;
  let errorTag: string | undefined;
  let destination: { ip: string; port: number } | undefined;
  let finished = false;
  let upstream: net.Socket | undefined;
  let clientClosed = false;
  let upstreamClosed = false;
  client.pause();
  // The device may end its side and still read the server's answer (half-close.ts).
  keepOpenAfterDeviceEnds(client);

  const parts = options.captureBytes > 0 ? options.parts : undefined;
  // A side whose capture is full makes its part due: what it sends next is only counted.
  const cutting = parts ? new PartCutter(parts, () => cutPart(), () => up.totalBytes >= options.captureBytes || down.totalBytes >= options.captureBytes) : undefined;
  const result = (last: boolean): StreamRelayResult => ({
    bytesUp: up.totalBytes,
    bytesDown: down.totalBytes,
    destination,
    ...(options.captureBytes > 0 ? { up: up.result(), down: down.result() } : {}),
    ...(error ? { error } : {}),
    ...(errorTag ? { errorTag } : {}),
    // A part cut while open, or the last of a stream that was cut: a stream never cut is whole.
    ...(cutting && (!last || cutting.cuts > 0) ? { part: cutting.place(last) } : {}),
  });
  const cutPart = (): boolean => {
    if (finished || clientClosed || upstreamClosed) return false;
    if (!parts!.mayCut(up.result().bytes)) return false;
    const part = result(false);
    cutting!.handedOn(up.totalBytes, down.totalBytes);
    up = new BodyCapture(options.captureBytes);
    down = new BodyCapture(options.captureBytes);
    parts!.onPart(part);
    return true;
  };

  const finish = (): void => {
    if (finished || !clientClosed || !upstreamClosed) return;
    finished = true;
    tap?.close();
    cutting?.stop();
    done(result(true));
  };
  const upstreamFailed = (err: unknown): void => {
    if (error !== undefined) return;
    const failure = upstreamFailure(err);
    error = failure.reason;
    errorTag = failure.tag;
  };
  const connectFailed = (err: unknown): void => {
    upstreamFailed(err);
    upstreamClosed = true;
    options.onConnectFailed?.(error ?? 'upstream: the connection failed');
    // The client was paused until upstream answered: refused like any other, so it is drained
    // (one descriptor per failed tunnel stayed open without that, seen in the soak run).
    if (options.onConnectFailed) refuse(client);
    else client.destroy();
    finish();
  };

  client.on('error', (err: Error) => {
    error ??= `client: ${describeError(err)}`;
    client.destroy();
    // A device's reset reaches the server as one (connection-reset.ts).
    if (upstream && isReset(err)) resetConnection(upstream);
    else upstream?.destroy();
  });
  // A client that is gone can receive nothing more: drop upstream too (pipe() only ends it on a
  // clean end, not on destroy). The other way, pipe() ends the client after the last byte.
  client.on('close', () => {
    clientClosed = true;
    upstream?.destroy();
    finish();
  });
  let tap: ConnectionTap | undefined;

  const connected = (socket: net.Socket): void => {
    upstream = socket;
    if (client.destroyed) {
      socket.destroy();
      upstreamClosed = true;
      finish();
      return;
    }
    socket.on('error', (err: Error) => {
      upstreamFailed(err);
      // A server's reset reaches the device as one, after the bytes before it (connection-reset.ts).
      if (isReset(err)) resetConnection(client);
      else client.destroy();
      socket.destroy();
    });
    socket.on('close', () => {
      upstreamClosed = true;
      finish();
    });
    socket.setTimeout(options.idleTimeoutMs, () => {
      error ??= `idle for ${options.idleTimeoutMs} ms`;
      client.destroy();
      socket.destroy();
    });
    destination = { ip: socket.remoteAddress ?? options.host, port: socket.remotePort ?? options.port };
    options.onConnected?.();
    tap = options.observe?.(destination);
    if (options.firstBytes && options.firstBytes.length > 0) {
      up.push(options.firstBytes);
      tap?.data(true, options.firstBytes);
      cutting?.saw();
      socket.write(options.firstBytes);
    }
    // Passive taps for counting and capture; pipe() does the forwarding and the backpressure.
    if (tap) {
      const seen = tap;
      client.on('data', (chunk: Buffer) => { up.push(chunk); seen.data(true, chunk); cutting?.saw(); });
      socket.on('data', (chunk: Buffer) => { down.push(chunk); seen.data(false, chunk); cutting?.saw(); });
      client.once('end', () => seen.end(true));
      socket.once('end', () => seen.end(false));
    } else {
      client.on('data', (chunk: Buffer) => { up.push(chunk); cutting?.saw(); });
      socket.on('data', (chunk: Buffer) => { down.push(chunk); cutting?.saw(); });
    }
    client.pipe(socket);
    socket.pipe(client);
    client.resume();
  };

  if (options.connect) {
    options.connect().then(connected, connectFailed);
  } else if (options.connected) {
    options.connected.allowHalfOpen = true;
    connected(options.connected);
  } else {
    const socket = net.connect({ host: options.host, port: options.port, lookup: options.lookup, allowHalfOpen: true, noDelay: true });
    const early = (err: Error): void => {
      socket.destroy();
      connectFailed(err);
    };
    socket.once('error', early);
    socket.once('connect', () => {
      socket.off('error', early);
      connected(socket);
    });
  }

  return {
    destroy(): void {
      client.destroy();
      upstream?.destroy();
    },
  };
}

/**
 * When to cut a stream in parts: one timer per stream while bytes pass, none while it is idle.
 * The timer looks every `quietMs`: bytes since its last look mean the stream is not quiet yet; a
 * quiet stream is cut once the part is due (old enough, or a side's capture full), else looked
 * at again when it will be due.
 */
class PartCutter {
  readonly #parts: StreamParts;
  /** Cuts the part under way; false when it may not be cut (the stream then stays whole). */
  readonly #cut: () => boolean;
  /** Whether a side has filled the part's capture (the part is then due). */
  readonly #full: () => boolean;
  #timer: NodeJS.Timeout | undefined;
  #bytesSinceLook = false;
  #partStartedMs = Date.now();
  #before = { up: 0, down: 0 };
  /** Set once the stream may no longer be cut (mayCut said no). */
  #whole = false;
  cuts = 0;

  constructor(parts: StreamParts, cut: () => boolean, full: () => boolean) {
    this.#parts = parts;
    this.#cut = cut;
    this.#full = full;
  }

  /** Bytes passed. */
  saw(): void {
    this.#bytesSinceLook = true;
    if (this.#timer === undefined && !this.#whole) this.#arm(this.#parts.quietMs);
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#look(), ms);
    this.#timer.unref();
  }

  #look(): void {
    this.#timer = undefined;
    if (this.#bytesSinceLook) {
      this.#bytesSinceLook = false;
      this.#arm(this.#parts.quietMs);
      return;
    }
    const dueInMs = this.#partStartedMs + this.#parts.intervalMs - Date.now();
    if (dueInMs > 0 && !this.#full()) {
      this.#arm(Math.max(dueInMs, this.#parts.quietMs));
      return;
    }
    if (!this.#cut()) this.#whole = true;
  }

  /** The part under way was handed on: the next starts after these bytes. */
  handedOn(upBytes: number, downBytes: number): void {
    this.cuts++;
    this.#before = { up: this.#before.up + upBytes, down: this.#before.down + downBytes };
    this.#partStartedMs = Date.now();
  }

  /** Where the part under way stands (before its cut). */
  place(last: boolean): StreamPartPlace {
    return { index: this.cuts + 1, bytesBefore: this.#before, last, startedMs: this.#partStartedMs };
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
