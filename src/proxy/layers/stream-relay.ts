// Relays bytes between a client socket and an upstream TCP connection, with backpressure (pipe),
// byte counts, optional bounded capture of each direction, and an idle timeout. Used for opaque
// TLS tunnels (passthrough) and for non-HTTP streams inside CONNECT (SMTP, IMAP, POP3…).

import net from 'node:net';
import type { Duplex } from 'node:stream';
import { BodyCapture, type CapturedBody } from '../../flow/body-capture.js';
import { describeError } from '../../util/errors.js';
import { refuse } from '../replies.js';

export interface StreamRelayResult {
  readonly bytesUp: number;
  readonly bytesDown: number;
  readonly destination?: { ip: string; port: number };
  readonly up?: CapturedBody;
  readonly down?: CapturedBody;
  readonly error?: string;
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
}

/** Connects upstream and relays until both sides are closed; `done` is called exactly once. */
export function relayStream(client: Duplex, options: StreamRelayOptions, done: (result: StreamRelayResult) => void): { destroy(): void } {
  const up = new BodyCapture(options.captureBytes);
  const down = new BodyCapture(options.captureBytes);
  let error: string | undefined;
  let destination: { ip: string; port: number } | undefined;
  let finished = false;
  client.pause();
  const upstream = net.connect({ host: options.host, port: options.port, lookup: options.lookup, allowHalfOpen: true, noDelay: true });

  const finish = (): void => {
    if (finished) return;
    finished = true;
    done({
      bytesUp: up.totalBytes,
      bytesDown: down.totalBytes,
      destination,
      ...(options.captureBytes > 0 ? { up: up.result(), down: down.result() } : {}),
      ...(error ? { error } : {}),
    });
  };
  let closed = 0;
  const onClose = (): void => {
    if (++closed === 2) finish();
  };
  const fail = (side: string) => (err: Error): void => {
    error ??= `${side}: ${describeError(err)}`;
    if (!destination && side === 'upstream' && options.onConnectFailed) {
      options.onConnectFailed(error);
      // The client was paused until upstream answered: refused like any other, so it is drained
      // (one descriptor per failed tunnel stayed open without that, seen in the soak run).
      refuse(client);
      upstream.destroy();
      return;
    }
    client.destroy();
    upstream.destroy();
  };

  client.on('error', fail('client'));
  upstream.on('error', fail('upstream'));
  // A client that is gone can receive nothing more: drop upstream too (pipe() only ends it on a
  // clean end, not on destroy). The other way, pipe() ends the client after the last byte.
  client.on('close', () => {
    upstream.destroy();
    onClose();
  });
  upstream.on('close', onClose);
  upstream.setTimeout(options.idleTimeoutMs, () => {
    error ??= `idle for ${options.idleTimeoutMs} ms`;
    client.destroy();
    upstream.destroy();
  });

  upstream.once('connect', () => {
    destination = { ip: upstream.remoteAddress ?? options.host, port: upstream.remotePort ?? options.port };
    options.onConnected?.();
    if (options.firstBytes && options.firstBytes.length > 0) {
      up.push(options.firstBytes);
      upstream.write(options.firstBytes);
    }
    // Passive taps for counting and capture; pipe() does the forwarding and the backpressure.
    client.on('data', (chunk: Buffer) => up.push(chunk));
    upstream.on('data', (chunk: Buffer) => down.push(chunk));
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  });

  return {
    destroy(): void {
      client.destroy();
      upstream.destroy();
    },
  };
}
