// A tunnel is answered only once its server has accepted a connection (src/proxy/first-connection.ts):
// a refused server is said the way each mode says it (SOCKS5 reply 5, a 502 to CONNECT), with a
// flow that says why, and the connection that answered is the one the device's traffic rides on:
// the server sees one connection per device connection, whatever the device speaks.

import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import t from 'tap';
import { connectTunnel, getOriginCa, socks5Connect, startLab, unusedPort, within } from '../helpers/lab.js';
import { missingCommand, runClient } from '../conformance/differential.js';

t.test('a server that refuses: SOCKS5 reply 5 and a 502 to CONNECT, not a tunnel that closes once the device has spoken', async (t) => {
  const port = await unusedPort();
  const lab = await startLab();
  t.teardown(() => lab.close());

  const socks = await socks5Connect(lab.port, { host: '127.0.0.1', port });
  t.equal(socks.reply, 5, 'SOCKS5: connection refused');
  socks.socket.destroy();
  const flow = await lab.next('flow:end', (f) => f.target.port === port);
  t.match(flow.error, /ECONNREFUSED/, 'the flow says why');
  t.ok(flow.tags.includes('upstream:ECONNREFUSED'), `tagged: ${flow.tags.join(' ')}`);

  const tunnel = await connectTunnel(lab.port, `api.example.test:${port}`);
  t.equal(tunnel.status, 502, 'CONNECT: 502');
  tunnel.socket.destroy();
});

t.test('curl to a refused port through phonehome fails as through a proxy that connects first, not with an empty reply', { skip: missingCommand('curl', 'curl') }, async (t) => {
  const port = await unusedPort();
  const lab = await startLab();
  t.teardown(() => lab.close());
  const url = `https://api.example.test:${port}/`;
  const viaProxy = await runClient('curl', ['-sS', '-o', '/dev/null', '-x', `http://127.0.0.1:${lab.port}`, url]);
  // 56: the CONNECT was answered with an error. Until 2026-12-06: 52, "Empty reply from server".
  t.equal(viaProxy.status, 56, `through the HTTP proxy port: ${viaProxy.stderr.trim()}`);
  t.match(viaProxy.stderr, /502/);
  const viaSocks = await runClient('curl', ['-sS', '-o', '/dev/null', '--socks5-hostname', `127.0.0.1:${lab.port}`, url]);
  // 97: the SOCKS5 server said no; (5) is "connection refused".
  t.equal(viaSocks.status, 97, `through SOCKS5: ${viaSocks.stderr.trim()}`);
  t.match(viaSocks.stderr, /\(5\)/);
});

t.test('the connection made before the answer carries the device traffic: one server connection per device connection', async (t) => {
  let connections = 0;
  const leaf = getOriginCa().issueLeaf('api.example.test');
  const origin = https.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (_req, res) => res.end('ok'));
  origin.on('connection', () => { connections++; });
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  const port = (origin.address() as net.AddressInfo).port;
  // A server that speaks first (a mail server's greeting), then answers one line.
  let greeterConnections = 0;
  const greeter = net.createServer((peer) => {
    greeterConnections++;
    peer.write('220 mail.example.test ready\r\n');
    peer.once('data', () => peer.end('221 bye\r\n'));
  });
  greeter.listen(0, '127.0.0.1');
  await once(greeter, 'listening');
  const greeterPort = (greeter.address() as net.AddressInfo).port;
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); origin.close(); greeter.close(); });

  const { socket } = await connectTunnel(lab.port, `api.example.test:${port}`);
  const secure = tls.connect({ socket, ca: lab.ca.certPem, servername: 'api.example.test', ALPNProtocols: ['http/1.1'] });
  await once(secure, 'secureConnect');
  let answer = '';
  secure.on('data', (chunk: Buffer) => { answer += chunk.toString('latin1'); });
  secure.write('GET / HTTP/1.1\r\nHost: api.example.test\r\nConnection: close\r\n\r\n');
  await within(once(secure, 'close'), 10_000, 'the answer');
  t.match(answer, /^HTTP\/1\.1 200 OK\r\n[\s\S]*ok$/, 'decrypted and answered');
  t.equal(connections, 1, 'the server saw one connection for the device connection (the one made before the answer)');

  const { socket: mail } = await socks5Connect(lab.port, { host: '127.0.0.1', port: greeterPort });
  let heard = '';
  mail.on('data', (chunk: Buffer) => {
    heard += chunk.toString('latin1');
    if (heard === '220 mail.example.test ready\r\n') mail.write('QUIT\r\n');
  });
  mail.resume();
  await within(once(mail, 'close'), 10_000, 'the mail dialogue');
  t.equal(heard, '220 mail.example.test ready\r\n221 bye\r\n', "the server's greeting, kept until the device was there to read it, then the dialogue");
  t.equal(greeterConnections, 1, 'one connection');
});
