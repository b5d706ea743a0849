// HTTP/1.1 upgrades (upgrade-relay.ts) go through as the two sides wrote them. A WebSocket: the
// server reads the device's upgrade request and frames byte for byte (its key, its extension
// offers, masks, fragments, a ping between fragments, its close code), the device reads the
// server's 101 and frames byte for byte (a close answered with another code than the device's
// included), and the flow records the messages it watched go by. Another protocol (Docker's
// attach asks for `tcp`): the request and its body reach the server before its 101, then the
// bytes pass both ways and are the flow's bodies. The origin here is a raw TCP server that
// answers by hand, so nothing on its side re-frames either.

import crypto from 'node:crypto';
import net from 'node:net';
import zlib from 'node:zlib';
import { once } from 'node:events';
import t, { type Test } from 'tap';
import type { WebSocketFlow } from '../../src/model/flow.js';
import { connectTunnel, httpViaProxy, startLab, startOrigin, within } from '../helpers/lab.js';
import { heldAt, patternChecker, patternedChunk, writePattern } from '../helpers/held-back.js';
import { limits } from '../../src/limits.js';

const HOST = 'ws.example.test';

/** One WebSocket frame: masked (a client's) when `mask` is given. */
function frame(opcode: number, payload: Buffer, options: { mask?: Buffer; fin?: boolean; rsv1?: boolean; rsv2?: boolean } = {}): Buffer {
  const first = ((options.fin ?? true) ? 0x80 : 0) | (options.rsv1 ? 0x40 : 0) | (options.rsv2 ? 0x20 : 0) | opcode;
  const length = payload.length < 126 ? Buffer.from([payload.length]) : Buffer.from([126, payload.length >> 8, payload.length & 0xff]);
  if (options.mask) length[0]! |= 0x80;
  const body = options.mask ? payload.map((byte, i) => byte ^ options.mask![i % 4]!) : payload;
  return Buffer.concat([Buffer.from([first]), length, ...(options.mask ? [options.mask] : []), Buffer.from(body)]);
}

const closePayload = (code: number, reason: string): Buffer => Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);

/** A permessage-deflate message: the compressed bytes without their last four. */
function deflated(text: string): Buffer {
  const all = zlib.deflateRawSync(Buffer.from(text), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return all.subarray(0, all.length - 4);
}

/** Collects a socket's bytes; `until` waits for a predicate over everything received so far. */
function collector(socket: net.Socket): { bytes(): Buffer; until(done: (bytes: Buffer) => boolean, what: string): Promise<Buffer> } {
  let received = Buffer.alloc(0);
  const waiting = new Set<() => void>();
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    for (const wake of [...waiting]) wake();
  });
  return {
    bytes: () => received,
    until: (done, what) => within(new Promise<Buffer>((resolve) => {
      const check = (): void => {
        if (!done(received)) return;
        waiting.delete(check);
        resolve(received);
      };
      waiting.add(check);
      check();
    }), 10_000, what),
  };
}

interface RawOrigin {
  readonly port: number;
  /** The next connection, its bytes collected as they come. */
  connection(): Promise<{ socket: net.Socket; received: ReturnType<typeof collector> }>;
  /** The next connection, read by the test itself. */
  socket(): Promise<net.Socket>;
}

/** A TCP server whose test answers the upgrade itself. */
async function rawOrigin(t: Test): Promise<RawOrigin> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const queue: net.Socket[] = [];
  const waiting: Array<(socket: net.Socket) => void> = [];
  const next = async (): Promise<net.Socket> => queue.shift() ?? await within(new Promise<net.Socket>((resolve) => waiting.push(resolve)), 10_000, 'a connection at the origin');
  server.on('connection', (socket: net.Socket) => {
    socket.on('error', () => undefined);
    const next = waiting.shift();
    if (next) next(socket);
    else queue.push(socket);
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    connection: async () => {
      const socket = await next();
      return { socket, received: collector(socket) };
    },
    socket: next,
  };
}

/** A raw origin, phonehome, and a device connection to the origin through a CONNECT tunnel, with a key for its upgrade. */
async function setUp(t: Test): Promise<{ origin: RawOrigin; lab: Awaited<ReturnType<typeof startLab>>; device: net.Socket; deviceReceived: ReturnType<typeof collector>; key: string }> {
  const origin = await rawOrigin(t);
  const lab = await startLab();
  t.teardown(() => lab.close());
  const { socket: device } = await connectTunnel(lab.port, `${HOST}:${origin.port}`);
  return { origin, lab, device, deviceReceived: collector(device), key: crypto.randomBytes(16).toString('base64') };
}

/** A chunked body's data, its chunk framing and trailers taken off. */
function dechunk(text: string): string {
  let data = '';
  for (let at = 0; ;) {
    const lineEnd = text.indexOf('\r\n', at);
    const size = parseInt(text.slice(at, lineEnd), 16);
    if (!(size > 0)) return data;
    data += text.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

const accept = (key: string): string => crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

t.test('frames, heads and closes pass as each side wrote them; the messages are recorded', async (t) => {
  const { origin, lab, device, deviceReceived, key } = await setUp(t);
  const request = `GET /live?room=7 HTTP/1.1\r\nhost: ${HOST}:${origin.port}\r\nUPGRADE: websocket\r\nconnection: keep-alive, Upgrade\r\nsec-websocket-key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-custom-extension; level=3\r\nSec-WebSocket-Protocol: chat.v1,  chat.v2\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n`;
  const mask = (): Buffer => crypto.randomBytes(4);
  const deviceFrames = Buffer.concat([
    frame(0x1, Buffer.from('hel'), { mask: mask(), fin: false }),
    frame(0x9, Buffer.from('ping between fragments'), { mask: mask() }),
    frame(0x0, Buffer.from('lo, photo follows'), { mask: mask() }),
    frame(0x2, deflated('{"sms":"+8613800138000 meet at 6"}'), { mask: mask(), rsv1: true }),
  ]);
  // The request and the first frames in one write, before any answer.
  device.write(Buffer.concat([Buffer.from(request), deviceFrames]));

  const server = await origin.connection();
  const head = await server.received.until((bytes) => bytes.includes('\r\n\r\n'), 'the upgrade request at the origin');
  const answer = `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nCONNECTION: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\nSec-WebSocket-Protocol: chat.v2\r\nSec-WebSocket-Extensions: permessage-deflate\r\nX-Edge: one\r\nX-Edge: two\r\n\r\n`;
  const serverFrames = Buffer.concat([frame(0x1, Buffer.from('welcome, ')), frame(0x1, deflated('upload accepted'), { rsv1: true })]);
  server.socket.write(Buffer.concat([Buffer.from(answer), serverFrames]));

  const expectedAtServer = Buffer.concat([Buffer.from(request), deviceFrames]);
  await server.received.until((bytes) => bytes.length >= expectedAtServer.length, "the device's frames at the origin");
  t.equal(head.subarray(0, request.length).toString('latin1'), request, "the origin reads the device's upgrade request as written (its key, every extension offered)");
  t.ok(server.received.bytes().equals(expectedAtServer), "and the device's frames byte for byte (masks, fragments, the ping between them)");

  const expectedAtDevice = Buffer.concat([Buffer.from(answer), serverFrames]);
  await deviceReceived.until((bytes) => bytes.length >= expectedAtDevice.length, "the server's answer at the device");
  t.ok(deviceReceived.bytes().equals(expectedAtDevice), "the device reads the server's 101 and frames byte for byte");

  // The device closes with 4001; the server answers with its own 1001 and closes the connection.
  const deviceClose = frame(0x8, closePayload(4001, 'device says bye'), { mask: mask() });
  device.write(deviceClose);
  await server.received.until((bytes) => bytes.length >= expectedAtServer.length + deviceClose.length, 'the close at the origin');
  t.ok(server.received.bytes().subarray(expectedAtServer.length).equals(deviceClose), "the origin gets the device's close frame as sent");
  const serverClose = frame(0x8, closePayload(1001, 'going away'));
  server.socket.end(serverClose);
  await deviceReceived.until((bytes) => bytes.length >= expectedAtDevice.length + serverClose.length, "the server's close at the device");
  t.ok(deviceReceived.bytes().subarray(expectedAtDevice.length).equals(serverClose), "the device hears the server's own close (1001), not its own code echoed");
  device.end();

  const flow = await lab.next('flow:end', (f) => f.kind === 'websocket') as WebSocketFlow;
  t.equal(flow.error, undefined);
  t.same(flow.messages.map((m) => [m.fromClient, m.binary, m.data.toString()]), [
    [true, false, 'hello, photo follows'],
    [true, true, '{"sms":"+8613800138000 meet at 6"}'],
    [false, false, 'welcome, '],
    [false, false, 'upload accepted'],
  ], 'messages reassembled and inflated, in order');
  t.ok(flow.tags.includes('websocket:close-client-4001') && flow.tags.includes('websocket:close-server-1001'), `both closes tagged: ${flow.tags.join(' ')}`);
  t.same(flow.response?.headers.filter(([name]) => name === 'X-Edge'), [['X-Edge', 'one'], ['X-Edge', 'two']], "the flow holds the server's 101 fields as sent");
  t.equal(flow.response?.status, 101);
});

t.test('frames of an extension phonehome cannot read still pass; the flow says they went unread', async (t) => {
  const { origin, lab, device, deviceReceived, key } = await setUp(t);
  device.write(`GET /x HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: x-custom-extension\r\n\r\n`);
  const server = await origin.connection();
  await server.received.until((bytes) => bytes.includes('\r\n\r\n'), 'the upgrade request');
  const answer = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\nSec-WebSocket-Extensions: x-custom-extension\r\n\r\n`;
  // RSV2 set: meaningful only to the extension both sides agreed on.
  const custom = frame(0x1, Buffer.from('opaque to us'), { rsv2: true });
  server.socket.write(Buffer.concat([Buffer.from(answer), custom]));
  const expected = Buffer.concat([Buffer.from(answer), custom]);
  await deviceReceived.until((bytes) => bytes.length >= expected.length, 'the answer and the frame at the device');
  t.ok(deviceReceived.bytes().equals(expected), 'relayed as sent');
  const later = frame(0x1, Buffer.from('still relayed'), { mask: crypto.randomBytes(4) });
  const before = server.received.bytes().length;
  device.write(later);
  await server.received.until((bytes) => bytes.length >= before + later.length, 'a later device frame at the origin');
  t.ok(server.received.bytes().subarray(before).equals(later), 'the device side still goes through');
  server.socket.destroy();
  device.destroy();
  const flow = await lab.next('flow:end', (f) => f.kind === 'websocket');
  t.ok(flow.tags.includes('websocket:frames-unread'), `tagged: ${flow.tags.join(' ')}`);
});

t.test("a server that stops reading holds the device's frames back (TCP's backpressure, nothing held by us), and every byte arrives once it reads again", async (t) => {
  const total = 64 * 1024 * 1024;
  const chunk = patternedChunk();
  const { origin, lab, device, deviceReceived, key } = await setUp(t);
  const ticks = await startOrigin({ tls: false, handler: (_req, res) => res.end('tick') });
  t.teardown(() => ticks.close());
  device.write(`GET /bulk HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  const serverSocket = await origin.socket();
  const received = patternChecker(chunk);
  // The origin reads the upgrade request, then nothing until the test says so.
  const afterHead = new Promise<Buffer>((resolve) => {
    let head = Buffer.alloc(0);
    const onData = (data: Buffer): void => {
      head = Buffer.concat([head, data]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      serverSocket.off('data', onData);
      serverSocket.pause();
      resolve(head.subarray(end + 4));
    };
    serverSocket.on('data', onData);
  });
  const leftover = await within(afterHead, 10_000, 'the upgrade request at the origin');
  serverSocket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\n\r\n`);
  await deviceReceived.until((bytes) => bytes.includes('\r\n\r\n'), 'the 101 at the device');

  // One binary frame of 64 MiB, masked with a zero mask (valid, and the payload reads as sent).
  const frameHead = Buffer.alloc(14);
  frameHead[0] = 0x82;
  frameHead[1] = 0x80 | 127;
  frameHead.writeBigUInt64BE(BigInt(total), 2);
  device.write(frameHead);
  const sentByDevice = writePattern(device, chunk, total);
  const held = await heldAt(sentByDevice, total, () => Promise.all(Array.from({ length: 5 }, () => httpViaProxy({ proxyPort: lab.port, url: `http://127.0.0.1:${ticks.port}/tick` }))));
  t.ok(held !== undefined && held <= total / 4, `the device was held back while the server read nothing (after ${held ?? sentByDevice()} of ${total} bytes)`);

  let frameHeadLeft = 14;
  const all = new Promise<void>((resolve) => {
    const take = (data: Buffer): void => {
      // The frame's own 14-byte head first, then the payload, checked as it arrives.
      const headPart = Math.min(frameHeadLeft, data.length);
      frameHeadLeft -= headPart;
      received.add(data.subarray(headPart));
      if (received.bytes >= total) resolve();
    };
    take(leftover);
    serverSocket.on('data', take);
  });
  serverSocket.resume();
  await within(all, 60_000, 'all 64 MiB at the origin');
  t.equal(received.bytes, total, 'every byte arrived');
  t.ok(received.intact, "in order, the device's bytes");
  serverSocket.end(frame(0x8, closePayload(1000, '')));
  const flow = await lab.next('flow:end', (f) => f.kind === 'websocket') as WebSocketFlow;
  t.same(flow.messages.map((m) => [m.fromClient, m.binary, m.totalBytes]), [[true, true, total]], 'the message recorded with its size');
});

t.test('an upgrade to another protocol: the body reaches the server before its 101, then the bytes pass both ways and are recorded', async (t) => {
  const { origin, lab, device, deviceReceived } = await setUp(t);
  // Docker's attach, and an offer of h2c beside another protocol (not declined: not h2c alone).
  const request = `POST /containers/7/attach?stream=1 HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: Upgrade\r\nUpgrade: tcp, h2c\r\n\r\n{}`;
  device.write(request);
  const server = await origin.connection();
  await server.received.until((bytes) => bytes.length >= request.length, 'the request and its body at the origin, before any answer');
  t.equal(server.received.bytes().toString('latin1'), request, 'as the device wrote it');
  const answer = 'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n';
  server.socket.write(`${answer}container says hi\n`);
  await deviceReceived.until((bytes) => bytes.length >= answer.length + 17, 'the answer and the first bytes at the device');
  t.equal(deviceReceived.bytes().toString('latin1'), `${answer}container says hi\n`, "the device reads the server's 101 and bytes as sent");
  device.write('ls /sdcard/DCIM\n');
  await server.received.until((bytes) => bytes.length >= request.length + 16, 'the device bytes after the 101');
  t.equal(server.received.bytes().subarray(request.length).toString(), 'ls /sdcard/DCIM\n');
  server.socket.end('IMG_0001.jpg\n');
  await deviceReceived.until((bytes) => bytes.toString().endsWith('IMG_0001.jpg\n'), 'the last bytes at the device');
  device.end();
  const flow = await lab.next('flow:end', (f) => f.request?.url.endsWith('/containers/7/attach?stream=1') === true);
  t.equal(flow.kind, 'http');
  t.equal(flow.response?.status, 101);
  t.ok(flow.tags.includes('http:upgraded'), `tagged: ${flow.tags.join(' ')}`);
  t.equal(flow.request?.body.bytes.toString(), '{}ls /sdcard/DCIM\n', "the device's bytes: its body, then what it sent after the 101");
  t.equal(flow.response?.body.bytes.toString(), 'container says hi\nIMG_0001.jpg\n', "the server's bytes after its 101");
  t.equal(flow.error, undefined);
});

t.test('an upgrade request whose body comes after its head: the server reads the whole body before it answers, then the bytes past it', async (t) => {
  const { origin, lab, device, deviceReceived } = await setUp(t);
  // More than one socket read, so the body comes to phonehome in many pieces after the head.
  const body = JSON.stringify({ Detach: false, Env: 'x'.repeat(300_000) });
  const request = `POST /containers/9/attach HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`;
  device.write(request);
  const server = await origin.connection();
  await server.received.until((bytes) => bytes.length >= request.length, 'the head at the origin');
  // Now the body, and behind it the first bytes of the new protocol in the same write.
  device.write(`${body}ls\n`);
  // Like Docker, the server answers only once it has read the whole body.
  await server.received.until((bytes) => bytes.length >= request.length + body.length, 'the whole body at the origin, before any answer');
  t.equal(server.received.bytes().subarray(0, request.length + body.length).toString('latin1'), request + body, 'the head and the body as the device wrote them');
  const answer = 'HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n';
  server.socket.write(answer);
  await server.received.until((bytes) => bytes.length >= request.length + body.length + 3, 'the bytes past the body at the origin');
  t.equal(server.received.bytes().subarray(request.length + body.length).toString(), 'ls\n', 'the bytes past the body follow it');
  server.socket.end('IMG_0002.jpg\n');
  await deviceReceived.until((bytes) => bytes.toString('latin1') === `${answer}IMG_0002.jpg\n`, 'the 101 and the bytes after it at the device');
  device.end();
  const flow = await lab.next('flow:end', (f) => f.request?.url.endsWith('/containers/9/attach') === true);
  t.equal(flow.response?.status, 101);
  t.equal(flow.request?.body.bytes.toString(), `${body}ls\n`, "the device's bytes in order: its body, then what it sent past it");
  t.equal(flow.error, undefined);
});

t.test('an upgrade refused before its body has all come: the device reads the refusal, then its connection ends (the rest of the body is not read as a request)', async (t) => {
  const { origin, lab, device, deviceReceived } = await setUp(t);
  const request = `POST /containers/9/attach HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 1000\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`;
  device.write(`${request}first part`);
  const server = await origin.connection();
  await server.received.until((bytes) => bytes.length >= request.length + 10, 'the head and the first part at the origin');
  const refusal = 'HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nno such 9';
  server.socket.write(refusal);
  const closed = once(device, 'close');
  await deviceReceived.until((bytes) => bytes.toString('latin1') === refusal, 'the refusal at the device');
  device.write(`GET /not-a-request HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  await within(closed, 10_000, 'the device connection to close');
  t.equal(deviceReceived.bytes().toString('latin1'), refusal, 'the refusal, and nothing after it (no 400 for the rest of the body)');
  const flow = await lab.next('flow:end', (f) => f.request?.url.endsWith('/containers/9/attach') === true);
  t.equal(flow.response?.status, 404);
  t.equal(flow.request?.body.bytes.toString(), 'first part', 'the part of the body that went to the server');
});

t.test("a server whose refusal stalls past the upgrade's deadline: the device's answer is cut, never followed by a 502", async (t) => {
  const saved = limits.upstreamConnectTimeoutMs;
  (limits as { upstreamConnectTimeoutMs: number }).upstreamConnectTimeoutMs = 300;
  t.teardown(() => { (limits as { upstreamConnectTimeoutMs: number }).upstreamConnectTimeoutMs = saved; });
  const { origin, lab, device, deviceReceived, key } = await setUp(t);
  device.write(`GET /chat HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  const server = await origin.connection();
  await server.received.until((bytes) => bytes.includes('\r\n\r\n'), 'the upgrade request');
  // A refusal whose body never comes whole.
  server.socket.write('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nnot for yo');
  const closed = once(device, 'close');
  const flow = await lab.next('flow:end', (f) => f.kind === 'http' || f.kind === 'websocket');
  await within(closed, 10_000, 'the device connection to close');
  const text = deviceReceived.bytes().toString('latin1');
  t.match(text, /^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*\r\n\r\nnot for yo$/, `the refusal as far as it came, and no more: ${JSON.stringify(text)}`);
  t.match(flow.error, /403/, 'the flow says why');
});

t.test('a server that hangs up on the upgrade without answering: the device\'s connection ends the same way, not with a 502 of ours', async (t) => {
  const { origin, lab, device, deviceReceived, key } = await setUp(t);
  device.write(`GET /chat HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  const server = await origin.connection();
  await server.received.until((bytes) => bytes.includes('\r\n\r\n'), 'the upgrade request');
  const closed = once(device, 'close');
  server.socket.destroy();
  const flow = await lab.next('flow:end', (f) => f.kind === 'http' || f.kind === 'websocket');
  await within(closed, 10_000, 'the device connection to close');
  t.equal(deviceReceived.bytes().length, 0, 'the device read nothing, as it would have direct');
  t.match(flow.error, /ended the connection before it answered the upgrade/, 'the flow says why');
});

t.test('a refused upgrade: the device reads the answer as the server framed it, and its connection goes on to the next request', async (t) => {
  const { origin, lab, device, deviceReceived, key } = await setUp(t);
  device.write(`GET /chat HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  const server = await origin.connection();
  await server.received.until((bytes) => bytes.includes('\r\n\r\n'), 'the upgrade request');
  const refusal = 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm="chat"\r\nTransfer-Encoding: chunked\r\nTrailer: X-Why\r\n\r\n';
  // A pin on our certificate would lock the device out: dropped, as from every answer.
  server.socket.write(`${refusal.replace('\r\n\r\n', '\r\nPublic-Key-Pins: pin-sha256="AAAA"; max-age=60\r\n\r\n')}5\r\nlogin\r\n0\r\nX-Why: expired\r\n\r\n`);
  const answered = await deviceReceived.until((bytes) => bytes.includes('\r\n0\r\n') && bytes.toString('latin1').endsWith('\r\n\r\n') && bytes.length > refusal.length, 'the whole refusal at the device');
  const text = answered.toString('latin1');
  t.equal(text.slice(0, refusal.length), refusal, "the server's status line and fields, its framing included, no Connection: close of ours, no Public-Key-Pins");
  t.match(text.slice(refusal.length), /^(?:[0-9a-f]+\r\n[\s\S]*?\r\n)*0\r\nX-Why: expired\r\n\r\n$/, 'the body chunked, with the trailer');
  t.equal(dechunk(text.slice(refusal.length)), 'login', "the server's body");
  const flow = await lab.next('flow:end', (f) => f.kind === 'websocket');
  t.equal(flow.response?.status, 401);

  // The device goes on with an ordinary request on the same connection, as it could direct.
  const before = deviceReceived.bytes().length;
  device.write(`GET /token HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  // On the server connection it came on, as direct.
  await server.received.until((bytes) => bytes.toString('latin1').includes('GET /token HTTP/1.1\r\n'), 'the next request at the origin, on the same connection');
  server.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh');
  await deviceReceived.until((bytes) => bytes.length >= before + 'HTTP/1.1 200 OK'.length && bytes.toString('latin1').endsWith('fresh'), 'the next answer at the device');
  t.match(deviceReceived.bytes().subarray(before).toString('latin1'), /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nfresh$/, 'answered on the same device connection');
  const second = await lab.next('flow:end', (f) => f.request?.url.endsWith('/token') === true);
  t.equal(second.response?.status, 200);
});
