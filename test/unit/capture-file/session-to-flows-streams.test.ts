// WebSocket, raw and opaque sessions read back by sessionToFlows, recorded from real clients
// (ws with permessage-deflate, an SMTP dialogue) through a relay that writes down each side's
// chunks; damaged sessions (garbage, cut anywhere) give flows and never a throw; and a photo
// upload read back this way is found by the default detectors, as a live one is.

import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import t, { type Test } from 'tap';
import { WebSocket, WebSocketServer } from 'ws';
import { sessionToFlows } from '../../../src/capture-file/session-to-flows.js';
import type { RecordedChunk, RecordedSession } from '../../../src/capture-file/recorded-session.js';
import { defaultDetectors } from '../../../src/inspect/detect/registry.js';
import { inspectFlow } from '../../../src/inspect/inspector.js';
import type { Flow } from '../../../src/model/flow.js';
import { within } from '../../helpers/lab.js';
import { cutSession, startSessionRecorder } from '../../helpers/session-recorder.js';

const MiB = 1024 * 1024;
const photo = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'fixtures', 'photos', 'camera.jpg'));

/** The session cut after `bytes` bytes of application data, as a capture that stopped there. */
function cut(session: RecordedSession, bytes: number): RecordedSession {
  return cutSession(session, bytes, ['pcap:gap']);
}

/** Every 1/steps of the session, and the first bytes one by one: no throw, and flows come out. */
function cutEverywhere(t: Test, session: RecordedSession, steps = 200): void {
  const total = session.chunks.reduce((sum, c) => sum + c.data.length, 0);
  const points = new Set<number>([...Array.from({ length: 64 }, (_, i) => i), ...Array.from({ length: steps + 1 }, (_, i) => Math.round((total * i) / steps))]);
  let failures = 0;
  for (const point of points) {
    try {
      const flows = sessionToFlows(cut(session, point), { bodyLimitBytes: MiB });
      if (flows.length === 0 && point > 0) failures++;
    } catch {
      failures++;
    }
  }
  t.equal(failures, 0, `cut at ${points.size} points: no throw`);
}

t.test('WebSocket with permessage-deflate: text, binary and compressed messages both ways, in order', async (t) => {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true });
  await new Promise((resolve) => server.once('listening', resolve));
  server.on('connection', (socket) => socket.on('message', (data: Buffer, binary: boolean) => socket.send(binary ? Buffer.concat([Buffer.from([0xff]), data]) : `echo:${data.toString()}`, { compress: data.length >= 100 })));
  const recorder = await startSessionRecorder((server.address() as net.AddressInfo).port);
  const large = 'location 46.5197,6.6323 '.repeat(200);
  let session: RecordedSession;
  try {
    const client = new WebSocket(`ws://127.0.0.1:${recorder.port}/live?room=1`, { perMessageDeflate: true });
    const replies: Array<[Buffer, boolean]> = [];
    let waiting: (() => void) | undefined;
    client.on('message', (data: Buffer, binary: boolean) => {
      replies.push([data, binary]);
      waiting?.();
    });
    await within(new Promise((resolve) => client.once('open', resolve)), 10_000, 'open');
    const roundTrip = async (data: string | Buffer): Promise<void> => {
      const before = replies.length;
      const answered = new Promise<void>((resolve) => {
        waiting = () => {
          if (replies.length > before) resolve();
        };
      });
      // Small messages go uncompressed, large ones compressed (with the window kept between them).
      client.send(data, { compress: data.length >= 100 });
      await within(answered, 10_000, 'the echo');
    };
    await roundTrip('hello');
    await roundTrip(Buffer.from([1, 2, 3]));
    await roundTrip(large);
    await roundTrip(`${large}again`);
    client.close(1000, 'bye');
    session = await within(recorder.next(), 10_000, 'the recorded session');
  } finally {
    await recorder.close();
    await new Promise((resolve) => server.close(resolve));
  }
  const serverBytes = Buffer.concat(session.chunks.filter((c) => !c.fromClient).map((c) => c.data)).toString('latin1');
  t.notOk(serverBytes.includes(`echo:${large}`), 'the large messages went compressed');
  t.ok(serverBytes.includes('echo:hello'), 'the small one did not');

  const flows = sessionToFlows(session, { bodyLimitBytes: MiB, tags: ['analyzed'] });
  t.equal(flows.length, 1);
  const flow = flows[0]!;
  t.equal(flow.kind, 'websocket');
  t.equal(flow.scheme, 'ws');
  t.equal(flow.request!.url, `ws://127.0.0.1:${session.server.port}/live?room=1`);
  t.equal(flow.response!.status, 101);
  t.same(flow.messages!.map((m) => [m.fromClient, m.binary, m.data.toString('latin1')]), [
    [true, false, 'hello'], [false, false, 'echo:hello'],
    [true, true, '\x01\x02\x03'], [false, true, '\xff\x01\x02\x03'],
    [true, false, large], [false, false, `echo:${large}`],
    [true, false, `${large}again`], [false, false, `echo:${large}again`],
  ]);
  t.ok(flow.tags.includes('websocket:close-client-1000'), 'the close is noted');
  t.ok(flow.tags.includes('analyzed'));
  t.notOk(flow.error);
  const times = flow.messages!.map((m) => m.time);
  t.same(times, [...times].sort(), 'message times from the chunks, in order');
  cutEverywhere(t, session);
});

t.test('an SMTP dialogue is one raw flow with both sides captured', async (t) => {
  const server = net.createServer((socket) => {
    socket.write('220 mail.test ESMTP\r\n');
    let data = false;
    socket.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      if (data) {
        if (text.endsWith('\r\n.\r\n')) {
          data = false;
          socket.write('250 queued\r\n');
        }
        return;
      }
      if (text.startsWith('DATA')) {
        data = true;
        socket.write('354 go on\r\n');
      } else if (text.startsWith('QUIT')) {
        socket.end('221 bye\r\n');
      } else {
        socket.write('250 ok\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const recorder = await startSessionRecorder((server.address() as net.AddressInfo).port);
  let session: RecordedSession;
  try {
    const client = net.connect(recorder.port, '127.0.0.1');
    const lines = ['EHLO phone\r\n', 'MAIL FROM:<me@phone.test>\r\n', 'RCPT TO:<you@mail.test>\r\n', 'DATA\r\n', 'Subject: hi\r\n\r\nmeet at 5\r\n.\r\n', 'QUIT\r\n'];
    let next = 0;
    client.on('data', () => {
      if (next < lines.length) client.write(lines[next++]!);
    });
    await within(new Promise((resolve) => client.on('close', resolve)), 10_000, 'the dialogue ends');
    session = await within(recorder.next(), 10_000, 'the recorded session');
  } finally {
    await recorder.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  const flows = sessionToFlows(session, { bodyLimitBytes: MiB });
  t.equal(flows.length, 1);
  const flow = flows[0]!;
  t.equal(flow.kind, 'raw');
  t.equal(flow.scheme, 'tcp');
  t.match(flow.stream!.up.bytes.toString(), /EHLO phone[\s\S]*meet at 5[\s\S]*QUIT/);
  t.match(flow.stream!.down.bytes.toString(), /^220 mail\.test ESMTP[\s\S]*221 bye/);
  t.equal(flow.bytesUp, session.bytesUp);
  t.equal(flow.bytesDown, session.bytesDown);
  t.ok(flow.tags.includes('stream:raw') && flow.tags.includes('stream:server-speaks-first'), 'the server spoke first: decided as the live stack decides it, on the greeting');
});

const baseSession: RecordedSession = {
  client: { ip: '10.0.0.2', port: 40000 }, server: { ip: '142.250.1.1', port: 443 },
  startedAt: '2026-12-02T10:00:00.000Z', endedAt: '2026-12-02T10:00:02.500Z', chunks: [], bytesUp: 0, bytesDown: 0, tags: [],
};

t.test('a TLS session without keys is one opaque tunnel with the bytes on the wire', async (t) => {
  const flows = sessionToFlows({ ...baseSession, tls: { sni: 'pinned.example.test', alpn: 'h2', version: 'TLSv1.3', decrypted: false }, bytesUp: 12345, bytesDown: 67890, tags: ['tls:no-keys'] }, { bodyLimitBytes: MiB, tags: ['analyzed'] });
  t.equal(flows.length, 1);
  const flow = flows[0]!;
  t.equal(flow.kind, 'tunnel');
  t.equal(flow.scheme, 'tls');
  t.equal(flow.sni, 'pinned.example.test');
  t.equal(flow.alpn, 'h2');
  t.same(flow.destination, baseSession.server);
  t.same(flow.client, baseSession.client);
  t.equal(flow.bytesUp, 12345);
  t.equal(flow.bytesDown, 67890);
  t.equal(flow.durationMs, 2500);
  t.same(flow.tags, ['analyzed', 'tls:no-keys', 'opaque:no-keys']);
  t.notOk(flow.stream);
});

t.test('garbage, empty and one-sided sessions: flows, never a throw', async (t) => {
  let seed = 7;
  const random = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff));
  const cases: Array<[string, RecordedChunk[], RecordedSession['tls']]> = [
    ['empty', [], undefined],
    ['random bytes', [{ fromClient: true, time: baseSession.startedAt, data: random(5000) }, { fromClient: false, time: baseSession.endedAt, data: random(3000) }], undefined],
    ['random bytes after ALPN h2', [{ fromClient: true, time: baseSession.startedAt, data: random(5000) }], { alpn: 'h2', decrypted: true }],
    ['random bytes after ALPN http/1.1', [{ fromClient: true, time: baseSession.startedAt, data: random(500) }], { alpn: 'http/1.1', decrypted: true }],
    ['an h2 preface and garbage', [{ fromClient: true, time: baseSession.startedAt, data: Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), random(200)]) }], undefined],
    ['a request line and garbage', [{ fromClient: true, time: baseSession.startedAt, data: Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n'), random(70_000)]) }], undefined],
    ['a server-only stream', [{ fromClient: false, time: baseSession.startedAt, data: random(100) }], undefined],
    ['a ClientHello the reader missed', [{ fromClient: true, time: baseSession.startedAt, data: Buffer.from([0x16, 0x03, 0x01, 0x00, 0x10]) }], undefined],
  ];
  for (const [name, chunks, tls] of cases) {
    let flows: Flow[] = [];
    t.doesNotThrow(() => {
      flows = sessionToFlows({ ...baseSession, chunks, ...(tls ? { tls } : {}) }, { bodyLimitBytes: MiB });
    }, name);
    t.ok(flows.length >= 1, `${name}: recorded`);
  }
  const [h2Garbage] = sessionToFlows({ ...baseSession, tls: { alpn: 'h2', decrypted: true }, chunks: cases[2]![1] }, { bodyLimitBytes: MiB });
  t.equal(h2Garbage!.kind, 'raw');
  t.match(h2Garbage!.error, /preface/);
});

t.test('a photo upload read back from a session is found by the default detectors', async (t) => {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('{"ok":true}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const recorder = await startSessionRecorder((server.address() as net.AddressInfo).port, { sni: 'upload.photos.test', alpn: 'http/1.1', version: 'TLSv1.3', decrypted: true });
  let session: RecordedSession;
  try {
    const boundary = '----phonehome-test-boundary';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="IMG_0001.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
      photo,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: recorder.port, method: 'POST', path: '/v1/upload', headers: { host: 'upload.photos.test', 'content-type': `multipart/form-data; boundary=${boundary}` } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(body);
    });
    session = await within(recorder.next(), 10_000, 'the recorded session');
  } finally {
    await recorder.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  const [flow] = sessionToFlows(session, { bodyLimitBytes: 32 * MiB, tags: ['decrypted-later'] });
  t.equal(flow!.request!.url, `https://upload.photos.test:${session.server.port}/v1/upload`);
  const { drafts, problems } = inspectFlow(flow!, defaultDetectors);
  t.same(problems, []);
  const photos = drafts.filter((d) => d.category === 'photo');
  t.ok(photos.length >= 1, 'a photo finding');
  t.equal(photos[0]?.direction, 'request');
  t.ok(photos[0]?.evidence.path.some((step) => /multipart/i.test(step)), `decoded through the multipart part: ${photos[0]?.evidence.path.join(' > ')}`);
});
