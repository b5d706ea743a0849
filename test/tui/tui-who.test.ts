// Who sent it and who got it, in the terminal UI: the app column (with its confidence mark), the
// company beside the country, findings' app and company, the app filter and the `a` key, narrow
// terminals, and app ids from headers never reaching the terminal as control sequences.

import t from 'tap';
import { PassThrough } from 'node:stream';
import { TuiModel, flowRow } from '../../src/sinks/tui/tui-model.js';
import { TuiScreen } from '../../src/sinks/tui/tui-screen.js';
import { fitLabel, appLabel } from '../../src/sinks/tui/app-label.js';
import { planColumns } from '../../src/sinks/tui/column-layout.js';
import type { EntityInfo } from '../../src/enrich/entity/entity-lookup.js';
import type { AppAttribution } from '../../src/model/flow.js';
import type { Finding } from '../../src/model/finding.js';
import { makeFlow } from '../helpers/flows.js';

const gallery: AppAttribution = { id: 'com.miui.gallery', confidence: 'high', evidence: 'X-Requested-With' };
const weather: AppAttribution = { id: 'com.example.weather', confidence: 'low', evidence: 'User-Agent okhttp shape' };
const companies = new Map<string, EntityInfo>([
  ['gallery.cloud.demo', { entity: 'Xiaomi', purpose: 'vendor cloud', domain: 'cloud.demo', source: 'test table', packages: ['com.miui'] }],
  ['ads.demo', { entity: 'Google', purpose: 'advertising', country: 'US', domain: 'ads.demo', source: 'test table', packages: ['com.google'] }],
]);
const entityOf = (host: string): EntityInfo | undefined => companies.get(host);

const model = () => new TuiModel({ capacity: 1000, proxyAddresses: ['192.168.1.5:8080'], insecureUpstream: false, redact: (f) => f });

function finding(n: number, overrides: Partial<Finding> = {}): Finding {
  return {
    v: 1, id: `f-${n}`, time: `2026-11-27T18:30:${String(n % 60).padStart(2, '0')}.000Z`, flowId: `fl-${n}`, category: 'photo', severity: 'high', direction: 'request', detector: 'photo/jpeg',
    summary: `JPEG camera photo number ${n}`, host: 'gallery.cloud.demo', client: { ip: '192.168.1.23' }, destination: { ip: '42.62.48.10', country: 'CN' },
    evidence: { path: ['body'], bytes: 1 }, details: {}, canary: null, ...overrides,
  };
}

/** Three flows: the gallery's upload (sure app, known company), an ad bid (guessed app), a config fetch (no app, no company). */
function threeFlows(m: TuiModel): void {
  m.addFlow(flowRow(makeFlow({ id: 'fl-1', url: 'https://gallery.cloud.demo/upload?album=Camera', app: gallery }), 'CN', entityOf), '192.168.1.23');
  m.addFlow(flowRow(makeFlow({ id: 'fl-2', url: 'https://ads.demo/bid', app: weather }), 'US', entityOf), '192.168.1.23');
  m.addFlow(flowRow(makeFlow({ id: 'fl-3', url: 'https://config.weather.demo/v1/config', method: 'GET' }), 'DE', entityOf), '192.168.1.23');
}

const flowText = (m: TuiModel, width: number) => m.render(width, 30).flows.map((l) => l.text);

t.test('a flow row carries its app (with confidence mark) and its company, and the detail says where each came from', async (t) => {
  const row = flowRow(makeFlow({ url: 'https://gallery.cloud.demo/upload', app: gallery }), 'CN', entityOf);
  t.equal(row.app, 'com.miui.gallery');
  t.equal(row.appId, 'com.miui.gallery');
  t.equal(row.entity, 'Xiaomi');
  t.equal(row.purpose, 'vendor cloud');
  const detail = row.detail.join('\n');
  t.match(detail, /app: com\.miui\.gallery, high confidence, from X-Requested-With/);
  t.match(detail, /company: Xiaomi \(vendor cloud\); cloud\.demo per test table; first party \(the app's own vendor\)/);
  t.equal(row.firstParty, true, 'the gallery sending to its own vendor');
  t.equal(flowRow(makeFlow({ url: 'https://ads.demo/bid', app: gallery }), 'US', entityOf).firstParty, undefined, 'the gallery sending to Google is not');
  t.equal(flowRow(makeFlow({ url: 'https://gallery.cloud.demo/upload', app: { ...gallery, id: 'com.miuix.gallery' } }), 'CN', entityOf).firstParty, undefined, 'a look-alike package is not');
  t.equal(row.detail.findIndex((l) => l.startsWith('app: ')), 2, 'right under the addresses');
  t.equal(flowRow(makeFlow({ url: 'https://ads.demo/bid', app: weather }), 'US', entityOf).app, 'com.example.weather?', 'low confidence: a ?');
  t.equal(appLabel({ id: 'Weather', name: 'Weather Pro', confidence: 'medium', evidence: 'User-Agent CFNetwork' }), 'Weather Pro~', 'medium: a ~, and the name when given');
  const plain = flowRow(makeFlow({ url: 'https://config.weather.demo/' }), 'DE', entityOf);
  t.equal(plain.app, undefined);
  t.equal(plain.entity, undefined);
  t.equal(flowRow(makeFlow({ url: 'https://gallery.cloud.demo/upload', app: gallery }), 'CN').entity, undefined, 'no lookup given: no company');
});

t.test('the flow list shows the app and, beside the country, the company; rows line up', async (t) => {
  const m = model();
  threeFlows(m);
  const wide = flowText(m, 160);
  t.match(wide[2]!, /POST {4}gallery\.cloud\.demo +com\.miui\.gallery +\/upload\?album=Camera +CN Xiaomi \(vendor cloud, first party\) +- ↑/);
  t.match(wide[1]!, /ads\.demo +com\.example\.weather\? +\/bid +US Google \(advertising\)/);
  t.match(wide[0]!, /GET {5}config\.weather\.demo +\/v1\/config +DE +- ↑/);
  t.ok(wide.every((l) => l.length === 160));
  t.equal(wide[0]!.indexOf('/v1/config'), wide[2]!.indexOf('/upload'), 'the path column starts at the same place with and without an app');
  t.equal(wide[0]!.indexOf(' DE '), wide[2]!.indexOf(' CN '), 'and so does the country');
});

t.test('an 80-column terminal keeps the app (shortened to its end) and the country; bytes down and duration go first; narrower, the app goes before the path', async (t) => {
  const m = model();
  threeFlows(m);
  const eighty = flowText(m, 78); // the screen gives the list its width minus the borders
  t.ok(eighty.every((l) => l.length === 78));
  t.match(eighty[2]!, /POST {4}gallery\.\S*… …miui\.gallery \/upload\?\S*… CN +- ↑/, 'app cut to its last part, country kept; company, duration and ↓ give way');
  t.match(eighty[1]!, /…weather\? +\/bid/, 'the confidence mark survives the cut');
  t.notMatch(eighty[2]!, /↓|ms/);
  const hundred = flowText(m, 98);
  t.match(hundred[2]!, /gallery\.cloud\.d… com\.miui\.gallery \/upload\?\S* CN Xiaomi +- ↑/, 'at 100 columns the whole app, and the company');
  t.notMatch(hundred[2]!, /↓|ms/, 'bytes down and duration only with room to spare');
  t.match(flowText(m, 170)[2]!, /CN Xiaomi \(vendor cloud, first party\) +- ↑ +0 ↓ +0 +512ms/, 'as at 170 columns');
  const sixty = flowText(m, 60);
  t.notMatch(sixty.join('\n'), /gallery +\/upload|weather\?/, 'at 60 columns the app column is gone');
  t.match(sixty[2]!, /POST {4}gallery\.… \/upload… CN +- ↑/, 'the host, path and country are not');
  t.ok(sixty.every((l) => l.length === 60));
});

t.test('without any app or company the flow list keeps its old shape (no empty columns)', async (t) => {
  const m = model();
  m.addFlow(flowRow(makeFlow({ url: 'https://config.weather.demo/v1/config', method: 'GET' }), 'DE'), '192.168.1.23');
  const line = flowText(m, 120)[0]!;
  t.match(line, /^18:30:11 GET {5}config\.weather\.demo +\/v1\/config +DE +- ↑ +0 ↓ +0 +512ms/);
});

t.test('findings show the company beside the country and the app before the summary; detail says both', async (t) => {
  const m = model();
  m.addFinding(finding(1, { app: gallery, destination: { ip: '42.62.48.10', country: 'CN', entity: 'Xiaomi', purpose: 'vendor cloud', firstParty: true } }));
  m.addFinding(finding(2, { host: 'ads.demo', category: 'location', severity: 'medium', summary: 'GPS position 48.853 2.349', destination: { ip: '127.0.0.3', country: 'US' } }));
  const wide = m.render(200, 30).findings.map((l) => l.text);
  t.match(wide[1]!, /HIGH +photo +CN Xiaomi \(vendor cloud, first party\) +gallery\.cloud\.demo +com\.miui\.gallery +JPEG camera photo number 1/);
  t.match(wide[0]!, /MEDIUM +location +US +ads\.demo +GPS position/, 'a finding without company or app leaves the columns blank');
  t.equal(wide[0]!.indexOf('GPS'), wide[1]!.indexOf('JPEG'), 'summaries line up');
  const eighty = m.render(78, 30).findings.map((l) => l.text);
  t.match(eighty[1]!, /HIGH +photo +CN Xiaomi +gallery\.\S* +JPEG camera photo/, 'at 80 columns: the company (without its purpose) stays, the app gives way to the summary');
  t.ok(eighty.every((l) => l.length === 78));
  m.command('down');
  m.command('open');
  const detail = m.render(160, 30).overlay!.map((l) => l.text).join('\n');
  t.match(detail, /company: Xiaomi \(vendor cloud\), first party \(the app's own vendor\)/);
  m.setFilter('entity:first');
  t.equal(m.render(200, 30).findings.length, 1, 'entity: matches "first party" too');
  t.match(detail, /app: com\.miui\.gallery, high confidence, from X-Requested-With/);
});

t.test('filter by app: app:, plain words, entity:, and the `a` key cycling through the apps seen', async (t) => {
  const m = model();
  threeFlows(m);
  m.addFlow(flowRow(makeFlow({ id: 'fl-4', url: 'https://gallery.cloud.demo/thumbs', app: { id: 'com.miui.gallery.beta', confidence: 'high', evidence: 'X-Requested-With' } }), 'CN', entityOf), '192.168.1.23');
  m.addFinding(finding(1, { app: gallery }));
  m.addFinding(finding(2, { app: weather, host: 'ads.demo', summary: 'GPS position' }));
  m.command('next-pane');
  m.setFilter('app:weather');
  t.equal(m.render(160, 30).flows.length, 1);
  t.equal(m.selectedFlow()?.id, 'fl-2');
  t.match(m.render(160, 30).findings[0]!.text, /GPS position/);
  t.equal(m.render(160, 30).findings.length, 1);
  m.setFilter('google');
  t.equal(m.selectedFlow()?.id, 'fl-2', 'plain words match the company');
  m.setFilter('entity:vendor');
  t.same(flowText(m, 160).map((l) => /\/(thumbs|upload|bid|v1)/.exec(l)?.[1]), ['thumbs', 'upload'], 'entity: matches the company or its purpose');
  m.setFilter('miui');
  t.equal(m.render(160, 30).flows.length, 2, 'plain words match app ids');

  m.setFilter('host:cloud');
  m.command('next-app');
  t.match(m.message, /app 1 of 3: com\.miui\.gallery/);
  t.match(m.render(160, 30).header[1]!.text, /\[filter: host:cloud app:com\.miui\.gallery\]/, 'the rest of the filter stays');
  t.match(m.render(78, 30).header[1]!.text, /^● LIVE {2}\[filter: host:cloud app:com\.miui\.gallery\]/, 'and the filter leads the status line, so 80 columns show it');
  t.same(flowText(m, 160).filter((l) => l.includes('gallery')).length, 1, 'the whole id: com.miui.gallery.beta is another app');
  m.command('next-app');
  t.match(m.message, /app 2 of 3: com\.example\.weather/);
  t.equal(m.render(160, 30).flows[0]!.text.includes('no flow matches'), true, 'weather sent nothing to host:cloud');
  m.command('next-app');
  t.match(m.message, /com\.miui\.gallery\.beta/);
  t.equal(m.selectedFlow()?.id, 'fl-4');
  t.equal(m.focus, 'flows', 'the pane stays');
  m.command('next-app');
  t.equal(m.message, 'all apps');
  t.match(m.render(160, 30).header[1]!.text, /\[filter: host:cloud\]/);
  m.command('back');
  t.equal(m.render(160, 30).flows.length, 4, 'back clears it all');

  const none = model();
  none.command('next-app');
  t.match(none.message, /no app told yet/);
});

t.test('help explains the app column, its marks and the a key', async (t) => {
  const m = model();
  m.command('help');
  const help = m.render(120, 40).overlay!.map((l) => l.text).join('\n');
  t.match(help, /^a +one app at a time/m);
  t.match(help, /app:gallery entity:google/);
  t.match(help, /App column: .*No mark: high confidence/);
  t.match(help, /~ medium; \? low/);
  m.command('back');
  t.match(m.render(120, 40).hint.text, /a:app/, 'and the hint line names it');
});

t.test('an app id or company from a payload cannot reach the terminal as control sequences', async (t) => {
  const evil: AppAttribution = { id: 'com.evil\u001b]52;c;ZXZpbA==\u0007\u001b[2J\u202e', confidence: 'high', evidence: 'X-Requested-With' };
  const m = model();
  const row = flowRow(makeFlow({ url: 'https://evil.test/x', app: evil }), 'CN', () => ({ entity: 'Evil\u001b[31m Corp', purpose: 'ads\u0007', domain: 'evil.test', source: '--entities file' }));
  m.addFlow(row, '192.168.1.23');
  m.addFinding(finding(1, { app: evil, destination: { ip: '1.2.3.4', country: 'CN', entity: 'Evil\u001b[31m Corp', purpose: 'x' } }));
  m.command('down');
  m.command('open');
  const all = [...m.render(200, 40).flows, ...m.render(200, 40).findings, ...m.render(200, 40).overlay!, ...row.detail.map((text) => ({ text }))].map((l) => l.text).join('\n');
  t.notMatch(all, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
  t.match(all, /com\.evil\\u001b\]52/);
});

t.test('fitting an app label: a package keeps its last parts, a name its start, the mark always', async (t) => {
  t.equal(fitLabel('com.miui.gallery', 20), 'com.miui.gallery    ');
  t.equal(fitLabel('com.miui.gallery', 13), '…miui.gallery');
  t.equal(fitLabel('com.miui.gallery', 12), '…gallery    ');
  t.equal(fitLabel('com.example.weather?', 10), '…weather? ');
  t.equal(fitLabel('com.example.weather?', 6), 'weat…?');
  t.equal(fitLabel('Weather Pro Deluxe~', 10), 'Weather…~ ');
  t.equal(fitLabel('x', 0), '');
});

t.test('column plan: the least important optional column hides first, room left is shared', async (t) => {
  const keep = [{ name: 'a', min: 10, ideal: 30 }, { name: 'b', min: 5, ideal: 5 }, { name: 'c', min: 8, ideal: 20 }] as const;
  t.same(planColumns(140, 40, 20, keep, ['a', 'c']), { widths: { a: 30, b: 5, c: 20 }, rest: 42 }, 'room to spare: every column at its ideal, the rest to the free column');
  t.same(planColumns(81, 20, 20, keep, ['a', 'c']), { widths: { a: 18, b: 5, c: 15 }, rest: 20 }, 'growth shared a column at a time; c, later in grow, got one less');
  t.same(planColumns(60, 20, 20, keep, ['a', 'c']), { widths: { a: 13, b: 5, c: 0 }, rest: 20 }, 'c does not fit: hidden, and a grows instead');
  t.same(planColumns(40, 20, 20, keep, ['a', 'c']), { widths: { a: 0, b: 0, c: 0 }, rest: 20 }, 'no room: only the free column');
});

t.test('on an 80x24 terminal the flows pane shows the app', async (t) => {
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
  const output = Object.assign(new PassThrough(), { isTTY: true, columns: 80, rows: 24 });
  output.resume();
  const m = model();
  const screen = new TuiScreen(m, { input, output, colour: false, immediate: true, onQuit: () => undefined, onExport: () => '' });
  t.teardown(() => screen.destroy());
  threeFlows(m);
  screen.markDirty();
  const lines = (screen.screen as unknown as { lines: Array<Array<[unknown, string]>> }).lines.map((row) => row.map((cell) => cell[1]).join('').trimEnd());
  t.match(lines.join('\n'), /│18:30:11 POST {4}gallery\.clo… …miui\.gallery \/upload\?… CN +- ↑ +0 +│/);
});
