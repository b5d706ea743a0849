// The run folder's readers at their edges (issue #23, planted bugs): a key log line of exactly
// 4096 bytes is one, a byte more is not, and a line past the reader's 64 KiB buffer says so;
// --append reads a finding's id from a line's first 4096 characters only (a bounded read), the
// edge included; recovery ends the run at the latest flow's end, wherever in the log it stands.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { readKeylogFile } from '../../../src/run/nss-keylog.js';
import { prepareRunFolder } from '../../../src/run/run-folder.js';
import { replayRun } from '../../../src/run/recover.js';
import { SummaryCollector } from '../../../src/sinks/summary.js';
import { tempDir } from '../../helpers/lab.js';
import { makeFlow } from '../../helpers/flows.js';
import { makeFinding, writeRunFolder } from '../../helpers/runs.js';

const keyLine = `CLIENT_RANDOM ${'a1'.repeat(32)} ${'0f'.repeat(48)}`;

t.test('a key log line of 4096 bytes is read; of 4097 it is named as too long; past 64 KiB (65,536 bytes) the file is no key log', async (t) => {
  const dir = tempDir();
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  // Trailing blanks are trimmed away from a key line, so a padded line is still a key line.
  const padded = (bytes: number): string => keyLine + ' '.repeat(bytes - keyLine.length);
  const lines: string[] = [];
  const exact = write('exact.keys', `${keyLine}\n${padded(4096)}\n`);
  t.same(await readKeylogFile(exact, (line) => lines.push(line)), { tls12: 2, tls13: 0, skipped: 0 });
  t.same(lines, [keyLine, keyLine], 'the padding trimmed');
  const over = write('over.keys', `${keyLine}\n${padded(4097)}\n`);
  await t.rejects(readKeylogFile(over, () => undefined), { message: `--keylog ${over}: line 2: longer than 4096 bytes, not a key log line` });
  const longer = write('longer.keys', `${keyLine}\n${'x'.repeat(60_000)}\n`);
  await t.rejects(readKeylogFile(longer, () => undefined), { message: `--keylog ${longer}: line 2: longer than 4096 bytes, not a key log line` }, 'under 64 KiB: the line check speaks');
  const binary = write('binary.keys', `${keyLine}\n${'x'.repeat(65_560)}\n`);
  await t.rejects(readKeylogFile(binary, () => undefined), { message: `--keylog ${binary}: not a key log (a line longer than 64 KiB)` }, 'over 64 KiB: the reader refuses the file');
});

t.test("--append goes on after the last finding id found in a line's first 4096 characters, the edge included", async (t) => {
  // The id's closing quote is the line's character number `endsAt`.
  const lineWithIdEndingAt = (endsAt: number, number: number): string => {
    const id = `"id":"f-${String(number).padStart(6, '0')}"`;
    const head = '{"pad":"';
    const filler = 'p'.repeat(endsAt - head.length - 2 - id.length);
    return `${head}${filler}",${id},"category":"photo"}`;
  };
  const folderWith = (endsAt: number): string => {
    const dir = writeRunFolder(path.join(tempDir(), 'run'), { findings: [makeFinding(7)], hosts: [] });
    const line = lineWithIdEndingAt(endsAt, 123);
    t.equal(line.indexOf('"id"') + `"id":"f-000123"`.length, endsAt);
    fs.appendFileSync(path.join(dir, 'findings.jsonl'), `${line}\n`);
    return dir;
  };
  t.equal((await prepareRunFolder(folderWith(4096), { append: true, force: false })).lastFindingNumber, 123, 'ending at 4096: found');
  t.equal((await prepareRunFolder(folderWith(4097), { append: true, force: false })).lastFindingNumber, 7, 'ending at 4097: past the bound, not read');
  t.equal((await prepareRunFolder(folderWith(200), { append: true, force: false })).lastFindingNumber, 123, 'near the start: found');
});

t.test('recovery ends the run at the latest end of any flow, not the last line', async (t) => {
  // The log keeps a flow's start and duration; its end is their sum.
  const flow = (n: number, endedAt: string) => makeFlow({ id: `fl-${String(n).padStart(6, '0')}`, startedAt: new Date(Date.parse(endedAt) - 1000).toISOString(), durationMs: 1000, endedAt });
  const latest = '2026-11-27T18:45:00.000Z';
  for (const [name, order] of [['latest in the middle', [1, 3, 2]], ['latest first', [3, 1, 2]], ['latest last', [1, 2, 3]]] as const) {
    const ends: Record<number, string> = { 1: '2026-11-27T18:31:00.000Z', 2: '2026-11-27T18:40:00.000Z', 3: latest };
    const dir = writeRunFolder(path.join(tempDir(), 'run'), { findings: [], flows: order.map((n) => flow(n, ends[n]!)) });
    const replayed = await replayRun(dir, new SummaryCollector());
    t.equal(replayed.flows, 3, name);
    t.equal(replayed.lastFlowEnd, latest, name);
  }
  const empty = writeRunFolder(path.join(tempDir(), 'run'), { findings: [], flows: [] });
  t.notOk('lastFlowEnd' in (await replayRun(empty, new SummaryCollector())), 'no flow: no end');
});
