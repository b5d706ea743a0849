// Servers that refuse a device's ClientHello before any handshake of their own: with a reset (a
// server, or a filter in front of it, that will not serve that name), with a close and no word,
// or by never answering it.
// curl, direct and through the proxy under test (a CONNECT tunnel, and SOCKS5), must meet the same:
// the same exit code and message, and the server the same number of ClientHellos
// (src/proxy/layers/server-tls-refusal.ts). Until 2026-12-07 the device got our certificate, a
// handshake that succeeded, and a 502 for its request. (The alerts a server refuses with are
// tested with BusyBox and openssl: clients-busybox.test.ts, tls-versions.test.ts.)

import net from 'node:net';
import { once } from 'node:events';
import t from 'tap';
import { missingCommand, runClient, startProxyUnderTest, type ProxiedMode } from './differential.js';
import { withLimit, within } from '../helpers/lab.js';

const skip = missingCommand('curl', 'curl');

/** A server that reads each connection's first bytes (a ClientHello) and answers them with `refuse`; it counts the hellos. */
async function startRefusingServer(refuse: (socket: net.Socket) => void): Promise<{ port: number; hellos: () => number; close: () => Promise<void> }> {
  let hellos = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', (first: Buffer) => {
      if (first[0] === 0x16) hellos++;
      refuse(socket);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    hellos: () => hellos,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const HOST = 'blocked.example.test';

/** curl to its end over TLS: direct (the name pinned to 127.0.0.1), or through the proxy; it gives up after `maxSeconds`. */
async function curl(port: number, mode: 'direct' | ProxiedMode, proxyPort: number, caFile: string, maxSeconds = 20): Promise<string> {
  const route = mode === 'direct'
    ? ['--resolve', `${HOST}:${port}:127.0.0.1`]
    : mode === 'http-proxy' ? ['--proxy', `http://127.0.0.1:${proxyPort}`, '--proxytunnel', '--suppress-connect-headers'] : ['--proxy', `socks5h://127.0.0.1:${proxyPort}`];
  const run = await runClient('curl', ['-q', '-sS', '-i', '--max-time', String(maxSeconds), '--cacert', caFile, ...route, `https://${HOST}:${port}/`]);
  // How long it waited, to the millisecond, is the clock's: the words and the exit code are curl's.
  return run.text.replace(/after \d+ milliseconds/g, 'after N milliseconds');
}

for (const [how, refuse, expected] of [
  ['a reset', (socket: net.Socket) => socket.resetAndDestroy(), /Connection reset by peer/],
  ['a close without a word', (socket: net.Socket) => socket.end(), /^exit 35\n/],
] as const) {
  t.test(`a server that answers the ClientHello with ${how}: curl meets the same through phonehome as directly`, { skip }, async (t) => {
    const server = await startRefusingServer(refuse);
    t.teardown(() => server.close());
    const proxy = await startProxyUnderTest();
    t.teardown(() => proxy.close());
    const direct = await within(curl(server.port, 'direct', 0, proxy.caFile), 30_000, 'curl direct');
    t.match(direct, expected, 'directly');
    const directHellos = server.hellos();
    for (const mode of ['http-proxy', 'socks5'] as const) {
      const before = server.hellos();
      const proxied = await within(curl(server.port, mode, mode === 'http-proxy' ? proxy.httpPort : proxy.socksPort, proxy.caFile), 30_000, `curl @ ${mode}`);
      t.equal(proxied, direct, `@ ${mode}: what curl said`);
      t.equal(server.hellos() - before, directHellos, `@ ${mode}: the server read as many ClientHellos as directly`);
    }
  });
}

t.test('a server that never answers the ClientHello: curl waits in its handshake until it gives up, through phonehome as directly', { skip }, async (t) => {
  // phonehome gives up on the server after 1 s here (15 s as shipped), before curl does (3 s).
  withLimit(t, 'upstreamConnectTimeoutMs', 1_000);
  const server = await startRefusingServer(() => undefined);
  t.teardown(() => server.close());
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const direct = await within(curl(server.port, 'direct', 0, proxy.caFile, 3), 30_000, 'curl direct');
  t.match(direct, /^exit 28\n[^]*timed out/, 'directly, curl gives up');
  for (const mode of ['http-proxy', 'socks5'] as const) {
    // Until 2026-12-07 it got our certificate after phonehome's deadline, sent its request, and got a 502.
    const proxied = await within(curl(server.port, mode, mode === 'http-proxy' ? proxy.httpPort : proxy.socksPort, proxy.caFile, 3), 30_000, `curl @ ${mode}`);
    t.equal(proxied, direct, `@ ${mode}: what curl said`);
  }
});
