// A long line's pieces reach the file a mebibyte at a time, byte for byte, and a disk that fills
// mid-line leaves an honest count of what it took.

import t from 'tap';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { GatheredWrites, GATHER_BYTES } from '../../../src/sinks/gathered-writes.js';
import { FlowLogSink } from '../../../src/sinks/flow-log-sink.js';
import { makeFlow } from '../../helpers/flows.js';
import { tempDir } from '../../helpers/lab.js';

/** Counts the write system calls Node is asked for while `run` runs. */
function countWrites(run: () => void): number {
  const { writeSync, writevSync } = fs;
  let calls = 0;
  fs.writeSync = ((...args: Parameters<typeof writeSync>) => { calls++; return writeSync(...args); }) as typeof writeSync;
  fs.writevSync = ((...args: Parameters<typeof writevSync>) => { calls++; return writevSync(...args); }) as typeof writevSync;
  try {
    run();
  } finally {
    fs.writeSync = writeSync;
    fs.writevSync = writevSync;
  }
  return calls;
}

t.test('texts, bytes, many small parts and one text larger than the buffer: the file holds them in order, byte for byte', async (t) => {
  const file = path.join(tempDir(), 'out');
  const fd = fs.openSync(file, 'a');
  const out = new GatheredWrites(fd);
  const expected: Buffer[] = [];
  const add = (data: string | Uint8Array): void => {
    out.add(data);
    expected.push(typeof data === 'string' ? Buffer.from(data) : Buffer.from(data));
  };
  add('{"text":"caf\u00e9 \u20ac \ud83d\ude00');
  for (let i = 0; i < 3000; i++) add(i % 2 === 0 ? `p${i}` : crypto.randomBytes(i % 7 + 1));
  add('\u20ac'.repeat(GATHER_BYTES / 2));
  add(crypto.randomBytes(3 * GATHER_BYTES + 5));
  add('');
  add(new Uint8Array(0));
  add('"}\n');
  out.flush();
  fs.closeSync(fd);
  const whole = Buffer.concat(expected);
  t.equal(out.written, whole.length, 'every byte counted as written');
  t.ok(fs.readFileSync(file).equals(whole), 'the same bytes, in order');
});

t.test('a 4 MB body\'s line in flows.jsonl goes out in a few writes, not one per 16 KiB slice', async (t) => {
  const file = path.join(tempDir(), 'flows.jsonl');
  const sink = new FlowLogSink(file, { failed: () => undefined, recovered: () => undefined }, { redact: false, backlogLimitBytes: 1 << 20, retryMs: 1000 });
  const text = Buffer.alloc(4 * 1024 * 1024, 0x5a);
  const photo = crypto.randomBytes(3 * 1024 * 1024);
  sink.write(makeFlow({ requestBody: 'warm' }));
  const textWrites = countWrites(() => sink.write(makeFlow({ method: 'POST', requestBody: text })));
  const photoWrites = countWrites(() => sink.write(makeFlow({ method: 'POST', requestBody: photo })));
  sink.close();
  // One write per 16 KiB slice before: 259 for the text, 196 for the photo's base64.
  t.ok(textWrites <= 6, `text body: ${textWrites} writes`);
  t.ok(photoWrites <= 6, `base64 body: ${photoWrites} writes`);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  t.equal(lines.length, 4, 'three lines, each ended');
  const posted = (line: string): Buffer => {
    const data = (JSON.parse(line) as { request: { postData: { text: string; encoding?: string } } }).request.postData;
    return Buffer.from(data.text, data.encoding === 'base64' ? 'base64' : 'utf8');
  };
  t.ok(posted(lines[1]!).equals(text), 'the text body reads back');
  t.ok(posted(lines[2]!).equals(photo), 'the photo reads back');
});

t.test('a disk that fills mid-line: the write throws, and what the disk took is what was counted', async (t) => {
  const disk = tempDir('phonehome-small-disk-');
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', disk]).status !== 0) {
    t.plan(0, 'mounting a small tmpfs needs root');
    return;
  }
  t.teardown(() => { spawnSync('umount', [disk]); });
  const file = path.join(disk, 'out');
  const fd = fs.openSync(file, 'a');
  const out = new GatheredWrites(fd);
  out.add('x'.repeat(100_000));
  out.add(Buffer.alloc(300_000, 0x79));
  t.throws(() => out.flush(), { code: 'ENOSPC' });
  fs.closeSync(fd);
  const size = fs.statSync(file).size;
  t.ok(size > 0 && size < 400_000, `the disk took ${size} bytes`);
  t.equal(out.written, size, 'counted as written: exactly what the file holds');
  out.reset();
  t.equal(out.written, 0);
});
