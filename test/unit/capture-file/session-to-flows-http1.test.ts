// HTTP/1.x sessions recorded from real Node clients and servers (through a relay that writes
// down each side's chunks), read back by sessionToFlows: keep-alive, chunked uploads with
// trailers, a body over the limit, HEAD and 304, pipelining, and the URL rules of a TLS session.

import http from 'node:http';
import net from 'node:net';
import t from 'tap';
import { sessionToFlows } from '../../../src/capture-file/session-to-flows.js';
import type { RecordedSession, RecordedTls } from '../../../src/capture-file/recorded-session.js';
import { limits } from '../../../src/limits.js';
import { headerValue, type Flow } from '../../../src/model/flow.js';
import { within } from '../../helpers/lab.js';
import { cutSession, startSessionRecorder } from '../../helpers/session-recorder.js';

const MiB = 1024 * 1024;

async function startServer(handler: http.RequestListener): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function request(agent: http.Agent, port: number, options: http.RequestOptions, body?: Buffer | ((req: http.ClientRequest) => void)): Promise<{ status: number; body: Buffer; trailers: NodeJS.Dict<string> }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, agent, ...options }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), trailers: res.trailers }));
    });
    req.on('error', reject);
    if (typeof body === 'function') body(req);
    else req.end(body);
  });
}

/** Runs `exchanges` through a recorder in front of `handler`, on one keep-alive connection; returns the session. */
async function record(handler: http.RequestListener, exchanges: (agent: http.Agent, port: number) => Promise<void>, tls?: RecordedTls): Promise<RecordedSession> {
  const server = await startServer(handler);
  const recorder = await startSessionRecorder(server.port, tls);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await exchanges(agent, recorder.port);
    agent.destroy();
    return await within(recorder.next(), 10_000, 'the recorded session');
  } finally {
    await recorder.close();
    await server.close();
  }
}

const echo: http.RequestListener = (req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => {
    const body = Buffer.concat(parts);
    res.setHeader('content-type', 'text/plain');
    res.end(`${req.method} ${req.url} ${body.length}`);
  });
};

t.test('keep-alive: three requests on one connection are three flows, in order, with their bodies', async (t) => {
  const session = await record(echo, async (agent, port) => {
    await request(agent, port, { path: '/one' });
    await request(agent, port, { path: '/two', method: 'POST', headers: { 'content-type': 'application/json' } }, Buffer.from('{"sms":"hello"}'));
    await request(agent, port, { path: '/three?x=1', method: 'PUT' }, Buffer.from('abc'));
  });
  const flows = sessionToFlows(session, { bodyLimitBytes: MiB, tags: ['analyzed'] });
  t.equal(flows.length, 3);
  t.same(flows.map((f) => [f.kind, f.request?.method, f.request?.url, f.response?.status]), [
    ['http', 'GET', `http://127.0.0.1:${session.server.port}/one`, 200],
    ['http', 'POST', `http://127.0.0.1:${session.server.port}/two`, 200],
    ['http', 'PUT', `http://127.0.0.1:${session.server.port}/three?x=1`, 200],
  ]);
  t.equal(flows[1]!.request!.body.bytes.toString(), '{"sms":"hello"}');
  t.equal(flows[1]!.response!.body.bytes.toString(), 'POST /two 15');
  t.equal(flows[2]!.response!.body.bytes.toString(), 'PUT /three?x=1 3');
  for (const flow of flows) {
    t.equal(flow.scheme, 'http');
    t.same(flow.client, session.client);
    t.same(flow.destination, session.server);
    t.ok(flow.tags.includes('analyzed') && flow.tags.includes('plain'), 'tags: the options and the live layer');
    t.notOk(flow.error);
    t.ok(flow.startedAt >= session.startedAt && flow.endedAt <= session.endedAt, 'times from the chunks');
    t.equal(flow.bytesUp, flow.request!.body.totalBytes);
  }
  t.equal(new Set(flows.map((f) => f.id)).size, 3, 'ids are new and distinct');
});

t.test('a chunked upload with trailers, answered chunked with trailers', async (t) => {
  const session = await record((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
      res.write('got ');
      res.write(String(Buffer.concat(parts).length));
      res.addTrailers({ 'x-checksum': `server-${req.trailers['x-upload-sum']}` });
      res.end();
    });
  }, async (agent, port) => {
    const reply = await request(agent, port, { path: '/upload', method: 'POST', headers: { 'transfer-encoding': 'chunked', trailer: 'x-upload-sum' } }, (req) => {
      req.write('first part, ');
      req.write('second part, ');
      req.addTrailers({ 'x-upload-sum': 'abc123' });
      req.end('last');
    });
    t.equal(reply.trailers['x-checksum'], 'server-abc123');
  });
  const [flow, ...rest] = sessionToFlows(session, { bodyLimitBytes: MiB });
  t.equal(rest.length, 0);
  t.equal(flow!.request!.body.bytes.toString(), 'first part, second part, last');
  t.same(flow!.request!.trailers, [['x-upload-sum', 'abc123']]);
  t.equal(flow!.response!.body.bytes.toString(), 'got 29');
  t.same(flow!.response!.trailers, [['x-checksum', 'server-abc123']]);
  t.equal(headerValue(flow!.request!.headers, 'transfer-encoding'), 'chunked', 'headers as they were sent');
});

t.test('a 32 MiB upload against a 1 MiB limit is cut and tagged, and counted whole', async (t) => {
  const body = Buffer.alloc(32 * MiB, 0x61);
  body.write('START', 0);
  const session = await record(echo, async (agent, port) => {
    const reply = await request(agent, port, { path: '/big', method: 'POST' }, body);
    t.equal(reply.body.toString(), `POST /big ${32 * MiB}`);
    await request(agent, port, { path: '/after' });
  });
  const flows = sessionToFlows(session, { bodyLimitBytes: MiB });
  t.equal(flows.length, 2, 'the request after the large one is found: framing kept');
  const big = flows[0]!.request!.body;
  t.equal(big.totalBytes, 32 * MiB);
  t.equal(big.bytes.length, MiB);
  t.ok(big.truncated);
  t.equal(big.bytes.subarray(0, 5).toString(), 'START');
  t.ok(flows[0]!.tags.includes('inspected:partial'));
  t.notOk(flows[1]!.tags.includes('inspected:partial'));
  t.equal(flows[1]!.request!.url.endsWith('/after'), true);
});

t.test('HEAD and 304 carry no body, and the next exchange on the connection still parses', async (t) => {
  const session = await record((req, res) => {
    if (req.url === '/cached') {
      res.writeHead(304, { etag: '"v1"' });
      res.end();
      return;
    }
    const body = 'x'.repeat(1234);
    res.writeHead(200, { 'content-length': body.length, 'content-type': 'text/plain' });
    res.end(req.method === 'HEAD' ? undefined : body);
  }, async (agent, port) => {
    await request(agent, port, { path: '/doc', method: 'HEAD' });
    await request(agent, port, { path: '/cached', headers: { 'if-none-match': '"v1"' } });
    await request(agent, port, { path: '/doc' });
  });
  const flows = sessionToFlows(session, { bodyLimitBytes: MiB });
  t.same(flows.map((f) => [f.request?.method, f.response?.status, f.response?.body.totalBytes]), [['HEAD', 200, 0], ['GET', 304, 0], ['GET', 200, 1234]]);
  t.equal(headerValue(flows[0]!.response!.headers, 'content-length'), '1234');
  t.ok(flows.every((f) => !f.error));
});

t.test('pipelined requests are paired with their responses in order', async (t) => {
  const server = await startServer(echo);
  const recorder = await startSessionRecorder(server.port);
  try {
    const socket = net.connect(recorder.port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    // Three requests in one write, the last asking the server to close.
    socket.write('GET /a HTTP/1.1\r\nHost: pipe.test\r\n\r\nPOST /b HTTP/1.1\r\nHost: pipe.test\r\nContent-Length: 5\r\n\r\nhelloGET /c HTTP/1.1\r\nHost: pipe.test\r\nConnection: close\r\n\r\n');
    await within(new Promise((resolve) => socket.on('close', resolve)), 10_000, 'the server closes');
    t.equal((Buffer.concat(received).toString().match(/HTTP\/1\.1 200/g) ?? []).length, 3, 'the server answered all three');
    const session = await within(recorder.next(), 10_000, 'the session');
    t.ok(session.chunks.filter((c) => c.fromClient).length === 1, 'the requests came in one chunk');
    const flows = sessionToFlows(session, { bodyLimitBytes: MiB });
    t.same(flows.map((f) => [f.request?.url, f.response?.body.bytes.toString()]), [
      [`http://pipe.test:${session.server.port}/a`, 'GET /a 0'],
      [`http://pipe.test:${session.server.port}/b`, 'POST /b 5'],
      [`http://pipe.test:${session.server.port}/c`, 'GET /c 0'],
    ]);
  } finally {
    await recorder.close();
    await server.close();
  }
});

t.test('a decrypted TLS session: https URLs named by Host, else the SNI; TLS facts on the flow', async (t) => {
  const tls: RecordedTls = { sni: 'api.example.test', alpn: 'http/1.1', version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', decrypted: true };
  const session = await record(echo, async (agent, port) => {
    await request(agent, port, { path: '/named', headers: { host: 'photos.example.test' } });
  }, tls);
  const [flow] = sessionToFlows(session, { bodyLimitBytes: MiB, tags: ['decrypted-later'] });
  t.equal(flow!.request!.url, `https://photos.example.test:${session.server.port}/named`);
  t.equal(flow!.scheme, 'https');
  t.equal(flow!.sni, 'api.example.test');
  t.equal(flow!.alpn, 'http/1.1');
  t.same(flow!.tls, { client: { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' } });
  t.ok(flow!.tags.includes('decrypted-later') && flow!.tags.includes('decrypted'));
  t.equal(flow!.mode, 'transparent');

  // Without a Host header (HTTP/1.0), the SNI names the URL.
  const plain = { ...session, chunks: [{ fromClient: true, time: session.startedAt, data: Buffer.from('GET /x HTTP/1.0\r\n\r\n') }, { fromClient: false, time: session.endedAt, data: Buffer.from('HTTP/1.0 200 OK\r\n\r\nbody until close') }] };
  const [bySni] = sessionToFlows(plain, { bodyLimitBytes: MiB });
  t.equal(bySni!.request!.url, `https://api.example.test:${session.server.port}/x`);
  t.equal(bySni!.response!.body.bytes.toString(), 'body until close', 'a response without length runs to the close');
});

function flowsOf(chunks: Array<[boolean, string]>): Flow[] {
  const time = '2026-12-02T10:00:00.000Z';
  return sessionToFlows({
    client: { ip: '10.0.0.2', port: 40000 }, server: { ip: '93.184.216.34', port: 80 }, startedAt: time, endedAt: time,
    chunks: chunks.map(([fromClient, text]) => ({ fromClient, time, data: Buffer.from(text, 'latin1') })), bytesUp: 0, bytesDown: 0, tags: ['pcap:gap'],
  }, { bodyLimitBytes: MiB });
}

t.test('interim 1xx responses are passed over; a truncated body is kept with an error', async (t) => {
  const flows = flowsOf([
    [true, 'POST /u HTTP/1.1\r\nHost: a.test\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n'],
    [false, 'HTTP/1.1 100 Continue\r\n\r\n'],
    [true, 'data'],
    [false, 'HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok'],
    [true, 'GET /cut HTTP/1.1\r\nHost: a.test\r\n\r\n'],
    [false, 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part'],
  ]);
  t.equal(flows.length, 2);
  t.equal(flows[0]!.response!.status, 201);
  t.ok(flows[0]!.tags.includes('http:interim-100') && flows[0]!.tags.includes('pcap:gap'));
  t.equal(flows[0]!.request!.body.bytes.toString(), 'data');
  t.equal(flows[1]!.response!.body.bytes.toString(), 'only part');
  t.match(flows[1]!.error, /capture ended 91 bytes before the end of the response body/);
  t.equal(flows[1]!.request!.url, 'http://a.test/cut', 'the Host names the URL, the default port left out');
});

t.test('heads as large as live capture reads: 200 KiB of request head and of answer head are an exchange; past the limits, a remainder', async (t) => {
  const cookies = (name: string, kib: number): string => Array.from({ length: kib }, (_, i) => `${name}: c${i}=${'v'.repeat(1000)}\r\n`).join('');
  const [big] = flowsOf([
    [true, `GET /big HTTP/1.1\r\nHost: a.test\r\n${cookies('Cookie', 200)}\r\n`],
    [false, `HTTP/1.1 200 OK\r\n${cookies('Set-Cookie', 200)}Content-Length: 2\r\n\r\nok`],
  ]);
  t.equal(big!.kind, 'http');
  t.equal(big!.request!.headers.length, 201);
  t.equal(big!.response!.headers.length, 201);
  t.equal(big!.response!.body.bytes.toString(), 'ok');

  const [tooLong] = flowsOf([
    [true, 'GET /ok HTTP/1.1\r\nHost: a.test\r\n\r\n'],
    [false, `HTTP/1.1 200 OK\r\n${cookies('Set-Cookie', limits.http1MaxResponseHeadBytes / 1000)}Content-Length: 0\r\n\r\n`],
  ]);
  t.match(tooLong!.error, new RegExp(`head longer than ${limits.http1MaxResponseHeadBytes} bytes`));
});

t.test('what cannot be parsed becomes a raw remainder that says why', async (t) => {
  const flows = flowsOf([
    [true, 'GET /ok HTTP/1.1\r\nHost: a.test\r\n\r\n'],
    [false, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'],
    [true, 'GARBAGE\x00\x01 not http\r\n\r\n'],
    [false, 'whatever'],
  ]);
  t.equal(flows.length, 2);
  t.equal(flows[0]!.response!.status, 200);
  t.equal(flows[1]!.kind, 'raw');
  t.match(flows[1]!.error, /not HTTP\/1 from here on/);
  t.equal(flows[1]!.stream!.up.bytes.toString('latin1'), 'GARBAGE\x00\x01 not http\r\n\r\n');
  t.equal(flows[1]!.stream!.down.bytes.toString(), 'whatever');

  const noAnswer = flowsOf([[true, 'GET /lost HTTP/1.1\r\nHost: a.test\r\n\r\n']]);
  t.equal(noAnswer.length, 1);
  t.equal(noAnswer[0]!.error, 'no response in the capture');
});

t.test('a keep-alive session cut anywhere: no throw, and every exchange whole before the cut is kept', async (t) => {
  const session = await record(echo, async (agent, port) => {
    await request(agent, port, { path: '/one' });
    await request(agent, port, { path: '/two', method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (req) => {
      req.write('part one');
      req.end('part two');
    });
    await request(agent, port, { path: '/three' });
  });
  const total = session.chunks.reduce((sum, c) => sum + c.data.length, 0);
  let failures = 0;
  let previousWhole = 0;
  let monotonic = true;
  for (let point = 0; point <= total; point++) {
    const { chunks } = cutSession(session, point);
    try {
      const flows = sessionToFlows({ ...session, chunks }, { bodyLimitBytes: MiB });
      const whole = flows.filter((f) => f.kind === 'http' && !f.error).length;
      if (whole < previousWhole) monotonic = false;
      previousWhole = whole;
      if (point > 0 && flows.length === 0) failures++;
    } catch {
      failures++;
    }
  }
  t.equal(failures, 0, `cut at all ${total + 1} points: flows and no throw`);
  t.ok(monotonic, 'a longer capture never has fewer whole exchanges');
  t.equal(previousWhole, 3);
});

t.test('an empty line before a request (after a body) is passed over', async (t) => {
  const flows = flowsOf([
    [true, 'POST /a HTTP/1.1\r\nHost: a.test\r\nContent-Length: 2\r\n\r\nok\r\n'],
    [false, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'],
    [true, 'GET /b HTTP/1.1\r\nHost: a.test\r\n\r\n'],
    [false, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'],
  ]);
  t.same(flows.map((f) => [f.kind, f.request?.url, f.error]), [['http', 'http://a.test/a', undefined], ['http', 'http://a.test/b', undefined]]);
});
