// HAR files as other tools leave them: cut short, with a byte-order mark.

import t from 'tap';
import { readHarFile } from '../../../src/flow/har-reader.js';

const entry = (n: number) => JSON.stringify({ startedDateTime: '2026-11-27T18:30:11.000Z', time: 1, request: { method: 'POST', url: `https://a.example/${n}`, httpVersion: 'HTTP/1.1', headers: [], postData: { mimeType: 'text/plain', text: `body {${n}} "quoted" ]` } }, response: { status: 200, statusText: '', httpVersion: 'HTTP/1.1', headers: [], content: { size: 0, mimeType: '' } } });
const whole = `{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[${entry(1)},${entry(2)},${entry(3)}]}}`;

t.test('a whole file, with and without a byte-order mark', async (t) => {
  t.equal(readHarFile(whole).flows.length, 3);
  const bom = readHarFile(`\ufeff${whole}`);
  t.equal(bom.flows.length, 3);
  t.equal(bom.truncated, false);
});

t.test('a file cut anywhere: every whole entry is read, and it says the last one was dropped', async (t) => {
  const cutInThird = whole.indexOf(entry(3)) + 40;
  const cut = readHarFile(whole.slice(0, cutInThird));
  t.same(cut.flows.map((f) => f.request?.url), ['https://a.example/1', 'https://a.example/2']);
  t.equal(cut.truncated, true);
  t.equal(cut.droppedTail, true);
  t.equal(cut.flows[1]!.request!.body.bytes.toString(), 'body {2} "quoted" ]', 'brackets inside strings do not confuse it');
  const cutAfterSecond = readHarFile(whole.slice(0, whole.indexOf(entry(3)) - 1));
  t.equal(cutAfterSecond.flows.length, 2);
  t.equal(cutAfterSecond.droppedTail, false);
  t.throws(() => readHarFile('{"log": {"version"'), /not JSON/);
});
