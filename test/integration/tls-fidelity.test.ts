// Devices whose TLS we used to break: an Android 4.4 app speaking TLS 1.0 without SNI, a mail app
// over implicit TLS (the server speaks first), a client that trusted us but sent a request we
// refused, a device with a client certificate for a server that requires one, and an old lab
// server. Each runs with real TLS on both sides through the proxy.

import t, { type Test } from 'tap';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { noticeForFlow } from '../../src/app/notices.js';
import { resolveCaptureOptions } from '../../src/app/options.js';
import { limits } from '../../src/limits.js';
import { parseClientHello } from '../../src/proxy/layers/client-hello.js';
import { serveSmtp } from '../helpers/smtp-server.js';
import { connectTunnel, getOriginCa, startLab, startOrigin, tempDir, withLimit, within } from '../helpers/lab.js';
import { deviceCertificate } from '../helpers/device-certificate.js';
import { startCaptureRun } from '../helpers/capture-run.js';

/** What HttpsURLConnection on Android 4.4 offers by default: TLS 1.0 only, these suites, first to last. */
const ANDROID_44_CIPHERS = 'ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:AES128-SHA:AES256-SHA:DES-CBC3-SHA:@SECLEVEL=0';

/** A TLS client on a CONNECT tunnel; `servername: undefined` sends no SNI (the client is given an address). */
async function tlsViaProxy(proxyPort: number, authority: string, options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  const { socket, status } = await connectTunnel(proxyPort, authority);
  if (status !== 200) throw new Error(`CONNECT answered ${status}`);
  const secure = tls.connect({ socket, ...options });
  await within(Promise.race([once(secure, 'secureConnect'), once(secure, 'error').then(([e]) => Promise.reject(e))]), 10_000, 'TLS handshake through the proxy');
  return secure;
}

/** Writes an HTTP/1.0 request and reads until the server closes: the whole answer. */
async function http10(secure: tls.TLSSocket, request: string): Promise<string> {
  const chunks: Buffer[] = [];
  secure.on('data', (c: Buffer) => chunks.push(c));
  secure.write(request);
  await within(once(secure, 'end'), 10_000, 'the response');
  return Buffer.concat(chunks).toString('latin1');
}

t.test('an Android 4.4 client (TLS 1.0, its suites, no SNI) is decrypted; the flow records both sides\' TLS', async (t) => {
  // A server of its time: TLS 1.0 still on, beside today's versions.
  const port = await startTlsServer(t, 'legacy.example.test', 'hello old phone', { minVersion: 'TLSv1', maxVersion: 'TLSv1.3', ciphers: 'DEFAULT:@SECLEVEL=0' });
  const lab = await startLab();
  t.teardown(() => lab.close());
  const android44: tls.ConnectionOptions = {
    host: '127.0.0.1', minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: ANDROID_44_CIPHERS,
    // No SNI: the leaf must still name the CONNECT host.
    checkServerIdentity: (_host, cert) => tls.checkServerIdentity('legacy.example.test', cert),
  };
  const direct = tls.connect({ ...android44, port, ca: getOriginCa().certPem });
  await within(once(direct, 'secureConnect'), 10_000, 'the direct handshake');
  const directSuite = direct.getCipher().standardName;
  direct.destroy();
  const secure = await tlsViaProxy(lab.port, `legacy.example.test:${port}`, { ...android44, ca: lab.ca.certPem });
  t.equal(secure.getProtocol(), 'TLSv1');
  const answer = await http10(secure, 'GET /feed HTTP/1.0\r\nHost: legacy.example.test\r\n\r\n');
  t.match(answer, /^HTTP\/1\.[01] 200/);
  t.match(answer, /hello old phone$/);
  const flow = await lab.next('flow:end', (f) => f.kind === 'http');
  t.notOk(flow.sni, 'the client sent no SNI');
  // This server prefers its own order (OpenSSL's DEFAULT: AES-256 first), so not the app's first RSA suite.
  t.equal(directSuite, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'directly, the server chose its preferred suite of the app\'s');
  t.match(flow.tls, { client: { version: 'TLSv1', cipher: directSuite }, server: { version: 'TLSv1', cipher: directSuite } }, 'the server spoke the TLS 1.0 the app offered, and both sides agreed on the suite agreed on directly');
  t.equal(lab.passthrough.learned().length, 0);
});

t.test('SMTPS (implicit TLS, the server speaks first): the greeting arrives, the mail is relayed and found', async (t) => {
  // On a port of its own (not 465), nothing but the server's greeting says the client waits for
  // it: with the sniff window made endless, a greeting held for the client's silence never comes.
  withLimit(t, 'connectSniffTimeoutMs', 3_600_000);
  const leaf = getOriginCa().issueLeaf('smtps.example.test');
  const received: Buffer[] = [];
  const server = tls.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (socket) => serveSmtp(socket, 'smtps.example.test', received));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const { session, out } = await startCaptureRun();
  const secure = await tlsViaProxy(session.port, `smtps.example.test:${(server.address() as net.AddressInfo).port}`, { servername: 'smtps.example.test', ca: session.ca.certPem });
  let replies = '';
  secure.on('data', (c: Buffer) => { replies += c.toString(); });
  const replyCount = (): number => (replies.match(/\r\n/g) ?? []).length;
  const waitReplies = (n: number) => within(new Promise<void>((resolve) => { const check = () => { if (replyCount() >= n) resolve(); else secure.once('data', check); }; check(); }), 10_000, `${n} SMTP replies`);
  await waitReplies(1);
  t.match(replies, /^220 smtps\.example\.test/, 'the server\'s greeting reached the client');
  const lines = ['EHLO phone', `AUTH PLAIN ${Buffer.from('\0jane@example.com\0s3cret').toString('base64')}`, 'MAIL FROM:<jane@example.com>', 'RCPT TO:<bob@example.org>', 'DATA',
    'From: Jane <jane@example.com>\r\nTo: bob@example.org\r\nSubject: Photos de vacances\r\nDate: Sun, 12 Oct 2014 18:30:05 +0200\r\n\r\nVoici les photos.\r\n.', 'QUIT'];
  const sent = lines.map((l) => `${l}\r\n`).join('');
  for (const [i, line] of lines.entries()) {
    secure.write(`${line}\r\n`);
    await waitReplies(i + 2);
  }
  await within(once(secure, 'close'), 10_000, 'the server to close');
  await session.stop();
  t.equal(Buffer.concat(received).toString('latin1'), sent, 'the server received exactly what the client sent');
  const flows = fs.readFileSync(path.join(out, 'flows.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const raw = flows.find((f) => f._phonehome?.kind === 'raw');
  t.match(raw?._phonehome, { tags: ['decrypted', 'stream:raw', 'stream:server-speaks-first'], tls: { client: { version: 'TLSv1.3' }, server: { version: 'TLSv1.3' } } });
  const findings = fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const mail = findings.find((f) => f.category === 'mail');
  t.match(mail?.summary, /^Mail sent over SMTP from jane@example\.com to bob@example\.org, 'Photos de vacances'$/);
  t.notOk(findings.find((f) => f.category === 'credential'), 'a login inside TLS is not a clear-text password');
  // The client spoke only after the greeting, and was done well within pinnedCloseWindowMs: that
  // is a mail app that trusted us, not one that closed at once to refuse our certificate.
  t.notOk(findings.find((f) => f.category === 'tls-pinned'), 'not taken for pinning');
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  t.same(summary.passthrough.learned, [], 'nothing learned: its next connection is decrypted too');
  t.match(summary.tls, { client: { 'TLSv1.3': { flows: 1, hosts: ['smtps.example.test'], devices: ['127.0.0.1'] } } });
});

t.test('a server that speaks first on a port of its own (IRC over TLS) greets every connection at once, not only the first', async (t) => {
  // The first connection to a host is asked before the device is answered, and the greeting comes
  // on that connection. A later one, while the answer was remembered, had no connection to hear it
  // on, and waited for the client's silence: with that window made endless, it never came.
  withLimit(t, 'connectSniffTimeoutMs', 3_600_000);
  const leaf = getOriginCa().issueLeaf('irc.example.test');
  let connections = 0;
  const server = tls.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (socket) => {
    connections++;
    socket.on('error', () => undefined);
    socket.write(':irc.example.test NOTICE * :*** Looking up your hostname\r\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const lab = await startLab();
  t.teardown(() => lab.close());
  const authority = `irc.example.test:${(server.address() as net.AddressInfo).port}`;
  for (const which of ['first', 'second', 'third']) {
    // No ALPN, as IRC clients offer none.
    const secure = await tlsViaProxy(lab.port, authority, { servername: 'irc.example.test', ca: lab.ca.certPem });
    const [greeting] = await within(once(secure, 'data'), 10_000, `the ${which} connection's greeting`) as [Buffer];
    t.match(greeting.toString(), /^:irc\.example\.test NOTICE \* :\*\*\* Looking up your hostname\r\n$/, `the ${which} connection is greeted`);
    secure.destroy();
  }
  t.equal(connections, 3, 'one server connection per device connection, as directly');
});

t.test('a client that trusted us and was refused a request (431) does not make its host "pinned"', async (t) => {
  const origin = await startOrigin({ tls: true, hostname: 'big.example.test', handler: (_req, res) => res.end('ok') });
  t.teardown(() => origin.close());
  const lab = await startLab();
  t.teardown(() => lab.close());
  const secure = await tlsViaProxy(lab.port, `big.example.test:${origin.port}`, { servername: 'big.example.test', ca: lab.ca.certPem });
  const answer = await http10(secure, `GET / HTTP/1.1\r\nHost: big.example.test\r\nX-Huge: ${'a'.repeat(limits.http1MaxRequestHeadBytes)}\r\nConnection: close\r\n\r\n`);
  t.match(answer, /^HTTP\/1\.1 431 /);
  await lab.next('flow:end', (f) => f.kind === 'rejected');
  t.same(lab.passthrough.learned(), [], 'nothing learned');
  const again = await tlsViaProxy(lab.port, `big.example.test:${origin.port}`, { servername: 'big.example.test', ca: lab.ca.certPem });
  t.match(await http10(again, 'GET / HTTP/1.1\r\nHost: big.example.test\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200[^]*ok$/, 'the next connection is still decrypted');
});

t.test('a client that closes right after the handshake without a byte is still learned as pinned', async (t) => {
  const origin = await startOrigin({ tls: true, hostname: 'pin.example.test', handler: (_req, res) => res.end('ok') });
  t.teardown(() => origin.close());
  const lab = await startLab();
  t.teardown(() => lab.close());
  const secure = await tlsViaProxy(lab.port, `pin.example.test:${origin.port}`, { servername: 'pin.example.test', ca: lab.ca.certPem });
  secure.end();
  const failure = await lab.next('tls:failed');
  t.match(failure, { host: 'pin.example.test', learnedPassthrough: true });
});

for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
  t.test(`mutual TLS (${maxVersion}): a device with a client certificate passes through; with --client-cert it is decrypted`, async (t) => {
    const device = deviceCertificate();
    const leaf = getOriginCa().issueLeaf('mtls.example.test');
    const seen: string[] = [];
    const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem, ca: device.certPem, requestCert: true, rejectUnauthorized: true, maxVersion }, (req, res) => {
      const peer = (req.socket as tls.TLSSocket).getPeerCertificate();
      seen.push(String(peer.subject?.CN ?? ''));
      res.end('device known');
    });
    let connections = 0;
    server.on('connection', () => { connections++; });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
    const port = (server.address() as net.AddressInfo).port;

    const lab = await startLab();
    t.teardown(() => lab.close());
    const secure = await tlsViaProxy(lab.port, `mtls.example.test:${port}`, { servername: 'mtls.example.test', ca: getOriginCa().certPem, cert: device.certPem, key: device.keyPem });
    t.match(await http10(secure, 'GET / HTTP/1.1\r\nHost: mtls.example.test\r\nConnection: close\r\n\r\n'), /device known$/, 'the device reached the real server on its first try');
    const tunnel = await lab.next('flow:end', (f) => f.kind === 'tunnel');
    t.same(tunnel.tags, ['passthrough:client-certificate']);
    // Our look first, then the device's own. Until 2026-12-07 a TLS 1.2 server was asked a second
    // time to tell its request apart from another failure: three ClientHellos for the device's one.
    t.equal(connections, 2, 'the server saw our look at it and the device\'s connection, no more');
    t.match(lab.passthrough.learned(), [{ host: 'mtls.example.test', kind: 'client-certificate', reason: /client certificate/ }]);

    const decrypting = await startLab({ clientCertificates: new Map([['mtls.example.test', { certPem: device.certPem, keyPem: device.keyPem }]]) });
    t.teardown(() => decrypting.close());
    const through = await tlsViaProxy(decrypting.port, `mtls.example.test:${port}`, { servername: 'mtls.example.test', ca: decrypting.ca.certPem });
    t.match(await http10(through, 'GET /who HTTP/1.1\r\nHost: mtls.example.test\r\nConnection: close\r\n\r\n'), /device known$/);
    const flow = await decrypting.next('flow:end', (f) => f.kind === 'http');
    t.match(flow, { tags: ['decrypted'], response: { status: 200 } });
    t.same(seen, ['device-0042', 'device-0042'], 'the server saw the device\'s certificate both times');
  });
}

/** `openssl s_server -www` for `hostname` with these extra arguments, on a port of its choosing; its port. */
async function startOpensslServer(t: Test, hostname: string, extra: string[]): Promise<number> {
  const leaf = getOriginCa().issueLeaf(hostname);
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'key.pem'), leaf.keyPem);
  fs.writeFileSync(path.join(dir, 'cert.pem'), leaf.certPem);
  const server = spawn('openssl', ['s_server', '-accept', '127.0.0.1:0', '-key', path.join(dir, 'key.pem'), '-cert', path.join(dir, 'cert.pem'), '-www', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { server.kill(); });
  let printed = '';
  const port = await within(new Promise<number>((resolve, reject) => {
    server.stdout.on('data', (chunk: Buffer) => {
      printed += chunk.toString('latin1');
      const accept = /^ACCEPT [^\n]*:(\d+)$/m.exec(printed);
      if (accept) resolve(Number(accept[1]));
    });
    server.once('exit', (code) => reject(new Error(`openssl s_server exited (${code}): ${printed}`)));
  }), 10_000, 'openssl s_server to listen');
  return port;
}

/** Key and certificate files of an origin leaf of `keyType` for `hostname`, for openssl's -key/-cert or -dkey/-dcert. */
function originLeafFiles(hostname: string, keyType: 'rsa' | 'ec'): { key: string; cert: string } {
  const leaf = getOriginCa().issueLeaf(hostname, keyType);
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'key.pem'), leaf.keyPem);
  fs.writeFileSync(path.join(dir, 'cert.pem'), leaf.certPem);
  return { key: path.join(dir, 'key.pem'), cert: path.join(dir, 'cert.pem') };
}

// A server with an RSA and an ECDSA certificate shows each client one it can verify (Cloudflare
// does, preferring ECDSA). A device limited to one kind of key met a leaf of the kind the server
// preferred for our OpenSSL, and shared no cipher suite with it.
const rows: Array<[string, tls.ConnectionOptions, string, 'rsa' | 'ecdsa', RegExp]> = [
  ['an RSA-only device (TLS 1.2, RSA suites alone: old Android, IoT stacks)', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA' },
    'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA', 'rsa', /Cipher is ECDHE-RSA-AES128-GCM-SHA256/],
  ['an ECDSA-only device (TLS 1.2, ECDSA suites alone)', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' },
    'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256', 'ecdsa', /Cipher is ECDHE-ECDSA-AES128-GCM-SHA256/],
  // In TLS 1.3 the signature schemes choose the certificate, and a server that can sign either way
  // signs with ECDSA for a client that offers it first.
  ['a TLS 1.3 device that signs with RSA alone (rsa_pss_rsae_sha256)', { minVersion: 'TLSv1.3', sigalgs: 'rsa_pss_rsae_sha256' },
    'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256', 'rsa', /Protocol *: TLSv1\.3/],
];
for (const [device, deviceOptions, preferred, keyType, serverSaw] of rows) {
  t.test(`${device}, and a server with both kinds of certificate that prefers the other: shown a leaf of its kind, as directly`, async (t) => {
    const hostname = 'dual.example.test';
    const ecdsa = originLeafFiles(hostname, 'ec');
    const port = await startOpensslServer(t, hostname, ['-dkey', ecdsa.key, '-dcert', ecdsa.cert, '-serverpref', '-cipher', preferred]);
    const lab = await startLab();
    t.teardown(() => lab.close());
    const secure = await tlsViaProxy(lab.port, `${hostname}:${port}`, { servername: hostname, ca: lab.ca.certPem, ...deviceOptions });
    t.equal(secure.getPeerCertificate().asn1Curve === undefined ? 'rsa' : 'ecdsa', keyType, `the leaf's key is ${keyType}`);
    const page = await http10(secure, `GET / HTTP/1.0\r\nHost: ${hostname}\r\n\r\n`);
    t.match(page, /^HTTP\/1\.0 200 ok\r\n/);
    t.match(page, serverSaw, 'the server agreed with us on what it agrees on with the device');
  });
}

for (const [device, deviceOptions, cipher] of [
  ['a TLS 1.3 device with AES-CCM alone (IoT stacks)', { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_CCM_SHA256' }, 'TLS_AES_128_CCM_SHA256'],
  ['a TLS 1.3 device with AES-CCM-8 alone', { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_CCM_8_SHA256' }, 'TLS_AES_128_CCM_8_SHA256'],
  ['a TLS 1.2 device with Camellia alone', { maxVersion: 'TLSv1.2', ciphers: 'CAMELLIA128-SHA:@SECLEVEL=0' }, 'CAMELLIA128-SHA'],
] as const) {
  t.test(`${device} is decrypted, as a server that has the suite takes it directly`, async (t) => {
    const port = await startOpensslServer(t, 'suites.example.test', ['-ciphersuites', 'TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256', '-cipher', 'ALL:@SECLEVEL=0']);
    const lab = await startLab();
    t.teardown(() => lab.close());
    const secure = await tlsViaProxy(lab.port, `suites.example.test:${port}`, { servername: 'suites.example.test', ca: lab.ca.certPem, ...deviceOptions });
    t.equal(secure.getCipher().name, cipher, 'the device side agreed on the device\'s suite');
    t.match(await http10(secure, 'GET / HTTP/1.0\r\nHost: suites.example.test\r\n\r\n'), /^HTTP\/1\.0 200 ok\r\n/);
  });
}

// The server chooses from our ClientHello's suites, signature schemes and groups. They were
// OpenSSL's defaults, not the device's: a server that takes only a suite the device offers beyond
// them refused us, and one that follows the client's order agreed on another suite with us than
// with the device. openssl s_server -www prints what its client offered (the suites it shares with
// it in the client's order, the signature schemes, the groups) and the suite it chose: the same
// directly and through the lab.
for (const [device, deviceOptions, serverOptions, chosen] of [
  ['a TLS 1.2 device that puts an old suite first, and a server that follows the client\'s order', { maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256:CAMELLIA128-SHA' },
    ['-cipher', 'ALL:@SECLEVEL=0'], 'AES128-SHA'],
  ['a TLS 1.3 device with its own order (AES-128 first, as Chrome)', { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384' },
    [], 'TLS_AES_128_GCM_SHA256'],
  ['a TLS 1.2 device with Camellia among its suites, and a server with Camellia alone', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:CAMELLIA128-SHA' },
    ['-cipher', 'CAMELLIA128-SHA'], 'CAMELLIA128-SHA'],
  ['a TLS 1.3 device with AES-CCM among its suites, and a server with AES-CCM alone (IoT)', { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256' },
    ['-ciphersuites', 'TLS_AES_128_CCM_SHA256'], 'TLS_AES_128_CCM_SHA256'],
  ['a device with signature schemes and groups of its own (P-256 first, no SHA-1, as an IoT stack)', { sigalgs: 'ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256:rsa_pkcs1_sha256', ecdhCurve: 'P-256:X25519' },
    [], 'TLS_AES_256_GCM_SHA384'],
] as const) {
  t.test(`${device}: the server is offered what the device offers, and agrees on the suite it agrees on directly`, async (t) => {
    const hostname = 'order.example.test';
    const port = await startOpensslServer(t, hostname, [...serverOptions]);
    const request = `GET / HTTP/1.0\r\nHost: ${hostname}\r\n\r\n`;
    const direct = tls.connect({ host: '127.0.0.1', port, servername: hostname, ca: getOriginCa().certPem, ...deviceOptions });
    await within(once(direct, 'secureConnect'), 10_000, 'the direct handshake');
    const directPage = await http10(direct, request);
    const lab = await startLab();
    t.teardown(() => lab.close());
    const secure = await tlsViaProxy(lab.port, `${hostname}:${port}`, { servername: hostname, ca: lab.ca.certPem, ...deviceOptions });
    const page = await http10(secure, request);
    t.match(directPage, `Cipher is ${chosen}`, 'directly, the server chose this');
    t.equal(whatTheServerSaw(page), whatTheServerSaw(directPage), 'through the lab, the server was offered the same and chose the same');
    t.equal(secure.getCipher().name, chosen, 'and the device side agreed on it too');
  });
}

/** What openssl s_server -www prints of its client's offer and of its choice. */
function whatTheServerSaw(page: string): string {
  const shared = /Ciphers common between both SSL end points:\n([^]*?)\n(?=Signature Algorithms|Supported groups|---)/.exec(page)?.[1];
  const lines = page.split('\n').filter((line) => /^(Signature Algorithms|Supported groups): |Cipher is /.test(line));
  return [`shared suites: ${shared ?? '(none printed)'}`, ...lines].join('\n');
}

t.test('a device that offers finite-field Diffie-Hellman alone (DHE_RSA, no elliptic curves) is decrypted, as its server takes it directly', async (t) => {
  // openssl s_server has DH parameters of its own; the device side needs its own too.
  const port = await startOpensslServer(t, 'dhe.example.test', []);
  const lab = await startLab();
  t.teardown(() => lab.close());
  const secure = await tlsViaProxy(lab.port, `dhe.example.test:${port}`, { servername: 'dhe.example.test', ca: lab.ca.certPem, maxVersion: 'TLSv1.2', ciphers: 'DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-SHA' });
  t.equal(secure.getCipher().name, 'DHE-RSA-AES128-GCM-SHA256');
  t.match(await http10(secure, 'GET / HTTP/1.0\r\nHost: dhe.example.test\r\n\r\n'), /^HTTP\/1\.0 200 ok\r\n/);
});

t.test('a TLS 1.3 server that asks for no client certificate is not waited on before the device\'s handshake (one that sends no session tickets, as openssl -num_tickets 0)', async (t) => {
  const port = await startOpensslServer(t, 'quiet.example.test', ['-tls1_3', '-num_tickets', '0']);
  // Only a server that asked for a certificate is waited for; with this wait made endless, a wait
  // for this server's first word (which never comes) shows as a handshake that never finishes.
  withLimit(t, 'clientCertificateProbeMs', 3_600_000);
  const lab = await startLab();
  t.teardown(() => lab.close());
  const secure = await tlsViaProxy(lab.port, `quiet.example.test:${port}`, { servername: 'quiet.example.test', ca: lab.ca.certPem });
  t.match(await http10(secure, 'GET / HTTP/1.0\r\nHost: quiet.example.test\r\n\r\n'), /^HTTP\/1\.0 200 ok\r\n[^]*Protocol *: TLSv1\.3/, 'the server answered over TLS 1.3');
  const flow = await lab.next('flow:end', (f) => f.kind === 'http');
  t.match(flow, { tags: ['decrypted'], tls: { server: { version: 'TLSv1.3' } } });
});

t.test('a TLS 1.3 server that asks for a client certificate without requiring one: waited for (its ticket says it took none), then decrypted', async (t) => {
  const leaf = getOriginCa().issueLeaf('optional.example.test');
  const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' }, (req, res) => {
    res.end(`certificate: ${(req.socket as tls.TLSSocket).getPeerCertificate().subject ? 'yes' : 'none'}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  const lab = await startLab();
  t.teardown(() => lab.close());
  const secure = await tlsViaProxy(lab.port, `optional.example.test:${(server.address() as net.AddressInfo).port}`, { servername: 'optional.example.test', ca: lab.ca.certPem });
  t.match(await http10(secure, 'GET / HTTP/1.1\r\nHost: optional.example.test\r\nConnection: close\r\n\r\n'), /certificate: none$/);
  const flow = await lab.next('flow:end', (f) => f.kind === 'http');
  t.match(flow, { tags: ['decrypted'], tls: { server: { version: 'TLSv1.3' } } }, 'decrypted, not passed through');
  t.same(lab.passthrough.learned(), [], 'nothing learned');
});

t.test('a device without ALPN: its server is connected before every answer, but one that took us without a certificate is not waited for again', async (t) => {
  // Asks for a certificate, requires none, sends no tickets: its first word never comes.
  const port = await startOpensslServer(t, 'asks.example.test', ['-tls1_3', '-num_tickets', '0', '-verify', '1']);
  const lab = await startLab();
  t.teardown(() => lab.close());
  const authority = `asks.example.test:${port}`;
  const get = async (): Promise<string> => http10(await tlsViaProxy(lab.port, authority, { servername: 'asks.example.test', ca: lab.ca.certPem }), 'GET / HTTP/1.0\r\nHost: asks.example.test\r\n\r\n');
  await t.test('the first connection waits for the server\'s first word, a moment here', async (t) => {
    withLimit(t, 'clientCertificateProbeMs', 50);
    t.match(await get(), /^HTTP\/1\.0 200 ok\r\n/);
  });
  // Made endless: a second wait shows as a handshake that never finishes.
  withLimit(t, 'clientCertificateProbeMs', 3_600_000);
  t.match(await get(), /^HTTP\/1\.0 200 ok\r\n/, 'the next connection is answered without the wait');
  t.same(lab.passthrough.learned(), [], 'nothing learned');
});

t.test('--client-cert: a certificate and key that do not belong together are a one-line error', async (t) => {
  const a = deviceCertificate();
  const b = deviceCertificate();
  const mixed = path.join(tempDir(), 'mixed.pem');
  fs.writeFileSync(mixed, a.certPem + b.keyPem);
  t.throws(() => resolveCaptureOptions({ 'client-cert': [`mtls.example.test=${mixed}`] }, 'capture'), /--client-cert mtls\.example\.test: the key does not belong to the certificate/);
  t.throws(() => resolveCaptureOptions({ 'client-cert': ['mtls.example.test'] }, 'capture'), /use HOST=CERT\.pem\[,KEY\.pem\]/);
  t.throws(() => resolveCaptureOptions({ 'upstream-tls-min': '1.3' }, 'capture'), /--upstream-tls-min "1\.3": use 1\.0, 1\.1 or 1\.2/);
  const options = resolveCaptureOptions({ 'client-cert': [`MTLS.example.test=${a.file}`] }, 'capture');
  t.same([...options.clientCertificates.keys()], ['mtls.example.test']);
  t.same(options.record['clientCertificates'], ['mtls.example.test'], 'the run records the host, never the key');
});

/** An HTTPS server that speaks only TLS 1.0 (an old lab or vendor server), answering `body`; its port. */
/** An HTTPS server for `hostname` speaking only TLS 1.0 (unless `versions` says otherwise). */
async function startTlsServer(t: Test, hostname: string, body: string, versions: tls.SecureContextOptions = { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'AES128-SHA:@SECLEVEL=0' }): Promise<number> {
  const leaf = getOriginCa().issueLeaf(hostname);
  const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem, ...versions }, (_req, res) => res.end(body));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return (server.address() as net.AddressInfo).port;
}

t.test('an old lab server (TLS 1.0 only) and a device of today: refused with its alert, as directly, the record naming --upstream-tls-min; with it the request goes through', async (t) => {
  const port = await startTlsServer(t, 'old.example.test', 'old server');
  const directly = tls.connect({ host: '127.0.0.1', port, servername: 'old.example.test', ca: getOriginCa().certPem });
  const [directError] = await within(once(directly, 'error'), 10_000, 'the direct refusal') as [NodeJS.ErrnoException];
  t.equal(directError.code, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'directly, the server refuses the device with protocol_version');
  const strict = await startLab();
  t.teardown(() => strict.close());
  // Until 2026-12-07 the device was answered with a handshake of ours, and its request with a 502.
  const refused = await tlsViaProxy(strict.port, `old.example.test:${port}`, { servername: 'old.example.test', ca: strict.ca.certPem }).then(() => undefined, (error: NodeJS.ErrnoException) => error);
  t.equal(refused?.code, directError.code, 'through phonehome, the same alert');
  const failed = await strict.next('flow:end', (f) => f.target.host === 'old.example.test');
  t.match(failed, { kind: 'tls-failed', tags: ['tls:server-refused', 'tls:server-alert-70', 'upstream:tls-version'] });
  t.match(noticeForFlow(failed)?.line, /refused the device's TLS offer \(alert 70\)[^]*--upstream-tls-min 1\.0 bridges them/, 'the console names the option');
  const lenient = await startLab({ upstreamTlsMin: 'TLSv1' });
  t.teardown(() => lenient.close());
  const answer = await http10(await tlsViaProxy(lenient.port, `old.example.test:${port}`, { servername: 'old.example.test', ca: lenient.ca.certPem }), 'GET / HTTP/1.1\r\nHost: old.example.test\r\nConnection: close\r\n\r\n');
  t.match(answer, /^HTTP\/1\.1 200[^]*old server$/);
  const flow = await lenient.next('flow:end', (f) => f.kind === 'http');
  t.match(flow.tls, { client: { version: 'TLSv1.3' }, server: { version: 'TLSv1' } }, 'the lab bridged a server older than the device speaks: the device side is not held to its version');
});

t.test('an Android 4.4 app and its TLS 1.0-only server: through without --upstream-tls-min, as directly (it offered TLS 1.0 itself); openssl -tls1 too', async (t) => {
  const port = await startTlsServer(t, 'vendor.example.test', 'old vendor server');
  const android = { servername: 'vendor.example.test', minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: ANDROID_44_CIPHERS } as const;
  const request = 'GET /sync HTTP/1.1\r\nHost: vendor.example.test\r\nConnection: close\r\n\r\n';
  const directSocket = tls.connect({ host: '127.0.0.1', port, ...android, ca: getOriginCa().certPem });
  await within(once(directSocket, 'secureConnect'), 10_000, 'the direct handshake');
  const direct = await http10(directSocket, request);
  t.match(direct, /^HTTP\/1\.1 200[^]*old vendor server$/, 'directly it works');
  const lab = await startLab();
  t.teardown(() => lab.close());
  const proxied = await http10(await tlsViaProxy(lab.port, `vendor.example.test:${port}`, { ...android, ca: lab.ca.certPem }), request);
  t.match(proxied, /^HTTP\/1\.1 200[^]*old vendor server$/, 'through phonehome too');
  const flow = await lab.next('flow:end', (f) => f.kind === 'http');
  t.match(flow.tls, { client: { version: 'TLSv1' }, server: { version: 'TLSv1' } });
  if (spawnSync('openssl', ['version']).status !== 0) return;
  const caFile = path.join(tempDir(), 'ca.pem');
  fs.writeFileSync(caFile, lab.ca.certPem);
  // Not spawnSync: the proxy runs in this process.
  const openssl = spawn('openssl', ['s_client', '-proxy', `127.0.0.1:${lab.port}`, '-connect', `vendor.example.test:${port}`, '-servername', 'vendor.example.test', '-tls1', '-cipher', 'DEFAULT:@SECLEVEL=0', '-CAfile', caFile, '-verify_return_error', '-quiet']);
  let stdout = '';
  let stderr = '';
  openssl.stdout.on('data', (c: Buffer) => { stdout += c.toString('latin1'); });
  openssl.stderr.on('data', (c: Buffer) => { stderr += c.toString('latin1'); });
  openssl.stdin.end(request);
  const [code] = (await within(once(openssl, 'exit'), 20_000, 'openssl s_client to exit')) as [number | null];
  t.equal(code, 0, stderr);
  t.match(stdout, /^HTTP\/1\.1 200[^]*old vendor server$/, 'openssl s_client -tls1 through phonehome');
});

t.test('an unused connection closing right after the handshake is not "pinned" when the device already sent data to that host (a browser\'s pre-connect)', async (t) => {
  const origin = await startOrigin({ tls: true, hostname: 'browser.example.test', handler: (_req, res) => res.end('page') });
  t.teardown(() => origin.close());
  const lab = await startLab();
  t.teardown(() => lab.close());
  const used = await tlsViaProxy(lab.port, `browser.example.test:${origin.port}`, { servername: 'browser.example.test', ca: lab.ca.certPem });
  t.match(await http10(used, 'GET / HTTP/1.1\r\nHost: browser.example.test\r\nConnection: close\r\n\r\n'), /page$/);
  const unused = await tlsViaProxy(lab.port, `browser.example.test:${origin.port}`, { servername: 'browser.example.test', ca: lab.ca.certPem });
  unused.end();
  await within(once(unused, 'close'), 10_000, 'the unused connection to close');
  await lab.proxy.stop();
  t.same(lab.passthrough.learned(), [], 'nothing learned');
  t.notOk(lab.flows.some((f) => f.kind === 'tls-failed'), 'no failed-handshake flow either');
});

/** A real ClientHello for `servername`, as Node's TLS client sends it (caught by a plain TCP server). */
async function clientHelloFor(servername: string): Promise<Buffer> {
  const catcher = net.createServer();
  catcher.listen(0, '127.0.0.1');
  await once(catcher, 'listening');
  const caught = once(catcher, 'connection').then(async ([socket]) => {
    const [hello] = (await once(socket as net.Socket, 'data')) as [Buffer];
    (socket as net.Socket).destroy();
    return hello;
  });
  const client = tls.connect({ host: '127.0.0.1', port: (catcher.address() as net.AddressInfo).port, servername });
  client.on('error', () => undefined);
  const hello = await caught;
  client.destroy();
  catcher.close();
  return hello;
}

/** Opens a tunnel, sends a ClientHello, and gives the connection up as soon as the proxy answers: closed mid-handshake. */
async function giveUpMidHandshake(proxyPort: number, authority: string, servername: string): Promise<void> {
  const { socket } = await connectTunnel(proxyPort, authority);
  socket.write(await clientHelloFor(servername));
  await within(once(socket, 'data'), 10_000, 'the proxy\'s ServerHello');
  socket.destroy();
}

t.test('a connection given up mid-handshake is not "pinned" when the device already sent that host data; from a device that never did, it still is', async (t) => {
  const origin = await startOrigin({ tls: true, hostname: ['app.example.test', 'other.example.test'], handler: (_req, res) => res.end('ok') });
  t.teardown(() => origin.close());
  const lab = await startLab();
  t.teardown(() => lab.close());
  const used = await tlsViaProxy(lab.port, `app.example.test:${origin.port}`, { servername: 'app.example.test', ca: lab.ca.certPem });
  t.match(await http10(used, 'GET / HTTP/1.1\r\nHost: app.example.test\r\nConnection: close\r\n\r\n'), /ok$/);

  await giveUpMidHandshake(lab.port, `app.example.test:${origin.port}`, 'app.example.test');
  const givenUp = await lab.next('flow:end', (f) => f.kind === 'tls-failed');
  t.match(givenUp, { target: { host: 'app.example.test' }, error: /given up, not a refusal/ }, 'a failed handshake is recorded, and says why it is not a refusal');
  t.notOk(givenUp.tags?.includes('tls:certificate-rejected'), 'not a rejection of our certificate');
  t.same(lab.passthrough.learned(), [], 'nothing learned');
  const again = await tlsViaProxy(lab.port, `app.example.test:${origin.port}`, { servername: 'app.example.test', ca: lab.ca.certPem });
  t.match(await http10(again, 'GET / HTTP/1.1\r\nHost: app.example.test\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200[^]*ok$/, 'the next connection is still decrypted');

  // The look-alike: the same silence from a device that never trusted us with this host.
  await giveUpMidHandshake(lab.port, `other.example.test:${origin.port}`, 'other.example.test');
  t.match(await lab.next('tls:failed'), { host: 'other.example.test', learnedPassthrough: true }, 'learned as pinned');
});

t.test('the server name goes to the server as the device wrote it (upper case, a trailing dot), on the first connection and the next; the record keeps it validated', async (t) => {
  const leaf = getOriginCa().issueLeaf('case.example.test');
  const heard: string[] = [];
  const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (_req, res) => res.end('ok'));
  // Read from each handshake, resumed ones too.
  server.on('secureConnection', (socket: tls.TLSSocket & { servername?: string | false }) => heard.push(String(socket.servername)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  const port = (server.address() as net.AddressInfo).port;
  const asWritten = 'Case.Example.TEST.';
  const request = 'GET / HTTP/1.1\r\nHost: case.example.test\r\nConnection: close\r\n\r\n';
  const device: tls.ConnectionOptions = { servername: asWritten, ALPNProtocols: ['http/1.1'] };
  const direct = tls.connect({ host: '127.0.0.1', port, ca: getOriginCa().certPem, ...device });
  await within(once(direct, 'secureConnect'), 10_000, 'the direct handshake');
  t.match(await http10(direct, request), /ok$/);
  t.same(heard, [asWritten], 'directly, the server reads the name as written');
  const lab = await startLab();
  t.teardown(() => lab.close());
  // The second connection is answered from what the first learned of the server (ALPN http/1.1):
  // its server connection is made by the HTTP/1 layer, not by the look before the answer.
  for (let round = 0; round < 2; round++) t.match(await http10(await tlsViaProxy(lab.port, `case.example.test:${port}`, { ca: lab.ca.certPem, ...device }), request), /ok$/);
  t.same(heard, [asWritten, asWritten, asWritten], 'through the lab, the same, both times');
  const flow = await lab.next('flow:end', (f) => f.kind === 'http');
  t.equal(flow.sni, 'case.example.test', 'the record keeps the validated name');
});

t.test('a device that asks its server to staple an OCSP response (status_request) has its server asked too; one that does not, does not', async (t) => {
  const leaf = getOriginCa().issueLeaf('ocsp.example.test');
  const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (_req, res) => res.end('ok'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  // In front of it, what each connection's ClientHello asks (a resumed handshake asks the server's
  // OCSP callback nothing, so the hello itself is read).
  const asked: boolean[] = [];
  const front = net.createServer((inbound) => {
    const outbound = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    inbound.once('data', (first: Buffer) => {
      const hello = parseClientHello(first);
      asked.push(hello.kind === 'client-hello' && hello.asksOcsp === true);
    });
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
  });
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  t.teardown(() => new Promise<void>((resolve) => { front.close(); server.closeAllConnections(); server.close(() => resolve()); }));
  const port = (front.address() as net.AddressInfo).port;
  const request = 'GET / HTTP/1.1\r\nHost: ocsp.example.test\r\nConnection: close\r\n\r\n';
  const device = (requestOCSP: boolean): tls.ConnectionOptions => ({ servername: 'ocsp.example.test', ALPNProtocols: ['http/1.1'], ...(requestOCSP ? { requestOCSP } : {}) });
  const direct = tls.connect({ host: '127.0.0.1', port, ca: getOriginCa().certPem, ...device(true) });
  await within(once(direct, 'secureConnect'), 10_000, 'the direct handshake');
  t.match(await http10(direct, request), /ok$/);
  t.same(asked, [true], 'directly, the server is asked');
  const lab = await startLab();
  t.teardown(() => lab.close());
  // The second connection's server connection is the HTTP/1 layer's (the first taught what the server speaks).
  for (let round = 0; round < 2; round++) t.match(await http10(await tlsViaProxy(lab.port, `ocsp.example.test:${port}`, { ca: lab.ca.certPem, ...device(true) }), request), /ok$/);
  t.same(asked, [true, true, true], 'through the lab, asked on both connections');
  t.match(await http10(await tlsViaProxy(lab.port, `ocsp.example.test:${port}`, { ca: lab.ca.certPem, ...device(false) }), request), /ok$/);
  t.same(asked, [true, true, true, false], 'a device that does not ask: neither do we');
});
