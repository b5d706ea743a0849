// An idle HTTP/1 connection lasts as long as its server keeps it, as it would direct
// (makeHttpServer, Http1Layer's #endWithItsServer): through SOCKS5 (plain) and inside a CONNECT
// tunnel (decrypted), the device's connection outlives the proxy port's own idle bound while the
// server keeps its connection, and ends when the server ends it. Until 2026-12-06 Node's 15 s
// ended it whatever the server did.

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import t from 'tap';
import { limits } from '../../src/limits.js';
import { connectTunnel, getOriginCa, socks5Connect, startLab, within } from '../helpers/lab.js';

const HOST = 'api.example.test';
/** How long the origins keep an idle connection: far longer than the proxy port's bound below. */
const SERVER_KEEPS_MS = 200;

type Event = 'server ended its connection' | 'device connection closed';

/** An origin that keeps idle connections SERVER_KEEPS_MS, and logs when it closes one. */
async function startKeepingOrigin(secure: boolean, log: Event[]): Promise<{ port: number; close(): void }> {
  const answer = (_req: http.IncomingMessage, res: http.ServerResponse): void => void res.end('ok');
  const leaf = getOriginCa().issueLeaf(HOST);
  const server = secure
    ? https.createServer({ key: leaf.keyPem, cert: leaf.certPem, keepAliveTimeout: SERVER_KEEPS_MS }, answer)
    : http.createServer({ keepAliveTimeout: SERVER_KEEPS_MS }, answer);
  // Node's server closes an idle connection from its socket's 'timeout' (its listener runs first).
  server.on(secure ? 'secureConnection' : 'connection', (socket: net.Socket) => socket.once('timeout', () => log.push('server ended its connection')));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

/** One keep-alive request on `socket`; resolves when the connection closes, after logging it. */
async function requestThenIdle(socket: net.Socket, log: Event[]): Promise<string> {
  let heard = '';
  socket.on('data', (chunk: Buffer) => { heard += chunk.toString('latin1'); });
  socket.on('error', () => undefined);
  socket.resume();
  const closed = once(socket, 'close').then(() => log.push('device connection closed'));
  socket.write(`GET /feed HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  await within(closed, 10_000, 'the device connection to close');
  return heard;
}

t.test("an idle device connection lasts until its server ends its own, not the proxy's idle bound", async (t) => {
  const saved = limits.keepAliveTimeoutMs;
  // The proxy port's bound, short: a one-destination connection must not follow it.
  (limits as { keepAliveTimeoutMs: number }).keepAliveTimeoutMs = 50;
  t.teardown(() => { (limits as { keepAliveTimeoutMs: number }).keepAliveTimeoutMs = saved; });
  const log: Event[] = [];
  const plain = await startKeepingOrigin(false, log);
  const secure = await startKeepingOrigin(true, log);
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); plain.close(); secure.close(); });
  const expected: Event[] = ['server ended its connection', 'device connection closed'];

  const direct = net.connect(plain.port, '127.0.0.1');
  await once(direct, 'connect');
  t.match(await requestThenIdle(direct, log), /^HTTP\/1\.1 200 OK\r\n[\s\S]*ok$/, 'direct: answered');
  t.same(log.splice(0), expected, 'direct: the device connection ends when the server ends its own');

  const { socket: socks } = await socks5Connect(lab.port, { host: '127.0.0.1', port: plain.port });
  t.match(await requestThenIdle(socks, log), /^HTTP\/1\.1 200 OK\r\n[\s\S]*ok$/, 'through SOCKS5: answered');
  t.same(log.splice(0), expected, 'through SOCKS5: the same');

  const { socket: carrier } = await connectTunnel(lab.port, `${HOST}:${secure.port}`);
  const decrypted = tls.connect({ socket: carrier, servername: HOST, ca: lab.ca.certPem, ALPNProtocols: ['http/1.1'] });
  await once(decrypted, 'secureConnect');
  t.match(await requestThenIdle(decrypted, log), /^HTTP\/1\.1 200 OK\r\n[\s\S]*ok$/, 'inside a CONNECT tunnel: answered');
  t.same(log.splice(0), expected, 'inside a CONNECT tunnel, decrypted: the same');
});

/** An origin that answers the first request of each connection and closes it at once, logging the request lines it read. */
async function startClosingOrigin(secure: boolean, requests: string[]): Promise<{ port: number; close(): void }> {
  const onPeer = (peer: net.Socket): void => {
    peer.on('error', () => undefined);
    peer.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('latin1').match(/^[A-Z]+ \S+/gm) ?? []) requests.push(line);
      peer.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      peer.destroySoon();
    });
  };
  const leaf = getOriginCa().issueLeaf(HOST);
  const server = secure ? tls.createServer({ key: leaf.keyPem, cert: leaf.certPem }, onPeer) : net.createServer(onPeer);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

t.test('a request the device sends after its server closed the connection is not sent on: direct, it met a closed connection', async (t) => {
  const requests: string[] = [];
  const { port, close } = await startClosingOrigin(false, requests);
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); close(); });

  /** The first request, its answer and the close that follows; then a second request on the same connection. */
  const afterTheClose = async (socket: net.Socket): Promise<void> => {
    socket.allowHalfOpen = true;
    socket.on('error', () => undefined);
    socket.resume();
    socket.write(`GET /first HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
    await within(once(socket, 'end'), 10_000, 'the end of the connection after the answer');
    const closed = once(socket, 'close');
    socket.end(`POST /second HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 0\r\n\r\n`);
    await within(closed, 10_000, 'the connection to close');
  };

  const direct = net.connect(port, '127.0.0.1');
  await once(direct, 'connect');
  await afterTheClose(direct);
  t.same(requests.splice(0), ['GET /first'], 'direct: the second request never reached the server');

  const { socket } = await socks5Connect(lab.port, { host: '127.0.0.1', port });
  await afterTheClose(socket);
  t.same(requests.splice(0), ['GET /first'], 'through SOCKS5: the same (not sent on a new connection)');

  const { socket: carrier } = await connectTunnel(lab.port, `127.0.0.1:${port}`);
  await afterTheClose(carrier);
  t.same(requests.splice(0), ['GET /first'], 'inside a CONNECT tunnel: the same');

  const secure = await startClosingOrigin(true, requests);
  const { socket: tunnel } = await connectTunnel(lab.port, `${HOST}:${secure.port}`);
  const decrypted = tls.connect({ socket: tunnel, servername: HOST, ca: lab.ca.certPem, ALPNProtocols: ['http/1.1'] });
  await once(decrypted, 'secureConnect');
  await afterTheClose(decrypted);
  t.same(requests.splice(0), ['GET /first'], 'inside a CONNECT tunnel, decrypted: the same');
  secure.close();
});
