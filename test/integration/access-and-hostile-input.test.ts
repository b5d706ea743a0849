import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { ClientAccess } from '../../src/proxy/access/client-access.js';
import { limits } from '../../src/limits.js';
import { ProxyAuth } from '../../src/proxy/access/proxy-auth.js';
import { flowToHarEntry } from '../../src/flow/har.js';
import { readHar } from '../../src/flow/har-reader.js';
import { once } from 'node:events';
import { connectTunnel, httpsViaProxy, httpViaProxy, rawExchange, startLab, startOrigin, within } from '../helpers/lab.js';

t.test('clients outside the allowed ranges are refused with 403', async (t) => {
  const lab = await startLab({ access: new ClientAccess(['10.0.0.0/8']) });
  t.teardown(() => lab.close());
  const reply = await rawExchange(lab.port, 'GET http://a.example.test/ HTTP/1.1\r\nHost: a.example.test\r\n\r\n');
  t.match(reply, /^HTTP\/1.1 403 Forbidden/);
  t.match(reply, /--allow-client/);
});

t.test('--proxy-auth: 407 without credentials, through with them, for requests and CONNECT', async (t) => {
  const upstreamHeaders: string[] = [];
  const origin = await startOrigin({ tls: false, handler: (req, res) => { upstreamHeaders.push(...Object.keys(req.headers)); res.end('behind auth'); } });
  const lab = await startLab({ auth: new ProxyAuth('lab:pw') });
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const denied = await httpViaProxy({ proxyPort: lab.port, url: `http://a.example.test:${origin.port}/` });
  t.equal(denied.status, 407);
  t.match(denied.headers['proxy-authenticate'], /Basic/);
  const allowed = await httpViaProxy({ proxyPort: lab.port, url: `http://a.example.test:${origin.port}/`, headers: { 'proxy-authorization': `Basic ${Buffer.from('lab:pw').toString('base64')}` } });
  t.equal(allowed.body.toString(), 'behind auth');
  const connect = await rawExchange(lab.port, 'CONNECT a.example.test:443 HTTP/1.1\r\nHost: a.example.test:443\r\n\r\n');
  t.match(connect, /^HTTP\/1.1 407/);
  // With the right credentials, CONNECT goes through (a proxy that refused everyone would pass the lines above).
  const tunnel = await connectTunnel(lab.port, `a.example.test:${origin.port}`, { 'proxy-authorization': `Basic ${Buffer.from('lab:pw').toString('base64')}` });
  t.equal(tunnel.status, 200, 'CONNECT with the right credentials');
  tunnel.socket.write('GET /in-tunnel HTTP/1.1\r\nHost: a.example.test\r\nConnection: close\r\n\r\n');
  let text = '';
  tunnel.socket.on('data', (c: Buffer) => { text += c.toString(); });
  await within(once(tunnel.socket, 'close'), 10_000, 'the tunnelled answer');
  t.match(text, /behind auth$/);
  const wrong = await connectTunnel(lab.port, `a.example.test:${origin.port}`, { 'proxy-authorization': `Basic ${Buffer.from('lab:nope').toString('base64')}` });
  t.equal(wrong.status, 407, 'and not with wrong ones');
  wrong.socket.destroy();
  // A plain-HTTP WebSocket upgrade is a proxy request like any other: no credentials, no upgrade.
  const upgrade = await rawExchange(lab.port, `GET http://a.example.test:${origin.port}/ws HTTP/1.1\r\nHost: a.example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
  t.match(upgrade, /^HTTP\/1.1 407/, 'ws:// upgrade without credentials');
  const flow = await lab.next('flow:end', (f) => f.kind === 'http');
  t.notOk(upstreamHeaders.includes('proxy-authorization'), 'credentials are not forwarded upstream');
  t.notMatch(JSON.stringify(flow.request?.headers), new RegExp(Buffer.from('lab:pw').toString('base64')), 'nor recorded');
});

// Each of these once crashed or misled an http-mitm-proxy based proxy, or could: each must get a
// clear error, and the proxy must go on serving.
const hostile: Array<[string, string | Buffer, RegExp]> = [
  ['a bad port in an absolute URL (engine defect #1)', 'GET http://x.example.test:99999/ HTTP/1.1\r\nHost: x.example.test:99999\r\n\r\n', /^HTTP\/1.1 400[\s\S]*bad port/],
  ['a path in a CONNECT target (engine defect #2)', 'CONNECT ../../x:443 HTTP/1.1\r\nHost: ../../x:443\r\n\r\n', /^HTTP\/1.1 400[\s\S]*bad CONNECT target/],
  ['a CONNECT to port 0', 'CONNECT a.example.test:0 HTTP/1.1\r\n\r\n', /^HTTP\/1.1 400/],
  ['an unbracketed IPv6 CONNECT', 'CONNECT 2001:db8::1:443 HTTP/1.1\r\n\r\n', /^HTTP\/1.1 400/],
  ['credentials in an absolute URL', 'GET http://user:pw@a.example.test/ HTTP/1.1\r\nHost: a.example.test\r\n\r\n', /^HTTP\/1.1 400/],
  // (An https:// URL is no longer one: phonehome makes the TLS connection, clients-axios.test.ts.)
  ['a URL of a scheme that is not HTTP', 'GET ftp://a.example.test/ HTTP/1.1\r\nHost: a.example.test\r\n\r\n', /^HTTP\/1.1 400/],
  ['headers larger than 1 MiB', `GET http://a.example.test/ HTTP/1.1\r\nHost: a.example.test\r\nX-Big: ${'a'.repeat(limits.http1MaxRequestHeadBytes)}\r\n\r\n`, new RegExp(`^HTTP/1.1 431[\\s\\S]*larger than ${limits.http1MaxRequestHeadBytes} bytes`)],
  ['bytes that are not HTTP', Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a]), /^HTTP\/1.1 400/],
  ['a request to the proxy itself', '', /^HTTP\/1.1 508/],
];

t.test('hostile input gets a clear error and the proxy keeps serving', async (t) => {
  const origin = await startOrigin({ tls: true, handler: (_req, res) => res.end('still alive') });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  for (const [name, bytes, expected] of hostile) {
    const payload = bytes === '' ? `GET http://127.0.0.1:${lab.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${lab.port}\r\n\r\n` : bytes;
    t.match(await rawExchange(lab.port, payload), expected, name);
  }
  const files = fs.readdirSync(lab.caDir).sort();
  t.same(files, ['ca.key', 'ca.pem'], 'no file was written for a hostile host name');
  t.notOk(fs.existsSync(path.join(lab.caDir, '..', 'x.pem')));
  const res = await httpsViaProxy({ proxyPort: lab.port, host: 'api.example.test', port: origin.port, trust: lab.ca.certPem });
  t.equal(res.body.toString(), 'still alive');
  const rejected = lab.flows.filter((f) => f.kind === 'rejected');
  t.equal(rejected.length, hostile.length, 'every hostile input is a rejected flow');
  t.ok(rejected.every((f) => typeof f.error === 'string' && f.error.length > 0));
});

t.test('the install page is served to proxy clients at http://phonehome.cert/', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const page = await httpViaProxy({ proxyPort: lab.port, url: 'http://phonehome.cert/' });
  t.equal(page.status, 200);
  t.match(page.body.toString(), /Android 14/);
  t.match(page.body.toString(), /Certificate Trust Settings/);
  const der = await httpViaProxy({ proxyPort: lab.port, url: 'http://phonehome.cert/phonehome-ca.cer' });
  t.equal(der.headers['content-type'], 'application/x-x509-ca-cert');
  t.same(der.body, lab.ca.certDer());
  const pem = await httpViaProxy({ proxyPort: lab.port, url: `http://phonehome.cert/${lab.ca.info().androidSystemFileName}` });
  t.equal(pem.body.toString(), lab.ca.certPem);
  const missing = await httpViaProxy({ proxyPort: lab.port, url: 'http://phonehome.cert/../../etc/passwd' });
  t.equal(missing.status, 404);
});

t.test('a refused absolute-URL request is recorded as the request it was, not as a CONNECT', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const res = await httpViaProxy({ proxyPort: lab.port, url: `http://127.0.0.1:${lab.port}/loop` });
  t.equal(res.status, 508);
  const flow = await lab.next('flow:end', (f) => f.kind === 'rejected');
  const entry = flowToHarEntry(flow, { omitBodies: false });
  t.match(entry.request, { method: 'GET', url: `http://127.0.0.1:${lab.port}/loop` });
  const back = readHar(JSON.stringify({ log: { version: '1.2', creator: { name: 't', version: '1' }, entries: [entry] } }))[0];
  t.equal(back?.kind, 'rejected', 'and read back as a rejection');
});
