// The HTTP/1 request relay (http1-request-relay.ts), on what it took over from http-mitm-proxy:
// the request that reaches the server, the headers that reach the device, and a server that
// fails halfway through its answer.

import http from 'node:http';
import t from 'tap';
import { httpViaProxy, httpsViaProxy, startLab, startOrigin } from '../helpers/lab.js';

t.test('an absolute-form request reaches the server in origin-form, without the proxy headers', async (t) => {
  let seen: http.IncomingMessage | undefined;
  const origin = await startOrigin({ tls: false, handler: (req, res) => { seen = req; req.resume(); res.end('ok'); } });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const answer = await httpViaProxy({ proxyPort: lab.port, url: `http://api.example.test:${origin.port}/v1/items?page=2`, headers: { 'proxy-connection': 'keep-alive', 'x-app': 'demo' } });
  t.equal(answer.status, 200);
  t.equal(seen?.url, '/v1/items?page=2', 'origin-form path and query');
  t.equal(seen?.headers['x-app'], 'demo', "the device's own headers go on");
  t.equal(seen?.headers['proxy-connection'], undefined, 'Proxy-* headers stay with the proxy');
  t.equal(answer.headers['proxy-connection'], undefined, 'nothing is added for an HTTP/1.1 client: its connection stays open by default');
  const flow = await lab.next('flow:end');
  t.equal(flow.request?.url, `http://api.example.test:${origin.port}/v1/items?page=2`);
});

t.test("the server's headers reach the device as they came, less Public-Key-Pins", async (t) => {
  const origin = await startOrigin({ tls: true, handler: (_req, res) => {
    res.setHeader('set-cookie', ['a=1', 'b=2']);
    res.setHeader('public-key-pins', 'pin-sha256="AAAA"; max-age=5184000');
    res.setHeader('public-key-pins-report-only', 'pin-sha256="AAAA"; max-age=5184000');
    res.setHeader('x-served-by', 'origin');
    res.end('hello');
  } });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const answer = await httpsViaProxy({ proxyPort: lab.port, host: 'api.example.test', port: origin.port, trust: lab.ca.certPem });
  t.equal(answer.body.toString(), 'hello');
  t.same(answer.headers['set-cookie'], ['a=1', 'b=2'], 'repeated headers stay repeated');
  t.equal(answer.headers['x-served-by'], 'origin');
  t.equal(answer.headers['public-key-pins'], undefined, 'a pin on our certificate would lock the device out');
  t.equal(answer.headers['public-key-pins-report-only'], undefined);
  const flow = await lab.next('flow:end');
  t.ok(flow.response?.headers.some(([name]) => name.toLowerCase() === 'public-key-pins'), 'the record keeps what the server sent');
});

t.test('a server that dies mid-answer: the device sees a broken response, the flow says why', async (t) => {
  const origin = await startOrigin({ tls: true, handler: (_req, res) => {
    res.writeHead(200, { 'content-length': 1000 });
    res.write('x'.repeat(100), () => res.socket?.destroy());
  } });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  await t.rejects(httpsViaProxy({ proxyPort: lab.port, host: 'api.example.test', port: origin.port, trust: lab.ca.certPem }), 'not a short body that looks whole');
  const flow = await lab.next('flow:end');
  t.equal(flow.response?.status, 200);
  t.match(flow.error, /upstream|closed/);
  t.equal(flow.response?.body.totalBytes, 100);
});
