import t from 'tap';
import zlib from 'node:zlib';
import { decompress } from '../../../src/inspect/decode/content-encoding.js';
import { splitMultipart } from '../../../src/inspect/decode/multipart.js';
import { decodeStringValue } from '../../../src/inspect/decode/strings.js';
import { parseForm, parseJsonLoose } from '../../../src/inspect/decode/structured.js';
import { parseMailClient } from '../../../src/inspect/decode/mail-protocols.js';
import { parseMailMessage, decodeEncodedWords } from '../../../src/inspect/decode/mail-message.js';
import { sniff } from '../../../src/inspect/decode/magic.js';

const text = Buffer.from('{"sms":"Rendez-vous demain","n":1}'.repeat(20));

t.test('content-encodings, including raw deflate sent as "deflate" and zstd', async (t) => {
  t.same(decompress('gzip', zlib.gzipSync(text), 1 << 20), text);
  t.same(decompress('deflate', zlib.deflateSync(text), 1 << 20), text);
  t.same(decompress('deflate', zlib.deflateRawSync(text), 1 << 20), text, 'raw deflate labelled deflate');
  t.same(decompress('br', zlib.brotliCompressSync(text), 1 << 20), text);
  // zstd frame of "hello zstd\n" (zstd -19), so the test needs no zstd encoder.
  const zstd = Buffer.from('KLUv/SQLWQAAaGVsbG8genN0ZAoB7Fvd', 'base64');
  t.equal(decompress('zstd', zstd, 1 << 20).toString(), 'hello zstd\n');
  t.equal(sniff(zstd), 'application/zstd');
});

t.test('a truncated gzip gives its readable prefix', async (t) => {
  const whole = zlib.gzipSync(Buffer.from('a'.repeat(10) + 'b'.repeat(100000)));
  const prefix = decompress('gzip', whole.subarray(0, Math.floor(whole.length / 2)), 1 << 20);
  t.ok(prefix.length > 10 && prefix.toString().startsWith('aaaaaaaaaab'));
});

t.test('output caps stop bombs', async (t) => {
  t.throws(() => decompress('gzip', zlib.gzipSync(Buffer.alloc(10 << 20)), 1 << 20), { code: 'ERR_BUFFER_TOO_LARGE' });
  t.throws(() => decompress('br', zlib.brotliCompressSync(Buffer.alloc(10 << 20)), 1 << 20), { code: 'ERR_BUFFER_TOO_LARGE' });
});

t.test('multipart: related, bare LF, preamble, no closing delimiter, filename*', async (t) => {
  const related = Buffer.from('preamble\r\n--x\r\nContent-Type: application/json\r\n\r\n{"a":1}\r\n--x\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\r\n--x--\r\n', 'latin1');
  const parts = splitMultipart(related, 'x');
  t.equal(parts.length, 2);
  t.equal(parts[0]!.body.toString(), '{"a":1}');
  t.same([...parts[1]!.body], [0xff, 0xd8, 0xff]);
  const bareLf = splitMultipart(Buffer.from('--y\nContent-Disposition: form-data; name="a"\n\nvalue\n--y\nContent-Disposition: form-data; name="b"\n\ncut off at the body limi'), 'y');
  t.same(bareLf.map((p) => p.body.toString()), ['value', 'cut off at the body limi']);
});

const strings: Array<[string, string, string | undefined]> = [
  ['standard base64 of text', Buffer.from('Rendez-vous demain à 18h').toString('base64'), 'base64'],
  ['URL-safe unpadded base64', Buffer.from('\u00ff\u00fe Rendez-vous demain ??>>').toString('base64url').replace(/=+$/, ''), 'base64url'],
  ['base64 of a JPEG header', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1]).toString('base64'), 'base64'],
  ['a data URI', 'data:text/plain;charset=utf-8,Rendez-vous%20demain%20%C3%A0%2018h', 'data-uri:text/plain'],
  ['JSON inside a string', '{"address":"+33612345678","body":"hi"}', 'json-string'],
  ['hex of text', Buffer.from('Rendez-vous demain a 18h devant').toString('hex'), 'hex'],
  ['a text block with lines', 'From: jane@example.com\nTo: bob@example.org\nSubject: hi there', 'text'],
  // Look-alikes that must not decode:
  ['a SHA-256 hex digest', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', undefined],
  ['a SHA-1 hex digest', 'da39a3ee5e6b4b0d3255bfef95601890afd80709', undefined],
  ['a word that is valid base64', 'SupercalifragilisticExpialidocious', undefined],
  ['base64 of random bytes', Buffer.from(Array.from({ length: 48 }, (_, i) => (i * 97 + 13) % 256)).toString('base64'), undefined],
  ['a UUID', '123e4567-e89b-12d3-a456-426614174000', undefined],
  ['a long number', '12345678901234567890', undefined],
  ['a short string', 'aGVsbG8=', undefined],
];
for (const [name, value, step] of strings) {
  t.test(`string value: ${name}`, async (t) => {
    const decoded = decodeStringValue(value);
    t.equal(decoded[0]?.step, step);
  });
}

t.test('JSON with anti-hijacking prefixes and NDJSON', async (t) => {
  t.same(parseJsonLoose(")]}'\n[1,2]"), [1, 2]);
  t.same(parseJsonLoose('for(;;);{"a":1}'), { a: 1 });
  t.same(parseJsonLoose('{"a":1}\n{"a":2}\n'), [{ a: 1 }, { a: 2 }]);
  t.equal(parseJsonLoose('not json'), undefined);
});

t.test('forms: + is a space, %-escapes, repeated fields', async (t) => {
  t.same(parseForm('a=1+2&b=%2B33&a=3&c'), { a: ['1 2', '3'], b: '+33', c: '' });
});

t.test('mail protocols: DATA with dot-stuffing, AUTH continuation lines, STARTTLS', async (t) => {
  const smtp = parseMailClient(Buffer.from('EHLO x\r\nAUTH LOGIN\r\namFuZQ==\r\nczNjcmV0\r\nMAIL FROM:<jane@example.com>\r\nRCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nSubject: x\r\n\r\n..dot\r\n.\r\nSTARTTLS\r\n'));
  t.equal(smtp.protocol, 'smtp');
  t.same(smtp.credentials, [{ protocol: 'smtp', mechanism: 'AUTH LOGIN', user: 'jane', passwordLength: 6, afterStartTls: false }]);
  t.same(smtp.envelope, { from: 'jane@example.com', to: ['a@example.org', 'b@example.org'] });
  t.equal(smtp.messages[0]!.toString(), 'Subject: x\r\n\r\n.dot');
  t.ok(smtp.starttls);
  const imap = parseMailClient(Buffer.from('a1 LOGIN "jane" "pa ss"\r\na2 APPEND INBOX {5}\r\nhello\r\na3 LOGOUT\r\n'));
  t.equal(imap.protocol, 'imap');
  t.equal(imap.messages[0]!.toString(), 'hello');
  t.equal(imap.credentials[0]!.passwordLength, 5);
  t.same(parseMailClient(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')).credentials, []);
});

t.test('the RFC 5322 gate', async (t) => {
  const ok = 'From: a@example.com\r\nTo: b@example.org\r\nSubject: s\r\nDate: Sun, 12 Oct 2014 18:30:05 +0200\r\n\r\nbody';
  t.ok(parseMailMessage(Buffer.from(ok)));
  t.ok(parseMailMessage(Buffer.from(`From jane Sun Oct 12 18:30:05 2014\n${ok.replace(/\r/g, '')}`)), 'mbox separator line');
  t.notOk(parseMailMessage(Buffer.from(ok.replace('From: a@example.com', 'From: nobody'))), 'From without an address');
  t.notOk(parseMailMessage(Buffer.from('From: a@example.com\r\nTo: b@example.org\r\n\r\n')), 'too little support');
  t.notOk(parseMailMessage(Buffer.from(ok.replace('Subject: s\r\n', '').replace('Date: Sun, 12 Oct 2014 18:30:05 +0200', 'Date: yesterday-ish'))), 'an unparseable Date does not count');
  t.ok(parseMailMessage(Buffer.from(ok.replace('Subject: s\r\n', ''))), 'while a parseable one does');
  t.notOk(parseMailMessage(Buffer.from(ok.replace('\r\n\r\nbody', ''))), 'no end of the header block');
  t.notOk(parseMailMessage(Buffer.from('{"From": "a@example.com"}')), 'JSON');
  t.equal(decodeEncodedWords('=?UTF-8?Q?Caf=C3=A9_cr=C3=A8me?= =?UTF-8?B?IQ==?='), 'Café crème!');
});
