// Connections that stay silent for long (push channels, long polls, gRPC streams waiting for an
// event) are kept as a home router keeps them: phonehome's idle bound is RFC 5382's floor for a
// NAT, 2 h 4 min (it was 120 s, which cut FCM-style channels every two minutes), and a device
// that vanishes without closing is found by TCP keepalive on its connections instead.

import net from 'node:net';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { limits } from '../../src/limits.js';
import { socks5Connect, startLab } from '../helpers/lab.js';
import { missingCommand } from '../conformance/differential.js';

const RFC_5382_FLOOR_MS = (2 * 60 + 4) * 60_000;

t.test('silent relays are kept at least as long as RFC 5382 asks of a NAT', async (t) => {
  t.ok(limits.socketIdleTimeoutMs >= RFC_5382_FLOOR_MS, `idle bound ${limits.socketIdleTimeoutMs} ms`);
});

t.test("a device connection has TCP keepalive armed on phonehome's side, so a vanished device is found without an idle cut", { skip: missingCommand('ss', 'iproute2') }, async (t) => {
  const server = net.createServer((peer) => peer.on('error', () => undefined));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); server.close(); });
  // A silent stream through SOCKS5, as a push channel between heartbeats.
  const { socket } = await socks5Connect(lab.port, { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
  t.teardown(() => socket.destroy());
  // ss lists phonehome's end of the device connection (source port = the proxy's) with its timers.
  // Keepalive is set as the connection is accepted; ss shows its timer once no other is running
  // (the SOCKS5 reply's retransmission timer may still be, for a moment), so it is asked again.
  let listing = '';
  for (let attempt = 0; attempt < 500 && !/timer:\(keepalive,/.test(listing); attempt++) {
    listing = (await promisify(execFile)('ss', ['-tnoH', 'state', 'established', `( sport = :${lab.port} )`])).stdout;
  }
  t.match(listing, /timer:\(keepalive,/, `phonehome's side of the device connection: ${listing.trim()}`);
});
