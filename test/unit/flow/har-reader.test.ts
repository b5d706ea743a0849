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

t.test("mitmproxy's har_dump: binary bodies as one character per byte are read back as those bytes", async (t) => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const photo = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'fixtures', 'photos', 'camera.jpg'));
  const har = (text: string) => JSON.stringify({ log: { version: '1.2', creator: { name: 'mitmproxy har_dump', version: '0.1' }, entries: [{ startedDateTime: '2026-11-27T18:30:11.000Z', time: 1, request: { method: 'POST', url: 'http://a.example/upload', httpVersion: 'HTTP/1.1', headers: [], postData: { mimeType: 'image/jpeg', text, params: [] } }, response: { status: 200, statusText: '', httpVersion: 'HTTP/1.1', headers: [], content: { size: 0, mimeType: '' } } }] } });
  const cases: Array<[string, string, Buffer]> = [
    ['a JPEG written as latin-1', photo.toString('latin1'), photo],
    ['French text stays UTF-8 (its à is U+00E0 too)', 'Rendez-vous demain à 18h', Buffer.from('Rendez-vous demain à 18h', 'utf8')],
    ['text with characters above U+00FF stays UTF-8 even with a control', '验证码\u0001 123456', Buffer.from('验证码\u0001 123456', 'utf8')],
    ['JSON with tabs and newlines stays UTF-8', '{\n\t"body": "café"\n}', Buffer.from('{\n\t"body": "café"\n}', 'utf8')],
  ];
  for (const [name, text, bytes] of cases) t.same(readHarFile(har(text)).flows[0]!.request!.body.bytes, bytes, name);
});
