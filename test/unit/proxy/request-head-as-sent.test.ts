// A request's header lines as the device wrote them (src/proxy/layers/request-head-as-sent.ts):
// given back only where every line is strict and says what the parser read; anything else is
// undefined, and the relay writes the lines again from the parser's reading.

import t from 'tap';
import { fieldLinesAsSent } from '../../../src/proxy/layers/request-head-as-sent.js';

const line = 'GET /x HTTP/1.1\r\n';

const kept: Array<[string, string, string[]]> = [
  ['no space after a colon', 'X-Tight:value\r\n', ['X-Tight', 'value']],
  ['an empty value, with and without a space', 'X-Empty:\r\nX-Blank: \r\n', ['X-Empty', '', 'X-Blank', '']],
  ['tabs and spaces around a value', 'X-Tab:\tvalue\t \r\nX-Wide:   spaced out   \r\n', ['X-Tab', 'value', 'X-Wide', 'spaced out']],
  ['names in any case, repeated, in order', 'host: a\r\nX-Dup: 1\r\nx-dup: 2\r\n', ['host', 'a', 'X-Dup', '1', 'x-dup', '2']],
  ['a control byte and a Latin-1 letter in a value', 'X-Device: d\x01e\xe9\r\n', ['X-Device', 'd\x01e\xe9']],
  ['a colon inside a value', 'Host: a:8080\r\n', ['Host', 'a:8080']],
  ['no header lines at all', '', []],
];

for (const [name, fields, raw] of kept) {
  t.test(`kept as sent: ${name}`, async (t) => {
    t.same(fieldLinesAsSent(`${line}${fields}\r\n`, raw), { lines: fields, lineEnd: '\r\n' });
    // The same head as firmware that prints "\n" writes it: bare LF on every line.
    const lf = fields.replace(/\r\n/g, '\n');
    t.same(fieldLinesAsSent(`GET /x HTTP/1.1\n${lf}\n`, raw), { lines: lf, lineEnd: '\n' }, 'in bare LF');
  });
}

t.test('lines whose names `dropped` matches are left out, the rest kept as sent', async (t) => {
  const head = `${line}Host:a\r\nProxy-Connection: keep-alive\r\nproxy-authorization:x\r\nAccept:  */*\r\n\r\n`;
  const raw = ['Host', 'a', 'Proxy-Connection', 'keep-alive', 'proxy-authorization', 'x', 'Accept', '*/*'];
  t.same(fieldLinesAsSent(head, raw, /^proxy-/i), { lines: 'Host:a\r\nAccept:  */*\r\n', lineEnd: '\r\n' });
  t.same(fieldLinesAsSent(head, raw), { lines: 'Host:a\r\nProxy-Connection: keep-alive\r\nproxy-authorization:x\r\nAccept:  */*\r\n', lineEnd: '\r\n' });
});

// Look-alikes: each is a head the lenient parser may read, or read another way; none is given back.
const refused: Array<[string, string, string[]]> = [
  ['header lines in bare LF after a request line in CRLF', `${line}Host: a\n\n`, ['Host', 'a']],
  ['a request line in bare LF before lines in CRLF', 'GET /x HTTP/1.1\nHost: a\r\n\r\n', ['Host', 'a']],
  ['one line in bare LF among lines in CRLF', `${line}X-A: 1\nX-B: 2\r\n\r\n`, ['X-A', '1', 'X-B', '2']],
  ['a head in CRLF ending with a bare LF', `${line}X-A: 1\r\n\n`, ['X-A', '1']],
  ['a bare CR inside a line', `${line}X-A: 1\r2\r\n\r\n`, ['X-A', '1\r2']],
  ['a bare CR inside a line of a head in bare LF', 'GET /x HTTP/1.1\nX-A: 1\r2\n\n', ['X-A', '1\r2']],
  ['a folded line in bare LF', 'GET /x HTTP/1.1\nX-Note: first\n second\n\n', ['X-Note', 'first second']],
  ['a folded line (obs-fold)', `${line}X-Note: first\r\n\tsecond\r\n\r\n`, ['X-Note', 'first\tsecond']],
  ['a space before the colon', `${line}Host : a\r\n\r\n`, ['Host', 'a']],
  ['a line without a colon', `${line}Garbage\r\n\r\n`, ['Garbage', '']],
  ['a name that is not a token', `${line}X Foo: bar\r\n\r\n`, ['X Foo', 'bar']],
  ['a value the parser read otherwise', `${line}X-A: 1\r\n\r\n`, ['X-A', '2']],
  ['fewer lines read than sent (a count the parser stopped at)', `${line}X-A: 1\r\nX-B: 2\r\n\r\n`, ['X-A', '1']],
  ['more lines read than sent', `${line}X-A: 1\r\n\r\n`, ['X-A', '1', 'X-B', '2']],
  ['lines in another order', `${line}X-A: 1\r\nX-B: 2\r\n\r\n`, ['X-B', '2', 'X-A', '1']],
  ['a head that does not end with its empty line', `${line}X-A: 1\r\n`, ['X-A', '1']],
  ['bytes after the empty line', `${line}X-A: 1\r\n\r\nbody`, ['X-A', '1']],
];

for (const [name, head, raw] of refused) {
  t.test(`not given back: ${name}`, async (t) => {
    t.equal(fieldLinesAsSent(head, raw), undefined);
  });
}
