// WebSockets through phonehome, as real clients use them: ws clients and a hand-written one, over
// ws:// and wss:// inside CONNECT tunnels, against real ws servers. The device must see what it
// would see talking to the server directly — the server's 101 or refusal, its subprotocol, its
// compression parameters — and every message, close, ping and pong must arrive, in order, kept
// in the flow.

import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import t from 'tap';
import { WebSocket, WebSocketServer, type ClientOptions, type PerMessageDeflateOptions, type ServerOptions } from 'ws';
import { connectTunnel, getOriginCa, startLab, TunnelAgent, within, type Lab } from '../helpers/lab.js';

const HOST = 'ws.example.test';

interface Received {
  readonly data: Buffer;
  readonly binary: boolean;
}

/** What the server saw of one connection. */
interface ServerConnection {
  readonly ws: WebSocket;
  readonly request: http.IncomingMessage;
  /** Its own 101 headers, as ws wrote them. */
  readonly answered: string[];
  readonly messages: Received[];
  /** The close code and reason it got. */
  readonly closed: Promise<[code: number, reason: Buffer]>;
}

interface WsOrigin {
  readonly port: number;
  readonly connections: ServerConnection[];
  /** Resolves with the next connection (or one already there). */
  connection(index?: number): Promise<ServerConnection>;
  close(): Promise<void>;
}

async function startWsOrigin(secure: boolean, options: Omit<ServerOptions, 'server' | 'port' | 'noServer'> = {}): Promise<WsOrigin> {
  const leaf = getOriginCa().issueLeaf(HOST);
  const server = secure ? https.createServer({ key: leaf.keyPem, cert: leaf.certPem }) : http.createServer();
  const wss = new WebSocketServer({ server, ...options });
  const connections: ServerConnection[] = [];
  const waiting: Array<() => void> = [];
  let answered: string[] = [];
  wss.on('headers', (headers) => { answered = [...headers]; });
  wss.on('connection', (ws, request) => {
    const connection: ServerConnection = { ws, request, answered, messages: [], closed: once(ws, 'close') as Promise<[number, Buffer]> };
    ws.on('message', (data: Buffer, binary) => connection.messages.push({ data, binary }));
    connections.push(connection);
    for (const wake of waiting.splice(0)) wake();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    connection: (index = 0) => within(new Promise((resolve) => {
      const check = (): void => {
        const found = connections[index];
        if (found) resolve(found);
        else waiting.push(check);
      };
      check();
    }), 10_000, `server connection #${index}`),
    close: () => new Promise((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A ws client through the proxy: a TunnelAgent for wss, a CONNECT tunnel socket for ws. */
async function deviceClient(lab: Lab, secure: boolean, port: number, path: string, protocols: string[] = [], options: ClientOptions = {}): Promise<{ client: WebSocket; done(): void }> {
  if (secure) {
    const agent = new TunnelAgent(lab.port, lab.ca.certPem);
    const client = new WebSocket(`wss://${HOST}:${port}${path}`, protocols, { agent, ...options });
    return { client, done: () => agent.destroy() };
  }
  const { socket } = await connectTunnel(lab.port, `${HOST}:${port}`);
  const client = new WebSocket(`ws://${HOST}:${port}${path}`, protocols, { createConnection: () => socket, ...options });
  return { client, done: () => socket.destroy() };
}

/** Resolves when `count` messages have arrived in `list` (pushed by a 'message' listener). */
function messagesArrived(ws: WebSocket, list: Received[], count: number, what: string): Promise<void> {
  return within(new Promise<void>((resolve) => {
    if (list.length >= count) return resolve();
    const onMessage = (): void => {
      // The list is filled by another listener registered before this one.
      if (list.length >= count) {
        ws.off('message', onMessage);
        resolve();
      }
    };
    ws.on('message', onMessage);
  }), 10_000, what);
}

/** One WebSocket frame as a client writes it (masked); `rsv1` marks a compressed message. */
function clientFrame(opcode: number, payload: Buffer, rsv1 = false): Buffer {
  const mask = crypto.randomBytes(4);
  const length = payload.length;
  const head = length < 126 ? Buffer.from([0, 0x80 | length]) : length < 65_536 ? Buffer.from([0, 0x80 | 126, length >> 8, length & 0xff]) : Buffer.concat([Buffer.from([0, 0x80 | 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(length)); return b; })()]);
  head[0] = 0x80 | (rsv1 ? 0x40 : 0) | opcode;
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= mask[i % 4]!;
  return Buffer.concat([head, mask, masked]);
}

function upgradeRequest(port: number, path: string, extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${HOST}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

/** Reads a raw device connection: the HTTP answer's head. */
function rawReader(socket: net.Socket | tls.TLSSocket): { head(): Promise<string> } {
  let buffered = Buffer.alloc(0);
  const wakers: Array<() => void> = [];
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (const wake of wakers.splice(0)) wake();
  });
  const until = <T>(take: () => T | undefined, what: string): Promise<T> => within(new Promise<T>((resolve) => {
    const check = (): void => {
      const value = take();
      if (value !== undefined) resolve(value);
      else wakers.push(check);
    };
    check();
  }), 10_000, what);
  return {
    head: () => until(() => {
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const text = buffered.subarray(0, end).toString('latin1');
      buffered = buffered.subarray(end + 4);
      return text;
    }, 'the HTTP answer'),
  };
}

for (const secure of [false, true]) {
  const scheme = secure ? 'wss' : 'ws';
  for (const deflate of [false, true]) {
    t.test(`${scheme}${deflate ? ' with permessage-deflate' : ''}: three messages sent in 'open' all reach the server, in order, and the flow`, async (t) => {
      const origin = await startWsOrigin(secure, { perMessageDeflate: deflate ? { threshold: 0 } : false });
      const lab = await startLab();
      t.teardown(async () => { await lab.close(); await origin.close(); });
      const { client, done } = await deviceClient(lab, secure, origin.port, '/live', [], { perMessageDeflate: deflate ? { threshold: 0 } : false });
      client.on('open', () => {
        client.send('{"auth":"token-123"}');
        client.send(Buffer.from([0, 1, 2, 255]));
        client.send('{"subscribe":"sms"}');
      });
      const server = await origin.connection();
      await messagesArrived(server.ws, server.messages, 3, 'three messages at the server');
      t.same(server.messages.map((m) => [m.data.toString('hex'), m.binary]), [
        [Buffer.from('{"auth":"token-123"}').toString('hex'), false],
        ['000102ff', true],
        [Buffer.from('{"subscribe":"sms"}').toString('hex'), false],
      ]);
      t.equal(client.extensions, deflate ? 'permessage-deflate' : '');
      client.close();
      const flow = await lab.next('flow:end', (f) => f.kind === 'websocket');
      t.equal(flow.error, undefined);
      t.same((flow.messages ?? []).map((m) => [m.fromClient, m.binary, m.data.toString('hex')]), [
        [true, false, Buffer.from('{"auth":"token-123"}').toString('hex')],
        [true, true, '000102ff'],
        [true, false, Buffer.from('{"subscribe":"sms"}').toString('hex')],
      ]);
      done();
    });
  }

  t.test(`${scheme}: a frame written in the same write as the upgrade request reaches the server and the flow`, async (t) => {
    const origin = await startWsOrigin(secure);
    const lab = await startLab();
    t.teardown(async () => { await lab.close(); await origin.close(); });
    const { socket: tunnel } = await connectTunnel(lab.port, `${HOST}:${origin.port}`);
    let socket: net.Socket | tls.TLSSocket = tunnel;
    if (secure) {
      socket = tls.connect({ socket: tunnel, ca: lab.ca.certPem, servername: HOST });
      await once(socket, 'secureConnect');
    }
    const reader = rawReader(socket);
    socket.write(Buffer.concat([Buffer.from(upgradeRequest(origin.port, '/pipelined')), clientFrame(1, Buffer.from('first, before the 101')), clientFrame(1, Buffer.from('second'))]));
    t.match(await reader.head(), /^HTTP\/1.1 101 /);
    const server = await origin.connection();
    await messagesArrived(server.ws, server.messages, 2, 'the pipelined messages at the server');
    t.same(server.messages.map((m) => m.data.toString()), ['first, before the 101', 'second']);
    socket.write(clientFrame(8, Buffer.from([0x03, 0xe8])));
    const flow = await lab.next('flow:end', (f) => f.kind === 'websocket');
    t.same((flow.messages ?? []).map((m) => m.data.toString()), ['first, before the 101', 'second']);
    socket.destroy();
  });
}

// Each device offer, against a server that takes compression and one that does not. What the
// server reads must be what it reads from the same client directly, and the device must be told
// exactly what the server answered.
const offers: Array<[string, PerMessageDeflateOptions | false]> = [
  ['no compression offered', false],
  ["ws's default offer", {}],
  ['server_no_context_takeover', { serverNoContextTakeover: true }],
  ['both no_context_takeover', { serverNoContextTakeover: true, clientNoContextTakeover: true }],
  ['window bits on both sides', { serverMaxWindowBits: 11, clientMaxWindowBits: 10 }],
];

/** One handshake and a message each way; what the server read and what the device was told. */
async function negotiate(origin: WsOrigin, index: number, client: WebSocket): Promise<{ serverRead: string; serverAnswered: string; deviceTold: string; extensions: string }> {
  let deviceTold = '';
  client.once('upgrade', (response) => { deviceTold = String(response.headers['sec-websocket-extensions'] ?? ''); });
  await within(once(client, 'open'), 10_000, 'open');
  const server = await origin.connection(index);
  server.ws.on('message', (data, binary) => server.ws.send(data, { binary }));
  const echo = once(client, 'message');
  client.send('x'.repeat(5_000));
  const [reply] = (await within(echo, 10_000, 'echo')) as [Buffer];
  if (reply.toString() !== 'x'.repeat(5_000)) throw new Error('echo differs');
  const closed = once(client, 'close');
  client.close();
  await closed;
  const answered = server.answered.find((h) => /^sec-websocket-extensions:/i.test(h));
  return {
    serverRead: String(server.request.headers['sec-websocket-extensions'] ?? ''),
    serverAnswered: answered ? answered.replace(/^[^:]*:\s*/, '') : '',
    deviceTold,
    extensions: client.extensions,
  };
}

for (const serverDeflate of [true, false]) {
  for (const [name, offer] of offers) {
    t.test(`deflate offer "${name}" to a server ${serverDeflate ? 'that compresses' : 'without compression'}: the server reads the device's offer, the device hears the server's answer`, async (t) => {
      const origin = await startWsOrigin(true, { perMessageDeflate: serverDeflate ? { threshold: 0 } : false });
      const lab = await startLab();
      t.teardown(async () => { await lab.close(); await origin.close(); });
      const direct = await negotiate(origin, 0, new WebSocket(`wss://127.0.0.1:${origin.port}/n`, { ca: getOriginCa().certPem, servername: HOST, perMessageDeflate: offer } as ClientOptions));
      const { client, done } = await deviceClient(lab, true, origin.port, '/n', [], { perMessageDeflate: offer });
      const proxied = await negotiate(origin, 1, client);
      t.equal(proxied.serverRead, direct.serverRead, `the server read the same offer (${direct.serverRead || 'none'})`);
      t.equal(proxied.deviceTold, proxied.serverAnswered, `the device was told what the server answered (${proxied.serverAnswered || 'none'})`);
      t.equal(proxied.deviceTold, direct.deviceTold, 'as it is told directly');
      t.equal(proxied.extensions, direct.extensions);
      done();
    });
  }
}

t.test('subprotocol: the server picks the second offered, and the device gets that one', async (t) => {
  const origin = await startWsOrigin(true, { handleProtocols: (protocols) => [...protocols][1] ?? false });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const { client, done } = await deviceClient(lab, true, origin.port, '/p', ['chat.v1', 'chat.v2']);
  await within(once(client, 'open'), 10_000, 'open');
  const server = await origin.connection();
  t.equal(server.ws.protocol, 'chat.v2');
  t.equal(server.request.headers['sec-websocket-protocol']?.replace(/\s/g, ''), 'chat.v1,chat.v2', 'the server was offered both, in order');
  t.equal(client.protocol, 'chat.v2', "the device was given the server's choice");
  client.close();
  await lab.next('flow:end', (f) => f.kind === 'websocket');
  done();
});

for (const closer of ['device', 'server'] as const) {
  t.test(`the ${closer} closes with 4001 and a reason as soon as it is open: the other side gets both`, async (t) => {
    const origin = await startWsOrigin(true);
    const lab = await startLab();
    t.teardown(async () => { await lab.close(); await origin.close(); });
    const { client, done } = await deviceClient(lab, true, origin.port, '/c');
    const deviceClosed = once(client, 'close') as Promise<[number, Buffer]>;
    if (closer === 'device') client.once('open', () => client.close(4001, 'device says bye'));
    else origin.connection().then((server) => server.ws.close(4001, 'server says bye'), () => undefined);
    const server = await origin.connection();
    const [code, reason] = await within(closer === 'device' ? server.closed : deviceClosed, 10_000, 'the close on the other side');
    t.equal(code, 4001);
    t.equal(reason.toString(), `${closer} says bye`);
    const flow = await lab.next('flow:end', (f) => f.kind === 'websocket');
    t.equal(flow.error, undefined);
    done();
  });
}

t.test('binary stays binary and text stays text, both ways (sent as soon as open)', async (t) => {
  const origin = await startWsOrigin(true);
  origin.connection().then((server) => server.ws.on('message', (data, binary) => server.ws.send(data, { binary })), () => undefined);
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const { client, done } = await deviceClient(lab, true, origin.port, '/b');
  const echoes: Received[] = [];
  client.on('message', (data: Buffer, binary) => echoes.push({ data, binary }));
  client.on('open', () => {
    client.send(Buffer.from([0xff, 0xfe, 0x00, 0x41]));
    client.send('héllo');
  });
  const server = await origin.connection();
  await messagesArrived(client, echoes, 2, 'two echoes at the device');
  t.same(server.messages.map((m) => [m.binary, m.data.toString('hex')]), [[true, 'fffe0041'], [false, Buffer.from('héllo').toString('hex')]], 'as sent, at the server');
  t.same(echoes.map((m) => [m.binary, m.data.toString('hex')]), [[true, 'fffe0041'], [false, Buffer.from('héllo').toString('hex')]], 'as sent back, at the device');
  client.close();
  const flow = await lab.next('flow:end', (f) => f.kind === 'websocket');
  const messages = flow.messages ?? [];
  t.same(messages.filter((m) => m.fromClient).map((m) => m.binary), [true, false], 'recorded as binary, then text, from the device');
  t.same(messages.filter((m) => !m.fromClient).map((m) => m.binary), [true, false], 'and from the server');
  done();
});

t.test('pings and pongs are relayed, not answered by the proxy', async (t) => {
  const origin = await startWsOrigin(false);
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const { client, done } = await deviceClient(lab, false, origin.port, '/ping');
  await within(once(client, 'open'), 10_000, 'open');
  const server = await origin.connection();
  const serverPinged = within(once(server.ws, 'ping'), 10_000, 'ping at the server');
  const devicePonged = within(once(client, 'pong'), 10_000, 'pong at the device');
  client.ping('device ping');
  t.equal(((await serverPinged) as [Buffer])[0].toString(), 'device ping', 'the server got the device\'s ping');
  t.equal(((await devicePonged) as [Buffer])[0].toString(), 'device ping', "and the device the server's pong");
  const devicePinged = within(once(client, 'ping'), 10_000, 'ping at the device');
  const serverPonged = within(once(server.ws, 'pong'), 10_000, 'pong at the server');
  server.ws.ping('server ping');
  t.equal(((await devicePinged) as [Buffer])[0].toString(), 'server ping');
  t.equal(((await serverPonged) as [Buffer])[0].toString(), 'server ping');
  client.close();
  await lab.next('flow:end', (f) => f.kind === 'websocket');
  done();
});

t.test('an upstream that refuses (403) or cannot be reached: the device gets a non-101 answer, or its tunnel is refused, and the flow says why', async (t) => {
  const refusing = http.createServer((_req, res) => { res.statusCode = 403; res.end('forbidden here'); });
  refusing.listen(0, '127.0.0.1');
  await once(refusing, 'listening');
  const refusingPort = (refusing.address() as net.AddressInfo).port;
  const closedPort = await new Promise<number>((resolve) => {
    const probe = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); refusing.close(); });
  const { socket } = await connectTunnel(lab.port, `${HOST}:${refusingPort}`);
  const reader = rawReader(socket);
  socket.write(upgradeRequest(refusingPort, '/refused'));
  t.match(await reader.head(), /^HTTP\/1.1 403 /, 'HTTP 403, not 101');
  const flow = await lab.next('flow:end', (f) => f.kind === 'websocket' && f.target.port === refusingPort);
  t.match(flow.error, /upstream answered the WebSocket upgrade with 403/);
  socket.destroy();
  // A server that cannot be reached refuses the tunnel itself, before the device says a word
  // (first-connection.ts), as a proxy that connects first does.
  const refused = await connectTunnel(lab.port, `${HOST}:${closedPort}`);
  t.equal(refused.status, 502, 'the tunnel is refused with a 502');
  refused.socket.destroy();
  const lost = await lab.next('flow:end', (f) => f.target.port === closedPort);
  t.match(lost.error, /ECONNREFUSED/);
});
