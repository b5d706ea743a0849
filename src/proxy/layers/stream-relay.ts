// Relays bytes between a client socket and an upstream TCP connection, with backpressure (pipe),
// byte counts, optional bounded capture of each direction, and an idle timeout. Used for opaque
// TLS tunnels (passthrough) and for non-HTTP streams inside CONNECT (SMTP, IMAP, POP3…).

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
  readonly bytesUp: number;
  readonly bytesDown: number;
  readonly destination?: { ip: string; port: number };
  readonly up?: CapturedBody;
  readonly down?: CapturedBody;
  readonly error?: string;
  /** The machine-readable side of an upstream failure (`upstream:ECONNREFUSED`…), when there was one. */
  readonly errorTag?: string;
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
}

/** Connects upstream and relays until both sides are closed; `done` is called exactly once. */
export function relayStream(client: Duplex, options: StreamRelayOptions, done: (result: StreamRelayResult) => void): { destroy(): void } {
  const up = new BodyCapture(options.captureBytes);
  const down = new BodyCapture(options.captureBytes);
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

  const finish = (): void => {
    if (finished || !clientClosed || !upstreamClosed) return;
    finished = true;
    tap?.close();
    done({
      bytesUp: up.totalBytes,
      bytesDown: down.totalBytes,
      destination,
      ...(options.captureBytes > 0 ? { up: up.result(), down: down.result() } : {}),
      ...(error ? { error } : {}),
      ...(errorTag ? { errorTag } : {}),
    });
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
      socket.write(options.firstBytes);
    }
    // Passive taps for counting and capture; pipe() does the forwarding and the backpressure.
    if (tap) {
      const seen = tap;
      client.on('data', (chunk: Buffer) => { up.push(chunk); seen.data(true, chunk); });
      socket.on('data', (chunk: Buffer) => { down.push(chunk); seen.data(false, chunk); });
      client.once('end', () => seen.end(true));
      socket.once('end', () => seen.end(false));
    } else {
      client.on('data', (chunk: Buffer) => up.push(chunk));
      socket.on('data', (chunk: Buffer) => down.push(chunk));
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
