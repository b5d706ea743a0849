// The device's socket seen through a tap, for a TLS connection we terminate (--pcap): the TLS
// stack reads the device's ciphertext from the native socket handle, where no JS event shows it,
// so the TLS socket is given this pass-through stream instead (Node wraps it in its own
// JSStreamSocket, as for any TLS over a non-socket stream). Every byte goes on unchanged and in
// order, both ways, with backpressure; the tap is told each chunk as it passes. The device gets
// the very bytes it got without it; used only when --pcap is on.
//
// One TLS record per turn of the event loop towards the TLS socket: the layers after TLS read the
// first decrypted bytes, then hand the socket to Node's HTTP parser, which from then on takes
// decrypted records straight from the TLS stack. Records decrypted in the same turn as the first
// would reach the parser before the first bytes put back for it (seen: a POST body overtook its
// headers, 400). The native socket happens to deliver them apart; this makes sure of it.

import type net from 'node:net';
import { Duplex } from 'node:stream';
import type { ConnectionTap } from '../connection-tap.js';

/** TLS record header: type, version (2), length (2). */
const RECORD_HEADER = 5;
/** Largest record body TLS allows (2^14 plus expansion); past it the bytes are not TLS records. */
const MAX_RECORD_BODY = 16384 + 2048;
/** Ciphertext waiting to go to the TLS socket before the device's socket is paused. */
const QUEUE_LIMIT_BYTES = 256 * 1024;

export function tappedDuplex(inner: Duplex, tap: ConnectionTap): Duplex {
  // The TLS socket decides when to end its side after the device's FIN, as it does on a plain
  // socket: the inner socket must not end its writable side by itself first.
  if ('allowHalfOpen' in inner) (inner as net.Socket).allowHalfOpen = true;
  let closed = false;
  const closeTap = (): void => {
    if (closed) return;
    closed = true;
    tap.close();
  };
  const queue: Buffer[] = [];
  let queuedBytes = 0;
  let carry: Buffer | undefined;
  let ended = false;
  let wanted = false;
  let scheduled = false;

  const outer: Duplex = new Duplex({
    allowHalfOpen: true,
    read() {
      wanted = true;
      schedule();
    },
    write(chunk: Buffer, _encoding, callback) {
      inner.write(chunk, (error) => callback(error ?? null));
      tap.data(false, chunk);
    },
    final(callback) {
      tap.end(false);
      inner.end(callback);
    },
    destroy(error, callback) {
      inner.destroy();
      closeTap();
      callback(error);
    },
  });

  /** Cuts whole records off `carry` into the queue; bytes that are not TLS records go as they are. */
  const split = (): void => {
    while (carry && carry.length >= RECORD_HEADER) {
      const body = carry.readUInt16BE(3);
      const size = body <= MAX_RECORD_BODY ? RECORD_HEADER + body : carry.length;
      if (carry.length < size) break;
      queue.push(carry.subarray(0, size));
      queuedBytes += size;
      carry = carry.length > size ? carry.subarray(size) : undefined;
    }
  };
  const schedule = (): void => {
    if (scheduled || !wanted) return;
    if (queue.length === 0 && !ended) {
      inner.resume();
      return;
    }
    scheduled = true;
    setImmediate(deliver);
  };
  const deliver = (): void => {
    scheduled = false;
    if (outer.destroyed) return;
    const record = queue.shift();
    if (record) {
      queuedBytes -= record.length;
      wanted = outer.push(record);
    } else if (ended) {
      // The device's FIN, after a cut record it never finished: what there is goes on, then the end.
      if (carry) wanted = outer.push(carry);
      carry = undefined;
      outer.push(null);
      return;
    }
    schedule();
  };

  inner.on('data', (chunk: Buffer) => {
    tap.data(true, chunk);
    carry = carry ? Buffer.concat([carry, chunk]) : chunk;
    split();
    if (queuedBytes > QUEUE_LIMIT_BYTES) inner.pause();
    schedule();
  });
  inner.once('end', () => {
    tap.end(true);
    ended = true;
    schedule();
  });
  inner.on('error', (error: Error) => outer.destroy(error));
  inner.once('close', () => {
    closeTap();
    if (!ended) outer.destroy();
  });
  return outer;
}
