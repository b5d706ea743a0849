// The report's edges, one step either side (issue #23, planted bugs that survived): text cut at
// exactly its limit, "host" or "hosts" and the list of hosts cut after eight, an app's confidence
// mark (none when high, "likely" when medium, "guess" otherwise).

import t from 'tap';
import { shown } from '../../../src/report/html-text.js';
import { appText, destinationText } from '../../../src/report/who-sent-it.js';
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
