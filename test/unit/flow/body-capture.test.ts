// BodyCapture with an announced size: one buffer filled as the body passes, and the same result
// as without it whether the announcement was right, short, long or over the limit.

import crypto from 'node:crypto';
import t from 'tap';
import { BodyCapture } from '../../../src/flow/body-capture.js';

const KiB = 1024;

function capture(body: Buffer, limit: number, announced: number | undefined, chunkBytes = 16 * KiB): ReturnType<BodyCapture['result']> {
  const c = new BodyCapture(limit, announced);
  for (let at = 0; at < body.length; at += chunkBytes) c.push(body.subarray(at, at + chunkBytes));
  return c.result();
}

t.test('an announced size gives the same bytes as chunks kept and joined', async (t) => {
  const body = crypto.randomBytes(300 * KiB + 5);
  const cases: Array<[string, number, number | undefined]> = [
    ['no announcement', 1024 * KiB, undefined],
    ['announced right', 1024 * KiB, body.length],
    ['announced short (more bytes came)', 1024 * KiB, 100 * KiB],
    ['announced long (fewer bytes came)', 1024 * KiB, 900 * KiB],
    ['announced over the limit', 200 * KiB, body.length],
    ['announced small (below the one-buffer size)', 1024 * KiB, 10],
  ];
  for (const [name, limit, announced] of cases) {
    const result = capture(body, limit, announced);
    const kept = Math.min(limit, body.length);
    t.ok(result.bytes.equals(body.subarray(0, kept)), `${name}: bytes`);
    t.equal(result.totalBytes, body.length, `${name}: total`);
    t.equal(result.truncated, kept < body.length, `${name}: truncated`);
  }
});

t.test('with a large announced size the chunks are copied as they pass, not kept', async (t) => {
  const body = crypto.randomBytes(256 * KiB);
  const chunks = [body.subarray(0, 128 * KiB), body.subarray(128 * KiB)].map((c) => Buffer.from(c));
  const announced = new BodyCapture(1024 * KiB, body.length);
  const plain = new BodyCapture(1024 * KiB);
  for (const chunk of chunks) {
    announced.push(chunk);
    plain.push(chunk);
  }
  // Scribbling over the chunks afterwards shows who still holds them.
  for (const chunk of chunks) chunk.fill(0);
  t.ok(announced.result().bytes.equals(body), 'copied: the chunks can go as soon as they passed');
  t.notOk(plain.result().bytes.equals(body), 'without an announcement the chunks themselves are kept (and joined at the end)');
});

t.test('fewer bytes than announced do not keep the large buffer alive', async (t) => {
  const result = capture(Buffer.from('short'), 32 * 1024 * KiB, 32 * 1024 * KiB);
  t.equal(result.bytes.toString(), 'short');
  t.ok(result.bytes.buffer.byteLength < 64 * KiB, `backing store ${result.bytes.buffer.byteLength} bytes`);
});

t.test('large bodies end up in shared memory (the inspection worker reads them without a copy); small ones do not', async (t) => {
  const large = crypto.randomBytes(200 * KiB);
  for (const [name, announced] of [['announced', large.length], ['not announced', undefined], ['announced long', 400 * KiB]] as const) {
    const result = capture(large, 1024 * KiB, announced);
    t.ok(result.bytes.buffer instanceof SharedArrayBuffer, `${name}: shared`);
    t.ok(result.bytes.equals(large), `${name}: same bytes`);
  }
  t.notOk(capture(Buffer.from('a=1&b=2'), 1024 * KiB, 7).bytes.buffer instanceof SharedArrayBuffer, 'a small body stays an ordinary buffer');
});
