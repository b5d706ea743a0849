// AppendOnlyFile.appendLines, the inspection worker's way of writing a batch of flow lines: one
// write for small lines, each line whole and in order; past the one-write size, or behind a
// backlog, line by line; on a failing disk every line is written, waiting or counted.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { AppendOnlyFile } from '../../../src/sinks/append-only-file.js';
import { tempDir } from '../../helpers/lab.js';

const quiet = { failed: () => undefined, recovered: () => undefined };

t.test('small lines: whole, in order, counted', async (t) => {
  const file = path.join(tempDir(), 'x.jsonl');
  const out = new AppendOnlyFile(file, quiet, { backlogLimitBytes: 1 << 20, retryMs: 10 });
  out.appendLines([['{"a":', '1}'], ['{"b":2}'], [{ chars: 7, text: () => '{"c":3}' }]]);
  out.appendLines([]);
  out.appendLines([['{"d":4}']]);
  t.same(out.close(), { lines: 4, dropped: 0, pending: 0 });
  t.equal(fs.readFileSync(file, 'utf8'), '{"a":1}\n{"b":2}\n{"c":3}\n{"d":4}\n');
});

t.test('lines past the one-write size go out one by one, still whole and in order', async (t) => {
  const file = path.join(tempDir(), 'x.jsonl');
  const out = new AppendOnlyFile(file, quiet, { backlogLimitBytes: 8 << 20, retryMs: 10 });
  const big = 'x'.repeat(1024 * 1024);
  out.appendLines([['"s"'], [`"${big}"`], ['"t"']]);
  t.same(out.close(), { lines: 3, dropped: 0, pending: 0 });
  t.equal(fs.readFileSync(file, 'utf8'), `"s"\n"${big}"\n"t"\n`);
});

t.test('a full disk: no throw, said once, every line waiting or counted', { skip: fs.existsSync('/dev/full') ? false : 'no /dev/full here' }, async (t) => {
  const messages: string[] = [];
  const out = new AppendOnlyFile('/dev/full', { failed: (m) => messages.push(m), recovered: (m) => messages.push(m) }, { backlogLimitBytes: 100, retryMs: 60_000 });
  out.appendLines(Array.from({ length: 10 }, (_, i) => [`{"n":${i},"pad":"${'x'.repeat(20)}"}`]));
  const stats = out.close();
  t.equal(messages.length, 1, 'said once');
  t.match(messages[0], /ENOSPC/);
  t.equal(stats.lines, 0);
  t.equal(stats.pending + stats.dropped, 10, 'every line is either waiting or counted as dropped');
  t.ok(stats.dropped > 0 && stats.pending > 0, `pending ${stats.pending}, dropped ${stats.dropped}`);
});
