// A device that ends its side once it has sent what it had to say, and then reads the server's
// answer (shutdown(SHUT_WR): `nc -N`, line protocols that mark the end of a message that way),
// through the raw stream relay: over SOCKS5 and inside a CONNECT tunnel it must read what it reads
// direct (src/proxy/half-close.ts). The HTTP relay's case is a scenario of
// test/conformance/http1-headers.test.ts.

import net from 'node:net';
import { once } from 'node:events';
import t from 'tap';
import { connectTunnel, socks5Connect, startLab, within } from '../helpers/lab.js';

/** Writes `message`, ends its side, and reads until the other side closes. */
async function sayThenListen(socket: net.Socket, message: string): Promise<string> {
  socket.allowHalfOpen = true;
  let heard = '';
  socket.on('data', (chunk: Buffer) => { heard += chunk.toString(); });
  socket.on('error', () => undefined);
  socket.resume();
  socket.end(message);
  await within(once(socket, 'close'), 10_000, 'the connection to close');
  return heard;
}

t.test('a device that ends its side still reads the answer the server sends after (raw stream relay)', async (t) => {
  // A server that answers only once the device has ended its side, as a half-open-aware one can.
  const server = net.createServer({ allowHalfOpen: true }, (peer) => {
    let said = '';
    peer.on('data', (chunk: Buffer) => { said += chunk.toString(); });
    peer.on('end', () => peer.end(`you said: ${said}`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); server.close(); });

  const direct = net.connect({ port, host: '127.0.0.1' });
  await once(direct, 'connect');
  t.equal(await sayThenListen(direct, 'reading 42'), 'you said: reading 42', 'direct');

  const { socket: socks } = await socks5Connect(lab.port, { host: '127.0.0.1', port });
  t.equal(await sayThenListen(socks, 'reading 42'), 'you said: reading 42', 'through SOCKS5: the same');

  const { socket: tunnel } = await connectTunnel(lab.port, `127.0.0.1:${port}`);
  t.equal(await sayThenListen(tunnel, 'reading 42'), 'you said: reading 42', 'inside a CONNECT tunnel: the same');

  const flow = await lab.next('flow:end', (f) => f.kind === 'raw');
  t.equal(flow.stream?.down.bytes.toString(), 'you said: reading 42', 'the recorded stream has the answer the server sent after the device ended its side');
});
