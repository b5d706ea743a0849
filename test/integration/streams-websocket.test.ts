import t from 'tap';
import net from 'node:net';
import https from 'node:https';
import { once } from 'node:events';
import { WebSocket, WebSocketServer } from 'ws';
import { connectTunnel, getOriginCa, startLab, startOrigin, TunnelAgent, within } from '../helpers/lab.js';

/** A minimal SMTP server: speaks first, as real ones do, and accepts one message. */
async function startSmtp(): Promise<{ port: number; received: Promise<string>; close(): void }> {
  let deliver!: (text: string) => void;
  const received = new Promise<string>((resolve) => { deliver = resolve; });
  const server = net.createServer((socket) => {
    socket.write('220 smtp.example.test ESMTP\r\n');
    let buffer = '';
    let inData = false;
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line === '.') { inData = false; socket.write('250 queued\r\n'); }
          continue;
        }
        if (line === 'DATA') { inData = true; socket.write('354 go ahead\r\n'); }
        else if (line === 'QUIT') { socket.end('221 bye\r\n'); deliver('done'); }
        else socket.write('250 ok\r\n');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, received, close: () => server.close() };
}

/** Reads lines from a socket until one starts with `code`. */
async function expectReply(socket: net.Socket, code: string): Promise<void> {
  let seen = '';
  while (!seen.split('\r\n').some((l) => l.startsWith(code))) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    seen += chunk.toString('latin1');
  }
}

t.test('SMTP through CONNECT: relayed to the real server and captured as a raw stream', async (t) => {
  const smtp = await startSmtp();
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); smtp.close(); });
  const { socket } = await connectTunnel(lab.port, `smtp.example.test:${smtp.port}`);
  await expectReply(socket, '220');
  for (const [line, code] of [['EHLO phone', '250'], ['AUTH PLAIN AGphbmVAZXhhbXBsZS5jb20Ac2VjcmV0', '250'], ['MAIL FROM:<jane@example.com>', '250'], ['RCPT TO:<bob@example.org>', '250'], ['DATA', '354']] as const) {
    socket.write(`${line}\r\n`);
    await expectReply(socket, code);
  }
  socket.write('Subject: Rendez-vous demain\r\n\r\nA 18h devant la gare.\r\n.\r\n');
  await expectReply(socket, '250');
  socket.write('QUIT\r\n');
  await smtp.received;
  const flow = await lab.next('flow:end', (f) => f.kind === 'raw');
  t.equal(flow.scheme, 'tcp');
  t.match(flow.stream?.up.bytes.toString(), /Subject: Rendez-vous demain/);
  t.match(flow.stream?.down.bytes.toString(), /^220 smtp.example.test ESMTP/);
  t.equal(flow.destination?.port, smtp.port);
  t.ok(flow.tags.includes('stream:raw'));
});

t.test('plain HTTP inside CONNECT is parsed and relayed as HTTP', async (t) => {
  const origin = await startOrigin({ tls: false, handler: (req, res) => res.end(`inner ${req.url}`) });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const { socket } = await connectTunnel(lab.port, `plain.example.test:${origin.port}`);
  socket.write(`GET /through-tunnel HTTP/1.1\r\nHost: plain.example.test:${origin.port}\r\nConnection: close\r\n\r\n`);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'end');
  t.match(Buffer.concat(chunks).toString(), /inner \/through-tunnel/);
  const flow = await lab.next('flow:end', (f) => f.kind === 'http');
  t.ok(flow.tags.includes('connect:plain'));
  t.equal(flow.request?.url, `http://plain.example.test:${origin.port}/through-tunnel`);
});

t.test('wss: messages both ways are relayed and captured; the subprotocol reaches upstream', async (t) => {
  const leaf = getOriginCa().issueLeaf('ws.example.test');
  const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem });
  const wss = new WebSocketServer({ server, handleProtocols: (protocols) => (protocols.has('chat.v1') ? 'chat.v1' : false) });
  let upstreamProtocol = '';
  wss.on('connection', (ws) => {
    upstreamProtocol = ws.protocol;
    ws.on('message', (data, isBinary) => ws.send(isBinary ? Buffer.concat([Buffer.from([9]), data as Buffer]) : `echo:${data.toString()}`, { binary: isBinary }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); wss.close(); server.close(); });

  const agent = new TunnelAgent(lab.port, lab.ca.certPem);
  const client = new WebSocket(`wss://ws.example.test:${port}/chat`, ['chat.v1'], { agent });
  await once(client, 'open');
  t.equal(client.protocol, 'chat.v1');
  client.send('{"sms":"Rendez-vous demain"}');
  const [reply] = (await once(client, 'message')) as [Buffer];
  t.equal(reply.toString(), 'echo:{"sms":"Rendez-vous demain"}');
  client.send(Buffer.from([1, 2, 3]));
  const [binary] = (await once(client, 'message')) as [Buffer];
  t.same([...binary], [9, 1, 2, 3]);
  client.close();
  const flow = await lab.next('flow:end', (f) => f.kind === 'websocket');
  t.equal(upstreamProtocol, 'chat.v1');
  t.equal(flow.scheme, 'wss');
  t.equal(flow.request?.url, `wss://ws.example.test:${port}/chat`);
  const messages = flow.messages ?? [];
  t.same(messages.map((m) => [m.fromClient, m.binary]), [[true, false], [false, false], [true, true], [false, true]]);
  t.equal(messages[0]?.data.toString(), '{"sms":"Rendez-vous demain"}');
  t.equal(flow.destination?.port, port);
  agent.destroy();
});

t.test('ws inside a plain CONNECT tunnel works too', async (t) => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(wss, 'listening');
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(`plain:${data.toString()}`)));
  const port = (wss.address() as net.AddressInfo).port;
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); wss.close(); });
  const { socket } = await connectTunnel(lab.port, `ws.example.test:${port}`);
  const client = new WebSocket(`ws://ws.example.test:${port}/`, { createConnection: () => socket });
  await once(client, 'open');
  client.send('hello');
  const [reply] = (await once(client, 'message')) as [Buffer];
  t.equal(reply.toString(), 'plain:hello');
  client.close();
  const flow = await lab.next('flow:end', (f) => f.kind === 'websocket');
  t.equal(flow.scheme, 'ws');
  t.equal(flow.messages?.[0]?.data.toString(), 'hello');
});

t.test("a WebSocket whose upstream refuses the upgrade: the device hears the server's answer, and the flow says why", async (t) => {
  const origin = await startOrigin({ tls: true, hostname: 'ws.example.test', handler: (_req, res) => { res.statusCode = 403; res.setHeader('x-reason', 'banned'); res.end('no'); } });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const agent = new TunnelAgent(lab.port, lab.ca.certPem);
  const client = new WebSocket(`wss://ws.example.test:${origin.port}/`, { agent });
  let opened = false;
  client.on('open', () => { opened = true; });
  client.on('error', () => undefined);
  const [, response] = (await within(once(client, 'unexpected-response'), 10_000, 'HTTP answer to the upgrade')) as [unknown, import('node:http').IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  t.equal(response.statusCode, 403, "the server's status, not a 101");
  t.equal(response.headers['x-reason'], 'banned', "the server's headers");
  t.equal(Buffer.concat(chunks).toString(), 'no', "the server's body");
  t.equal(opened, false);
  const flow = await lab.next('flow:end', (f) => f.kind === 'websocket');
  t.match(flow.error, /upstream answered the WebSocket upgrade with 403/);
  t.equal(flow.response?.status, 403);
  t.equal(flow.response?.body.bytes.toString(), 'no');
  agent.destroy();
});

t.test('wss to a server that cannot be verified: a device that checks refuses the leaf it is shown, never an open socket, and the server gets no upgrade', async (t) => {
  const leaf = getOriginCa().issueLeaf('ws.example.test');
  const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem });
  const wss = new WebSocketServer({ server });
  let upstreamConnections = 0;
  wss.on('connection', () => { upstreamConnections++; });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const lab = await startLab({ upstreamCaPems: [] }); // the origin's CA is not trusted
  t.teardown(async () => { await lab.close(); wss.close(); server.close(); });
  const agent = new TunnelAgent(lab.port, lab.ca.certPem);
  const client = new WebSocket(`wss://ws.example.test:${port}/`, { agent });
  let opened = false;
  client.on('open', () => { opened = true; });
  const [error] = (await within(once(client, 'error'), 10_000, 'the device to refuse')) as [Error];
  t.match(error.message, /unable to verify|issuer/i);
  t.equal(opened, false, 'the device never saw an open WebSocket');
  const flow = await within(lab.next('flow:end', (f) => f.kind === 'tls-failed'), 10_000, 'the refused handshake');
  t.ok(flow.tags.includes('tls:refused-invalid-certificate'), `tags ${flow.tags}`);
  t.equal(upstreamConnections, 0);
  agent.destroy();
});
