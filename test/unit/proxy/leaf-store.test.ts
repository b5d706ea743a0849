// The device side's newest TLS version (the server's, unless the lab bridged an older server than
// the device speaks), and the leaf store: one leaf per shape, one context per newest version.

import t from 'tap';
import tls from 'node:tls';
import net from 'node:net';
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { LeafStore, newestForDevice, suiteForDevice } from '../../../src/proxy/ca/leaf-store.js';
import type { TlsVersionName, TlsVersionRange } from '../../../src/proxy/layers/client-hello.js';
import { CertificateAuthority } from '../../../src/proxy/ca/certificate-authority.js';
import { tempDir } from '../../helpers/lab.js';

t.test('the newest version offered to a device', async (t) => {
  const rows: Array<[what: string, server: TlsVersionName | undefined, device: TlsVersionRange | undefined, newest: TlsVersionName]> = [
    ['the server is unknown (it was not reached)', undefined, { oldest: 'TLSv1.2', newest: 'TLSv1.3' }, 'TLSv1.3'],
    ['a TLS 1.3 server', 'TLSv1.3', { oldest: 'TLSv1.2', newest: 'TLSv1.3' }, 'TLSv1.3'],
    ['a TLS 1.2 server, a TLS 1.3 device: 1.2, as directly', 'TLSv1.2', { oldest: 'TLSv1.2', newest: 'TLSv1.3' }, 'TLSv1.2'],
    ['a TLS 1.0 server, an Android 4.4 app', 'TLSv1', { oldest: 'TLSv1', newest: 'TLSv1' }, 'TLSv1'],
    ['a TLS 1.0 server, a legacy hello (taken to go down to 1.0): the device decides', 'TLSv1', { oldest: 'TLSv1', newest: 'TLSv1.2' }, 'TLSv1'],
    ['a TLS 1.0 server reached by --upstream-tls-min for a TLS 1.2+ device: not held to it', 'TLSv1', { oldest: 'TLSv1.2', newest: 'TLSv1.3' }, 'TLSv1.3'],
    ['no ClientHello facts', 'TLSv1.2', undefined, 'TLSv1.2'],
  ];
  for (const [what, server, device, newest] of rows) t.equal(newestForDevice(server, device), newest, what);
});

t.test('the suite agreed on with a device: its server\'s, when the device offered it', async (t) => {
  const rows: Array<[what: string, server: string | undefined, device: number[] | undefined, suite: string | undefined]> = [
    ['the server chose the device\'s second suite', 'CAMELLIA128-SHA', [0xc02f, 0x0041], 'CAMELLIA128-SHA'],
    ['TLS 1.3', 'TLS_AES_128_CCM_SHA256', [0x1301, 0x1304], 'TLS_AES_128_CCM_SHA256'],
    ['a suite the device did not offer (our own list stood in): the device\'s order decides', 'ECDHE-RSA-AES128-GCM-SHA256', [0x000a], undefined],
    ['no server suite (a remembered look made no connection)', undefined, [0xc02f], undefined],
    ['no device list (not a TLS hello of ours)', 'AES128-SHA', undefined, undefined],
  ];
  for (const [what, server, device, suite] of rows) t.equal(suiteForDevice(server, device), suite, what);
});

t.test('one leaf per shape, one context per newest version', async (t) => {
  const store = new LeafStore(CertificateAuthority.loadOrCreate(tempDir()));
  const shape = { names: ['a.example'], keyType: 'rsa' } as const;
  const newest = store.contextFor(shape);
  const capped = store.contextFor(shape, 'TLSv1.2');
  t.not(capped, newest, 'a context of its own');
  t.equal(store.contextFor(shape, 'TLSv1.2'), capped, 'made once');
  t.equal(store.contextFor(shape, 'TLSv1.3'), newest, 'TLS 1.3 is the default');
  t.equal(store.issuedCount, 1, 'one leaf signed for both');
  t.equal(store.cachedCount, 1);
});

t.test('a context that puts the server\'s suite first: a device that lists it second agrees on it', async (t) => {
  const store = new LeafStore(CertificateAuthority.loadOrCreate(tempDir()));
  const shape = { names: ['b.example'], keyType: 'rsa' } as const;
  const device = { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:CAMELLIA128-SHA' } as const;
  t.equal(await suiteAgreedBy(store.contextFor(shape, 'TLSv1.2'), device), 'ECDHE-RSA-AES128-GCM-SHA256', 'without one, the device\'s first');
  const camellia = store.contextFor(shape, 'TLSv1.2', 'CAMELLIA128-SHA');
  t.equal(await suiteAgreedBy(camellia, device), 'CAMELLIA128-SHA', 'with one, that one');
  t.equal(store.contextFor(shape, 'TLSv1.2', 'CAMELLIA128-SHA'), camellia, 'made once');
  t.equal(await suiteAgreedBy(store.contextFor(shape, 'TLSv1.3', 'TLS_AES_128_CCM_SHA256'), { ciphers: 'TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256' }), 'TLS_AES_128_CCM_SHA256', 'TLS 1.3 too');
  t.equal(store.issuedCount, 1, 'one leaf for all');
});

t.test('leaves that stand in for a server certificate that did not verify: the server\'s dates, or an issuer nobody trusts, each a leaf of its own', async (t) => {
  const ca = CertificateAuthority.loadOrCreate(tempDir());
  const store = new LeafStore(ca);
  const names = ['b.example'];
  const good = store.contextFor({ names, keyType: 'rsa' });
  const expired = store.contextFor({ names, keyType: 'rsa', period: { notBefore: '2020-01-01T00:00:00.000Z', notAfter: '2021-01-01T00:00:00.000Z' } });
  const untrusted = store.contextFor({ names, keyType: 'rsa', untrusted: true });
  t.equal(new Set([good, expired, untrusted]).size, 3, 'three leaves');
  t.equal(store.issuedCount, 3);
  const ours = new X509Certificate(ca.certPem);
  const expiredLeaf = await leafShownBy(expired);
  t.ok(new Date(expiredLeaf.validTo).getTime() < Date.now(), 'the expired one is out of date');
  t.ok(expiredLeaf.checkIssued(ours), 'and issued by our CA');
  t.notOk((await leafShownBy(untrusted)).checkIssued(ours), 'the untrusted one is not');
  t.ok((await leafShownBy(good)).checkIssued(ours));
});

/**
 * The suite a client with `options` agrees on with a TLS server with `context` (over loopback),
 * set as the device side sets it: on the socket itself (a context chosen by SNI keeps the first
 * context's suites and order).
 */
async function suiteAgreedBy(context: tls.SecureContext, options: tls.ConnectionOptions): Promise<string> {
  const server = net.createServer((plain) => {
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: context });
    secure.on('error', () => plain.destroy());
    secure.once('secure', () => secure.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const client = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, servername: 'b.example', rejectUnauthorized: false, ...options });
    await once(client, 'secureConnect');
    const name = client.getCipher().name;
    client.destroy();
    return name;
  } finally {
    server.close();
  }
}

/** The certificate a TLS server with `context` shows a client (over loopback). */
async function leafShownBy(context: tls.SecureContext): Promise<X509Certificate> {
  const server = tls.createServer({ SNICallback: (_name, done) => done(null, context) }, (socket) => socket.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const client = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, servername: 'b.example', rejectUnauthorized: false });
    await once(client, 'secureConnect');
    const raw = client.getPeerCertificate().raw;
    client.destroy();
    return new X509Certificate(raw);
  } finally {
    server.close();
  }
}
