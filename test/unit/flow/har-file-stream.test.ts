// HAR files read entry by entry (analyze of any size): the same flows as parsing the whole file,
// wherever the chunks are cut, with look-alike keys, escapes, a byte-order mark, pages after the
// entries, a file cut short, and files that are not HARs.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { HarEntryScanner } from '../../../src/flow/har-entry-scanner.js';
import { harFileFlows, type HarStreamEnd } from '../../../src/flow/har-file-stream.js';
import { readHarFile } from '../../../src/flow/har-reader.js';
import type { Flow } from '../../../src/model/flow.js';

const photo = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'fixtures', 'photos', 'camera.jpg'));
const request = (n: number, text: string, extra: Record<string, unknown> = {}) => ({ startedDateTime: '2026-11-27T18:30:11.000Z', time: 1, request: { method: 'POST', url: `https://a.example/${n}`, httpVersion: 'HTTP/1.1', headers: [{ name: 'x-note', value: 'entries: [ { "log" } ]' }], postData: { mimeType: 'text/plain', text, ...extra } }, response: { status: 200, statusText: '', httpVersion: 'HTTP/1.1', headers: [], content: { size: 0, mimeType: '' } } });
const entries = [
  request(1, 'body {1} "quoted" ] \\ [ \\"'),
  request(2, 'ends with a backslash \\'),
  request(3, photo.toString('base64'), { encoding: 'base64' }),
  request(4, 'café, 验证码 123456, "}]"'),
  { ...request(5, ''), _phonehome: { flowId: 'f-000042', kind: 'http', client: { ip: '10.0.0.7', port: 4000 }, target: { host: 'a.example', port: 443 }, tags: ['x'] } },
];
// Look-alikes around the real log.entries: an "entries" key elsewhere, "log" as a value, pages after.
const document = JSON.stringify({
  _before: { log: { entries: [request(99, 'not an entry')] }, entries: [request(98, 'nor this')] },
  log: { version: '1.2', creator: { name: 'entries', version: '"log"' }, pages: [{ id: 'p', entries: [request(97, 'a page is no entry')] }], entries, comment: '] } {' },
  note: 'log',
});

function dir(): string {
  const made = fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-har-stream-'));
  t.teardown(() => fs.rmSync(made, { recursive: true, force: true }));
  return made;
}

async function readAll(text: string | Buffer): Promise<{ flows: Flow[]; end: HarStreamEnd | undefined }> {
  const file = path.join(dir(), 'in.har');
  fs.writeFileSync(file, text);
  const flows: Flow[] = [];
  let end: HarStreamEnd | undefined;
  for await (const flow of harFileFlows(file, 'in.har', (e) => { end = e; })) flows.push(flow);
  return { flows, end };
}

/** Flows compared as data (Buffers as their bytes). */
const plain = (flows: Flow[]) => JSON.parse(JSON.stringify(flows)) as unknown;

t.test('the same flows, in the same order with the same ids, as parsing the whole file', async (t) => {
  const { flows, end } = await readAll(document);
  t.same(plain(flows), plain(readHarFile(document).flows));
  t.same(flows.map((f) => f.id), ['har-000001', 'har-000002', 'har-000003', 'har-000004', 'f-000042']);
  t.equal(flows[0]!.request!.body.bytes.toString(), 'body {1} "quoted" ] \\ [ \\"', 'brackets and escaped quotes inside strings');
  t.equal(flows[1]!.request!.body.bytes.toString(), 'ends with a backslash \\');
  t.same(flows[2]!.request!.body.bytes, photo, 'a base64 photo');
  t.same(end, { flows: 5, bytes: Buffer.byteLength(document), truncated: false, droppedTail: false, notes: [] });
});

t.test('wherever the chunks are cut, the scanner finds the same entries', async (t) => {
  const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(document)]);
  const expected = entries.map((e) => JSON.stringify(e));
  for (const size of [1, 2, 3, 5, 7, 64, 1000, 65536]) {
    const scanner = new HarEntryScanner();
    const found: string[] = [];
    for (let at = 0; at < bytes.length; at += size) for (const e of scanner.push(bytes.subarray(at, at + size))) found.push(e.text);
    t.same(found, expected, `chunks of ${size} byte(s)`);
    t.match(scanner.end(), { whole: true, sawEntries: true, droppedTail: false, bytes: bytes.length }, `chunks of ${size}: whole`);
  }
});

t.test('a byte-order mark, and an entries array before creator and with pages after it', async (t) => {
  const text = `\ufeff{"log":{"entries":[${JSON.stringify(entries[0])}],"pages":[],"creator":{"name":"Charles"},"version":"1.2"}}`;
  const { flows, end } = await readAll(text);
  t.equal(flows.length, 1);
  t.equal(end?.truncated, false);
});

t.test('a file cut anywhere: every whole entry is read, then one note says where it stopped', async (t) => {
  const whole = `{"log":{"version":"1.2","entries":[${entries.map((e) => JSON.stringify(e)).join(',')}]}}`;
  const third = whole.indexOf(JSON.stringify(entries[2]));
  const cut = await readAll(whole.slice(0, third + 100));
  t.same(cut.flows.map((f) => f.request?.url), ['https://a.example/1', 'https://a.example/2']);
  t.match(cut.end, { flows: 2, truncated: true, droppedTail: true });
  t.same(cut.end?.notes, [`in.har is cut short: read its 2 whole entries, dropped the incomplete last one (the file stops at byte ${third + 100}, in an entry that began at byte ${third})`]);
  const between = await readAll(whole.slice(0, third - 1));
  t.match(between.end, { flows: 2, truncated: true, droppedTail: false });
  t.match(between.end?.notes[0], /cut short: read its 2 whole entries \(the file stops at byte/);
  // Cut at every byte of a small file: never more entries than are whole, never a throw once entries began.
  const small = `{"log":{"entries":[${JSON.stringify(entries[0])},${JSON.stringify(entries[1])}]}}`;
  const firstEnds = small.indexOf(JSON.stringify(entries[1])) - 1;
  for (let at = small.indexOf('[') + 1; at < small.length; at += 7) {
    const { flows, end } = await readAll(small.slice(0, at));
    t.equal(flows.length, at < firstEnds ? 0 : at < small.length - 3 ? 1 : 2, `cut at ${at}`);
    t.equal(end?.truncated, true);
  }
});

t.test('an entry that is not JSON is left out and said; bytes after the document are said', async (t) => {
  const text = `{"log":{"entries":[${JSON.stringify(entries[0])},{"request": nonsense},${JSON.stringify(entries[1])}]}}\n{"another":1}`;
  const { flows, end } = await readAll(text);
  t.same(flows.map((f) => f.id), ['har-000001', 'har-000002']);
  t.match(end?.notes[0], /^in.har: left out 1 entry, not JSON \(the first at byte \d+: /);
  t.match(end?.notes[1], /^in.har: the HAR document ends before byte \d+; what follows was not read$/);
});

t.test('files that are not HARs are one line each', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['', /in.har is not a HAR file \(it is empty\)/],
    ['not json', /in.har is not a HAR file \(it begins with "n", not "\{"\)/],
    ['[{"log":{}}]', /in.har is not a HAR file \(it begins with "\[", not "\{"\)/],
    ['{"not":"har"}', /in.har is not a HAR file \(no log.entries array\)$/],
    ['{"log":{"entries":{}}}', /in.har is not a HAR file \(no log.entries array\)$/],
    ['{"log": {"version"', /in.har is not a HAR file \(no log.entries array before it stops at byte 18\)/],
  ];
  for (const [text, message] of cases) await t.rejects(readAll(text), { code: 'PH_ERR_HAR', message }, JSON.stringify(text));
});

t.test('an entry too large for a JavaScript string is not kept while it is read, and is counted', async (t) => {
  const bytes = Buffer.from(`{"log":{"entries":[${JSON.stringify(entries[0])},${JSON.stringify(entries[2])},${JSON.stringify(entries[1])}]}}`);
  const scanner = new HarEntryScanner(5000); // the photo's entry is ~100 kB
  const found: string[] = [];
  for (let at = 0; at < bytes.length; at += 1024) for (const e of scanner.push(bytes.subarray(at, at + 1024))) found.push(e.text);
  t.same(found, [JSON.stringify(entries[0]), JSON.stringify(entries[1])]);
  t.same(scanner.end().oversized, [bytes.indexOf('{"started', 30)]);
});

t.test('base64 bodies larger than a decoding slice come back byte for byte (padded, unpadded, with line breaks)', async (t) => {
  const { harEntryToFlow } = await import('../../../src/flow/har-reader.js');
  const { randomBytes } = await import('node:crypto');
  const big = randomBytes(5 * 1024 * 1024 + 1); // ~6.7 MB of base64, past the 4 MiB slice
  for (const [name, bytes, text] of [
    ['padded with =', big, big.toString('base64')],
    ['padded with ==', big.subarray(1), big.subarray(1).toString('base64')],
    ['unpadded', big.subarray(2), big.subarray(2).toString('base64').replace(/=+$/, '')],
    ['MIME line breaks', big, big.toString('base64').replace(/.{76}/g, '$&\r\n')],
    ['URL-safe alphabet', big, big.toString('base64url')],
  ] as const) {
    const flow = harEntryToFlow({ request: { method: 'POST', url: 'https://a.example/', postData: { text, encoding: 'base64' } }, response: { status: 200, content: { size: 0 } } }, 0);
    t.ok(flow.request!.body.bytes.equals(bytes), name);
  }
});

t.test('an entry past 8 MiB is decoded as it comes: multi-byte characters cut between chunks come back whole', async (t) => {
  const large = request(7, 'é验"\\'.repeat(1_000_000)); // ~9 MB of JSON, 2- and 3-byte characters and escapes
  const bytes = Buffer.from(`{"log":{"entries":[${JSON.stringify(entries[0])},${JSON.stringify(large)},${JSON.stringify(entries[1])}]}}`);
  for (const size of [65537, 1024 * 1024]) {
    const scanner = new HarEntryScanner();
    const found: string[] = [];
    for (let at = 0; at < bytes.length; at += size) for (const e of scanner.push(bytes.subarray(at, at + size))) found.push(e.text);
    t.same(found, [JSON.stringify(entries[0]), JSON.stringify(large), JSON.stringify(entries[1])], `chunks of ${size} bytes`);
  }
});
