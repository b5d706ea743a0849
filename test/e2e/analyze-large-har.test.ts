// analyze of any size (issue #21): a HAR is read entry by entry, so memory does not grow with the
// file. Shown with a JavaScript heap smaller than the file: parsing the whole file (as analyze did
// before) cannot even hold its text, reading it entry by entry does, and finds the same things.
// The 2 GB measurement is scripts/make-big-har.mjs, not a test.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/lab.js';

const makeBigHar = path.join(import.meta.dirname, '..', '..', 'scripts', 'make-big-har.mjs');
const HEAP_MB = 64;

t.test(`a 48 MiB HAR with an 8 MiB body is analyzed with a ${HEAP_MB} MiB heap, every entry read`, async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const har = path.join(dir, 'big.har');
  const made = spawnSync(process.execPath, [makeBigHar, har, '48', '--huge', '8'], { encoding: 'utf8' });
  t.equal(made.status, 0, made.stderr);
  const entries = Number(/(\d+) entries/.exec(made.stderr)?.[1]);
  t.ok(fs.statSync(har).size > 48 * 1024 * 1024, 'the file is larger than the heap');

  const out = path.join(dir, 'analysis');
  const analyzed = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MB}`, cli, 'analyze', har, '--out', out], { encoding: 'utf8', timeout: 120_000 });
  t.equal(analyzed.status, 0, analyzed.stderr);
  t.notMatch(analyzed.stderr, /heap out of memory|cut short|left out/);
  t.match(analyzed.stderr, new RegExp(`phonehome: ${entries} flow\\(s\\), \\d+ finding\\(s\\)`), 'every entry became a flow');
  const findings = fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { category: string; flowId: string; id: string });
  // The script writes a photo upload every 4th entry and an SMS sync after each; the huge entry is noise.
  const photos = findings.filter((f) => f.category === 'photo');
  t.equal(photos.length, Math.ceil((entries - 1) / 4), 'a photo finding for each photo upload');
  t.equal(findings.filter((f) => f.category === 'sms').length, Math.floor((entries - 1 + 2) / 4), 'an SMS finding for each SMS sync');
  t.same(findings.map((f) => f.id), [...findings].map((f) => f.id).sort(), 'ids in file order');
});
