// A plain-HTTP request that offers h2c (curl --http2 here; the JDK's HttpClient sends the same
// offer with every request it makes without a proxy) passes through phonehome, its offer declined
// (h2c-upgrade-offer.ts): the origin reads what it reads direct without the Upgrade, HTTP2-Settings
// and their Connection line, curl gets what it gets direct, bodies and a second request on the
// connection included, and each flow is tagged. Until 2026-12-06 every such request got a 400.

import net from 'node:net';
import { once } from 'node:events';
import t, { type Test } from 'tap';
import { missingCommand, runClient } from '../conformance/differential.js';
import { startLab, until } from '../helpers/lab.js';

const skip = missingCommand('curl', 'curl');

/** An origin that records each connection's bytes and answers each request head with a fixed answer. */
async function recordingOrigin(t: Test): Promise<{ port: number; connections: string[] }> {
  const connections: string[] = [];
  const server = net.createServer((socket) => {
    const index = connections.push('') - 1;
    let unanswered = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      connections[index] += chunk.toString('latin1');
      unanswered += chunk.toString('latin1');
      // Each request here has a head and a Content-Length body of 5 bytes at most.
      for (let end = unanswered.indexOf('\r\n\r\n'); end >= 0; end = unanswered.indexOf('\r\n\r\n')) {
        const length = Number(/content-length: (\d+)/i.exec(unanswered.slice(0, end))?.[1] ?? 0);
        if (unanswered.length < end + 4 + length) break;
        const path = /^\w+ (\S+)/.exec(unanswered)![1]!;
        unanswered = unanswered.slice(end + 4 + length);
        const body = `answer to ${path}\n`;
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return { port: (server.address() as net.AddressInfo).port, connections };
}

/** The offer's lines taken out of what an origin read direct: what it should read through phonehome. */
function withoutOffer(bytes: string): string {
  return bytes.replace(/^(Connection: Upgrade, HTTP2-Settings|Upgrade: h2c|HTTP2-Settings: [^\r]*)\r\n/gm, '');
}

t.test('curl --http2 to a plain-HTTP origin: the offer declined, the rest as direct', { skip: skip ?? false }, async (t) => {
  const origin = await recordingOrigin(t);
  const lab = await startLab();
  t.teardown(() => lab.close());
  const urls = [`http://127.0.0.1:${origin.port}/first`, `http://127.0.0.1:${origin.port}/second`];
  const curl = (route: string[]) => runClient('curl', ['-q', '-sS', '-i', '--http2', ...route, '-d', 'hello', urls[0]!, '-d', 'again', urls[1]!]);

  const direct = await curl([]);
  t.equal(direct.status, 0, 'direct: curl succeeds');
  t.match(origin.connections[0], /Upgrade: h2c\r\n[\s\S]*hello[\s\S]*POST \/second[\s\S]*Upgrade: h2c/, 'direct: the origin reads the offer with both requests, on one connection');

  for (const [mode, route] of [['socks5', ['-x', `socks5h://127.0.0.1:${lab.port}`]], ['http-proxy', ['-x', `http://127.0.0.1:${lab.port}`]]] as const) {
    const before = origin.connections.length;
    const flowsBefore = lab.flows.length;
    const proxied = await curl([...route]);
    t.equal(proxied.text, direct.text, `${mode}: curl gets what it gets direct (status lines, headers, bodies)`);
    t.equal(origin.connections.length, before + 1, `${mode}: one server connection, as direct`);
    t.equal(origin.connections.at(-1), withoutOffer(origin.connections[0]!), `${mode}: the origin reads both requests as direct, without the offer`);
    await until(() => lab.flows.length >= flowsBefore + 2, 10_000, `${mode}: both flows`);
    const flows = lab.flows.slice(flowsBefore);
    t.same(flows.map((flow) => [flow.request?.url, flow.response?.status, flow.tags.includes('http:h2c-declined')]), [[urls[0], 200, true], [urls[1], 200, true]], `${mode}: each request is a flow of its own, tagged as declined`);
    t.ok(flows.every((flow) => flow.request?.headers.some(([name, value]) => name === 'Upgrade' && value === 'h2c')), `${mode}: the flow records the request as the device sent it, offer included`);
  }
});

