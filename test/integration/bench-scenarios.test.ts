// The bench's request-rate rows against a real origin, direct: every request counted was answered
// by the server, over HTTP/1.1 keep-alive lanes and over HTTP/2 streams; the large-body row times
// one body after the untimed ones asked for; the WebSocket row counts messages the server echoed.

import t from 'tap';
import http2 from 'node:http2';
import { WebSocketServer } from 'ws';
import { CONCURRENCY, MB, h2SmallRequests, smallRequests, throughput, webSocketEcho } from '../../src/bench/scenarios.js';
import { getOriginCa, startH2Origin, startOrigin } from '../helpers/lab.js';

interface Teardown { teardown(fn: () => unknown): void }

/** An HTTPS origin answering 64 bytes, and how many requests it has answered so far. */
async function countingOrigin(t: Teardown): Promise<{ port: number; served: () => number }> {
  let served = 0;
  const origin = await startOrigin({ tls: true, hostname: '127.0.0.1', handler: (_req, res) => { served++; res.end('x'.repeat(64)); } });
  t.teardown(() => origin.close());
  return { port: origin.port, served: () => served };
}

/** The same over HTTP/2, with a session to it. */
async function countingH2Session(t: Teardown): Promise<{ session: http2.ClientHttp2Session; served: () => number }> {
  let served = 0;
  const origin = await startH2Origin({ hostname: '127.0.0.1', onStream: (stream) => { served++; stream.respond({ ':status': 200 }); stream.end('x'.repeat(64)); } });
  t.teardown(() => origin.close());
  const session = http2.connect(`https://127.0.0.1:${origin.port}`, { ca: getOriginCa().certPem });
  t.teardown(() => session.close());
  return { session, served: () => served };
}

const direct = { id: 'direct', trust: getOriginCa().certPem, stop: async () => undefined } as const;

t.test('small requests on keep-alive lanes: the count is what the server answered after the warm-up', async (t) => {
  const origin = await countingOrigin(t);
  let servedAtClockStart = -1;
  const result = await smallRequests(direct, origin.port, 0.3, () => { servedAtClockStart = origin.served(); });
  t.equal(servedAtClockStart, CONCURRENCY, 'one warm-up request per lane before the clock starts');
  t.ok(result.requests > 0, `${result.requests} requests`);
  t.equal(result.requests, origin.served() - CONCURRENCY, 'every counted request was answered, none twice');
  t.ok(result.seconds >= 0.3, 'measured over at least the time asked');
});

t.test('small requests after a warm-up: its requests have their own rate and are not counted in the measured one', async (t) => {
  const origin = await countingOrigin(t);
  let servedAtClockStart = -1;
  const result = await smallRequests(direct, origin.port, 0.2, () => { servedAtClockStart = origin.served(); }, 0.2);
  t.ok(result.warm.seconds >= 0.2 && result.warm.requests > 0, `${result.warm.requests} warm-up requests in ${result.warm.seconds.toFixed(2)} s`);
  t.equal(servedAtClockStart, CONCURRENCY + result.warm.requests, 'the clock starts after the warm-up');
  t.equal(result.requests, origin.served() - servedAtClockStart, 'only requests after the clock started are counted');
});

t.test('small requests as HTTP/2 streams on one session: the same count', async (t) => {
  const { session, served } = await countingH2Session(t);
  let servedAtClockStart = -1;
  const result = await h2SmallRequests(session, 0.3, () => { servedAtClockStart = served(); });
  t.equal(servedAtClockStart, 1, 'one warm-up stream before the clock starts');
  t.ok(result.requests > 0, `${result.requests} requests`);
  t.equal(result.requests, served() - 1, 'every counted stream was answered');
});

t.test('HTTP/2 small requests after a warm-up: the clock starts after it', async (t) => {
  const { session, served } = await countingH2Session(t);
  let servedAtClockStart = -1;
  const result = await h2SmallRequests(session, 0.2, () => { servedAtClockStart = served(); }, 0.2);
  t.ok(servedAtClockStart > 1, `${servedAtClockStart - 1} warm-up streams before the clock`);
  t.equal(result.requests, served() - servedAtClockStart, 'only streams after the clock started are counted');
});

t.test('a large upload timed after an untimed one: both reach the server whole, the clock starts between them', async (t) => {
  const uploads: number[] = [];
  const origin = await startOrigin({ tls: true, hostname: '127.0.0.1', handler: (req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => { bytes += chunk.length; });
    req.on('end', () => {
      if (req.url === '/upload') uploads.push(bytes);
      res.end('ok');
    });
  } });
  t.teardown(() => origin.close());
  let uploadsAtClockStart = -1;
  const rate = await throughput(direct, origin.port, 'upload', 2 * MB, { warmBodies: 1, onClockStart: () => { uploadsAtClockStart = uploads.length; } });
  t.same(uploads, [2 * MB, 2 * MB], 'the untimed body and the timed one, each whole');
  t.equal(uploadsAtClockStart, 1, 'the clock starts after the untimed body was answered');
  t.ok(rate > 0 && Number.isFinite(rate), `${rate.toFixed(0)} MB/s`);

  const alone: number[] = [];
  uploads.length = 0;
  await throughput(direct, origin.port, 'upload', MB, { onClockStart: () => alone.push(uploads.length) });
  t.same([alone, uploads], [[0], [MB]], 'no untimed body unless asked');
});

t.test('WebSocket echo: the messages timed are counted both ways, after the untimed ones, each echoed whole', async (t) => {
  const origin = await startOrigin({ tls: true, hostname: '127.0.0.1', handler: (_req, res) => res.end() });
  t.teardown(() => origin.close());
  const echo = new WebSocketServer({ server: origin.server, perMessageDeflate: false });
  const received: number[] = [];
  echo.on('connection', (socket) => socket.on('message', (data: Buffer) => {
    received.push(data.length);
    socket.send(data);
  }));
  t.teardown(() => echo.close());
  let receivedAtClockStart = -1;
  const moved = await webSocketEcho(direct, origin.port, { messages: 30, warm: 5, messageBytes: 4096, onClockStart: () => { receivedAtClockStart = received.length; } });
  t.equal(receivedAtClockStart, 5, 'the clock starts after the untimed messages came back');
  t.same(received, Array.from({ length: 35 }, () => 4096), 'every message reached the server whole, one at a time');
  t.equal(moved.megabytes, (2 * 30 * 4096) / MB, 'the timed messages, counted both ways');
  t.ok(moved.seconds > 0, `${moved.seconds.toFixed(3)} s`);
});
