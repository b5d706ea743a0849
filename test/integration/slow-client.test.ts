// A client that is only slow: its first bytes come after the sniff window, which the layer stack
// takes for a client waiting for a server that speaks first (mail on an unusual port). The server
// connection (made before the device was told yes) is then held for that greeting; when the
// client speaks first after all, in TLS or HTTP, the connection goes back to the stack and is
// decrypted or parsed as if it had been quick, and the connection held for the greeting is closed
// unused. Before, it was relayed as a stream: a late ClientHello went to the server as it was, so
// the device met the server's certificate and nothing was decrypted (found with the JDK's first
// handshake on a busy machine). The window is made 1 ms and the client is late by 20 ms on
// purpose: both are timers of this process, so the window always runs out first. The origin's
// second connection shows the late path was taken.

import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import t, { type Test } from 'tap';
import type http from 'node:http';
import { connectTunnel, startLab, startOrigin, withLimit, within, type Lab, type Origin } from '../helpers/lab.js';

const HOST = 'api.example.test';

/** How late the client is: well past the 1 ms window the tests set. */
const LATE_MS = 20;

/** The client's slowness itself (not a wait for an event): it says nothing for `LATE_MS`. */
function beLate(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, LATE_MS));
}

/** Counts the connections `server` accepts. */
function countConnections(server: net.Server): { count: number } {
  const counter = { count: 0 };
  server.on('connection', () => { counter.count++; });
  return counter;
}

/**
 * An origin (over TLS or not) and a lab with a 1 ms sniff window, and a tunnel to the origin whose
 * client has been late: the window has run out when this resolves.
 */
async function lateTunnel(t: Test, overTls: boolean, handler: http.RequestListener): Promise<{ lab: Lab; origin: Origin; socket: net.Socket; connections: { count: number } }> {
  withLimit(t, 'connectSniffTimeoutMs', 1);
  const origin = await startOrigin({ tls: overTls, handler });
  const connections = countConnections(origin.server as net.Server);
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const { socket, status } = await connectTunnel(lab.port, `${HOST}:${origin.port}`);
  t.equal(status, 200);
  await beLate();
  return { lab, origin, socket, connections };
}

t.test('a ClientHello that comes after the sniff window is still decrypted', async (t) => {
  const { lab, origin, socket, connections } = await lateTunnel(t, true, (_req, res) => res.end('late but decrypted'));
  const secure = tls.connect({ socket, servername: HOST, ca: lab.ca.certPem });
  await within(once(secure, 'secureConnect'), 10_000, 'the handshake with our certificate');
  secure.write(`GET /late HTTP/1.1\r\nHost: ${HOST}:${origin.port}\r\nConnection: close\r\n\r\n`);
  const chunks: Buffer[] = [];
  secure.on('data', (c: Buffer) => chunks.push(c));
  await within(once(secure, 'end'), 10_000, 'the answer');
  t.match(Buffer.concat(chunks).toString(), /\r\n\r\nlate but decrypted$/);
  const flow = await lab.next('flow:end', (f) => f.kind === 'http');
  t.ok(flow.tags.includes('decrypted'), 'decrypted');
  t.equal(lab.flows.filter((f) => f.kind === 'raw').length, 0, 'no stream flow for the greeting connection');
  t.equal(connections.count, 2, 'the connection held for a greeting, closed unused, and the one the TLS layer made: the late path');
});

t.test('an HTTP request that comes after the sniff window is parsed as HTTP', async (t) => {
  const { lab, origin, socket, connections } = await lateTunnel(t, false, (req, res) => res.end(`got ${req.url}`));
  socket.write(`GET /slow HTTP/1.1\r\nHost: ${HOST}:${origin.port}\r\nConnection: close\r\n\r\n`);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await within(once(socket, 'end'), 10_000, 'the answer');
  t.match(Buffer.concat(chunks).toString(), /got \/slow$/);
  const flow = await lab.next('flow:end', (f) => f.kind === 'http');
  t.equal(flow.request?.url, `http://${HOST}:${origin.port}/slow`);
  t.equal(connections.count, 2, 'the connection held for a greeting, closed unused, and the HTTP layer\'s: the late path');
});

t.test('a server that greets first still gets a stream, its greeting after the sniff window through CONNECT (a client may read its proxy\'s answer through a buffer)', async (t) => {
  const server = net.createServer((socket) => socket.end('220 mail.example.test ESMTP ready\r\n'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); server.close(); });
  const { socket } = await connectTunnel(lab.port, `${HOST}:${port}`);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await within(once(socket, 'end'), 10_000, 'the greeting');
  t.equal(Buffer.concat(chunks).toString(), '220 mail.example.test ESMTP ready\r\n');
  socket.end();
  const flow = await lab.next('flow:end', (f) => f.kind === 'raw');
  t.ok(flow.tags.includes('stream:client-silent'), `decided by the client's silence (${flow.tags})`);
});
