// The report's edges, one step either side (issue #23, planted bugs that survived): text cut at
// exactly its limit, "host" or "hosts" and the list of hosts cut after eight, an app's confidence
// mark (none when high, "likely" when medium, "guess" otherwise).

import t from 'tap';
import { shown } from '../../../src/report/html-text.js';
import { appText, destinationText } from '../../../src/report/who-sent-it.js';
import { bytesClass, countryName } from '../../../src/report/world-map.js';
import { makeFinding } from '../../helpers/runs.js';

t.test('text of exactly its limit is whole; one character more is cut and says so', async (t) => {
  t.equal(shown('abcd', 4), 'abcd');
  t.equal(shown('abcde', 4), 'abcd…');
  t.equal(shown('', 0), '');
});

const titleOf = (html: string): string => /title="([^"]*)"/.exec(html)?.[1] ?? '';

t.test('a company reached through one host says "host", through several "hosts", eight listed at most', async (t) => {
  const f = makeFinding(1, { host: 'a.example', destination: { entity: 'Acme', country: 'US' } });
  t.equal(titleOf(destinationText(f, ['a.example'])), 'host: a.example');
  t.equal(titleOf(destinationText(f, ['a.example', 'b.example'])), 'hosts: a.example, b.example');
  const hosts = (n: number): string[] => Array.from({ length: n }, (_, i) => `h${i + 1}.example`);
  t.equal(titleOf(destinationText(f, hosts(8))), `hosts: ${hosts(8).join(', ')}`, 'eight: all of them, no "more"');
  t.equal(titleOf(destinationText(f, hosts(9))), `hosts: ${hosts(8).join(', ')} and 1 more`, 'nine: eight and 1 more');
  t.match(destinationText(f, ['a.example']), />Acme<\/span> \(US\)$/, 'the company and its country');
});

t.test('an app is marked by its confidence: nothing when high, "likely" when medium, "guess" when low', async (t) => {
  const app = { id: 'com.example.app', evidence: 'User-Agent' };
  const high = appText({ ...app, confidence: 'high' });
  const medium = appText({ ...app, confidence: 'medium' });
  const low = appText({ ...app, confidence: 'low' });
  t.notMatch(high, /<small/, 'high: no mark');
  t.match(medium, /<small class="confidence medium">likely<\/small>$/);
  t.match(low, /<small class="confidence low">guess<\/small>$/);
  t.equal(titleOf(high), 'high confidence: User-Agent');
  const evidences = ['e1', 'e2', 'e3', 'e4', 'e5'];
  t.equal(titleOf(appText({ ...app, confidence: 'low' }, evidences.slice(0, 4))), 'low confidence: e1; e2; e3; e4', 'four evidences: all');
  t.equal(titleOf(appText({ ...app, confidence: 'low' }, evidences)), 'low confidence: e1; e2; e3; e4; and 1 more', 'five: four and 1 more');
});

t.test("the page: a finding's summary, id and canary cut at exactly their limits; twelve networks at most; shares to one decimal", async (t) => {
  const { reportRunFolder } = await import('../../../src/report/build-report.js');
  const fs = await import('node:fs');
  const { tempDir } = await import('../../helpers/lab.js');
  const { writeRunFolder } = await import('../../helpers/runs.js');
  const findings = [
    makeFinding(1, { id: `f-${'a'.repeat(18)}`, summary: 'S'.repeat(600), canary: 'C'.repeat(80) }),
    makeFinding(2, { id: `f-${'b'.repeat(19)}`, summary: 'T'.repeat(601), canary: 'D'.repeat(81) }),
  ];
  const byNetwork = Object.fromEntries(Array.from({ length: 13 }, (_, i) => [`network-${String(i + 1).padStart(2, '0')}`, { flows: 1, bytesUp: 1, findings: 0, hosts: [] }]));
  const options = { port: 8080, 'insecure-upstream': false, out: null, 'fail-on': undefined, passthrough: [], dns: 'on' };
  const summary = { v: 1, destinations: [], byNetwork, options, coverage: { totals: { bytesUp: 3, bytesUpInspected: 1, bytesDown: 8, bytesDownInspected: 8 } } };
  const dir = writeRunFolder(tempDir(), { findings, summary });
  const html = fs.readFileSync((await reportRunFolder(dir)).file, 'utf8');
  t.match(html, `<p class="summary">${'S'.repeat(600)}</p>`, '600 characters: whole');
  t.match(html, `<p class="summary">${'T'.repeat(600)}…</p>`, '601: cut, and says so');
  t.match(html, `<span class="muted">f-${'a'.repeat(18)}</span>`, 'an id of 20: whole');
  t.match(html, `<span class="muted">f-${'b'.repeat(18)}…</span>`, 'an id of 21: cut');
  t.match(html, `canary: ${'C'.repeat(80)}</span>`, 'a canary of 80: whole');
  t.match(html, `canary: ${'D'.repeat(80)}…</span>`, 'a canary of 81: cut');
  t.match(html, '<td>network-12</td>', 'the twelfth network is listed');
  t.notMatch(html, 'network-13', 'the thirteenth is not');
  t.match(html, '<th>options in force</th><td><code>port=8080</code> <code>dns=on</code></td>', 'options set, in their order; false, null, absent and empty lists left out');
  t.match(html, '<strong>33.3 %</strong> of the 3 B the devices sent, and 100.0 % of the 8 B', 'shares to one decimal');
});

t.test("the map's shade of bytes sent: one class per power of ten from 100 B, five at most", async (t) => {
  const cases: Array<[number, number]> = [[0, 0], [1, 1], [99, 1], [999, 1], [1000, 2], [9999, 2], [10_000, 3], [100_000, 4], [1_000_000, 5], [10_000_000, 5]];
  for (const [bytes, shade] of cases) t.equal(bytesClass(bytes), shade, `${bytes} bytes`);
});

t.test('a country code is named; ZZ (unknown) stays ZZ', async (t) => {
  t.equal(countryName('CN'), 'China');
  t.equal(countryName('ZZ'), 'ZZ');
});
