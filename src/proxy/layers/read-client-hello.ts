// A device's whole ClientHello (it may arrive in pieces) before anyone answers it: the TLS layer
// and the STARTTLS layer both need its SNI and ALPN first. Peeked where the addon allows (left in
// the kernel for the TLS stack to read itself: socket-peek.ts says why), read in JavaScript
// otherwise.

import type { Duplex } from 'node:stream';
import { limits } from '../../limits.js';
import { peekSocket, type PeekResult } from '../socket-peek.js';
import { maxClientHelloBytes, opensClientHello, parseClientHello, type ClientHelloResult } from './client-hello.js';

/**
 * Looks at the device's first bytes without reading them until they are a whole ClientHello, or
 * plainly not one (opensClientHello), or the device stays silent for
 * `silenceMs`, stops short, or takes longer than the ClientHello timeout, or `signal` stops it.
 * False, with nothing started, when this socket cannot be peeked: the caller reads it
 * (readClientHello).
 */
export function peekClientHello(socket: Duplex, silenceMs: number, done: (result: PeekResult) => void, signal?: AbortSignal): boolean {
  return peekSocket(socket, { enough: wholeClientHelloOrOther, silenceMs, restMs: limits.clientHelloTimeoutMs, maxBytes: maxClientHelloBytes + 64, ...(signal ? { signal } : {}) }, done);
}

/**
 * Whether a peek ended on a ClientHello the TLS stack should have (whole, or one we cannot read,
 * for the TLS library to refuse): what wholeClientHelloOrOther said when it said enough.
 */
export function peekedClientHello(result: PeekResult): boolean {
  return result.outcome === 'enough' && opensClientHello(result.bytes) === 'yes';
}

function wholeClientHelloOrOther(bytes: Buffer): boolean {
  const opens = opensClientHello(bytes);
  return opens === 'no' || (opens === 'yes' && parseClientHello(bytes).kind !== 'partial');
}

/**
 * Reads until the whole ClientHello is in (it may arrive in pieces), then calls `done` with every
 * byte read so far. A ClientHello we cannot read is left to the TLS library to refuse.
 */
export function readClientHello(socket: Duplex, first: Buffer, done: (bytes: Buffer, hello: ClientHelloResult) => void): void {
  let bytes = first;
  let hello = parseClientHello(bytes);
  if (hello.kind !== 'partial') {
    done(bytes, hello);
    return;
  }
  const finish = (): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', finish);
    socket.pause();
    done(bytes, hello);
  };
  const onData = (chunk: Buffer): void => {
    bytes = Buffer.concat([bytes, chunk]);
    hello = parseClientHello(bytes);
    if (hello.kind !== 'partial') finish();
  };
  const timer = setTimeout(finish, limits.clientHelloTimeoutMs);
  socket.on('data', onData);
  socket.once('close', finish);
  socket.resume();
}
