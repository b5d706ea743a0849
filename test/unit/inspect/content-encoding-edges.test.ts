// Content-Encoding at its edges (issue #23, planted bugs): a zstd stream over the cap is a bomb,
// refused whatever it decoded first; a zstd stream cut after some blocks gives what it decoded;
// one cut before any output is no stream at all; codings are undone last to first, x-gzip is
// gzip, identity and blanks are nothing, an unknown one is said and stops.

import zlib from 'node:zlib';
import t from 'tap';
import { compressedBlobDecoder, contentEncodingDecoder, decompress } from '../../../src/inspect/decode/content-encoding.js';
import { DecodeBudget } from '../../../src/inspect/decode/budget.js';
import type { View } from '../../../src/inspect/detect/detector.js';

// 400,000 bytes of "hello zstd\n" (zstd -19, 64 bytes: blocks of 131,072 bytes), so the test needs
// no zstd encoder. Cut at 45 bytes it holds two whole blocks; at 20, none.
const zstd400k = Buffer.from('KLUv/QRonAAAWGhlbGxvIHpzdGQKAQDy/86LF0QAAAABAP3/zgsQRAAAAAEA/f85AAI9AAAAAQB92gMgiQFPWQ==', 'base64');

t.test('zstd: whole, over the cap, cut after two blocks, cut before any', async (t) => {
  const whole = decompress('zstd', zstd400k, 1 << 20);
  t.equal(whole.length, 400_000);
  t.ok(whole.toString('latin1', 0, 22) === 'hello zstd\nhello zstd\n');
  t.equal(decompress('zstd', zstd400k, 400_000).length, 400_000, 'exactly the cap: whole');
  t.throws(() => decompress('zstd', zstd400k, 399_999), { code: 'ERR_BUFFER_TOO_LARGE' }, 'one byte over: a bomb, even with blocks decoded');
  t.throws(() => decompress('zstd', zstd400k, 1000), { code: 'ERR_BUFFER_TOO_LARGE' });
  const cut = decompress('zstd', zstd400k.subarray(0, 45), 1 << 20);
  t.equal(cut.length, 262_144, 'cut: the two whole blocks');
  t.throws(() => decompress('zstd', zstd400k.subarray(0, 20), 1 << 20), 'cut before any output: an error, not an empty body');
});

const view = (bytes: Buffer, encoding: string | undefined, depth = 0, path = ['body']): View => ({
  bytes, path, depth, origin: 'body', headers: encoding === undefined ? [] : [['Content-Encoding', encoding]], contentType: 'text/plain',
} as unknown as View);

t.test('the codings are undone last to first; x-gzip is gzip; identity and blanks are no coding', async (t) => {
  const text = Buffer.from('the device said hello');
  const budget = new DecodeBudget();
  const twice = zlib.brotliCompressSync(zlib.gzipSync(text));
  const [layer] = contentEncodingDecoder.decode(view(twice, 'gzip, br'), budget);
  t.same(layer?.bytes, text, 'gzip applied first, br second: br undone first');
  const [xgzip] = contentEncodingDecoder.decode(view(zlib.gzipSync(text), 'X-GZIP'), budget);
  t.same(xgzip?.bytes, text);
  const [padded] = contentEncodingDecoder.decode(view(zlib.gzipSync(text), ' identity , gzip ,'), budget);
  t.same(padded?.bytes, text);
  t.same(contentEncodingDecoder.decode(view(text, 'identity'), budget), [], 'identity alone: nothing to undo');
  t.same(contentEncodingDecoder.decode(view(zlib.gzipSync(text), 'gzip', 1, ['body', 'multipart:0']), budget), [], "a part's Content-Encoding is not the message's: left to the blob decoder");
  const told = new DecodeBudget();
  t.same(contentEncodingDecoder.decode(view(text, 'compress'), told), []);
  t.same([...told.problems], ['unknown content-encoding compress']);
});

t.test('what could not be undone is said with where it was: a bomb, a broken stream', async (t) => {
  const budget = new DecodeBudget();
  const bomb = zlib.gzipSync(Buffer.alloc(64 << 20));
  t.same(contentEncodingDecoder.decode(view(bomb, 'gzip', 0, ['body', 'chunked']), budget), []);
  t.match([...budget.problems], [/^gzip at body > chunked expands beyond \d+ bytes \(decompression bomb\?\): not inspected$/]);
  const broken = new DecodeBudget();
  t.same(compressedBlobDecoder.decode(view(Buffer.from('1f8b0800000000000003ffffffffffffffff', 'hex'), undefined, 2, ['body', 'json:$.blob']), broken), []);
  t.match([...broken.problems], [/^gzip at body > json:\$\.blob could not be decoded: /]);
});

t.test('a compressed blob: found anywhere but a body its Content-Encoding already covers; empty output is no layer', async (t) => {
  const text = Buffer.from('a blob inside a field');
  const gz = zlib.gzipSync(text);
  t.same(compressedBlobDecoder.decode(view(gz, undefined), new DecodeBudget())[0]?.bytes, text, 'a top-level body without Content-Encoding');
  t.same(compressedBlobDecoder.decode(view(gz, 'gzip'), new DecodeBudget()), [], 'a top-level body with Content-Encoding: that decoder undoes it');
  t.same(compressedBlobDecoder.decode(view(gz, 'gzip', 1, ['body', 'multipart:0']), new DecodeBudget())[0]?.bytes, text, 'a part deeper down, whatever its headers');
  t.same(compressedBlobDecoder.decode(view(zlib.gzipSync(Buffer.alloc(0)), undefined, 1), new DecodeBudget()), [], 'nothing inside: no layer');
  t.same(compressedBlobDecoder.decode(view(Buffer.from('plain text, not compressed'), undefined, 1), new DecodeBudget()), []);
});

t.test('a blob of 8 bytes is tried, of 7 it is too short to be one', async (t) => {
  // zlib's "aaaa" without its checksum: 8 bytes that inflate, and 7 that would too.
  const zlibbed = zlib.deflateSync('aaaa').subarray(0, 8);
  t.same(compressedBlobDecoder.decode(view(zlibbed, undefined, 1), new DecodeBudget())[0]?.bytes, Buffer.from('aaaa'), '8 bytes: opened');
  t.same(compressedBlobDecoder.decode(view(zlibbed.subarray(0, 7), undefined, 1), new DecodeBudget()), [], '7 bytes: left alone');
});
