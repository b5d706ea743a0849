// SOCKS5 (and SOCKS4a) on the proxy's own port: decrypted and recorded like CONNECT, with
// --proxy-auth as username/password; CONNECT only; hostile handshakes answered and closed.

import fs from 'node:fs';
import path from 'node:path';
import https from 'node:https';
import tls from 'node:tls';
import { once } from 'node:events';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import t from 'tap';
import { ProxyAuth } from '../../src/proxy/access/proxy-auth.js';
import { httpsViaProxy, rawExchange, socks5Connect, startLab, startOrigin, tempDir } from '../helpers/lab.js';

async function httpsOver(socket: net.Socket, host: string, trust: string, pathName = '/'): Promise<{ status: number; body: string }> {
  const req = https.request({ host, path: pathName, method: 'POST', createConnection: () => tls.connect({ socket, host, ca: trust, servername: net.isIP(host) ? undefined : host }) });
  req.end('imei=356938035643809');
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return { status: res.statusCode ?? 0, body };
}

t.test('SOCKS5 with a host name and with an IPv4 address: decrypted, recorded with mode socks5; the same port still serves HTTP CONNECT', async (t) => {
  const byName = await startOrigin({ tls: true, hostname: 'api.example.test', handler: (req, res) => { req.resume(); req.on('end', () => res.end(`name ${req.url}`)); } });
  const byIp = await startOrigin({ tls: true, hostname: '127.0.0.1', handler: (req, res) => { req.resume(); req.on('end', () => res.end(`ip ${req.url}`)); } });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await byName.close(); await byIp.close(); });

  const named = await socks5Connect(lab.port, { host: 'api.example.test', port: byName.port });
  t.equal(named.reply, 0, 'SOCKS5 CONNECT succeeded');
  t.same(await httpsOver(named.socket, 'api.example.test', lab.ca.certPem, '/named'), { status: 200, body: 'name /named' });
  const flow = await lab.next('flow:end', (f) => f.request?.url.endsWith('/named') === true);
  t.equal(flow.mode, 'socks5');
  t.equal(flow.sni, 'api.example.test');
  t.ok(flow.tags.includes('decrypted'));
  t.equal(flow.request?.body.bytes.toString(), 'imei=356938035643809');

  const numeric = await socks5Connect(lab.port, { host: '127.0.0.1', port: byIp.port });
  t.equal(numeric.reply, 0);
  t.same(await httpsOver(numeric.socket, '127.0.0.1', lab.ca.certPem, '/ip'), { status: 200, body: 'ip /ip' });
  const ipFlow = await lab.next('flow:end', (f) => f.request?.url.endsWith('/ip') === true);
  t.equal(ipFlow.mode, 'socks5');
  t.equal(ipFlow.destination?.ip, '127.0.0.1');

  const viaConnect = await httpsViaProxy({ proxyPort: lab.port, host: 'api.example.test', port: byName.port, path: '/connect', trust: lab.ca.certPem });
  t.equal(viaConnect.body.toString(), 'name /connect', 'HTTP CONNECT on the same port');
  t.equal((await lab.next('flow:end', (f) => f.request?.url.endsWith('/connect') === true)).mode, 'http');
});

t.test('SMTP through SOCKS5 is a raw stream with the mail in it', async (t) => {
  const smtp = net.createServer((socket) => {
    socket.write('220 mail.example.test ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      if (text.startsWith('DATA')) socket.write('354 go ahead\r\n');
      else if (text.includes('\r\n.\r\n')) socket.write('250 queued\r\n');
      else if (text.startsWith('QUIT')) socket.end('221 bye\r\n');
      else socket.write('250 ok\r\n');
    });
  });
  smtp.listen(0, '127.0.0.1');
  await once(smtp, 'listening');
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); smtp.close(); });
  // Port 25 is the server's to speak first; the test server sits elsewhere, so phonehome waits, hears nothing, and relays raw.
  const { socket, reply } = await socks5Connect(lab.port, { host: 'mail.example.test', port: (smtp.address() as net.AddressInfo).port });
  t.equal(reply, 0);
  socket.resume();
  const lines: string[] = [];
  socket.on('data', (c: Buffer) => lines.push(c.toString()));
  const next = async (): Promise<void> => { const count = lines.length; while (lines.length === count) await once(socket, 'data'); };
  await next();
  for (const command of ['EHLO phone\r\n', 'MAIL FROM:<me@example.test>\r\n', 'RCPT TO:<you@example.test>\r\n', 'DATA\r\n', 'From: me@example.test\r\nTo: you@example.test\r\nSubject: hello\r\n\r\nsee you tomorrow\r\n.\r\n', 'QUIT\r\n']) {
    socket.write(command);
    await next();
  }
  const flow = await lab.next('flow:end', (f) => f.kind === 'raw');
  t.equal(flow.mode, 'socks5');
  t.match(flow.stream?.up.bytes.toString(), /Subject: hello/);
  t.match(flow.stream?.down.bytes.toString(), /^220 mail\.example\.test/);
});

t.test('--proxy-auth: SOCKS5 needs username/password; a wrong one, or none, is refused and recorded; SOCKS4 is refused', async (t) => {
  const origin = await startOrigin({ tls: true, hostname: 'api.example.test', handler: (_req, res) => res.end('ok') });
  const lab = await startLab({ auth: new ProxyAuth('lab:s3cret') });
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const good = await socks5Connect(lab.port, { host: 'api.example.test', port: origin.port }, { user: 'lab', pass: 's3cret' });
  t.equal(good.reply, 0);
  t.equal((await httpsOver(good.socket, 'api.example.test', lab.ca.certPem)).body, 'ok');
  const bad = await socks5Connect(lab.port, { host: 'api.example.test', port: origin.port }, { user: 'lab', pass: 'guess' });
  t.equal(bad.reply, 0xff);
  const flow = await lab.next('flow:end', (f) => f.tags.includes('socks:bad-credentials'));
  t.equal(flow.kind, 'rejected');
  t.notMatch(JSON.stringify(flow), /guess/, 'the attempted password is not recorded');
  const none = await socks5Connect(lab.port, { host: 'api.example.test', port: origin.port });
  t.equal(none.reply, 0xff, 'no credentials offered: no acceptable method');
  const socks4 = await rawExchange(lab.port, Buffer.from([4, 1, 0, 80, 127, 0, 0, 1, 0]));
  t.equal(socks4.charCodeAt(1), 0x5b, 'SOCKS4 cannot authenticate: rejected');
});

t.test('SOCKS4a with a host name works without --proxy-auth', async (t) => {
  const origin = await startOrigin({ tls: false, handler: (req, res) => res.end(`plain ${req.url}`) });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const port = Buffer.alloc(2);
  port.writeUInt16BE(origin.port);
  const socket = net.connect(lab.port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(Buffer.concat([Buffer.from([4, 1]), port, Buffer.from([0, 0, 0, 1]), Buffer.from('me\0web.example.test\0')]));
  const [reply] = (await once(socket, 'data')) as [Buffer];
  t.equal(reply[1], 0x5a, 'granted');
  socket.write('GET /four HTTP/1.1\r\nHost: web.example.test\r\nConnection: close\r\n\r\n');
  let text = '';
  socket.on('data', (c: Buffer) => { text += c.toString(); });
  await once(socket, 'end');
  t.match(text, /plain \/four$/);
  const flow = await lab.next('flow:end', (f) => f.request?.url.endsWith('/four') === true);
  t.equal(flow.mode, 'socks5');
  t.equal(flow.request?.url, `http://web.example.test:${origin.port}/four`);
});

t.test('hostile SOCKS input: the right reply, a closed socket, a recorded flow, and the proxy unharmed', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const name = (n: number, c = 'a'): Buffer => Buffer.from(c.repeat(n));
  const rows: Array<[string, Buffer, (answer: string) => boolean]> = [
    ['BIND', Buffer.concat([Buffer.from([5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 1, 0, 80])]), (a) => a.charCodeAt(3) === 0x07],
    ['an unknown address type', Buffer.from([5, 1, 0, 5, 1, 0, 9, 1, 2, 3, 4]), (a) => a.charCodeAt(3) === 0x08],
    ['port zero', Buffer.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0, 0]), (a) => a.charCodeAt(3) === 0x01],
    ['a host name with a slash', Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 3, 9]), Buffer.from('../etc/pw'), Buffer.from([1, 187])]), (a) => a.charCodeAt(3) === 0x01],
    ['the proxy itself', Buffer.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, (lab.port >> 8) & 0xff, lab.port & 0xff]), (a) => a.charCodeAt(3) === 0x02],
    ['no method offered', Buffer.from([5, 0]), (a) => a === ''],
    ['only GSSAPI offered', Buffer.from([5, 1, 1]), (a) => a.charCodeAt(1) === 0xff],
    ['a request with version 4 inside SOCKS5', Buffer.from([5, 1, 0, 4, 1, 0, 1, 1, 2, 3, 4, 0, 80]), (a) => a.charCodeAt(3) === 0x01],
    ['a 2 KiB flood', Buffer.concat([Buffer.from([5, 255]), Buffer.alloc(2048, 0x41)]), (a) => a === '' || a.charCodeAt(0) === 5],
  ];
  for (const [label, bytes, check] of rows) {
    const answer = await rawExchange(lab.port, bytes);
    t.ok(check(answer), `${label}: answered ${JSON.stringify(answer)}`);
  }
  const rejected = lab.flows.filter((f) => f.kind === 'rejected' && f.mode === 'socks5');
  t.ok(rejected.length >= rows.length - 1, `${rejected.length} rejected SOCKS flows recorded`);
  // A half-sent greeting and a silent client: both cut off by the handshake timer, not left open.
  const half = net.connect(lab.port, '127.0.0.1');
  half.on('error', () => undefined);
  await once(half, 'connect');
  half.write(Buffer.from([5, 2, 0]));
  half.destroy();
  const res = await socks5Connect(lab.port, { host: '127.0.0.1', port: 9 });
  t.equal(res.reply, 5, 'still serving: a refused upstream is reply 5, connection refused, as a SOCKS server that connects first says it');
  res.socket.destroy();
});

const curl = spawnSync('curl', ['--version']).status === 0;
t.test('curl --socks5-hostname and --socks5 with the exported CA', { skip: curl ? false : 'curl is not installed' }, async (t) => {
  const origin = await startOrigin({ tls: true, hostname: '127.0.0.1', handler: (_req, res) => res.end('hello curl') });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const caFile = path.join(tempDir(), 'ca.pem');
  fs.writeFileSync(caFile, lab.ca.certPem);
  for (const flag of ['--socks5-hostname', '--socks5']) {
    const { spawn } = await import('node:child_process');
    const child = spawn('curl', ['-s', flag, `127.0.0.1:${lab.port}`, '--cacert', caFile, `https://127.0.0.1:${origin.port}/`]);
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    const [code] = await once(child, 'exit');
    t.equal(code, 0, flag);
    t.equal(out, 'hello curl', flag);
  }
  t.equal(lab.flows.filter((f) => f.mode === 'socks5' && f.kind === 'http').length, 2);
});
