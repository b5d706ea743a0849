// ClientHello reading: SNI, ALPN and the oldest TLS version offered, from real and hand-built
// hellos, and every way one can be short, split or bogus.

import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import t from 'tap';
import { parseClientHello } from '../../../src/proxy/layers/client-hello.js';

/** The first bytes a real Node TLS client sends, caught by a plain TCP server. */
async function realHello(options: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const got = new Promise<Buffer>((resolve) => server.once('connection', (socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const all = Buffer.concat(chunks);
      if (parseClientHello(all).kind !== 'partial') { resolve(all); socket.destroy(); }
    });
  }));
  const client = tls.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', ...options });
  client.on('error', () => undefined);
  const bytes = await got;
  client.destroy();
  server.close();
  return bytes;
}

function extension(type: number, data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(data.length, 2);
  return Buffer.concat([head, data]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** A minimal ClientHello with the given extensions, optionally cut into several TLS records. */
function builtHello(extensions: Buffer[] | undefined, recordSizes?: number[]): Buffer {
  const ext = extensions ? Buffer.concat(extensions) : undefined;
  const body = Buffer.concat([
    Buffer.from([3, 3]), Buffer.alloc(32, 7), Buffer.from([0]), u16(2), Buffer.from([0x13, 0x01]), Buffer.from([1, 0]),
    ...(ext ? [u16(ext.length), ext] : []),
  ]);
  const handshake = Buffer.concat([Buffer.from([1, (body.length >> 16) & 0xff, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
  const sizes = recordSizes ?? [handshake.length];
  const records: Buffer[] = [];
  let at = 0;
  for (const size of sizes) {
    const piece = handshake.subarray(at, at + size);
    at += size;
    records.push(Buffer.concat([Buffer.from([0x16, 3, 1]), u16(piece.length), piece]));
  }
  return Buffer.concat(records);
}

const sni = (name: string): Buffer => { const n = Buffer.from(name, 'latin1'); return extension(0, Buffer.concat([u16(n.length + 3), Buffer.from([0]), u16(n.length), n])); };
const alpn = (...protocols: string[]): Buffer => { const list = Buffer.concat(protocols.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)]))); return extension(16, Buffer.concat([u16(list.length), list])); };

t.test('real hellos from Node\'s TLS client: server name and ALPN offer', async (t) => {
  const rows: Array<[tls.ConnectionOptions, string | undefined, string[]]> = [
    [{ servername: 'api.example.test', ALPNProtocols: ['h2', 'http/1.1'] }, 'api.example.test', ['h2', 'http/1.1']],
    [{ servername: 'grpc.example.test', ALPNProtocols: ['h2'] }, 'grpc.example.test', ['h2']],
    [{ servername: 'plain.example.test' }, 'plain.example.test', []],
  ];
  for (const [options, name, protocols] of rows) {
    const hello = parseClientHello(await realHello(options));
    t.match(hello, { kind: 'client-hello', sni: name, alpn: protocols, versions: { oldest: 'TLSv1.2', newest: 'TLSv1.3' } }, JSON.stringify(options));
  }
});

t.test('the cipher suites, in the client\'s order, without GREASE and signalling values', async (t) => {
  // Node's TLS 1.2 client adds the empty-renegotiation-info signal (0x00FF) after its suites.
  const node = parseClientHello(await realHello({ servername: 'a.example', maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256:CAMELLIA128-SHA' }));
  t.match(node, { kind: 'client-hello', suites: [0x002f, 0xc02f, 0x0041] });
  t.equal(node.kind === 'client-hello' && node.suites.length, 3, 'the signal left out');
  const tls13 = parseClientHello(await realHello({ servername: 'b.example', minVersion: 'TLSv1.3', ciphers: 'TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256' }));
  t.match(tls13, { kind: 'client-hello', suites: [0x1303, 0x1301] }, 'TLS 1.3\'s, in the order asked');
  // Chrome and OkHttp put a random GREASE value first, and a retrying client the fallback signal last.
  const body = Buffer.concat([
    Buffer.from([3, 3]), Buffer.alloc(32, 7), Buffer.from([0]), u16(10), Buffer.from([0x7a, 0x7a, 0x13, 0x01, 0xc0, 0x2b, 0x56, 0x00, 0xda, 0xda]), Buffer.from([1, 0]),
  ]);
  const greased = Buffer.concat([Buffer.from([0x16, 3, 1]), u16(body.length + 4), Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
  t.match(parseClientHello(greased), { kind: 'client-hello', suites: [0x1301, 0xc02b] }, 'GREASE and TLS_FALLBACK_SCSV left out');
  const notGrease = Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32, 7), Buffer.from([0]), u16(4), Buffer.from([0x0a, 0x1a, 0x00, 0x0a]), Buffer.from([1, 0])]);
  const lookAlike = Buffer.concat([Buffer.from([0x16, 3, 1]), u16(notGrease.length + 4), Buffer.from([1, 0, notGrease.length >> 8, notGrease.length & 0xff]), notGrease]);
  t.match(parseClientHello(lookAlike), { kind: 'client-hello', suites: [0x0a1a, 0x000a] }, 'look-alikes of GREASE are kept (two different bytes; 3DES)');
});

t.test('whether the client asks its server to staple an OCSP response (status_request)', async (t) => {
  t.match(parseClientHello(await realHello({ servername: 'o.example', requestOCSP: true } as tls.ConnectionOptions)), { kind: 'client-hello', asksOcsp: true }, 'Node with requestOCSP');
  const plain = parseClientHello(await realHello({ servername: 'o.example' }));
  t.ok(plain.kind === 'client-hello' && plain.asksOcsp === undefined, 'Node without it: not said');
});

t.test('the signature schemes and groups, in the client\'s order, without GREASE; absent without the extension', async (t) => {
  const node = parseClientHello(await realHello({ servername: 'c.example', sigalgs: 'ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256', ecdhCurve: 'P-256:X25519' }));
  t.match(node, { kind: 'client-hello', schemes: [0x0403, 0x0804], groups: [0x0017, 0x001d] });
  const list = (values: number[]): Buffer => Buffer.concat([u16(values.length * 2), ...values.map((value) => u16(value))]);
  const greased = parseClientHello(builtHello([extension(10, list([0x3a3a, 0x001d, 0x0017])), extension(13, list([0x0403, 0x0804]))]));
  t.match(greased, { kind: 'client-hello', groups: [0x001d, 0x0017], schemes: [0x0403, 0x0804] }, 'GREASE out of the groups');
  const without = parseClientHello(builtHello([alpn('h2')]));
  t.ok(without.kind === 'client-hello' && without.schemes === undefined && without.groups === undefined, 'a hello without them (TLS 1.0 clients) has none');
});

t.test('the one kind of server key a real hello can verify: none said when it can verify both', async (t) => {
  const rows: Array<[string, tls.ConnectionOptions, 'rsa' | 'ecdsa' | undefined]> = [
    ['Node\'s defaults: both', {}, undefined],
    ['TLS 1.2, RSA suites alone (ECDHE_RSA, RSA)', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA' }, 'rsa'],
    ['TLS 1.2, DHE_RSA alone', { maxVersion: 'TLSv1.2', ciphers: 'DHE-RSA-AES256-GCM-SHA384' }, 'rsa'],
    ['TLS 1.2, ECDSA suites alone', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305' }, 'ecdsa'],
    ['TLS 1.0, an Android 4.4 app\'s suites (both kinds)', { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:AES128-SHA:@SECLEVEL=0' }, undefined],
    ['TLS 1.3 alone, RSA-PSS schemes alone', { minVersion: 'TLSv1.3', sigalgs: 'rsa_pss_rsae_sha256:rsa_pss_rsae_sha384' }, 'rsa'],
    ['TLS 1.3 alone, ECDSA schemes alone', { minVersion: 'TLSv1.3', sigalgs: 'ecdsa_secp256r1_sha256' }, 'ecdsa'],
    // Look-alikes: a narrow part of the offer is not the whole of it.
    ['TLS 1.3 with ECDSA schemes alone, and TLS 1.2 RSA suites: RSA in 1.2, ECDSA in 1.3', { sigalgs: 'ecdsa_secp256r1_sha256:rsa_pkcs1_sha256', ciphers: 'TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256' }, undefined],
    ['TLS 1.3 alone with PKCS#1 RSA schemes and ECDSA: TLS 1.3 cannot sign PKCS#1, so ECDSA alone', { minVersion: 'TLSv1.3', sigalgs: 'rsa_pkcs1_sha256:ecdsa_secp256r1_sha256' }, 'ecdsa'],
  ];
  for (const [what, options, serverKey] of rows) {
    const hello = parseClientHello(await realHello({ servername: 'a.example', ...options }));
    t.equal(hello.kind === 'client-hello' ? hello.serverKey : 'not a hello', serverKey, what);
  }
});

t.test('the TLS versions offered: supported_versions when there is one, else TLS 1.0 up to the hello\'s own version (a client without TLS 1.3 states only its newest)', async (t) => {
  const real: Array<[tls.ConnectionOptions, string, string]> = [
    [{ servername: 'a.example' }, 'TLSv1.2', 'TLSv1.3'],
    [{ servername: 'a.example', minVersion: 'TLSv1.3' }, 'TLSv1.3', 'TLSv1.3'],
    [{ servername: 'a.example', minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' }, 'TLSv1', 'TLSv1.3'],
    [{ servername: 'a.example', minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' }, 'TLSv1', 'TLSv1'],
    [{ servername: 'a.example', minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }, 'TLSv1', 'TLSv1.1'],
    [{ servername: 'a.example', maxVersion: 'TLSv1.2' }, 'TLSv1', 'TLSv1.2'],
  ];
  for (const [options, oldest, newest] of real) {
    const hello = parseClientHello(await realHello(options));
    t.same(hello.kind === 'client-hello' ? hello.versions : hello.kind, { oldest, newest }, `Node's client, ${JSON.stringify(options)}`);
  }
  const versions = (...list: number[]): Buffer => extension(43, Buffer.concat([Buffer.from([list.length * 2]), ...list.map(u16)]));
  const built: Array<[Buffer, string, string, string]> = [
    [versions(0x0a0a, 0x0304, 0x0303), 'TLSv1.2', 'TLSv1.3', 'GREASE first, as Chromium sends it'],
    [versions(0x0304, 0x0303, 0x0302, 0x0301), 'TLSv1', 'TLSv1.3', 'down to TLS 1.0'],
    [versions(0x0301, 0x0303, 0x0302), 'TLSv1', 'TLSv1.2', 'in any order'],
    [versions(0x7f1c, 0x0304), 'TLSv1.3', 'TLSv1.3', 'a draft version is not one'],
    [versions(0x0300, 0x0304), 'TLSv1.3', 'TLSv1.3', 'SSL 3 is not spoken here'],
    [versions(0x1a1a), 'TLSv1', 'TLSv1.2', 'nothing known: as a legacy hello (this one says TLS 1.2)'],
    [extension(43, Buffer.alloc(0)), 'TLSv1', 'TLSv1.2', 'an empty extension'],
    [extension(43, Buffer.from([9, 3, 4])), 'TLSv1.3', 'TLSv1.3', 'a list longer than the extension: what is there'],
  ];
  for (const [ext, oldest, newest, what] of built) {
    const hello = parseClientHello(builtHello([sni('c.example'), ext]));
    t.same(hello.kind === 'client-hello' ? hello.versions : hello.kind, { oldest, newest }, what);
  }
  for (const [wire, newest] of [[0x0300, 'TLSv1'], [0x0301, 'TLSv1'], [0x0302, 'TLSv1.1'], [0x0303, 'TLSv1.2'], [0x0304, 'TLSv1.2']] as const) {
    const hello = builtHello([sni('d.example')]);
    hello.writeUInt16BE(wire, 9);
    t.same(parseClientHello(hello), { kind: 'client-hello', sni: 'd.example', alpn: [], versions: { oldest: 'TLSv1', newest }, suites: [0x1301] }, `a legacy hello of version ${wire.toString(16)}`);
  }
});

t.test('built hellos: split, fragmented, minimal and hostile', async (t) => {
  const whole = builtHello([sni('a.example'), alpn('h2', 'http/1.1')]);
  t.same(parseClientHello(whole), { kind: 'client-hello', sni: 'a.example', alpn: ['h2', 'http/1.1'], versions: { oldest: 'TLSv1', newest: 'TLSv1.2' }, suites: [0x1301] });
  for (const cut of [1, 4, 5, 9, whole.length - 1]) t.same(parseClientHello(whole.subarray(0, cut)), { kind: 'partial' }, `cut after ${cut} bytes`);
  const fragmented = builtHello([sni('b.example'), alpn('h2')], [10, 20, 1000]);
  t.same(parseClientHello(fragmented), { kind: 'client-hello', sni: 'b.example', alpn: ['h2'], versions: { oldest: 'TLSv1', newest: 'TLSv1.2' }, suites: [0x1301] }, 'one hello over three TLS records');
  t.same(parseClientHello(builtHello(undefined)), { kind: 'client-hello', alpn: [], versions: { oldest: 'TLSv1', newest: 'TLSv1.2' }, suites: [0x1301] }, 'no extensions at all');
  t.same(parseClientHello(builtHello([alpn('h2')])), { kind: 'client-hello', alpn: ['h2'], versions: { oldest: 'TLSv1', newest: 'TLSv1.2' }, suites: [0x1301] }, 'no SNI');
  t.equal(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n\r\n')).kind, 'invalid', 'not TLS');
  t.equal(parseClientHello(Buffer.from([0x16, 3, 1, 0, 0])).kind, 'invalid', 'empty record');
  t.equal(parseClientHello(Buffer.from([0x16, 3, 1, 0, 4, 2, 0, 0, 0])).kind, 'invalid', 'a ServerHello, not a ClientHello');
  t.equal(parseClientHello(Buffer.from([0x16, 3, 1, 0x40, 0, 1, 0xff, 0xff, 0xff])).kind, 'invalid', 'a 16 MiB hello is refused before it is waited for');
  const lying = Buffer.from(whole);
  lying.writeUInt16BE(0xffff, whole.length - (sni('a.example').length + alpn('h2', 'http/1.1').length) - 2);
  t.equal(parseClientHello(lying).kind, 'invalid', 'an extension list longer than the hello');
  let seed = 7;
  const random = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
  const kinds = new Map<string, number>();
  for (let i = 0; i < 2_000; i++) {
    const bytes = Buffer.from(whole);
    bytes[5 + (random() % (bytes.length - 5))] = random() & 0xff;
    const kind = parseClientHello(bytes).kind;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  t.same([...kinds.keys()].filter((k) => !['partial', 'invalid', 'client-hello'].includes(k)), [], 'one corrupted byte anywhere: an answer, never a throw');
});

// The SSL 2.0-format ClientHello of Debian's JDK 17 with SSLv2Hello enabled (https.protocols), as
// caught from it: the format Java 6 and OpenSSL 0.9.8 clients sent by default.
const JDK_SSLV2_HELLO = Buffer.from('8095010303006c0000002000c02c00c02b00cca900c03000cca800c02f00009f00ccaa0000a300009e0000a200c02400c02800c02300c02700006b00006a00006700004000c00a0700c000c01400c00906004000c01300003900003800003300003200009d00009c00003d00003c00003500002f0000ff9b0bbcaa7fff9fbdcb2244412deca09c56169b53f6ab796380a775dd81cbe9c2', 'hex');

t.test('an SSL 2.0-format ClientHello that offers TLS (an old Java or OpenSSL client): its versions and TLS suites, no SNI or ALPN', async (t) => {
  const hello = parseClientHello(JDK_SSLV2_HELLO);
  t.equal(hello.kind, 'client-hello');
  if (hello.kind !== 'client-hello') return;
  t.same(hello.versions, { oldest: 'TLSv1', newest: 'TLSv1.2' }, 'TLS 1.2 at most, down to 1.0 as any hello without supported_versions');
  t.equal(hello.suites[0], 0xc02c, 'its first TLS suite first');
  t.notOk(hello.suites.includes(0x00ff), 'the renegotiation signal left out');
  t.notOk(hello.suites.includes(0x00c0), 'an SSL 2.0 cipher spec (07 00 c0: its first byte not 0) is not read as a TLS suite');
  t.equal(hello.suites.length, 33, 'its 36 specs: 34 TLS ones, less the renegotiation signal');
  t.equal(hello.sni, undefined);
  t.same(hello.alpn, []);
  t.equal(hello.schemes, undefined, 'no signature schemes: the upstream offer says what their absence means');
  t.same(parseClientHello(JDK_SSLV2_HELLO.subarray(0, 100)), { kind: 'partial' }, 'cut short: partial');
  t.same(parseClientHello(JDK_SSLV2_HELLO.subarray(0, 3)), { kind: 'partial' }, 'too short to tell: partial');
});

t.test('look-alikes of an SSL 2.0-format hello are not read as one', async (t) => {
  const sslv2Itself = Buffer.from(JDK_SSLV2_HELLO);
  sslv2Itself.writeUInt16BE(0x0002, 3);
  t.equal(parseClientHello(sslv2Itself).kind, 'invalid', 'SSL 2.0 itself (version 0.2)');
  t.equal(parseClientHello(Buffer.from([0x80, 0x10, 0x05, 0x03, 0x01, 0, 0, 0, 0])).kind, 'invalid', 'a binary protocol with the high bit set, message type 5');
  const lying = Buffer.from(JDK_SSLV2_HELLO);
  lying.writeUInt16BE(0x0fff, 5);
  t.equal(parseClientHello(lying).kind, 'invalid', 'lengths that run past the record');
});

t.test('which first bytes open a ClientHello: a byte that cannot fit an SSL 2.0-format hello says no at once', async (t) => {
  const { opensClientHello } = await import('../../../src/proxy/layers/client-hello.js');
  const rows: Array<[string, number[], ReturnType<typeof opensClientHello>]> = [
    ['a TLS record', [0x16], 'yes'],
    ['nothing yet', [], 'too-short'],
    ['plain text', [0x47, 0x45], 'no'],
    ['the JDK\'s SSL 2.0-format hello, whole header', [...JDK_SSLV2_HELLO.subarray(0, 5)], 'yes'],
    ['its first byte alone', [0x80], 'too-short'],
    ['its first four bytes', [...JDK_SSLV2_HELLO.subarray(0, 4)], 'too-short'],
    ['a high bit and a length too short for a hello', [0x80, 0x04], 'no'],
    ['a high bit and another message type', [0x80, 0x20, 0x05], 'no'],
    ['SSL 2.0 itself (major version 0)', [0x80, 0x2e, 0x01, 0x00], 'no'],
    ['a minor version past TLS 1.2', [0x80, 0x2e, 0x01, 0x03, 0x09], 'no'],
  ];
  for (const [name, bytes, expected] of rows) t.equal(opensClientHello(Buffer.from(bytes)), expected, name);
});
