// connection-reset.ts: which errors are a peer's reset, and how a connection is reset: plain, under
// a TLS socket of ours, and not at all once it was ended (libuv refuses, and Node would then never
// close the socket: the leak found with request-relay.test.ts's server that dies mid-answer).

import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import t from 'tap';
import { isReset, layeredOver, resetConnection } from '../../../src/proxy/connection-reset.js';
import { getOriginCa, within } from '../../helpers/lab.js';

t.test('a reset is what a socket read as one, not what Node\'s HTTP client calls ECONNRESET', async (t) => {
  const rows: Array<[string, unknown, boolean]> = [
    ['a socket read error ECONNRESET', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'read' }), true],
    ['Node\'s "socket hang up" (a clean close before the answer)', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), false],
    ['Node\'s "aborted" (a clean close mid-answer)', Object.assign(new Error('aborted'), { code: 'ECONNRESET' }), false],
    ['a broken pipe', Object.assign(new Error('write EPIPE'), { code: 'EPIPE', errno: -32, syscall: 'write' }), false],
    ['nothing', undefined, false],
  ];
  for (const [name, error, expected] of rows) t.equal(isReset(error), expected, name);
});

/** A connected pair on 127.0.0.1: the accepted side (ours) and the connecting side (the device). */
async function pair(): Promise<{ ours: net.Socket; device: net.Socket; close(): void }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const device = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const [[ours]] = await Promise.all([accepted, once(device, 'connect')]);
  return { ours, device, close: () => server.close() };
}

/** How the device's side ended: the error's code, or `end`; and what it read before. */
function ending(device: net.Socket): Promise<string> {
  let read = '';
  device.on('data', (chunk: Buffer) => { read += chunk.toString(); });
  return within(new Promise<string>((resolve) => {
    device.once('error', (error: NodeJS.ErrnoException) => resolve(`${read} then ${error.code}`));
    device.once('end', () => resolve(`${read} then end`));
  }), 10_000, 'the device to see the end');
}

/**
 * Writes `text` on `ourSide` and resets it once `device` has read it (a reset arriving with unread
 * bytes reads as an end in libuv); how the device saw the end, once `tcp` (our TCP socket) closed.
 */
async function resetAfterRead(ourSide: net.Socket, tcp: net.Socket, device: net.Socket, text: string): Promise<string> {
  const seen = ending(device);
  ourSide.write(text);
  await once(device, 'data');
  const closed = once(tcp, 'close');
  resetConnection(ourSide);
  const how = await seen;
  await within(closed, 10_000, 'our TCP socket to close');
  return how;
}

t.test('a plain connection: the device reads what was written, then the reset', async (t) => {
  const { ours, device, close } = await pair();
  t.teardown(close);
  t.equal(await resetAfterRead(ours, ours, device, 'the last bytes'), 'the last bytes then ECONNRESET');
});

t.test('under a TLS socket of ours, the TCP connection beneath is reset: the device\'s TLS reads ECONNRESET', async (t) => {
  const { ours, device, close } = await pair();
  t.teardown(close);
  const leaf = getOriginCa().issueLeaf('reset.example.test');
  const ourTls = new tls.TLSSocket(ours, { isServer: true, secureContext: tls.createSecureContext({ key: leaf.keyPem, cert: leaf.certPem }) });
  ourTls.on('error', () => undefined);
  layeredOver(ourTls, ours);
  const deviceTls = tls.connect({ socket: device, servername: 'reset.example.test', ca: getOriginCa().certPem });
  await once(deviceTls, 'secureConnect');
  t.equal(await resetAfterRead(ourTls, ours, deviceTls, 'decrypted bytes'), 'decrypted bytes then ECONNRESET', 'and the TCP socket beneath closed');
});

t.test('a connection ended already is destroyed, not reset, and closes', async (t) => {
  const { ours, device, close } = await pair();
  t.teardown(close);
  const seen = ending(device);
  const closed = once(ours, 'close');
  ours.end('goodbye');
  resetConnection(ours);
  t.equal(await seen, 'goodbye then end');
  await within(closed, 10_000, 'our socket to close (Node never closes one whose reset libuv refused)');
});
