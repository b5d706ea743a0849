// A server's Content-Length repeated with one value (src/proxy/layers/repeated-content-length.ts):
// the head Node's parser is shown has it once, and what was set aside goes back where it was.
// Look-alikes are left alone: one length, lengths that differ, other fields that end in
// "content-length", a value that is not a number.

import t from 'tap';
import { mendRepeatedContentLength, restoredHeaderList } from '../../../src/proxy/layers/repeated-content-length.js';

const head = (lines: readonly string[], end = '\r\n'): Buffer => Buffer.from(`HTTP/1.1 200 OK${end}${lines.map((line) => `${line}${end}`).join('')}${end}`, 'latin1');

/** The header list Node's parser reports for a head: names and values, the whitespace around values dropped. */
function parsed(bytes: Buffer): string[] {
  const raw: string[] = [];
  for (const line of bytes.toString('latin1').split(/\r?\n/).slice(1)) {
    if (line === '') break;
    const colon = line.indexOf(':');
    raw.push(line.slice(0, colon), line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, ''));
  }
  return raw;
}

t.test('mended: the parser sees one length, and the list the device gets is the server\'s', async (t) => {
  const table: Array<{ name: string; lines: string[]; end?: string; parserReads: string[] }> = [
    { name: 'NanoHTTPD: the same line twice, apart', lines: ['Content-Type: image/jpeg', 'Content-Length: 84878', 'ETag: f00962f7', 'Content-Length: 84878'], parserReads: ['Content-Type: image/jpeg', 'Content-Length: 84878', 'ETag: f00962f7'] },
    { name: 'side by side, in two cases', lines: ['content-length: 0', 'Content-Length: 0'], parserReads: ['content-length: 0'] },
    { name: 'three times', lines: ['Content-Length: 5', 'Content-Length: 5', 'X-A: b', 'CONTENT-LENGTH: 5'], parserReads: ['Content-Length: 5', 'X-A: b'] },
    { name: 'a list of one value', lines: ['Content-Length: 5, 5', 'X-A: b'], parserReads: ['Content-Length: 5', 'X-A: b'] },
    { name: 'a list, then the line again', lines: ['Content-Length: 7,7', 'Content-Length: 7'], parserReads: ['Content-Length: 7'] },
    { name: 'a second copy with leading zeros and spaces', lines: ['Content-Length: 12', 'Content-Length:   012 '], parserReads: ['Content-Length: 12'] },
    { name: 'bare LF line ends', lines: ['Content-Length: 3', 'Content-Length: 3'], end: '\n', parserReads: ['Content-Length: 3'] },
  ];
  for (const row of table) {
    const original = head(row.lines, row.end);
    const mended = mendRepeatedContentLength(original);
    t.ok(mended, `${row.name}: mended`);
    if (!mended) continue;
    t.equal(mended.head.toString('latin1'), head(row.parserReads, row.end).toString('latin1'), `${row.name}: what the parser reads`);
    t.same(restoredHeaderList(parsed(mended.head), mended.setAside), parsed(original), `${row.name}: the list as the server sent it`);
  }
});

t.test('left alone: nothing to mend, or nothing that may be mended', async (t) => {
  const table: Array<{ name: string; lines: string[] }> = [
    { name: 'one length', lines: ['Content-Type: text/plain', 'Content-Length: 5'] },
    { name: 'no length (chunked)', lines: ['Transfer-Encoding: chunked'] },
    { name: 'lengths that differ (the parser refuses them: a 502 that says why)', lines: ['Content-Length: 5', 'Content-Length: 6'] },
    { name: 'a list that differs', lines: ['Content-Length: 5, 6'] },
    { name: 'a copy that is not a number', lines: ['Content-Length: 5', 'Content-Length: five'] },
    { name: 'an empty item in a list', lines: ['Content-Length: 5,'] },
    { name: 'a sign', lines: ['Content-Length: 5', 'Content-Length: +5'] },
    { name: 'other fields named like it', lines: ['X-Content-Length: 9', 'Content-Length: 5', 'Original-Content-Length: 5'] },
    { name: 'a value folded onto the next line', lines: ['Content-Length: 5', 'Content-Length: 5', ' 5'] },
    { name: 'a length in the status line\'s reason only', lines: ['X-Note: content-length: 5, 5'] },
  ];
  for (const row of table) t.equal(mendRepeatedContentLength(head(row.lines)), undefined, row.name);
});

t.test('the body after the head is not the function\'s: only the head is given, and only the head comes back', async (t) => {
  const mended = mendRepeatedContentLength(head(['Content-Length: 2', 'Content-Length: 2']));
  t.equal(mended?.head.toString('latin1'), 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n');
  t.same(mended?.setAside, [{ index: 1, name: 'Content-Length', value: '2', kind: 'removed' }], 'what the device gets back: the second line, where it was');
});
