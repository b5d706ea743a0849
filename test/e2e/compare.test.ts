// `phonehome compare`: the differential experiment for scripts. The same photo sent in both runs is
// not new; a new photo, a new destination and a new category are; what the run no longer has is
// "gone"; --fail-on high exits 3 on a new high finding.

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import t from 'tap';
import type { Finding } from '../../src/model/finding.js';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/lab.js';
import { makeFinding, writeRunFolder } from '../helpers/runs.js';

const finding = makeFinding;
const writeRun = (dir: string, findings: Finding[], hosts: string[]): string => writeRunFolder(dir, { findings, hosts });

const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

t.test('what is new and what is gone, as JSON Lines; exit 3 with --fail-on high on a new photo', async (t) => {
  const dir = tempDir();
  const samePhoto = finding(1, {});
  writeRun(path.join(dir, 'base'), [samePhoto, finding(2, { category: 'identifier', severity: 'medium', detector: 'identifier/imei', summary: 'IMEI', evidence: { path: ['body'], bytes: 15, sha256: 'b'.repeat(64) } })], ['gallery.example.cn', 'telemetry.example.com']);
  writeRun(path.join(dir, 'run'), [{ ...samePhoto, id: 'f-000009', flowId: 'fl-000042' }, finding(3, { evidence: { path: ['body'], bytes: 12, sha256: 'c'.repeat(64) }, summary: 'another JPEG photo' }), finding(4, { category: 'sms', detector: 'sms/record', summary: '1 SMS', host: 'sms.example.cn', evidence: { path: ['body'], bytes: 5, sha256: 'd'.repeat(64) } })], ['gallery.example.cn', 'sms.example.cn']);

  const result = run(['compare', path.join(dir, 'base'), path.join(dir, 'run'), '--fail-on', 'high']);
  t.equal(result.status, 3, result.stderr);
  const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.same(lines.filter((l) => l.kind === 'destination').map((l) => [l.change, l.host]), [['new', 'sms.example.cn'], ['gone', 'telemetry.example.com']]);
  t.same(lines.filter((l) => l.kind === 'category').map((l) => [l.change, l.category]), [['new', 'sms'], ['gone', 'identifier']]);
  const findings = lines.filter((l) => l.kind === 'finding');
  t.same(findings.map((l) => [l.change, l.category, l.summary]), [['new', 'photo', 'another JPEG photo'], ['new', 'sms', '1 SMS'], ['gone', 'identifier', 'IMEI']], 'the same photo sent again is not new');
  t.match(lines.at(-1), { kind: 'summary', newFindings: 2, goneFindings: 1, newDestinations: 1, goneDestinations: 1, worstNew: 'high' });

  const quiet = run(['compare', path.join(dir, 'run'), path.join(dir, 'run'), '--fail-on', 'info']);
  t.equal(quiet.status, 0, 'a run compared with itself: nothing new');
  t.match(JSON.parse(quiet.stdout.trim().split('\n').at(-1)!), { newFindings: 0, goneFindings: 0 });

  const noSummary = path.join(dir, 'killed');
  fs.mkdirSync(noSummary);
  const refused = run(['compare', path.join(dir, 'base'), noSummary]);
  t.equal(refused.status, 1);
  t.match(refused.stderr, /has no summary\.json .*phonehome recover/);
  t.equal(run(['compare', path.join(dir, 'base')]).status, 1, 'two folders are needed');
});
