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

t.test('new apps sending something and new companies receiving it; the existing lines unchanged', async (t) => {
  const dir = tempDir();
  const gallery = { id: 'com.miui.gallery', confidence: 'high' as const, evidence: 'User-Agent' };
  const xiaomi = { ip: '42.62.48.10', port: 443, country: 'CN', entity: 'Xiaomi', purpose: 'vendor cloud', firstParty: true };
  const photo = finding(1, { app: gallery, destination: xiaomi });
  // The baseline: the gallery's photo to Xiaomi, and an IMEI from an app since gone, to a company since gone.
  writeRun(path.join(dir, 'base'), [photo, finding(2, { category: 'identifier', detector: 'identifier/imei', summary: 'IMEI', host: 'stats.example.com', app: { id: 'com.example.stats', confidence: 'low', evidence: 'body:package' }, destination: { country: 'US', entity: 'Stats Inc', purpose: 'analytics' }, evidence: { path: ['body'], bytes: 15, sha256: 'b'.repeat(64) } })], ['gallery.example.cn', 'stats.example.com']);
  writeRun(path.join(dir, 'run'), [
    { ...photo, id: 'f-000009' },
    // A look-alike of a new app: the same gallery, now by a weaker clue, is not new.
    finding(3, { app: { ...gallery, confidence: 'low', evidence: 'connection fl-000001: User-Agent' }, destination: xiaomi, summary: 'another photo', evidence: { path: ['body'], bytes: 12, sha256: 'c'.repeat(64) } }),
    // The weather app, sending a position to an ad company, seen first by its body and then by its WebView header.
    finding(4, { category: 'location', detector: 'location/geo', summary: 'position', host: 'ads.example.com', app: { id: 'com.miui.weather2', confidence: 'medium', evidence: 'body:package' }, destination: { country: 'US', entity: 'AdCo <b>', purpose: 'advertising' }, evidence: { path: ['body'], bytes: 5, sha256: 'd'.repeat(64) } }),
    finding(5, { category: 'identifier', detector: 'identifier/android-id', summary: 'Android ID', host: 'ads.example.com', app: { id: 'com.miui.weather2', confidence: 'high', evidence: 'X-Requested-With' }, destination: { country: 'US', entity: 'AdCo <b>', purpose: 'advertising' }, evidence: { path: ['body'], bytes: 5, sha256: 'e'.repeat(64) } }),
    // No app, no company: neither line.
    finding(6, { category: 'sms', detector: 'sms/record', summary: '1 SMS', host: 'sms.example.cn', evidence: { path: ['body'], bytes: 5, sha256: 'f'.repeat(64) } }),
  ], ['gallery.example.cn', 'ads.example.com', 'sms.example.cn']);

  const result = run(['compare', path.join(dir, 'base'), path.join(dir, 'run')]);
  t.equal(result.status, 0, result.stderr);
  const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.same(lines.filter((l) => l.kind === 'app'), [
    { kind: 'app', change: 'new', app: 'com.miui.weather2', name: null, confidence: 'high', evidence: 'X-Requested-With', findings: 2, categories: ['location', 'identifier'], hosts: ['ads.example.com'] },
    { kind: 'app', change: 'gone', app: 'com.example.stats', name: null, confidence: 'low', evidence: 'body:package', findings: 1, categories: ['identifier'], hosts: ['stats.example.com'] },
  ], 'the new app with its strongest evidence; the gallery in both runs is not new; the app gone');
  t.same(lines.filter((l) => l.kind === 'entity'), [
    { kind: 'entity', change: 'new', entity: 'AdCo <b>', purpose: 'advertising', findings: 2, categories: ['location', 'identifier'], hosts: ['ads.example.com'] },
    { kind: 'entity', change: 'gone', entity: 'Stats Inc', purpose: 'analytics', findings: 1, categories: ['identifier'], hosts: ['stats.example.com'] },
  ], 'Xiaomi got findings in both runs: not new');
  t.same(lines.filter((l) => l.kind === 'destination').map((l) => Object.keys(l)), [['kind', 'change', 'host', 'country', 'bytesUp'], ['kind', 'change', 'host', 'country', 'bytesUp'], ['kind', 'change', 'host', 'country', 'bytesUp']], 'destination lines keep their shape');
  t.same(Object.keys(lines.find((l) => l.kind === 'finding')), ['kind', 'change', 'category', 'severity', 'host', 'detector', 'sha256', 'summary', 'id', 'flowId', 'country'], 'finding lines keep their shape');
  t.match(lines.at(-1), { kind: 'summary', newFindings: 4, goneFindings: 1, newApps: 1, goneApps: 1, newEntities: 1, goneEntities: 1 });
});
