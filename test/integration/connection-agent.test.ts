// The upstream of one device connection (src/proxy/connection-agent.ts), against a real TLS
// server that counts its connections and reads what arrives on each: one kept connection for
// the device's requests in turn, a pipelined request waiting for it, a new one only when the
// exchange or the server ends it (and then the device connection is told), whatever the server's
// Keep-Alive hint says, the probe's connection first, the name sent (SNI, none for a device that
// sent none), a WebSocket upgrade
// taking its connection, and release().

import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import t, { type Test } from 'tap';
import { WebSocket, WebSocketServer } from 'ws';
import { UpstreamConnector } from '../../src/proxy/upstream.js';
import type { ConnectionAgent } from '../../src/proxy/connection-agent.js';
import { CertificateAuthority } from '../../src/proxy/ca/certificate-authority.js';
import { getOriginCa, startOrigin, tempDir, testLookup, until, type Origin } from '../helpers/lab.js';

interface CountingOrigin extends Origin {
  /** Server-side TLS connections in the order they were made, with the name each asked for. */
  readonly connections: Array<{ socket: tls.TLSSocket; servername: string | false | null }>;
  /** The connection each request arrived on (its index in `connections`), by request path. */
  readonly arrivedOn: Map<string, number>;
}

async function countingOrigin(t: Test, handler: http.RequestListener = (request, response) => response.end(`answer to ${request.url}`)): Promise<CountingOrigin> {
  const connections: CountingOrigin['connections'] = [];
  const arrivedOn = new Map<string, number>();
  const origin = await startOrigin({
    tls: true, hostname: 'api.example.test',
    handler: (request, response) => {
      arrivedOn.set(request.url ?? '', connections.findIndex((c) => c.socket === request.socket));
      handler(request, response);
    },
  });
  origin.server.on('secureConnection', (socket: tls.TLSSocket) => connections.push({ socket, servername: socket.servername }));
  t.teardown(() => origin.close());
  return { ...origin, connections, arrivedOn };
}

function deviceAgent(t: Test, reserved?: tls.TLSSocket): { connector: UpstreamConnector; agent: ConnectionAgent } {
  const connector = new UpstreamConnector({ upstreamCaPems: [getOriginCa().certPem], insecureUpstream: false, lookup: testLookup });
  const agent = connector.connectionAgent(reserved, { alpn: ['http/1.1'] });
  t.teardown(() => {
    agent.release();
    connector.destroy();
  });
  return { connector, agent };
}

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly reused: boolean;
  readonly socket: net.Socket;
}

/** A request as the relay makes it: host, port and (usually) the planned TLS name. */
function get(agent: ConnectionAgent, port: number, path: string, options: { servername?: string | null; host?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const servername = options.servername === undefined ? 'api.example.test' : options.servername;
  return new Promise((resolve, reject) => {
    const request = https.request({
      host: options.host ?? 'api.example.test', port, path, agent: agent.nodeAgent, lookup: testLookup,
      ...(servername !== null ? { servername } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString(), reused: request.reusedSocket, socket: request.socket! }));
    });
    request.on('error', reject);
    request.end();
  });
}

t.test('requests one after another ride one kept connection', async (t) => {
  const origin = await countingOrigin(t);
  const { agent } = deviceAgent(t);
  const answers = [];
  for (const path of ['/1', '/2', '/3']) answers.push(await get(agent, origin.port, path));
  t.same(answers.map((a) => a.body), ['answer to /1', 'answer to /2', 'answer to /3']);
  t.same(answers.map((a) => a.reused), [false, true, true], 'the second and third reuse the connection');
  t.equal(origin.connections.length, 1, 'the server saw one connection');
  t.same([...origin.arrivedOn.values()], [0, 0, 0]);
  t.equal(origin.connections[0]!.servername, 'api.example.test', 'with the planned name');
});

t.test('a request made while the connection is busy waits for it, in order', async (t) => {
  let releaseFirst!: () => void;
  const firstHeld = new Promise<void>((resolve) => { releaseFirst = resolve; });
  const origin = await countingOrigin(t, (request, response) => {
    if (request.url === '/slow') void firstHeld.then(() => response.end('slow'));
    else response.end('fast');
  });
  const { agent } = deviceAgent(t);
  const slow = get(agent, origin.port, '/slow');
  const fast = get(agent, origin.port, '/fast');
  await until(() => origin.arrivedOn.has('/slow'), 5000, 'the first request at the server');
  t.notOk(origin.arrivedOn.has('/fast'), 'the second was not sent while the first was in flight');
  releaseFirst();
  t.same([(await slow).body, (await fast).body], ['slow', 'fast']);
  t.equal(origin.connections.length, 1, 'one connection for both');
  t.equal((await fast).reused, false, 'handed over, as Node\'s agent does for a waiting request');
});

t.test('an exchange that ends the connection gets the next request a new one', async (t) => {
  const origin = await countingOrigin(t, (request, response) => {
    if (request.url === '/close') response.setHeader('connection', 'close');
    response.end('ok');
  });
  const { agent } = deviceAgent(t);
  await get(agent, origin.port, '/close');
  const after = await get(agent, origin.port, '/after');
  t.equal(after.reused, false);
  t.equal(origin.connections.length, 2);
  t.equal(origin.arrivedOn.get('/after'), 1);
});

t.test('a connection the server closes while idle is dropped, and the next request gets a new one', async (t) => {
  const origin = await countingOrigin(t);
  const { agent } = deviceAgent(t);
  const first = await get(agent, origin.port, '/1');
  origin.connections[0]!.socket.end();
  await once(first.socket, 'close');
  const second = await get(agent, origin.port, '/2');
  t.equal(second.status, 200);
  t.equal(second.reused, false);
  t.equal(origin.connections.length, 2);
});

t.test("a kept connection lasts until the server ends it, whatever its Keep-Alive hint; the device connection is then told", async (t) => {
  const origin = await countingOrigin(t, (_request, response) => {
    response.setHeader('keep-alive', 'timeout=1');
    response.end('ok');
  });
  const { agent } = deviceAgent(t);
  let told = 0;
  agent.whenServerGone(() => { told++; });
  const first = await get(agent, origin.port, '/first');
  t.equal(first.socket.timeout ?? 0, 0, 'no idle timeout of ours on the kept connection');
  const second = await get(agent, origin.port, '/second');
  t.equal(second.reused, true, "a hint of one second does not end it: the device's client reads the hint and decides");
  t.equal(told, 0);
  const closed = once(second.socket, 'close');
  origin.connections[0]!.socket.end();
  await closed;
  t.equal(told, 1, "the server ended its idle connection: the device connection is told");
  const next = await get(agent, origin.port, '/next');
  t.equal(next.reused, false, 'the next request opens a new one');
  t.equal(origin.connections.length, 2);
  const released = once(next.socket, 'close');
  agent.release();
  await released;
  t.equal(told, 1, 'not told when the device connection itself is gone (release)');
});

t.test('an idle kept connection does not hold the process open; a busy one does', async (t) => {
  let answerSecond!: () => void;
  const secondHeld = new Promise<void>((resolve) => { answerSecond = resolve; });
  const origin = await countingOrigin(t, (request, response) => {
    if (request.url === '/2') void secondHeld.then(() => response.end('ok'));
    else response.end('ok');
  });
  const { agent } = deviceAgent(t);
  // Handles that keep the event loop alive; the server's side of the connection is one of them throughout.
  const referencedSockets = (): number => process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap').length;
  await get(agent, origin.port, '/1');
  const idle = referencedSockets();
  const second = get(agent, origin.port, '/2');
  await until(() => origin.arrivedOn.has('/2'), 5000, 'the second request at the server');
  t.equal(referencedSockets(), idle + 1, 'in use: referenced again');
  answerSecond();
  t.equal((await second).reused, true);
  t.equal(referencedSockets(), idle, 'idle: unreferenced');
});

t.test('the probe\'s connection carries the first request', async (t) => {
  const origin = await countingOrigin(t);
  const probe = new UpstreamConnector({ upstreamCaPems: [getOriginCa().certPem], insecureUpstream: false, lookup: testLookup });
  t.teardown(() => probe.destroy());
  const reserved = await probe.connectTls('api.example.test', origin.port, 'api.example.test', { alpn: ['http/1.1'] });
  const { agent } = deviceAgent(t, reserved);
  const first = await get(agent, origin.port, '/1');
  t.equal(first.socket, reserved);
  await get(agent, origin.port, '/2');
  t.equal(origin.connections.length, 1, 'no second connection');
});

t.test('a device that sent no SNI to an address: none goes upstream whatever its Host header says, and the server\'s certificate is checked by its chain', async (t) => {
  const named = await countingOrigin(t);
  const { agent } = deviceAgent(t);
  // '' is what the HTTP/1 layer plans for such a device (relay-plan.ts).
  const first = await get(agent, named.port, '/by-host', { host: '127.0.0.1', servername: '', headers: { host: `api.example.test:${named.port}` } });
  t.equal(first.status, 200, 'a certificate naming a host, not the address, is accepted by its chain: the device checks the names (leaf-shape.ts)');
  t.equal(named.connections[0]!.servername, false, 'no SNI, as the device sent none');
  const other = await get(agent, named.port, '/other', { host: '127.0.0.1', servername: '', headers: { host: 'other.example.test' } });
  t.equal(other.reused, true, 'another Host header keeps the connection: it names no TLS server');
  t.equal(named.connections.length, 1);

  const stranger = await startOrigin({ tls: true, hostname: 'api.example.test', ca: CertificateAuthority.loadOrCreate(tempDir('phonehome-stranger-ca-')), handler: (_request, response) => response.end('ok') });
  t.teardown(() => stranger.close());
  await t.rejects(get(deviceAgent(t).agent, stranger.port, '/untrusted', { host: '127.0.0.1', servername: '', headers: { host: 'api.example.test' } }), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 'a chain no trusted CA signed is still refused');

  const addressed = await startOrigin({ tls: true, hostname: '127.0.0.1', handler: (_request, response) => response.end('ok') });
  t.teardown(() => addressed.close());
  const names: Array<string | false | null> = [];
  addressed.server.on('secureConnection', (socket: tls.TLSSocket) => names.push(socket.servername));
  const byAddress = deviceAgent(t).agent;
  const answer = await get(byAddress, addressed.port, '/ip', { host: '127.0.0.1', servername: null, headers: { host: `127.0.0.1:${addressed.port}` } });
  t.equal(answer.status, 200);
  t.same(names, [false], 'an address is never sent as a name');
});

t.test('a WebSocket upgrade takes its connection; the next request gets a new one', async (t) => {
  const origin = await countingOrigin(t);
  const sockets = new WebSocketServer({ noServer: true });
  origin.server.on('upgrade', (request, socket, head) => sockets.handleUpgrade(request, socket, head, (ws) => ws.on('message', (data) => ws.send(`echo ${String(data)}`))));
  t.teardown(() => sockets.close());
  const { agent } = deviceAgent(t);
  await get(agent, origin.port, '/before');
  const ws = new WebSocket(`wss://api.example.test:${origin.port}/live`, { agent: agent.nodeAgent, lookup: testLookup, servername: 'api.example.test' } as ConstructorParameters<typeof WebSocket>[2]);
  await once(ws, 'open');
  t.equal(origin.connections.length, 1, 'the upgrade reused the kept connection');
  ws.send('hi');
  const [echo] = await once(ws, 'message');
  t.equal(String(echo), 'echo hi');
  const during = await get(agent, origin.port, '/during');
  t.equal(during.reused, false);
  t.equal(origin.connections.length, 2, 'a request during the WebSocket opened its own connection');
  ws.send('still');
  const [still] = await once(ws, 'message');
  t.equal(String(still), 'echo still', 'the WebSocket kept its connection');
  ws.close();
  await once(ws, 'close');
});

t.test('release: an idle connection closes now, a busy one when its exchange is over', async (t) => {
  let finish!: () => void;
  const held = new Promise<void>((resolve) => { finish = resolve; });
  const origin = await countingOrigin(t, (request, response) => {
    if (request.url === '/busy') void held.then(() => response.end('done'));
    else response.end('ok');
  });
  const idle = deviceAgent(t).agent;
  const kept = await get(idle, origin.port, '/1');
  idle.release();
  t.equal(kept.socket.destroyed, true, 'idle: closed at once');

  const busy = deviceAgent(t).agent;
  const pending = get(busy, origin.port, '/busy');
  await until(() => origin.arrivedOn.has('/busy'), 5000, 'the busy request at the server');
  busy.release();
  finish();
  const answer = await pending;
  t.equal(answer.body, 'done', 'the exchange in flight completed');
  if (!answer.socket.destroyed) await once(answer.socket, 'close');
  t.pass('and its connection closed after it');
});

t.test('takeConnection: the kept connection, taken for good, carries raw bytes; the agent tells of it no more', async (t) => {
  const origin = await countingOrigin(t);
  const { agent } = deviceAgent(t);
  let told = false;
  agent.whenServerGone(() => { told = true; });
  const first = await get(agent, origin.port, '/1');
  const taken = await agent.takeConnection({ host: 'api.example.test', port: origin.port, servername: 'api.example.test' });
  t.equal(taken, first.socket, 'the connection the request went on');
  const answer = new Promise<string>((resolve) => {
    let text = '';
    taken.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); if (text.endsWith('answer to /raw')) resolve(text); });
  });
  taken.write('GET /raw HTTP/1.1\r\nHost: api.example.test\r\n\r\n');
  t.match(await answer, /^HTTP\/1\.1 200 OK\r\n/, 'the server answers what is written on it');
  t.same([...origin.arrivedOn.values()], [0, 0], 'on the one connection');
  taken.destroy();
  await once(taken, 'close');
  t.notOk(told, 'its close is not the agent\'s to tell');
});

t.test('takeConnection with none kept: the probe\'s when unused, else a new one for the planned name', async (t) => {
  const origin = await countingOrigin(t);
  const probe = new UpstreamConnector({ upstreamCaPems: [getOriginCa().certPem], insecureUpstream: false, lookup: testLookup });
  t.teardown(() => probe.destroy());
  const reserved = await probe.connectTls('api.example.test', origin.port, 'api.example.test', { alpn: ['http/1.1'] });
  const target = { host: 'api.example.test', port: origin.port, servername: 'api.example.test' };
  t.equal(await deviceAgent(t, reserved).agent.takeConnection(target), reserved, 'the probe\'s');
  const fresh = await deviceAgent(t).agent.takeConnection(target) as tls.TLSSocket;
  t.teardown(() => { fresh.destroy(); reserved.destroy(); });
  t.ok(fresh.encrypted && !fresh.connecting, 'a new one, ready');
  await until(() => origin.connections.length === 2, 5000, 'the server to see it');
  t.equal(origin.connections[1]!.servername, 'api.example.test', 'with the planned name');
});
