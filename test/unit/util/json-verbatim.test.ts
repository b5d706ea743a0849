// isJsonVerbatim says whether UTF-8 text is already its own JSON string content. Checked against
// JSON.stringify itself, at every alignment of the bytes in memory (it reads four bytes at a time
// from 4-byte boundaries), with each escaped byte alone and next to its look-alikes.

import t from 'tap';
import { isJsonVerbatim } from '../../../src/util/json-verbatim.js';

/** What the function must answer: JSON.stringify leaves the text as it is. */
function expected(bytes: Buffer): boolean {
  const text = bytes.toString('utf8');
  return JSON.stringify(text) === `"${text}"`;
}

/** The same bytes starting `offset` bytes into a larger buffer (so at another alignment). */
function at(offset: number, bytes: Buffer): Buffer {
  const room = Buffer.alloc(offset + bytes.length + 3, 0x41);
  bytes.copy(room, offset);
  return room.subarray(offset, offset + bytes.length);
}

const cases: Array<[string, Buffer, boolean]> = [
  ['empty', Buffer.alloc(0), true],
  ['plain ASCII', Buffer.from('GET /photos?id=42 HTTP/1.1 {a:1}'), true],
  ['a space, the first byte not escaped', Buffer.from(' '), true],
  ['DEL (0x7f) is not escaped', Buffer.from('a\u007fb'), true],
  ['multi-byte UTF-8 (é, €, 😀)', Buffer.from('café €5 😀 ok'), true],
  ['U+2028 and U+2029 are not escaped by JSON.stringify', Buffer.from('a\u2028b\u2029c'), true],
  ['bytes 0x80-0xff inside characters (ÿ, Ā)', Buffer.from('ÿĀ'), true],
  ["look-alikes of the escaped bytes: ! # [ ] ' /", Buffer.from("!#[]'/"), true],
  ['a quote', Buffer.from('say "hi"'), false],
  ['a backslash', Buffer.from('C:\\photos'), false],
  ['a newline', Buffer.from('two\nlines'), false],
  ['a tab', Buffer.from('a\tb'), false],
  ['NUL', Buffer.from('a\u0000b'), false],
  ['0x1f, the last control byte', Buffer.from('a\u001fb'), false],
  ['a quote as the very last byte', Buffer.from(`${'x'.repeat(37)}"`), false],
  ['a control byte as the very first byte', Buffer.from(`\u0001${'x'.repeat(37)}`), false],
];

for (const [what, bytes, verbatim] of cases) {
  t.test(what, async (t) => {
    t.equal(expected(bytes), verbatim, 'the table agrees with JSON.stringify');
    for (let offset = 0; offset < 4; offset++) t.equal(isJsonVerbatim(at(offset, bytes)), verbatim, `starting ${offset} bytes past a 4-byte boundary`);
  });
}

t.test('one escaped byte at every position of a 40-byte text, at every alignment', async (t) => {
  let wrong = 0;
  for (const escaped of [0x00, 0x0a, 0x1f, 0x22, 0x5c]) {
    for (let position = 0; position < 40; position++) {
      const bytes = Buffer.alloc(40, 0x61);
      bytes[position] = escaped;
      for (let offset = 0; offset < 4; offset++) if (isJsonVerbatim(at(offset, bytes))) wrong++;
    }
  }
  t.equal(wrong, 0, 'every one is found');
});

t.test('random text with and without escaped bytes agrees with JSON.stringify', async (t) => {
  // Bytes near the escaped ones (0x1e-0x23, 0x5b-0x5d) and high ones: where a word trick would slip.
  const alphabet = [0x00, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7e, 0x7f, 0x41];
  let seed = 7;
  const next = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  let disagreed = 0;
  for (let i = 0; i < 20_000; i++) {
    const bytes = Buffer.alloc(next(24));
    // Mostly printable: about a third of the texts have no escaped byte at all.
    for (let j = 0; j < bytes.length; j++) bytes[j] = next(8) === 0 ? alphabet[next(alphabet.length)]! : 0x20 + next(95);
    if (isJsonVerbatim(at(next(4), bytes)) !== expected(bytes)) disagreed++;
  }
  t.equal(disagreed, 0);
});

t.test('a view of shared memory (a large captured body) is read the same', async (t) => {
  const shared = Buffer.from(new SharedArrayBuffer(64));
  shared.fill(0x62);
  t.equal(isJsonVerbatim(shared.subarray(1, 63)), true);
  shared[40] = 0x5c;
  t.equal(isJsonVerbatim(shared.subarray(1, 63)), false);
});
