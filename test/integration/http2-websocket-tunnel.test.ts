// WebSockets over HTTP/2 (RFC 8441, http2-websocket-tunnel.ts): the proxy allows extended CONNECT
// to the device only when the device's server allows it; the CONNECT stream then carries the
// device's frames to the server and the server's to the device byte for byte (masks, close frames
// and all), and the flow records the messages it watched go by. A device talks to an HTTP/2 origin
// through a CONNECT tunnel with Node's own HTTP/2 client; the frames are built here by hand.

import crypto from 'node:crypto';
import http2 from 'node:http2';
import zlib from 'node:zlib';
import { once } from 'node:events';
import t from 'tap';
import type { WebSocketFlow } from '../../src/model/flow.js';
import { h2ViaProxy, startH2Origin, startLab, until, within } from '../helpers/lab.js';

const HOST = 'api.example.test';

/** One WebSocket frame: masked (a client's) when `mask` is given. */
function frame(opcode: number, payload: Buffer, options: { mask?: Buffer; fin?: boolean; rsv1?: boolean } = {}): Buffer {
  const first = ((options.fin ?? true) ? 0x80 : 0) | (options.rsv1 ? 0x40 : 0) | opcode;
  const length = payload.length < 126 ? Buffer.from([payload.length]) : Buffer.from([126, payload.length >> 8, payload.length & 0xff]);
  if (options.mask) length[0]! |= 0x80;
  const body = options.mask ? payload.map((byte, i) => byte ^ options.mask![i % 4]!) : payload;
  return Buffer.concat([Buffer.from([first]), length, ...(options.mask ? [options.mask] : []), Buffer.from(body)]);
}

const closeFrame = (code: number, mask?: Buffer): Buffer => frame(0x8, Buffer.from([code >> 8, code & 0xff]), mask ? { mask } : {});

/** A client's permessage-deflate message: the compressed bytes without their last four. */
function deflated(text: string): Buffer {
  const all = zlib.deflateRawSync(Buffer.from(text), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return all.subarray(0, all.length - 4);
}

/** Waits for the session's peer SETTINGS to allow extended CONNECT, or to have said it will not. */
async function peerSettings(session: http2.ClientHttp2Session): Promise<http2.Settings> {
  if (!session.remoteSettings || session.connecting) await once(session, 'remoteSettings');
  return session.remoteSettings;
}

t.test('a WebSocket over HTTP/2 goes through as the device framed it, and its messages are recorded', async (t) => {
  const received: Buffer[] = [];
  let connectHeaders: http2.IncomingHttpHeaders | undefined;
  const serverFrames = Buffer.concat([frame(0x1, Buffer.from('welcome, photo received')), closeFrame(1000)]);
  const origin = await startH2Origin({
    settings: { enableConnectProtocol: true },
    onStream: (stream, headers) => {
      connectHeaders = headers;
      stream.respond({ ':status': 200, 'sec-websocket-protocol': 'chat.v2', 'sec-websocket-extensions': 'permessage-deflate' });
      stream.on('data', (chunk: Buffer) => {
        received.push(chunk);
        // The device's close (the last frame it sends) is answered with the server's frames.
        if (Buffer.concat(received).includes(Buffer.from([0x88]))) stream.end(serverFrames);
      });
    },
  });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });

  const { session } = await h2ViaProxy({ proxyPort: lab.port, host: HOST, port: origin.port, trust: lab.ca.certPem, alpn: ['h2'] });
  t.ok(session, 'h2 agreed');
  await until(() => session!.remoteSettings.enableConnectProtocol === true, 10_000, 'the proxy to allow extended CONNECT, as the origin does');
  const mask = crypto.randomBytes(4);
  const deviceFrames = Buffer.concat([
    frame(0x1, Buffer.from('sms:+33612345678 see you at 6'), { mask }),
    frame(0x2, Buffer.from('ffd8ffe0', 'hex'), { mask, fin: false }),
    frame(0x0, Buffer.from('00104a46', 'hex'), { mask }),
    frame(0x1, deflated('mail to ada@example.org'), { mask, rsv1: true }),
    closeFrame(1000, mask),
  ]);
  const stream = session!.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/chat?room=7', ':authority': `${HOST}:${origin.port}`, 'sec-websocket-version': '13', 'sec-websocket-protocol': 'chat.v1, chat.v2', 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits', 'X-Seen': 'one' }, { endStream: false });
  const [response] = (await within(once(stream, 'response'), 10_000, 'the answer to the CONNECT')) as [http2.IncomingHttpHeaders];
  t.equal(response[':status'], 200);
  t.equal(response['sec-websocket-protocol'], 'chat.v2', "the server's choice reaches the device");
  const got: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => got.push(chunk));
  stream.end(deviceFrames);
  await within(once(stream, 'end'), 10_000, "the server's frames");

  t.same(Buffer.concat(received), deviceFrames, "the server got the device's frames byte for byte, masks included");
  t.same(Buffer.concat(got), serverFrames, "the device got the server's frames byte for byte, its close included");
  t.equal(connectHeaders?.[':protocol'], 'websocket');
  t.equal(connectHeaders?.[':path'], '/chat?room=7');
  t.equal(connectHeaders?.['sec-websocket-protocol'], 'chat.v1, chat.v2', "the device's offer reaches the server");

  const flow = (await lab.next('flow:end', (f) => f.kind === 'websocket')) as WebSocketFlow;
  t.equal(flow.scheme, 'wss');
  t.equal(flow.response?.status, 200);
  t.same(flow.messages.map((m) => [m.fromClient, m.binary, m.data.toString(m.binary ? 'hex' : 'utf8')]), [
    [true, false, 'sms:+33612345678 see you at 6'],
    [true, true, 'ffd8ffe000104a46'],
    [true, false, 'mail to ada@example.org'],
    [false, false, 'welcome, photo received'],
  ], 'messages unmasked, reassembled and inflated, in order');
  t.ok(flow.tags.includes('websocket:close-client-1000') && flow.tags.includes('websocket:close-server-1000'), 'both closes are said');
  t.notOk(flow.tags.includes('websocket:frames-unread'));
  session!.close();
});

t.test('extended CONNECT is not allowed to the device when its server does not allow it', async (t) => {
  const origin = await startH2Origin({ onStream: (stream) => { stream.respond({ ':status': 200 }); stream.end('ok'); } });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const { session } = await h2ViaProxy({ proxyPort: lab.port, host: HOST, port: origin.port, trust: lab.ca.certPem, alpn: ['h2'] });
  const settings = await peerSettings(session!);
  t.notOk(settings.enableConnectProtocol, 'not allowed');
  // A GET still answers, after which every SETTINGS the proxy meant to send has come.
  const get = session!.request({ ':path': '/' });
  get.resume();
  await once(get, 'end');
  t.notOk(session!.remoteSettings.enableConnectProtocol, 'still not allowed');
  session!.close();
});

t.test('frames the reader cannot read are still relayed, and the flow says they went unread', async (t) => {
  const received: Buffer[] = [];
  const origin = await startH2Origin({
    settings: { enableConnectProtocol: true },
    onStream: (stream) => {
      stream.respond({ ':status': 200 });
      stream.on('data', (chunk: Buffer) => received.push(chunk));
      stream.on('end', () => stream.end());
    },
  });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const { session } = await h2ViaProxy({ proxyPort: lab.port, host: HOST, port: origin.port, trust: lab.ca.certPem, alpn: ['h2'] });
  await until(() => session!.remoteSettings.enableConnectProtocol === true, 10_000, 'extended CONNECT to be allowed');
  const stream = session!.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/raw', ':authority': `${HOST}:${origin.port}`, 'sec-websocket-version': '13' }, { endStream: false });
  await once(stream, 'response');
  // An unmasked client frame: a server must refuse it, the reader stops, the bytes still go.
  const bytes = Buffer.concat([frame(0x1, Buffer.from('not masked')), Buffer.from('and then noise')]);
  stream.resume();
  stream.end(bytes);
  await within(once(stream, 'end'), 10_000, 'the tunnel to end');
  t.same(Buffer.concat(received), bytes, 'the server got every byte');
  const flow = await lab.next('flow:end', (f) => f.kind === 'websocket');
  t.ok(flow.tags.includes('websocket:frames-unread'));
  session!.close();
});
