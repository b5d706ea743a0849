// What our leaf certificate names and what key it has, checked by real clients the way they check
// the server's own certificate: once straight to the server, once through phonehome. The server's
// certificate names three hosts and not its address. A device that sends no SNI and reaches an address (an old
// Android app on Apache HttpClient; transparent, WireGuard and SOCKS-by-address modes) still checks
// a host name, and must get through exactly where it would directly: not for a name the server's
// certificate lacks, and not to a server whose certificate no trusted CA signed. A client that
// speaks only ECDSA (an IoT TLS stack built without RSA) reaches an ECDSA server through phonehome.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import tls from 'node:tls';
import { once } from 'node:events';
import { CertificateAuthority, type LeafKeyType } from '../../src/proxy/ca/certificate-authority.js';
import { getOriginCa, pemFile, socks5Connect, startLab, tempDir, within } from '../helpers/lab.js';
import { runProgram, type ProgramRun } from '../helpers/run-client.js';
import { startOneRequestTlsOrigin, type OneRequestTlsOrigin } from '../helpers/tls-origin.js';

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

const SERVER_NAMES = ['legacy.example.test', 'cdn.example.test', '*.static.example.test'];

interface NamedOrigin extends OneRequestTlsOrigin {
  /** Per connection: the SNI it carried (false for none). */
  readonly sniSeen: Array<string | false>;
}

/** An HTTP/1.0 server over TLS whose certificate, from `ca`, names SERVER_NAMES and not 127.0.0.1. */
async function startNamedOrigin(ca: CertificateAuthority, keyType: LeafKeyType = 'rsa'): Promise<NamedOrigin> {
  const leaf = ca.issueLeaf(SERVER_NAMES, keyType);
  const sniSeen: Array<string | false> = [];
  const origin = await startOneRequestTlsOrigin({ key: leaf.keyPem, cert: leaf.certPem }, 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello from the named server', (socket) => {
    sniSeen.push((socket as tls.TLSSocket & { servername: string | false }).servername);
  });
  return { ...origin, sniSeen };
}

/**
 * `openssl s_client` to 127.0.0.1:port checking `name`, through `proxyPort` when given; without
 * SNI unless `sni`; `extra`: more options (the TLS version, suites, signature algorithms).
 */
async function sClientByAddress(options: { port: number; name: string; caFile: string; proxyPort?: number; sni?: boolean; extra?: string[] }): Promise<ProgramRun> {
  const args = ['s_client', '-connect', `127.0.0.1:${options.port}`, ...(options.sni ? ['-servername', options.name] : ['-noservername']), '-verify_hostname', options.name, '-verify_return_error', '-CAfile', options.caFile, '-quiet', ...(options.extra ?? [])];
  if (options.proxyPort !== undefined) args.push('-proxy', `127.0.0.1:${options.proxyPort}`);
  return runProgram('openssl', args, `GET /feed HTTP/1.0\r\nHost: ${options.name}\r\n\r\n`, 20_000);
}

t.test('no SNI, by address: openssl checking a name the server\'s certificate carries gets through, as directly; the server still sees no SNI', { skip: !haveOpenssl && 'openssl not installed' }, async (t) => {
  const origin = await startNamedOrigin(getOriginCa());
  t.teardown(() => origin.close());
  const lab = await startLab();
  t.teardown(() => lab.close());
  const originCaFile = pemFile(getOriginCa().certPem);
  const labCaFile = pemFile(lab.ca.certPem);
  for (const name of ['legacy.example.test', 'img.static.example.test']) {
    const direct = await sClientByAddress({ port: origin.port, name, caFile: originCaFile });
    t.equal(direct.code, 0, `direct, checking ${name}: ${direct.stderr}`);
    const proxied = await sClientByAddress({ port: origin.port, name, caFile: labCaFile, proxyPort: lab.port });
    t.equal(proxied.code, 0, `through phonehome, checking ${name}: ${proxied.stderr}`);
    t.equal(proxied.stdout, direct.stdout, 'the same answer');
  }
  // Another ALPN offer: the server is asked again, and our connection to it resumes the TLS session
  // of the first (no certificate is shown then); the leaf must still carry the server's names.
  const resumed = await sClientByAddress({ port: origin.port, name: 'cdn.example.test', caFile: labCaFile, proxyPort: lab.port, extra: ['-alpn', 'http/1.1'] });
  t.equal(resumed.code, 0, `through phonehome on a resumed server session: ${resumed.stderr}`);
  t.same(origin.sniSeen, [false, false, false, false, false], 'no SNI reached the server, direct or proxied');
  t.same(origin.requests, Array(5).fill('GET /feed HTTP/1.0'));
  const flows = lab.flows.filter((f) => f.kind === 'http');
  t.equal(flows.length, 3, 'the proxied requests were decrypted');
  t.equal(lab.passthrough.learned().length, 0, 'nothing learned as pinned');
});

t.test('no SNI, by address: a name the server\'s certificate lacks is refused through phonehome as directly', { skip: !haveOpenssl && 'openssl not installed' }, async (t) => {
  const origin = await startNamedOrigin(getOriginCa());
  t.teardown(() => origin.close());
  const lab = await startLab();
  t.teardown(() => lab.close());
  const name = 'elsewhere.example.test';
  const direct = await sClientByAddress({ port: origin.port, name, caFile: pemFile(getOriginCa().certPem) });
  const proxied = await sClientByAddress({ port: origin.port, name, caFile: pemFile(lab.ca.certPem), proxyPort: lab.port });
  t.not(direct.code, 0, 'refused directly');
  t.match(direct.stderr, /hostname mismatch/);
  t.not(proxied.code, 0, 'refused through phonehome');
  t.match(proxied.stderr, /hostname mismatch/);
  t.same(origin.requests, [], 'no request reached the server');
});

t.test('no SNI, by address: a server whose certificate no trusted CA signed is not reached, though no name could be checked for the device', { skip: !haveOpenssl && 'openssl not installed' }, async (t) => {
  const stranger = CertificateAuthority.loadOrCreate(tempDir('phonehome-stranger-ca-'));
  const origin = await startNamedOrigin(stranger);
  t.teardown(() => origin.close());
  const lab = await startLab();
  t.teardown(() => lab.close());
  const proxied = await sClientByAddress({ port: origin.port, name: 'legacy.example.test', caFile: pemFile(lab.ca.certPem), proxyPort: lab.port });
  t.not(proxied.code, 0, 'the device does not get through');
  t.same(origin.requests, [], 'no request reached the server');
  const failures = lab.flows.map((f) => f.tags ?? []).flat().filter((tag) => tag.startsWith('upstream:certificate:'));
  t.ok(failures.length > 0 || lab.flows.some((f) => /certificate/.test(f.error ?? '')), 'the flow says the server\'s certificate failed');
});

t.test('SOCKS5 by address, no SNI (Node\'s TLS client checking a host name): decrypted, as the certificate names it', async (t) => {
  const origin = await startNamedOrigin(getOriginCa());
  t.teardown(() => origin.close());
  const lab = await startLab();
  t.teardown(() => lab.close());
  const { socket, reply } = await socks5Connect(lab.port, { host: '127.0.0.1', port: origin.port });
  t.equal(reply, 0);
  const secure = tls.connect({ socket, ca: lab.ca.certPem, checkServerIdentity: (_host, cert) => tls.checkServerIdentity('cdn.example.test', cert) });
  await within(Promise.race([once(secure, 'secureConnect'), once(secure, 'error').then(([e]) => Promise.reject(e))]), 10_000, 'TLS handshake through SOCKS5');
  const chunks: Buffer[] = [];
  secure.on('data', (c: Buffer) => chunks.push(c));
  secure.end('GET /feed HTTP/1.0\r\nHost: cdn.example.test\r\n\r\n');
  await within(once(secure, 'end'), 10_000, 'the answer');
  t.match(Buffer.concat(chunks).toString(), /^HTTP\/1\.0 200 OK[\s\S]*hello from the named server$/);
  t.same(origin.sniSeen, [false]);
  const flow = await lab.next('flow:end', (f) => f.kind === 'http');
  t.equal(flow.mode, 'socks5');
});

t.test('with SNI: the leaf names what the server\'s certificate names (a browser reuses the connection for them), the SNI first', async (t) => {
  const origin = await startNamedOrigin(getOriginCa());
  t.teardown(() => origin.close());
  const lab = await startLab();
  t.teardown(() => lab.close());
  const namesOf = async (connect: () => tls.TLSSocket): Promise<{ san: string; cn: string }> => {
    const secure = connect();
    await within(Promise.race([once(secure, 'secureConnect'), once(secure, 'error').then(([e]) => Promise.reject(e))]), 10_000, 'TLS handshake');
    const certificate = secure.getPeerCertificate();
    secure.destroy();
    return { san: certificate.subjectaltname ?? '', cn: String(certificate.subject.CN) };
  };
  const direct = await namesOf(() => tls.connect({ host: '127.0.0.1', port: origin.port, servername: 'cdn.example.test', ca: getOriginCa().certPem }));
  const { socket } = await socks5Connect(lab.port, { host: 'cdn.example.test', port: origin.port });
  const proxied = await namesOf(() => tls.connect({ socket, servername: 'cdn.example.test', ca: lab.ca.certPem }));
  t.equal(direct.san, 'DNS:legacy.example.test, DNS:cdn.example.test, DNS:*.static.example.test');
  t.equal(proxied.san, 'DNS:cdn.example.test, DNS:legacy.example.test, DNS:*.static.example.test', 'the same names, the one asked for first');
  t.equal(proxied.cn, 'cdn.example.test');
});

t.test('a client that speaks only ECDSA (TLS 1.2 suites, TLS 1.3 signature algorithms) reaches an ECDSA server through phonehome as directly; an RSA server still gets an RSA leaf', { skip: !haveOpenssl && 'openssl not installed' }, async (t) => {
  const ecOrigin = await startNamedOrigin(getOriginCa(), 'ec');
  t.teardown(() => ecOrigin.close());
  const lab = await startLab();
  t.teardown(() => lab.close());
  const originCaFile = pemFile(getOriginCa().certPem);
  const labCaFile = pemFile(lab.ca.certPem);
  const ecdsaOnly = [['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256'], ['-tls1_3', '-sigalgs', 'ECDSA+SHA256']];
  for (const extra of ecdsaOnly) {
    const direct = await sClientByAddress({ port: ecOrigin.port, name: 'legacy.example.test', sni: true, caFile: originCaFile, extra });
    t.equal(direct.code, 0, `direct, ${extra.join(' ')}: ${direct.stderr}`);
    const proxied = await sClientByAddress({ port: ecOrigin.port, name: 'legacy.example.test', sni: true, caFile: labCaFile, proxyPort: lab.port, extra });
    t.equal(proxied.code, 0, `through phonehome, ${extra.join(' ')}: ${proxied.stderr}`);
    t.equal(proxied.stdout, direct.stdout, 'the same answer');
  }
  t.equal(lab.passthrough.learned().length, 0, 'nothing learned as pinned');

  const keyOf = async (port: number): Promise<string | undefined> => {
    const { socket } = await socks5Connect(lab.port, { host: 'legacy.example.test', port });
    const secure = tls.connect({ socket, servername: 'legacy.example.test', ca: lab.ca.certPem });
    await within(once(secure, 'secureConnect'), 10_000, 'TLS handshake');
    const curve = secure.getPeerCertificate().asn1Curve;
    secure.destroy();
    return curve;
  };
  t.equal(await keyOf(ecOrigin.port), 'prime256v1', 'an ECDSA server: an ECDSA leaf, also for a client that speaks both');

  // A P-384 server and a device that offers only the signature its server needs: in TLS 1.3 a
  // signature names its curve, so a P-256 leaf cannot sign one it takes.
  const p384Origin = await startNamedOrigin(getOriginCa(), 'ec-p384');
  t.teardown(() => p384Origin.close());
  const p384Only = ['-tls1_3', '-sigalgs', 'ecdsa_secp384r1_sha384'];
  const direct = await sClientByAddress({ port: p384Origin.port, name: 'legacy.example.test', sni: true, caFile: originCaFile, extra: p384Only });
  t.equal(direct.code, 0, `direct, P-384 only: ${direct.stderr}`);
  const proxied = await sClientByAddress({ port: p384Origin.port, name: 'legacy.example.test', sni: true, caFile: labCaFile, proxyPort: lab.port, extra: p384Only });
  t.equal(proxied.code, 0, `through phonehome, P-384 only: ${proxied.stderr}`);
  t.equal(proxied.stdout, direct.stdout, 'the same answer');
  t.equal(await keyOf(p384Origin.port), 'secp384r1', 'a P-384 server: a P-384 leaf');
  const rsaOrigin = await startNamedOrigin(getOriginCa());
  t.teardown(() => rsaOrigin.close());
  t.equal(await keyOf(rsaOrigin.port), undefined, 'an RSA server: an RSA leaf');
});
