import t from 'tap';
import { getOriginCa, httpsViaProxy, httpViaProxy, startLab, startOrigin } from '../helpers/lab.js';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { connectTunnel } from '../helpers/lab.js';

t.test('decrypts an HTTPS request, relays it, and records both bodies', async (t) => {
  const origin = await startOrigin({ tls: true, handler: (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res.end(`got ${Buffer.concat(chunks).length} bytes for ${req.url}`));
  } });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });

  const res = await httpsViaProxy({ proxyPort: lab.port, host: 'api.example.test', port: origin.port, method: 'POST', path: '/upload?x=1', body: 'hello phone', trust: lab.ca.certPem });
  t.equal(res.status, 200);
  t.equal(res.body.toString(), 'got 11 bytes for /upload?x=1');

  const flow = await lab.next('flow:end', (f) => f.kind === 'http');
  t.equal(flow.scheme, 'https');
  t.equal(flow.request?.url, `https://api.example.test:${origin.port}/upload?x=1`);
  t.equal(flow.request?.body.bytes.toString(), 'hello phone');
  t.equal(flow.response?.status, 200);
  t.equal(flow.response?.body.bytes.toString(), 'got 11 bytes for /upload?x=1');
  t.equal(flow.destination?.ip, '127.0.0.1');
  t.equal(flow.destination?.port, origin.port);
  t.equal(flow.sni, 'api.example.test');
  t.ok(flow.tags.includes('decrypted'));
});

t.test('the leaf shown to the client is issued by our CA for the requested name', async (t) => {
  const origin = await startOrigin({ tls: true, handler: (_req, res) => res.end('ok') });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const { socket } = await connectTunnel(lab.port, `api.example.test:${origin.port}`);
  const secure = tls.connect({ socket, ca: lab.ca.certPem, servername: 'api.example.test' });
  await new Promise((resolve, reject) => { secure.once('secureConnect', resolve); secure.once('error', reject); });
  const peer = secure.getPeerX509Certificate()!;
  secure.destroy();
  t.ok(peer.checkIssued(new X509Certificate(lab.ca.certPem)));
  t.equal(peer.checkHost('api.example.test'), 'api.example.test');
  const days = (new Date(peer.validTo).getTime() - Date.now()) / 86_400_000;
  t.ok(days < 200, `leaf valid for ${days.toFixed(0)} days`);
  t.ok(Number.parseInt(peer.serialNumber.slice(0, 2), 16) < 0x80, 'serial is positive');
});

t.test('relays plain HTTP in absolute form', async (t) => {
  const origin = await startOrigin({ tls: false, handler: (req, res) => res.end(`plain ${req.method} ${req.url}`) });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const res = await httpViaProxy({ proxyPort: lab.port, url: `http://plain.example.test:${origin.port}/a/b?c=d` });
  t.equal(res.status, 200);
  t.equal(res.body.toString(), 'plain GET /a/b?c=d');
  const flow = await lab.next('flow:end', (f) => f.kind === 'http');
  t.equal(flow.scheme, 'http');
  t.equal(flow.request?.url, `http://plain.example.test:${origin.port}/a/b?c=d`);
});

t.test('an upstream whose certificate cannot be verified is never impersonated: a device that trusts our CA is shown a leaf it cannot trust either', async (t) => {
  const otherCaDir = (await import('../helpers/lab.js')).tempDir();
  const { CertificateAuthority } = await import('../../src/proxy/ca/certificate-authority.js');
  const untrusted = CertificateAuthority.loadOrCreate(otherCaDir);
  let requests = 0;
  const origin = await startOrigin({ tls: true, ca: untrusted, handler: (_req, res) => { requests++; res.end('secret content'); } });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  await t.rejects(httpsViaProxy({ proxyPort: lab.port, host: 'evil.example.test', port: origin.port, trust: lab.ca.certPem }), /unable to verify|issuer/i);
  t.equal(requests, 0, 'nothing reached the server');
  const flow = await lab.next('flow:end', (f) => f.kind === 'tls-failed');
  t.ok(flow.tags.includes('upstream:certificate:UNABLE_TO_VERIFY_LEAF_SIGNATURE') && flow.tags.includes('tls:refused-invalid-certificate'), `tags ${flow.tags}`);
});

t.test('a wrong host name on the upstream certificate is refused too', async (t) => {
  const origin = await startOrigin({ tls: true, hostname: 'other.example.test', handler: (_req, res) => res.end('x') });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  await t.rejects(httpsViaProxy({ proxyPort: lab.port, host: 'api.example.test', port: origin.port, trust: lab.ca.certPem }), /altnames/);
  const flow = await lab.next('flow:end', (f) => f.kind === 'tls-failed');
  t.ok(flow.tags.includes('upstream:certificate:ERR_TLS_CERT_ALTNAME_INVALID'), `tags ${flow.tags}`);
});

t.test('--insecure-upstream relays an unverifiable upstream, on request only', async (t) => {
  const { CertificateAuthority } = await import('../../src/proxy/ca/certificate-authority.js');
  const untrusted = CertificateAuthority.loadOrCreate((await import('../helpers/lab.js')).tempDir());
  const origin = await startOrigin({ tls: true, ca: untrusted, handler: (_req, res) => res.end('lab server') });
  const lab = await startLab({ insecureUpstream: true });
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const res = await httpsViaProxy({ proxyPort: lab.port, host: 'api.example.test', port: origin.port, trust: lab.ca.certPem });
  t.equal(res.status, 200);
  t.equal(res.body.toString(), 'lab server');
});

t.test('the origin CA helper is distinct from phonehome CAs', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  t.not(getOriginCa().certPem, lab.ca.certPem);
});
