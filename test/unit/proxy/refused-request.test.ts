// A request head Node's parser refuses on a connection it was reading (a later request, or a head
// that came in pieces): what the device sent from that head on (requests-as-sent.ts,
// takeRefusedRequest), and the connection taken from Node's server to be relayed as bytes
// (leave-http-server.ts). On our HTTP/1 server (makeHttpServer), over a real TCP connection (Node
// reads it in C++) and over a stream of ours fed a piece at a time (Node reads it from JavaScript).

import t, { type Test } from 'tap';
import net from 'node:net';
import { once } from 'node:events';
import { Duplex } from 'node:stream';
import type http from 'node:http';
import { makeHttpServer } from '../../../src/proxy/layers/http1-layer.js';
import { takeRefusedRequest } from '../../../src/proxy/layers/requests-as-sent.js';
import { leaveHttpServer } from '../../../src/proxy/layers/leave-http-server.js';

interface Refusal {
  readonly code: string | undefined;
  readonly rest: string | undefined;
  readonly socket: Duplex;
}

/** Our server, answering each request with a 204 (`onRequest` first), and each refusal reported once. */
function refusingServer(onRequest: (req: http.IncomingMessage) => void = () => undefined): { server: http.Server; refused: Promise<Refusal> } {
  let report: (refusal: Refusal) => void = () => undefined;
  const refused = new Promise<Refusal>((resolve) => { report = resolve; });
  const server = makeHttpServer((err, socket) => report({ code: err.code, rest: takeRefusedRequest(socket)?.toString('latin1'), socket }), 0);
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    onRequest(req);
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  return { server, refused };
}

/** A connection over TCP to `server`: Node's parser reads it in C++. */
async function tcpClient(t: Test, server: http.Server): Promise<net.Socket> {
  const listener = net.createServer((socket) => server.emit('connection', socket)).listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const client = net.connect({ port: (listener.address() as net.AddressInfo).port, host: '127.0.0.1' });
  t.teardown(() => { client.destroy(); listener.close(); });
  client.on('data', () => undefined);
  await once(client, 'connect');
  return client;
}

/** A device connection of ours, fed a piece at a time: Node reads it from JavaScript, one piece per read. */
function pieceByPiece(server: http.Server): { feed(piece: string): void; written: string[] } {
  const written: string[] = [];
  const socket = new Duplex({ read() { /* fed by feed() */ }, write(chunk: Buffer, _encoding, done) { written.push(chunk.toString('latin1')); done(); } });
  server.emit('connection', socket);
  return { feed: (piece) => socket.push(Buffer.from(piece, 'latin1')), written };
}

const GET = 'GET /a HTTP/1.1\r\nHost: meter\r\n\r\n';
const REFUSED = 'POST /b HTTP/1.1\r\nHost: meter\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok';

t.test('pipelined behind a request in one read: the rest is the refused request on, and the request before it was handed over whole', async (t) => {
  const urls: string[] = [];
  const { server, refused } = refusingServer((req) => urls.push(req.url ?? ''));
  const client = await tcpClient(t, server);
  client.write(GET + REFUSED);
  const refusal = await refused;
  t.equal(refusal.code, 'HPE_UNEXPECTED_CONTENT_LENGTH');
  t.equal(refusal.rest, REFUSED, 'from its first byte to the end of the read');
  t.same(urls, ['/a']);
});

t.test('a head that came in pieces, the parser refusing the second: the rest starts at the head\'s first piece', async (t) => {
  const { server, refused } = refusingServer();
  const device = pieceByPiece(server);
  device.feed(GET);
  device.feed('GET /c HTTP/1.1\r\nHo');
  device.feed('st: meter\r\nX Build: 2\r\n\r\n');
  const refusal = await refused;
  t.equal(refusal.code, 'HPE_INVALID_HEADER_TOKEN');
  t.equal(refusal.rest, 'GET /c HTTP/1.1\r\nHost: meter\r\nX Build: 2\r\n\r\n');
});

t.test('stray line ends before the refused head go with it, as the server would read them', async (t) => {
  const { server, refused } = refusingServer();
  const device = pieceByPiece(server);
  device.feed(GET + '\r\n' + 'GET /d HTTP/1.1\r\nX-Id : 7\r\n\r\n');
  t.equal((await refused).rest, '\r\nGET /d HTTP/1.1\r\nX-Id : 7\r\n\r\n');
});

t.test('a refusal inside a body is not a head: nothing to relay', async (t) => {
  const { server, refused } = refusingServer();
  const device = pieceByPiece(server);
  device.feed('POST /e HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n');
  device.feed('zz\r\nab\r\n0\r\n\r\n');
  const refusal = await refused;
  t.equal(refusal.code, 'HPE_INVALID_CHUNK_SIZE');
  t.equal(refusal.rest, undefined);
});

t.test('taken from Node\'s server, the connection is read by whoever reads it next: what the device sends after comes as it is, with no second refusal', async (t) => {
  const { server, refused } = refusingServer();
  let refusals = 0;
  server.on('clientError', () => { refusals++; });
  const client = await tcpClient(t, server);
  client.write(GET + REFUSED);
  const { socket } = await refused;
  t.teardown(() => socket.destroy());
  t.ok(leaveHttpServer(socket), 'taken');
  t.ok(socket.isPaused(), 'paused until its new reader resumes it');
  t.equal((socket as Duplex & { parser?: unknown }).parser, null, 'its parser freed');
  t.equal(socket.listeners('data').length, 0, 'Node no longer reads it');
  const later = 'GET /f HTTP/1.1\r\nX Build: 3\r\n\r\n';
  const read = new Promise<string>((resolve) => {
    let bytes = '';
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.toString('latin1');
      if (bytes.length >= later.length) resolve(bytes);
    });
    socket.resume();
  });
  client.write(later);
  t.equal(await read, later, 'the next bytes, read from JavaScript');
  t.equal(refusals, 1, 'and not judged again');
});

t.test('each kind of later head the parser refuses is kept from its first byte', async (t) => {
  const rows: ReadonlyArray<readonly [string, string]> = [
    ['a method it does not know', 'BREW /pot HTTP/1.1\r\nHost: pot\r\n\r\n'],
    ['a raw byte above 0x7F in the target', 'GET /r\xe9glages HTTP/1.1\r\nHost: thermostat\r\n\r\n'],
    ['a space inside a header\'s name', 'GET /s HTTP/1.1\r\nX Build: 2\r\n\r\n'],
    ['Content-Length as a list', 'POST /t HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\nok'],
  ];
  for (const [name, head] of rows) {
    const { server, refused } = refusingServer();
    const device = pieceByPiece(server);
    device.feed(GET);
    device.feed(head);
    t.equal((await refused).rest, head, name);
  }
});

t.test('a connection Node\'s server does not hold is not touched: the caller answers as before', async (t) => {
  const socket = new Duplex({ read() { /* nothing */ }, write(_chunk, _encoding, done) { done(); } });
  const onData = (): void => undefined;
  socket.on('data', onData);
  t.notOk(leaveHttpServer(socket), 'not taken');
  t.same(socket.listeners('data'), [onData], 'its listeners as they were');
  t.notOk(socket.isPaused(), 'and still flowing');
});
