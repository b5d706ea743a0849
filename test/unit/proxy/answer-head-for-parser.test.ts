// A server's answer head as Node's parser can read it (src/proxy/layers/answer-head-for-parser.ts):
// what the parser is shown, and the header list the device and the record get back, as written.
// Look-alikes are left alone (undefined: the head goes to the parser as it is): one length, lengths
// that differ, other fields that end in "content-length", a value that is not a number.

import t from 'tap';
import { headForTheParser, restoredHeaderList } from '../../../src/proxy/layers/answer-head-for-parser.js';

/** A head as the parser's view takes it: Latin-1 text. */
const head = (lines: readonly string[], end = '\r\n', status = 'HTTP/1.1 200 OK'): string => `${status}${end}${lines.map((line) => `${line}${end}`).join('')}${end}`;

/** The header list Node's parser reports for a head it reads: names and values, the whitespace around values dropped. */
function parsed(text: string): string[] {
  const raw: string[] = [];
  for (const line of text.split(/\r?\n/).slice(1)) {
    if (line === '') break;
    const colon = line.indexOf(':');
    raw.push(colon < 0 ? line : line.slice(0, colon), colon < 0 ? '' : line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, ''));
  }
  return raw;
}

t.test('shown to the parser in a form it reads; the list the device gets is the server\'s', async (t) => {
  const table: Array<{ name: string; lines: string[]; end?: string; status?: string; parserReads: string[]; parserStatus?: string }> = [
    { name: 'NanoHTTPD: Content-Length twice, apart', lines: ['Content-Type: image/jpeg', 'Content-Length: 84878', 'ETag: f00962f7', 'Content-Length: 84878'], parserReads: ['Content-Type: image/jpeg', 'Content-Length: 84878', 'ETag: f00962f7'] },
    { name: 'side by side, in two cases', lines: ['content-length: 0', 'Content-Length: 0'], parserReads: ['content-length: 0'] },
    { name: 'three times', lines: ['Content-Length: 5', 'Content-Length: 5', 'X-A: b', 'CONTENT-LENGTH: 5'], parserReads: ['Content-Length: 5', 'X-A: b'] },
    { name: 'a list of one value', lines: ['Content-Length: 5, 5', 'X-A: b'], parserReads: ['Content-Length: 5', 'X-A: b'] },
    { name: 'a list, then the line again', lines: ['Content-Length: 7,7', 'Content-Length: 7'], parserReads: ['Content-Length: 7'] },
    { name: 'a second copy with leading zeros and spaces', lines: ['Content-Length: 12', 'Content-Length:   012 '], parserReads: ['Content-Length: 12'] },
    { name: 'bare LF line ends', lines: ['Content-Length: 3', 'Content-Length: 3'], end: '\n', parserReads: ['Content-Length: 3'] },
    { name: 'a space before the colon', lines: ['Content-Type : text/plain', 'Content-Length: 2'], parserReads: ['Content-Type: text/plain', 'Content-Length: 2'] },
    { name: 'a tab before the colon, on the length', lines: ['X-A: b', 'Content-Length\t: 2'], parserReads: ['X-A: b', 'Content-Length: 2'] },
    { name: 'a name with a space inside', lines: ['X Foo: bar', 'Content-Length: 2'], parserReads: ['Content-Length: 2'] },
    { name: 'a line without a colon, and one without a name', lines: ['Garbage', ': nothing', 'Content-Length: 2'], parserReads: ['Content-Length: 2'] },
    { name: 'a status line in lower case', lines: ['Content-Length: 2'], status: 'http/1.1 200 OK', parserReads: ['Content-Length: 2'], parserStatus: 'HTTP/1.1 200 OK' },
    { name: 'two spaces before the code', lines: ['Content-Length: 2'], status: 'HTTP/1.1  404 Not Found', parserReads: ['Content-Length: 2'], parserStatus: 'HTTP/1.1 404 Not Found' },
  ];
  for (const row of table) {
    const original = head(row.lines, row.end, row.status);
    const view = headForTheParser(original, false);
    t.ok(view, `${row.name}: shown another way`);
    if (!view) continue;
    t.equal(view.head.toString('latin1'), head(row.parserReads, '\r\n', row.parserStatus ?? row.status), `${row.name}: what the parser reads`);
    t.same(restoredHeaderList(parsed(view.head.toString('latin1')), view.setAside), parsed(original), `${row.name}: the list as the server sent it`);
  }
});

t.test('SHOUTcast\'s status line, on a connection\'s first answer only', async (t) => {
  const radio = head(['icy-name: R'], '\r\n', 'ICY 200 OK');
  const view = headForTheParser(radio, true);
  t.equal(view?.head.toString('latin1'), 'ICE/1.0 200 OK\r\nicy-name: R\r\n\r\n');
  t.equal(view?.icy, true);
  t.same(view?.setAside, []);
  t.equal(headForTheParser(radio, false)?.icy, false, 'later on a kept connection it is not read as SHOUTcast\'s (the parser refuses it)');
});

t.test('left alone: the parser reads it as it is, or must refuse it', async (t) => {
  const table: Array<{ name: string; lines: string[]; status?: string }> = [
    { name: 'one length', lines: ['Content-Type: text/plain', 'Content-Length: 5'] },
    { name: 'no length (chunked)', lines: ['Transfer-Encoding: chunked'] },
    { name: 'folded values (the parser reads obs-fold)', lines: ['X-A: b', '  c', 'Content-Length: 1'] },
    { name: 'a line folded onto nothing, right after the status line (the parser reads it as a field)', lines: [' X-A: b', 'Content-Length: 2'] },
    { name: 'a status line without a reason', lines: ['Content-Length: 1'], status: 'HTTP/1.1 200' },
    { name: 'lengths that differ (the parser refuses them: a 502 that says why)', lines: ['Content-Length: 5', 'Content-Length: 6'] },
    { name: 'a list that differs', lines: ['Content-Length: 5, 6'] },
    { name: 'a copy that is not a number', lines: ['Content-Length: 5', 'Content-Length: five'] },
    { name: 'an empty item in a list', lines: ['Content-Length: 5,'] },
    { name: 'a sign', lines: ['Content-Length: 5', 'Content-Length: +5'] },
    { name: 'other fields named like it', lines: ['X-Content-Length: 9', 'Content-Length: 5', 'Original-Content-Length: 5'] },
    { name: 'a repeated length with a value folded onto the next line', lines: ['Content-Length: 5', 'Content-Length: 5', ' 5'] },
    { name: 'a length in a value', lines: ['X-Note: content-length: 5, 5'] },
  ];
  for (const row of table) {
    const view = headForTheParser(head(row.lines, '\r\n', row.status), false);
    t.ok(view === undefined || view.setAside.length === 0 && view.head.toString('latin1') === head(row.lines, '\r\n', row.status), row.name);
  }
  t.equal(headForTheParser(head(['Content-Type: text/plain', 'Content-Length: 5']), false), undefined, 'the common answer is not copied at all');
});

t.test('what is set aside says where it goes back', async (t) => {
  const view = headForTheParser(head(['Content-Length: 2', 'X Foo: bar', 'Content-Length: 2']), false);
  t.equal(view?.head.toString('latin1'), 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n');
  t.same(view?.setAside, [
    { index: 1, name: 'X Foo', value: 'bar', kind: 'removed' },
    { index: 2, name: 'Content-Length', value: '2', kind: 'removed' },
  ]);
});
