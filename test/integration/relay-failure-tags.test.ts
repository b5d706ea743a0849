// Who failed, in the flow (issue #23, planted bugs): a server that cannot be reached gives the
// device a 502 and the flow an `upstream:` tag naming the error; a device that goes away in the
// middle of its upload is its own failure (the request cut short), tagged as no server's.

import net from 'node:net';
import { once } from 'node:events';
import t from 'tap';
import { httpViaProxy, startLab, startOrigin, within } from '../helpers/lab.js';

/** A port nothing listens on: one the system gave us, closed again. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

t.test('a server that refuses the connection: 502 for the device, upstream:ECONNREFUSED on the flow', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const port = await closedPort();
  const answer = await within(httpViaProxy({ proxyPort: lab.port, url: `http://down.example.test:${port}/ping` }), 10_000, 'the answer');
  t.equal(answer.status, 502);
  const flow = await within(lab.next('flow:end'), 10_000, 'the flow');
  t.ok(flow.tags.includes('upstream:ECONNREFUSED'), `tags: ${flow.tags.join(', ')}`);
  t.match(flow.error, /^upstream: /);
});

t.test('a device that leaves mid-upload: the flow blames the request, and no upstream tag', async (t) => {
  let arrived!: () => void;
  const bodyStarted = new Promise<void>((resolve) => { arrived = resolve; });
  const origin = await startOrigin({ tls: false, handler: (req) => { req.once('data', () => arrived()); req.on('error', () => undefined); } });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const socket = net.connect(lab.port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(`POST http://api.example.test:${origin.port}/upload HTTP/1.1\r\nHost: api.example.test:${origin.port}\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(1000)}`);
  await within(bodyStarted, 10_000, 'the first bytes of the body at the server');
  socket.destroy();
  const flow = await within(lab.next('flow:end'), 10_000, 'the flow');
  t.notMatch(flow.error, /^upstream/);
  t.ok(flow.tags.some((tag) => tag.startsWith('client:')), `tags: ${flow.tags.join(', ')}`);
  t.notOk(flow.tags.some((tag) => tag.startsWith('upstream:')), `tags: ${flow.tags.join(', ')}`);
});
