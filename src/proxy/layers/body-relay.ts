// A message body from one side to the other, each chunk shown to the recorder on its way, with
// backpressure (both bodies of an exchange, HTTP/1.1 and HTTP/2): what pipe() plus a recording
// 'data' listener did, with less work. pipe() adds six listeners to the two streams (checked on
// Node 20: 'data' and 'end' on the source; 'close', 'error', 'finish' and 'unpipe' on the
// destination) and takes them off again for every message, a small one included; this adds two,
// and a 'drain' listener the first time the destination is full, kept for the rest of the body:
// an upload fills it at nearly every chunk, and a listener added and taken off each time cost
// 0.2-0.4 ms more CPU per uploaded MB in 2 of 3 pairs.
// What pipe()'s other listeners did is done where each layer already listens:
//   - the destination closing or failing stops the writes: a destroyed destination is skipped.
//     A source paused for a 'drain' that will not come is then ended by its layer: HTTP/2's
//     'close' listeners close the other stream (after a server's early answer, the device's with
//     NO_ERROR, as the server asked); an HTTP/1.1 response's source is destroyed by fail(); an
//     upload whose server failed stays paused until the device, answered with a 502, closes its
//     connection (checked: at once with Node's client), as it did under pipe();
//   - the end of the source ends the destination, unless the layer ends it itself (trailers first).

import type { Readable, Writable } from 'node:stream';

export function relayBody(from: Readable, to: Writable, seen: (chunk: Buffer) => void, onEnd: () => void = () => { if (!to.destroyed) to.end(); }, readAhead = 0): void {
  const write = writeHolding(from, to, readAhead);
  from.on('data', (chunk: Buffer) => {
    seen(chunk);
    write(chunk);
  });
  from.on('end', onEnd);
}

/**
 * Writes to `to`, pausing `from` while `to` is full, until its 'drain' (one listener, added the
 * first time and kept); a destroyed `to` is skipped. Also chunked-body-relay.ts's writer.
 * `readAhead` bytes may wait in `to` before `from` is paused (limits.requestBodyReadAheadBytes
 * and upgradedReadAheadBytes say why); by default `to` is full at its high-water mark.
 */
export function writeHolding(from: Readable, to: Writable, readAhead = 0): (bytes: Buffer) => void {
  let onDrain: (() => void) | undefined;
  return (bytes) => {
    if (to.destroyed || to.write(bytes) || to.writableLength < readAhead) return;
    from.pause();
    if (onDrain) return;
    onDrain = () => from.resume();
    to.on('drain', onDrain);
  };
}
