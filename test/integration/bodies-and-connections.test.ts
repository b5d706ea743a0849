import t from 'tap';
import http from 'node:http';
import https from 'node:https';
import { once } from 'node:events';
import { getWithAgent, httpsViaProxy, startLab, startOrigin, TunnelAgent, connectTunnel, within } from '../helpers/lab.js';
import { heldAt, patternChecker, patternedChunk, writePattern } from '../helpers/held-back.js';
import tls from 'node:tls';

t.test('a body over --body-limit is forwarded whole and marked as inspected partly', async (t) => {
  let received = 0;
  const origin = await startOrigin({ tls: true, handler: (req, res) => {
    req.on('data', (c: Buffer) => { received += c.length; });
    req.on('end', () => res.end(Buffer.alloc(3000, 0x62)));
  } });
  const lab = await startLab({ bodyLimitBytes: 1000 });
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const res = await httpsViaProxy({ proxyPort: lab.port, host: 'api.example.test', port: origin.port, method: 'POST', body: Buffer.alloc(5000, 0x61), trust: lab.ca.certPem });
  t.equal(received, 5000, 'upstream got every byte');
  t.equal(res.body.length, 3000, 'the client got every byte');
  const flow = await lab.next('flow:end', (f) => f.kind === 'http');
  t.equal(flow.request?.body.bytes.length, 1000);
  t.equal(flow.request?.body.totalBytes, 5000);
  t.ok(flow.request?.body.truncated);
  t.equal(flow.response?.body.bytes.length, 1000);
  t.ok(flow.tags.includes('inspected:partial'));
});

t.test('Content-Length of responses is kept (no forced chunking)', async (t) => {
  const origin = await startOrigin({ tls: true, handler: (_req, res) => { res.setHeader('content-length', '5'); res.end('hello'); } });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const res = await httpsViaProxy({ proxyPort: lab.port, host: 'api.example.test', port: origin.port, trust: lab.ca.certPem });
  t.equal(res.headers['content-length'], '5');
  t.equal(res.headers['transfer-encoding'], undefined);
});

t.test('a client that aborts an upload makes the proxy abort upstream (engine defect #7)', async (t) => {
  let upstreamClosed!: (complete: boolean) => void;
  const closed = new Promise<boolean>((resolve) => { upstreamClosed = resolve; });
  let started!: () => void;
  const uploadStarted = new Promise<void>((resolve) => { started = resolve; });
  const origin = await startOrigin({ tls: true, handler: (req) => {
    req.once('data', () => started());
    req.on('close', () => upstreamClosed(req.complete));
    req.resume();
  } });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const { socket } = await connectTunnel(lab.port, `api.example.test:${origin.port}`);
  const secure = tls.connect({ socket, ca: lab.ca.certPem, servername: 'api.example.test' });
  await once(secure, 'secureConnect');
  secure.write(`POST /upload HTTP/1.1\r\nHost: api.example.test\r\nContent-Length: 100000000\r\n\r\n`);
  secure.write(Buffer.alloc(64 * 1024));
  await uploadStarted;
  secure.destroy();
  t.equal(await closed, false, 'upstream request closed before completion');
  const flow = await lab.next('flow:end', (f) => f.kind === 'http');
  t.ok(flow.error, `flow error: ${flow.error}`);
});

t.test('a response the client stops reading is aborted upstream too', async (t) => {
  let upstreamResponseClosed!: () => void;
  const closed = new Promise<void>((resolve) => { upstreamResponseClosed = resolve; });
  const origin = await startOrigin({ tls: true, handler: (_req, res) => {
    res.on('close', () => upstreamResponseClosed());
    const chunk = Buffer.alloc(64 * 1024);
    const pump = (): void => { while (res.write(chunk)); res.once('drain', pump); };
    pump();
  } });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const { socket } = await connectTunnel(lab.port, `api.example.test:${origin.port}`);
  const secure = tls.connect({ socket, ca: lab.ca.certPem, servername: 'api.example.test' });
  await once(secure, 'secureConnect');
  secure.write('GET /endless HTTP/1.1\r\nHost: api.example.test\r\n\r\n');
  await once(secure, 'data');
  secure.destroy();
  await within(closed, 10_000, 'the upstream response to close after the client left');
  t.pass('upstream response closed');
});

t.test('keep-alive: many requests share one tunnel, and upstream connections are reused', async (t) => {
  const upstreamPorts = new Set<number>();
  const origin = await startOrigin({ tls: true, handler: (req, res) => { upstreamPorts.add(req.socket.remotePort ?? 0); res.end(`r${req.url}`); } });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const agent = new TunnelAgent(lab.port, lab.ca.certPem, { maxSockets: 1 });
  for (let i = 0; i < 5; i++) {
    const res = await getWithAgent(agent, `https://api.example.test:${origin.port}/${i}`);
    t.equal(res.body.toString(), `r/${i}`);
  }
  agent.destroy();
  t.equal(agent.tunnelsOpened, 1, 'one CONNECT for five requests');
  t.equal(upstreamPorts.size, 1, 'one upstream connection for five requests');
});

t.test('a new host does not stall requests to known hosts, and leaves are cached', async (t) => {
  const origin = await startOrigin({ tls: true, handler: (_req, res) => res.end('x') });
  const lab = await startLab({ insecureUpstream: true });
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const hosts = Array.from({ length: 20 }, (_, i) => `h${i}.example.test`);
  const results = await Promise.all(hosts.map((host) => httpsViaProxy({ proxyPort: lab.port, host, port: origin.port, trust: lab.ca.certPem })));
  t.ok(results.every((r) => r.status === 200));
  t.equal(lab.proxy.leafStats.issued, 20, 'one leaf per host, issued once even when connections race');
  await httpsViaProxy({ proxyPort: lab.port, host: 'h0.example.test', port: origin.port, trust: lab.ca.certPem });
  t.equal(lab.proxy.leafStats.issued, 20, 'cached');
});

t.test('plain HTTP upload with backpressure delivers every byte in order', async (t) => {
  const crypto = await import('node:crypto');
  let digest = '';
  const origin = await startOrigin({ tls: false, handler: (req, res) => {
    const hash = crypto.createHash('sha256');
    req.on('data', (c: Buffer) => hash.update(c));
    req.on('end', () => { digest = hash.digest('hex'); res.end('ok'); });
  } });
  const lab = await startLab({ bodyLimitBytes: 1024 });
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const body = crypto.randomBytes(8 * 1024 * 1024);
  const req = http.request({ host: '127.0.0.1', port: lab.port, method: 'POST', path: `http://up.example.test:${origin.port}/`, headers: { host: `up.example.test:${origin.port}` } });
  req.end(body);
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  res.resume();
  await once(res, 'end');
  t.equal(digest, crypto.createHash('sha256').update(body).digest('hex'));
  void https;
});

/** Five small requests through the proxy at once, each on a tunnel of its own, to the origin's /tick. */
function smallRequests(lab: Awaited<ReturnType<typeof startLab>>, port: number): Promise<unknown> {
  return Promise.all(Array.from({ length: 5 }, () => httpsViaProxy({ proxyPort: lab.port, host: 'api.example.test', port, path: '/tick', trust: lab.ca.certPem })));
}

t.test('a device that stops reading holds the server back over HTTP/1.1, and every byte arrives once it reads again', async (t) => {
  const total = 64 * 1024 * 1024;
  const chunk = patternedChunk();
  let sent = (): number => 0;
  const origin = await startOrigin({ tls: true, handler: (req, res) => {
    if (req.url === '/tick') {
      res.end('tick');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
    sent = writePattern(res, chunk, total);
  } });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const { socket } = await connectTunnel(lab.port, `api.example.test:${origin.port}`);
  const req = https.request({ host: 'api.example.test', port: origin.port, path: '/large', createConnection: () => tls.connect({ socket, ca: lab.ca.certPem, servername: 'api.example.test' }) });
  req.end();
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  // Nobody reads `res` yet: Node's client stops reading the socket once its buffer is full.
  const held = await heldAt(() => sent(), total, () => smallRequests(lab, origin.port));
  t.ok(held !== undefined && held <= total / 4, `the server was held back while the device read nothing (after ${held ?? sent()} of ${total} bytes)`);
  const received = patternChecker(chunk);
  res.on('data', (data: Buffer) => received.add(data));
  await once(res, 'end');
  t.equal(received.bytes, total, 'every byte arrived');
  t.ok(received.intact, 'in order, the server\'s bytes');
  const flow = await lab.next('flow:end', (f) => f.request?.url.endsWith('/large') === true);
  t.equal(flow.response?.body.totalBytes, total);
});

t.test('a server that stops reading holds the device\'s upload back over HTTP/1.1, and every byte arrives once it reads again', async (t) => {
  const total = 64 * 1024 * 1024;
  const chunk = patternedChunk();
  const received = patternChecker(chunk);
  let upload: http.IncomingMessage | undefined;
  let resolveUpload!: () => void;
  const uploadArrived = new Promise<void>((resolve) => { resolveUpload = resolve; });
  const origin = await startOrigin({ tls: true, handler: (req, res) => {
    if (req.url === '/tick') {
      res.end('tick');
      return;
    }
    // The server reads nothing of the upload until the test says so.
    upload = req;
    req.pause();
    req.on('end', () => res.end('stored'));
    resolveUpload();
  } });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const { socket } = await connectTunnel(lab.port, `api.example.test:${origin.port}`);
  const req = https.request({ host: 'api.example.test', port: origin.port, path: '/upload', method: 'POST', headers: { 'content-length': total }, createConnection: () => tls.connect({ socket, ca: lab.ca.certPem, servername: 'api.example.test' }) });
  const sentByDevice = writePattern(req, chunk, total);
  await uploadArrived;
  const held = await heldAt(sentByDevice, total, () => smallRequests(lab, origin.port));
  t.ok(held !== undefined && held <= total / 4, `the device was held back while the server read nothing (after ${held ?? sentByDevice()} of ${total} bytes)`);
  upload!.on('data', (data: Buffer) => received.add(data));
  upload!.resume();
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  res.resume();
  await once(res, 'end');
  t.equal(res.statusCode, 200);
  t.equal(received.bytes, total, 'every byte arrived');
  t.ok(received.intact, 'in order, the device\'s bytes');
  const flow = await lab.next('flow:end', (f) => f.request?.url.endsWith('/upload') === true);
  t.equal(flow.request?.body.totalBytes, total);
});
