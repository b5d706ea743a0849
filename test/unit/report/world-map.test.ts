// The report's map: country shapes drawn from world-atlas, shaded by bytes sent, outlined where
// findings went; tiny countries get a dot; codes without a shape are left to the table.

import t from 'tap';
import { bytesClass, countryName, worldMapSvg, type CountryTotals } from '../../../src/report/world-map.js';

t.test('every country is drawn; those data went to are shaded and carry their numbers', async (t) => {
  const totals = new Map<string, CountryTotals>([
    ['CN', { bytesUp: 75_000, findings: 4, worst: 'high' }],
    ['US', { bytesUp: 140, findings: 0, worst: null }],
    ['SG', { bytesUp: 5_000, findings: 1, worst: 'critical' }],
    ['XK', { bytesUp: 10, findings: 0, worst: null }],
  ]);
  const svg = worldMapSvg(totals);
  t.ok((svg.match(/<path class="land/g) ?? []).length >= 177, 'all 177 countries of the 1:110m set are drawn');
  t.match(svg, /<path class="land sent-3 has-findings sev-high" data-country="CN" d="M/, 'China: 10 kB+ class, outlined as high');
  t.match(svg, /data-country="US"[^>]*><title>United States: 140 B sent, 0 findings<\/title>/, 'the title says the numbers');
  t.notMatch(svg, /class="land sent-1 has-findings[^"]*" data-country="US"/, 'no findings, no outline');
  t.match(svg, /<path class="land sent-2 has-findings sev-critical" data-country="SG"/, 'Singapore, absent at 1:110m, comes from the 1:50m shapes');
  t.match(svg, /<circle class="marker sev-critical" data-country="SG"/, 'and is marked with a dot to be seen at all');
  t.notMatch(svg, /data-country="XK"/, 'Kosovo has no ISO numeric code and no shape: left to the table');
  t.ok(svg.length < 400_000, `the map stays small (${svg.length} characters)`);
});

t.test('bytes classes are decades from 100 B, and names are English', async (t) => {
  const cases: Array<[number, number]> = [[0, 0], [50, 1], [100, 1], [999, 1], [1000, 2], [10_000, 3], [100_000, 4], [1_000_000, 5], [1e12, 5]];
  for (const [bytes, cls] of cases) t.equal(bytesClass(bytes), cls, `${bytes} B`);
  t.equal(countryName('CN'), 'China');
  t.equal(countryName('DE'), 'Germany');
  t.equal(countryName('TW'), 'Taiwan', 'neutral short names (CLDR)');
  t.equal(countryName('ZZ'), 'ZZ', 'an unknown code is shown as it is');
});
