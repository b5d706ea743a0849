// The demo as a user runs it names who sent it and who got it (issue #22): the simulated Redmi
// Note's requests carry real-world headers, so each HTTP finding gets its app with the evidence
// that gave it away; every demo server plays a company whose name says it is simulated, and only
// while the demo's cloud runs. `compare` against a run without the weather app lists that app and
// its ad company as new.

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { startDemoCloud } from '../../src/app/demo.js';
import { EntityLookup } from '../../src/enrich/entity/entity-lookup.js';
import type { Finding } from '../../src/model/finding.js';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/lab.js';

const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const readFindings = (dir: string): Finding[] => fs.readFileSync(path.join(dir, 'findings.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Finding);

t.test("the demo's findings: app, evidence, company, purpose, country", async (t) => {
  const dir = path.join(tempDir(), 'run');
  const demo = run(['demo', '--headless', '--out', dir]);
  t.equal(demo.status, 0, demo.stderr);
  const findings = readFindings(dir);
  const who = findings.map((f) => [f.category, f.app ? `${f.app.id} (${f.app.confidence}: ${f.app.evidence})` : null, f.destination.entity, f.destination.purpose, f.destination.country ?? null]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  t.same(who, [
    ['contact', 'com.miui.cloudservice (high: User-Agent)', 'Xiaomi (simulated)', 'vendor cloud', 'CN'],
    ['credential', null, 'GMX (simulated)', 'hosting', 'DE'],
    ['identifier', 'com.miui.daemon (medium: body:package)', 'Xiaomi (simulated)', 'analytics', 'CN'],
    ['location', 'com.miui.weather2 (medium: body:bundle)', 'Google (simulated)', 'advertising', 'US'],
    ['mail', null, 'GMX (simulated)', 'hosting', 'DE'],
    ['opaque', null, 'Banque Exemple (simulated)', 'vendor cloud', 'FR'],
    ['photo', 'com.miui.gallery (high: User-Agent)', 'Xiaomi (simulated)', 'vendor cloud', 'CN'],
    ['sms', 'com.miui.cloudservice (high: User-Agent)', 'Xiaomi (simulated)', 'vendor cloud', 'CN'],
    ['tls-pinned', null, 'Banque Exemple (simulated)', 'vendor cloud', null],
  ], 'the HTTP findings name their app; SMTP and the pinned app give none; every company says it is simulated');
  const firstParty = findings.filter((f) => f.destination.firstParty).map((f) => f.category).sort();
  t.same(firstParty, ['contact', 'identifier', 'photo', 'sms'], "Xiaomi's own apps sending to Xiaomi are first party; the weather app's data to Google is not");
  const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as { devices?: Array<{ model?: string; os?: string; apps?: Array<{ id: string }> }> };
  t.match(summary.devices?.[0], { model: 'HM NOTE 1W', os: 'Android 4.4.2' }, "the Redmi Note is known from its Dalvik User-Agent");
  t.ok(summary.devices?.[0]?.apps?.some((a) => a.id === 'com.miui.gallery'), 'the gallery, whose WebView page had no finding, is among its apps');

  // compare: the same phone without the weather app.
  const base = path.join(path.dirname(dir), 'base');
  fs.mkdirSync(base);
  fs.copyFileSync(path.join(dir, 'summary.json'), path.join(base, 'summary.json'));
  fs.writeFileSync(path.join(base, 'findings.jsonl'), findings.filter((f) => f.app?.id !== 'com.miui.weather2').map((f) => `${JSON.stringify(f)}\n`).join(''));
  const compared = run(['compare', base, dir]);
  t.equal(compared.status, 0, compared.stderr);
  const lines = compared.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.same(lines.filter((l) => l['kind'] === 'app' || l['kind'] === 'entity').map((l) => [l['kind'], l['change'], l['app'] ?? l['entity']]), [['app', 'new', 'com.miui.weather2'], ['entity', 'new', 'Google (simulated)']], 'the weather app and its ad company are new; Xiaomi sent to before is not');
});

t.test('the demo cloud plays its companies while it runs, and only then', async (t) => {
  t.equal(EntityLookup.of('gallery.cloud.demo'), undefined, 'before: nobody');
  const cloud = await startDemoCloud();
  t.match(EntityLookup.of('gallery.cloud.demo'), { entity: 'Xiaomi (simulated)', purpose: 'vendor cloud', source: 'simulated (phonehome demo)' });
  t.equal(EntityLookup.of('backup.cloud.demo'), undefined, 'a look-alike host under the same name is not placed');
  cloud.close();
  t.equal(EntityLookup.of('gallery.cloud.demo'), undefined, 'after: nobody again');
});
