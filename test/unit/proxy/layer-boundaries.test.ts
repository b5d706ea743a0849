// The protocol layers' edges, one step either side (issue #23, planted bugs that survived): a TLS
// record of exactly the largest allowed length, an ALPN list with an empty or overrunning name, and
// the server's WebSocket compression answer.

import t from 'tap';
import { acceptsDeflate } from '../../../src/flow/websocket-frame-reader.js';
import { dropHttp3FromHeaders } from '../../../src/proxy/layers/alt-svc.js';
import { parseClientHello } from '../../../src/proxy/layers/client-hello.js';
import { serverFirstPorts } from '../../../src/proxy/layers/next-layer.js';

const u16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };

/** A one-record ClientHello carrying the given extensions block (already encoded). */
function hello(extensions: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32, 7), Buffer.from([0]), u16(2), Buffer.from([0x13, 0x01]), Buffer.from([1, 0]), u16(extensions.length), extensions]);
  const handshake = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 3, 1]), u16(handshake.length), handshake]);
}

/** An ALPN extension whose list is given byte for byte, its declared length `declared`. */
const alpnRaw = (list: Buffer, declared = list.length): Buffer => Buffer.concat([u16(16), u16(list.length + 2), u16(declared), list]);

t.test('a TLS record of exactly 16,384 + 2,048 bytes is waited for; one byte longer is refused', async (t) => {
  const start = (recordLength: number): Buffer => Buffer.concat([Buffer.from([0x16, 3, 1]), u16(recordLength), Buffer.from([1]), Buffer.from([0, (recordLength - 4) >> 8, (recordLength - 4) & 0xff])]);
  t.same(parseClientHello(start(16_384 + 2_048)), { kind: 'partial' });
  t.same(parseClientHello(start(16_384 + 2_049)), { kind: 'invalid', reason: 'bad TLS record length' });
});

t.test('the ALPN list stops at an empty name or a name running past the list', async (t) => {
  const h2 = Buffer.concat([Buffer.from([2]), Buffer.from('h2')]);
  t.same(parseClientHello(hello(alpnRaw(h2))), { kind: 'client-hello', alpn: ['h2'], versions: { oldest: 'TLSv1', newest: 'TLSv1.2' }, suites: [0x1301] }, 'a good list');
  t.same(parseClientHello(hello(alpnRaw(Buffer.concat([h2, Buffer.from([0]), h2])))), { kind: 'client-hello', alpn: ['h2'], versions: { oldest: 'TLSv1', newest: 'TLSv1.2' }, suites: [0x1301] }, 'an empty name ends it');
  t.same(parseClientHello(hello(alpnRaw(Buffer.concat([Buffer.from([5]), Buffer.from('h2')])))), { kind: 'client-hello', alpn: [], versions: { oldest: 'TLSv1', newest: 'TLSv1.2' }, suites: [0x1301] }, 'a name longer than the list is dropped');
});

t.test("the server's compression answer is read as permessage-deflate only when it names it", async (t) => {
  t.equal(acceptsDeflate('permessage-deflate; client_max_window_bits=10'), true);
  t.equal(acceptsDeflate(' Permessage-Deflate'), true, 'any case, spaces around');
  t.equal(acceptsDeflate('x-webkit-deflate-frame, permessage-deflate'), true, 'second of two');
  t.equal(acceptsDeflate(undefined), false);
  t.equal(acceptsDeflate(''), false);
  t.equal(acceptsDeflate('x-webkit-deflate-frame'), false, 'another extension');
  t.equal(acceptsDeflate('permessage-deflatex'), false, 'a look-alike name');
  t.equal(acceptsDeflate(['x-webkit-deflate-frame', 'permessage-deflate']), true, 'in the second of two lines, as Node lists them');
  t.equal(acceptsDeflate(['x-webkit-deflate-frame', 'permessage-deflatex']), false, 'two lines, neither names it');
  t.equal(acceptsDeflate('x-permessage-deflate'), false, 'a look-alike name, prefixed');
});

t.test('the ports where the server speaks first are exactly FTP, SSH, telnet, SMTP, POP3, IMAP and submission', async (t) => {
  t.same([...serverFirstPorts].sort((a, b) => a - b), [21, 22, 23, 25, 110, 143, 587, 2525]);
  for (const look of [20, 24, 26, 80, 111, 144, 443, 588, 2526]) t.notOk(serverFirstPorts.has(look), `${look} is not one`);
});

t.test("HTTP/2 response headers: Alt-Svc's HTTP/3 offer removed says so; nothing to remove says not", async (t) => {
  const headers: Record<string, string> = { 'alt-svc': 'h3=":443"; ma=86400, h2=":443"; ma=86400' };
  t.equal(dropHttp3FromHeaders(headers), true);
  t.equal(headers['alt-svc'], 'h2=":443"; ma=86400');
  const only: Record<string, string> = { 'alt-svc': 'h3=":443"' };
  t.equal(dropHttp3FromHeaders(only), true);
  t.notOk('alt-svc' in only, 'nothing left: the header goes');
  t.equal(dropHttp3FromHeaders({ 'alt-svc': 'h2=":443"' }), false);
  t.equal(dropHttp3FromHeaders({}), false);
  // An Alt-Svc that came back after other fields goes under another case of the name (http2-header-fields.ts).
  const apart: Record<string, string> = { 'alt-svc': 'h2=":443"', 'x-b': '2', 'Alt-svc': 'h3=":443", h2=":8443"' };
  t.equal(dropHttp3FromHeaders(apart), true);
  t.same(Object.entries(apart), [['alt-svc', 'h2=":443"'], ['x-b', '2'], ['Alt-svc', 'h2=":8443"']], 'the later one too, in its place');
});
