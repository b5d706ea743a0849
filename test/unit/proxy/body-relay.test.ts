// A body relayed with backpressure (src/proxy/layers/body-relay.ts), to a destination that takes
// nothing until the test lets it (a server connection still being made, or full): by default the
// source is paused as soon as the destination is past its high-water mark; with a read-ahead, only
// once that many bytes wait in it, and it goes on at the destination's 'drain'. The HTTP/1 relay
// reads a device's request body so (limits.requestBodyReadAheadBytes).

import t from 'tap';
import { PassThrough, Writable } from 'node:stream';
import { relayBody, writeHolding } from '../../../src/proxy/layers/body-relay.js';
import { limits } from '../../../src/limits.js';

const KiB = 1024;

/** A destination with Node's default high-water mark (16 KiB) that takes nothing until `release`. */
function heldDestination(): { to: Writable; taken: () => number; release: () => void } {
  let taken = 0;
  let held: Array<() => void> | undefined = [];
  const to = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      taken += chunk.length;
      if (held) held.push(callback);
      else callback();
    },
  });
  return {
    to, taken: () => taken,
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const callback of waiting) callback();
    },
  };
}

/** Writes 64 KiB chunks through writeHolding until the source is paused (or 2 MiB went), and says how much went. */
function writeUntilPaused(readAhead: number | undefined): { from: PassThrough; destination: ReturnType<typeof heldDestination>; written: number } {
  const from = new PassThrough();
  from.resume();
  const destination = heldDestination();
  const write = readAhead === undefined ? writeHolding(from, destination.to) : writeHolding(from, destination.to, readAhead);
  let written = 0;
  while (!from.isPaused() && written < 2 * 1024 * KiB) {
    write(Buffer.alloc(64 * KiB, 1));
    written += 64 * KiB;
  }
  return { from, destination, written };
}

t.test('by default the source is paused at the first write past the destination\'s high-water mark', async (t) => {
  const { from, written } = writeUntilPaused(undefined);
  t.ok(from.isPaused(), 'paused');
  t.equal(written, 64 * KiB, 'after one 64 KiB chunk');
});

t.test('with a read-ahead the source goes on until that many bytes wait, then goes on again at the drain', async (t) => {
  const { from, destination, written } = writeUntilPaused(512 * KiB);
  t.ok(from.isPaused(), 'paused in the end');
  t.equal(written, 512 * KiB, 'once 512 KiB wait in the destination, not before');
  const drained = new Promise<void>((resolve) => destination.to.once('drain', () => resolve()));
  destination.release();
  await drained;
  t.notOk(from.isPaused(), 'flowing again once the destination drained');
  t.equal(destination.taken(), 512 * KiB, 'every byte reached the destination');
});

t.test('relayBody passes its read-ahead on, and every byte is seen and delivered in order', async (t) => {
  const from = new PassThrough();
  const destination = heldDestination();
  const chunks = Array.from({ length: 6 }, (_, i) => Buffer.alloc(64 * KiB, i));
  const seen: Buffer[] = [];
  let allSeen!: () => void;
  const seenAll = new Promise<void>((resolve) => { allSeen = resolve; });
  const ended = new Promise<void>((resolve) => {
    relayBody(from, destination.to, (chunk) => { seen.push(chunk); if (seen.length === chunks.length) allSeen(); }, () => resolve(), 512 * KiB);
  });
  for (const chunk of chunks) from.write(chunk);
  from.end();
  await seenAll;
  t.notOk(from.isPaused(), '384 KiB read while the destination took nothing: under the read-ahead');
  t.equal(destination.to.writableLength, 6 * 64 * KiB, 'all of it waiting in the destination');
  destination.release();
  await ended;
  t.equal(destination.taken(), 6 * 64 * KiB, 'all of it delivered once the destination takes it');
  t.ok(Buffer.concat(seen).equals(Buffer.concat(chunks)), 'and seen in order');
});
