// A chunked body's framing as its sender wrote it (src/proxy/layers/chunked-framing.ts): the strict
// form is followed, whole or in any pieces, and every other form stops at a chunk boundary.

import t from 'tap';
import { ChunkedFramingReader, type FramingPiece } from '../../../src/proxy/layers/chunked-framing.js';

interface Read {
  /** Framing and data in order: what goes to the server. */
  readonly sent: string;
  readonly data: string;
  /** What follows the body, when it ended. */
  readonly rest?: string;
  readonly unsure?: string;
}

/** Reads `body` in pieces of `size` bytes (whole when 0), as a connection would: what follows the end is the next message's. */
function read(body: string, size = 0, reader = new ChunkedFramingReader()): Read {
  const bytes = Buffer.from(body, 'latin1');
  const pieces: FramingPiece[] = [];
  for (let at = 0; at < bytes.length; at += size || bytes.length) {
    const piece = bytes.subarray(at, at + (size || bytes.length));
    if (pieces.some((p) => p.kind === 'end')) pieces.push({ kind: 'end', rest: piece });
    else pieces.push(...reader.read(piece));
  }
  let sent = '';
  let data = '';
  let rest: string | undefined;
  let unsure: string | undefined;
  for (const piece of pieces) {
    if (piece.kind === 'framing') sent += piece.bytes.toString('latin1');
    else if (piece.kind === 'data') {
      sent += piece.bytes.toString('latin1');
      data += piece.bytes.toString('latin1');
    } else if (piece.kind === 'end') rest = (rest ?? '') + piece.rest.toString('latin1');
    else unsure = piece.reason;
  }
  return { sent, data, ...(rest !== undefined ? { rest } : {}), ...(unsure ? { unsure } : {}) };
}

const followed: [string, string, string][] = [
  ['one chunk', '5\r\nhello\r\n0\r\n\r\n', 'hello'],
  ['upper-case hex, as Python writes it', 'ED8\r\n' + 'x'.repeat(0xed8) + '\r\n0\r\n\r\n', 'x'.repeat(0xed8)],
  ['leading zeros', '0005\r\nhello\r\n0000\r\n\r\n', 'hello'],
  ['extensions: tokens and a quoted string', '5;a=1;flag;q="two words"\r\nhello\r\n0;last\r\n\r\n', 'hello'],
  ['trailers', '3\r\nabc\r\n0\r\nX-Sum: 42\r\nX-Other:\tv\r\n\r\n', 'abc'],
  ['a chunk holding CRLF and a size-like line', '7\r\n0\r\n\r\nab\r\n0\r\n\r\n', '0\r\n\r\nab'],
  ['no chunk but the last', '0\r\n\r\n', ''],
];

t.test('the strict form is followed, whole and in every split', async (t) => {
  for (const [name, body, data] of followed) {
    for (const size of [0, 1, 2, 3, 7]) {
      const got = read(body + 'GET / HTTP/1.1\r\n', size);
      t.same(got, { sent: body, data, rest: 'GET / HTTP/1.1\r\n' }, `${name}, pieces of ${size || 'all'}`);
    }
  }
});

// Look-alikes: each is read by the lenient parser (or refused), never by this reader. `sent` is
// what went out before it stopped, ending at a chunk boundary.
const notFollowed: [string, string, string, RegExp][] = [
  ['a space after a size', 'A\r\n0123456789\r\n3 \r\nabc\r\n0\r\n\r\n', 'A\r\n0123456789\r\n', /chunk-size line of another form/],
  ['a size line ending in a bare LF', '3\nabc\r\n0\r\n\r\n', '', /chunk-size line of another form/],
  ['a size with a sign', '+3\r\nabc\r\n0\r\n\r\n', '', /chunk-size line of another form/],
  ['an extension with a space', '3; a=1\r\nabc\r\n0\r\n\r\n', '', /chunk-size line of another form/],
  ['a size past 13 hex digits', '00000000000003\r\nabc\r\n0\r\n\r\n', '', /chunk-size line of another form/],
  ['a chunk without its CRLF: closed with it, then left', '3\r\nabcX\r\n0\r\n\r\n', '3\r\nabc\r\n', /not followed by CRLF/],
  ['a chunk followed by a bare LF', '3\r\nabc\n0\r\n\r\n', '3\r\nabc\r\n', /not followed by CRLF/],
  ['a trailer line without a colon: the last chunk is not sent', '3\r\nabc\r\n0\r\nX-Sum 42\r\n\r\n', '3\r\nabc\r\n', /trailer line of another form/],
  ['a trailer section ending in a bare LF', '3\r\nabc\r\n0\r\n\n', '3\r\nabc\r\n', /trailer line of another form/],
];

t.test('other forms stop at a chunk boundary, with nothing of the line sent', async (t) => {
  for (const [name, body, sent, reason] of notFollowed) {
    for (const size of [0, 1]) {
      const got = read(body, size);
      t.equal(got.sent, sent, `${name}, pieces of ${size || 'all'}: what went out`);
      t.match(got.unsure, reason, `${name}: why`);
      t.equal(got.rest, undefined, `${name}: no end`);
    }
  }
});

t.test('a size line or trailer section past its bound stops the reading', async (t) => {
  t.match(read('5' + ';a'.repeat(40) + '\r\nhello\r\n0\r\n\r\n', 0, new ChunkedFramingReader(64)).unsure, /chunk-size line over 64 bytes/);
  t.match(read(`5${';a'.repeat(40)}`, 0, new ChunkedFramingReader(64)).unsure, /chunk-size line over 64 bytes/);
  t.match(read(`0\r\n${'X-A: b\r\n'.repeat(20)}`, 0, new ChunkedFramingReader(64, 100)).unsure, /trailer section over 100 bytes/);
});

t.test('nothing is read after the end', async (t) => {
  const reader = new ChunkedFramingReader();
  t.same(read('0\r\n\r\n', 0, reader), { sent: '0\r\n\r\n', data: '', rest: '' });
  t.equal(reader.done, true);
  t.same(reader.read(Buffer.from('5\r\nhello\r\n')), []);
});
