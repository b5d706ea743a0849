// The inspection engine over a corpus of realistic messages: every personal item must be found,
// in each wrapping, with its decode path; honest look-alikes must stay quiet at medium and above.

import t from 'tap';
import zlib from 'node:zlib';
import { inspectFlow } from '../../../src/inspect/inspector.js';
import { defaultDetectors } from '../../../src/inspect/detect/registry.js';
import { makeFlow } from '../../helpers/flows.js';
import { negatives, positives, smsRows } from '../../helpers/corpus.js';
import { loadSqlite } from '../../../src/inspect/decode/sqlite.js';

await loadSqlite();

function request(bytes: Buffer | string, headers: Array<[string, string]> = [], url = 'https://api.example.com/sync') {
  return makeFlow({ requestBody: bytes, requestHeaders: headers, url });
}

for (const row of positives) {
  t.test(`finds ${row.name}`, async (t) => {
    const { drafts, problems } = inspectFlow(row.flow, defaultDetectors);
    const match = drafts.find((d) => d.category === row.category && row.summary.test(d.summary));
    t.ok(match, `${row.category} finding; got ${JSON.stringify(drafts.map((d) => [d.category, d.summary]))}; problems ${problems.join('; ')}`);
    if (match && row.path) t.same(match.evidence.path, row.path);
    if (match?.category === 'credential') t.notMatch(JSON.stringify(match), /s3cret/, 'the password is never in a finding');
  });
}

for (const row of negatives) {
  t.test(`stays quiet on ${row.name}`, async (t) => {
    const { drafts } = inspectFlow(row.flow, defaultDetectors);
    const loud = drafts.filter((d) => d.severity === 'medium' || d.severity === 'high' || d.severity === 'critical');
    t.same(loud.map((d) => [d.category, d.summary]), []);
  });
}

t.test('a gzip bomb is stopped at the cap and reported, not decoded', async (t) => {
  const bomb = zlib.gzipSync(Buffer.alloc(200 * 1024 * 1024));
  const { drafts, problems } = inspectFlow(request(bomb, [['Content-Encoding', 'gzip']]), defaultDetectors);
  t.same(drafts, []);
  t.match(problems.join('\n'), /decompression bomb/);
});

t.test('a brotli bomb is stopped too', async (t) => {
  const bomb = zlib.brotliCompressSync(Buffer.alloc(100 * 1024 * 1024));
  const { problems } = inspectFlow(request(bomb, [['Content-Encoding', 'br']]), defaultDetectors);
  t.match(problems.join('\n'), /decompression bomb/);
});

t.test('a body cut at the limit is read as far as it goes', async (t) => {
  const json = zlib.gzipSync(JSON.stringify({ messages: smsRows, padding: 'x'.repeat(100000) }));
  const { drafts } = inspectFlow(request(json.subarray(0, json.length - 200), [['Content-Encoding', 'gzip']]), defaultDetectors);
  t.same(drafts, [], 'truncated JSON does not parse: no finding, no crash');
  const { problems } = inspectFlow(request(Buffer.from('{"a": ['.repeat(100000)), [['Content-Type', 'application/json']]), defaultDetectors);
  t.ok(Array.isArray(problems));
});

t.test('nested base64 stops at the depth limit', async (t) => {
  let value = JSON.stringify({ sms: smsRows });
  for (let i = 0; i < 10; i++) value = JSON.stringify({ d: Buffer.from(value).toString('base64') });
  const { problems } = inspectFlow(request(value, [['Content-Type', 'application/json']]), defaultDetectors);
  t.match(problems.join('\n'), /decode depth/);
});

t.test('precision and recall per category over the whole corpus (the table in the README)', async (t) => {
  const { scoreCorpus, scoreTable } = await import('../../helpers/precision.js');
  const scores = scoreCorpus(positives, negatives, (flow) => inspectFlow(flow, defaultDetectors).drafts);
  t.comment(`\n${scoreTable(scores, negatives.length)}`);
  t.ok(negatives.length >= positives.length, `look-alikes (${negatives.length}) at least as many as positives (${positives.length})`);
  for (const s of scores) {
    t.equal(s.missed, 0, `${s.category}: nothing missed`);
    t.equal(s.falseAlarms, 0, `${s.category}: no false alarm`);
  }
});
