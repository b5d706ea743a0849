// Reads a device's whole ClientHello off its socket (it may arrive in pieces) before anyone
// answers it: the TLS layer and the STARTTLS layer both need its SNI and ALPN first.

import type { Duplex } from 'node:stream';
import { limits } from '../../limits.js';
import { parseClientHello, type ClientHelloResult } from './client-hello.js';

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
