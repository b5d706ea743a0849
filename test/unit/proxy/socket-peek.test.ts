// A device's first bytes seen where they wait, without reading them (src/proxy/socket-peek.ts,
// native/socket-peek): real sockets on 127.0.0.1. What the peek saw is still there for whoever
// reads the socket next: JavaScript after readAgain(), or a TLS socket made on it.

import t from 'tap';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Target } from '../../../src/proxy/access/target.js';
import { newConnectionContext, type ConnectionContext } from '../../../src/proxy/context.js';
import { LayerStack, type Layers } from '../../../src/proxy/layers/layer-stack.js';
import type { PassthroughPolicy } from '../../../src/proxy/passthrough.js';
import { parseClientHello } from '../../../src/proxy/layers/client-hello.js';
import { beforeTlsWrap, peekSocket, readAgain, socketPeekAvailable, type PeekOptions, type PeekResult } from '../../../src/proxy/socket-peek.js';
import { connectedPair, getOriginCa } from '../../helpers/lab.js';

const skip = socketPeekAvailable() ? false : 'the socket-peek addon is not built here (Linux only; node native/build.mjs)';

const wholeHello = (bytes: Buffer): boolean => parseClientHello(bytes).kind !== 'partial';
const options = (overrides: Partial<PeekOptions> = {}): PeekOptions => ({ enough: wholeHello, silenceMs: 5_000, restMs: 5_000, maxBytes: 64 * 1024, ...overrides });

/** The ClientHello Node's TLS client sends for `servername`, as bytes. */
async function realClientHello(servername: string): Promise<Buffer> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const client = tls.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', servername, ALPNProtocols: ['h2', 'http/1.1'] });
  client.on('error', () => undefined);
  const [socket] = await accepted;
  let bytes = Buffer.alloc(0);
  while (!wholeHello(bytes)) bytes = Buffer.concat([bytes, (await once(socket, 'data'))[0] as Buffer]);
  client.destroy();
  socket.destroy();
  server.close();
  return bytes;
}

/** Starts a peek (the addon is built: the file is skipped otherwise). */
function peek(socket: net.Socket, peekOptions: PeekOptions): { started: boolean; result: Promise<PeekResult> } {
  let started = false;
  const result = new Promise<PeekResult>((resolve) => {
    started = peekSocket(socket, peekOptions, resolve);
  });
  if (!started) throw new Error('no peek started');
  return { started, result };
}

t.test('a ClientHello sent in two pieces is seen whole and is still there to be read', { skip }, async (t) => {
  const hello = await realClientHello('photos.example.test');
  const [client, device] = await connectedPair(t);
  let sawFirstPiece!: () => void;
  const firstPieceSeen = new Promise<void>((resolve) => (sawFirstPiece = resolve));
  const half = Math.floor(hello.length / 2);
  const { started, result } = peek(device, options({
    enough: (bytes) => {
      if (bytes.length === half) sawFirstPiece();
      return wholeHello(bytes);
    },
  }));
  t.ok(started, 'a plain TCP socket with nothing read ahead is peeked');
  client.write(hello.subarray(0, half));
  await firstPieceSeen;
  client.write(hello.subarray(half));
  const { bytes, outcome } = await result;
  t.equal(outcome, 'enough');
  t.same(bytes, hello, 'the whole ClientHello, byte for byte');
  t.equal(device.readableLength, 0, 'nothing was read into JavaScript');
  const parsed = parseClientHello(bytes);
  t.equal(parsed.kind === 'client-hello' ? parsed.sni : undefined, 'photos.example.test');

  readAgain(device);
  let read = Buffer.alloc(0);
  while (read.length < hello.length) read = Buffer.concat([read, (await once(device, 'data'))[0] as Buffer]);
  t.same(read, hello, 'read afterwards, the same bytes come first');
});

t.test("Node's own stream code does not start reading a socket while it is peeked", { skip }, async (t) => {
  // Accepted paused, its handle not reading: a resume() (any listener's) would start it.
  const [client, device] = await connectedPair(t, { pauseOnConnect: true });
  const hello = await realClientHello('contacts.example.test');
  const { result } = peek(device, options());
  let readInJavaScript = 0;
  device.on('data', (chunk: Buffer) => (readInJavaScript += chunk.length));
  device.resume();
  client.write(hello);
  const { bytes, outcome } = await result;
  t.equal(outcome, 'enough');
  t.same(bytes, hello);
  // Two turns of the event loop: a handle left reading would have read the bytes by now.
  for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
  t.equal(readInJavaScript + device.readableLength, 0, 'not a byte was read while peeked, nor after until readAgain');
});

t.test('a TLS socket made on the peeked socket reads the ClientHello itself and completes the handshake', { skip }, async (t) => {
  const [client, device] = await connectedPair(t);
  const leaf = getOriginCa().issueLeaf('photos.example.test');
  const { result } = peek(device, options());
  const secureClient = tls.connect({ socket: client, servername: 'photos.example.test', ca: getOriginCa().certPem });
  secureClient.on('error', () => undefined);
  const { bytes, outcome } = await result;
  t.equal(outcome, 'enough');
  t.ok(bytes.length > 0 && device.readableLength === 0, 'the ClientHello was seen, not read');
  beforeTlsWrap(device);
  const secureDevice = new tls.TLSSocket(device, { isServer: true, key: leaf.keyPem, cert: leaf.certPem });
  secureDevice.on('data', (chunk: Buffer) => secureDevice.write(Buffer.concat([Buffer.from('echo '), chunk])));
  await once(secureClient, 'secureConnect');
  secureClient.write('a photo');
  const [answer] = await once(secureClient, 'data') as [Buffer];
  t.equal(answer.toString(), 'echo a photo');
});

t.test('a device that stays silent is reported as silent, and its socket reads again afterwards', { skip }, async (t) => {
  const [client, device] = await connectedPair(t);
  const { result } = peek(device, options({ silenceMs: 20 }));
  const { bytes, outcome } = await result;
  t.equal(outcome, 'silence');
  t.equal(bytes.length, 0);
  readAgain(device);
  client.write('EHLO phone\r\n');
  const [line] = await once(device, 'data') as [Buffer];
  t.equal(line.toString(), 'EHLO phone\r\n');
});

t.test('a peek stopped by its signal (the server spoke first) reports it once, and what the device sent is all still there to read', { skip }, async (t) => {
  const [client, device] = await connectedPair(t);
  const serverSpoke = new AbortController();
  const reports: PeekResult[] = [];
  t.ok(peekSocket(device, options({ signal: serverSpoke.signal }), (result) => reports.push(result)), 'peeked');
  client.write(Buffer.from([0x16, 0x03]));
  serverSpoke.abort();
  serverSpoke.signal.dispatchEvent(new Event('abort'));
  t.same(reports.map((r) => r.outcome), ['stopped']);
  readAgain(device);
  const [first] = await once(device, 'data') as [Buffer];
  t.same([...first], [0x16, 0x03], 'nothing was read: it all comes to the reader');
  const [, later] = await connectedPair(t);
  t.equal(peekSocket(later, options({ signal: AbortSignal.abort() }), () => t.fail('no peek was started')), false, 'a signal given already: no peek (the caller reads)');
});

t.test('a device that stops short and closes ends the peek with what it sent, which is still read after', { skip }, async (t) => {
  const [client, device] = await connectedPair(t);
  const { result } = peek(device, options());
  client.end(Buffer.from([0x16, 3, 1]));
  const { bytes, outcome } = await result;
  t.equal(outcome, 'ended');
  t.same(bytes, Buffer.from([0x16, 3, 1]));
  readAgain(device);
  const [chunk] = await once(device, 'data') as [Buffer];
  t.same(chunk, Buffer.from([0x16, 3, 1]));
  await once(device, 'end');
});

t.test('a device that resets the connection after a partial ClientHello fails the peek (the caller closes it)', { skip }, async (t) => {
  const [client, device] = await connectedPair(t);
  const { result } = peek(device, options());
  client.write(Buffer.from([0x16, 3, 1]));
  client.resetAndDestroy();
  const { outcome } = await result;
  t.equal(outcome, 'failed', 'libuv stops a watch with an error pending: waiting on would last until the timeout');
});

t.test('a device that leaves without a byte ends the peek empty', { skip }, async (t) => {
  const [client, device] = await connectedPair(t);
  const { result } = peek(device, options());
  client.end();
  const { bytes, outcome } = await result;
  t.equal(outcome, 'ended');
  t.equal(bytes.length, 0);
});

t.test('a ClientHello begun and never finished times out with the part that came', { skip }, async (t) => {
  const hello = await realClientHello('sms.example.test');
  const [client, device] = await connectedPair(t);
  const { result } = peek(device, options({ restMs: 20 }));
  client.write(hello.subarray(0, 10));
  const { bytes, outcome } = await result;
  t.equal(outcome, 'timeout');
  t.same(bytes, hello.subarray(0, 10));
});

t.test('first bytes that are not TLS are enough at once when the caller says so', { skip }, async (t) => {
  const [client, device] = await connectedPair(t);
  const { result } = peek(device, options({ enough: (bytes) => bytes[0] !== 0x16 || wholeHello(bytes) }));
  client.write('GET / HTTP/1.1\r\n');
  const { bytes, outcome } = await result;
  t.equal(outcome, 'enough');
  t.match(bytes.toString(), /^GET \//);
});

t.test('a socket with bytes already read into JavaScript is not peeked: the caller reads it', { skip }, async (t) => {
  const [, device] = await connectedPair(t);
  device.pause();
  device.unshift(Buffer.from('CONNECT'));
  const started = peekSocket(device, options(), () => t.fail('no peek was started'));
  t.equal(started, false);
});

t.test('a socket destroyed while it is peeked ends the peek without a report', { skip }, async (t) => {
  const [client, device] = await connectedPair(t);
  let reported = false;
  t.ok(peekSocket(device, options(), () => (reported = true)), 'peeked');
  device.destroy();
  await once(device, 'close');
  // The device's side sees the connection close: the peek's own descriptor let go of it too.
  client.resume();
  await once(client, 'close');
  t.equal(reported, false);
});

t.test('the layer stack gives the TLS layer a whole ClientHello still unread, and other first bytes read', { skip }, async (t) => {
  const hello = await realClientHello('mail.example.test');
  const handedOver: Array<{ layer: string; socket: Duplex; first: Buffer; peeked?: boolean }> = [];
  let handed!: () => void;
  const layer = (name: string) => ({
    handle: (socket: Duplex, first: Buffer | ConnectionContext, _context?: unknown, peeked?: boolean) => {
      handedOver.push({ layer: name, socket, first: Buffer.isBuffer(first) ? first : Buffer.alloc(0), ...(peeked !== undefined ? { peeked } : {}) });
      handed();
    },
  });
  const stack = new LayerStack({ tls: layer('tls'), http1: layer('http1') } as unknown as Layers, { decide: () => undefined } as unknown as PassthroughPolicy);
  const context = (port: number): ConnectionContext => newConnectionContext('http', { ip: '127.0.0.1', port: 1 }, { host: 'mail.example.test', port, hostKind: 'dns' } as Target);

  const [tlsClient, tlsDevice] = await connectedPair(t);
  let whenHanded = new Promise<void>((resolve) => (handed = resolve));
  stack.start(tlsDevice, context(443), Buffer.alloc(0));
  tlsClient.write(hello);
  await whenHanded;
  t.match(handedOver[0], { layer: 'tls', peeked: true });
  t.same(handedOver[0]!.first, hello, 'the whole ClientHello, seen');
  t.equal(tlsDevice.readableLength, 0, 'and not read: the TLS stack reads it from the socket');

  const [httpClient, httpDevice] = await connectedPair(t);
  whenHanded = new Promise<void>((resolve) => (handed = resolve));
  stack.start(httpDevice, context(80), Buffer.alloc(0));
  httpClient.write('GET /photo.jpg HTTP/1.1\r\nHost: mail.example.test\r\n\r\n');
  await whenHanded;
  t.equal(handedOver[1]!.layer, 'http1');
  const reading = once(httpDevice, 'data') as Promise<[Buffer]>;
  httpDevice.resume(); // as the HTTP layer's parser does
  const [request] = await reading;
  t.match(request.toString(), /^GET \/photo\.jpg HTTP\/1\.1\r\n/, 'the HTTP layer reads the request as before');
});
