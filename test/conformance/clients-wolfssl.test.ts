// wolfSSL 5.5, the TLS of many routers, cars' head units and embedded Linux and RTOS devices (and
// an option of ESP-IDF), direct and through the proxy under test, as an HTTP proxy's CONNECT and
// over SOCKS5: its whole range (TLS 1.3), TLS 1.2 alone, and small records asked for.
// test/fixtures/device-tls/wolfssl_client.c is built at test time against Debian's libwolfssl; it
// prints what it negotiated (version, suite, whether its second connection resumed the first
// one's session: a TLS 1.3 ticket or a TLS 1.2 session) and what it read.

import t from 'tap';
import { differentialPerOrigin, startProxyUnderTest, startRecordingOrigin, type KnownDifferences } from './differential.js';
import { buildDeviceClient, deviceApi, deviceDay, missingToBuild, type DeviceClient } from './device-clients.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const WOLFSSL: DeviceClient = { library: 'wolfSSL', source: 'wolfssl_client.c', header: '/usr/include/wolfssl/ssl.h', debianPackage: 'libwolfssl-dev', flags: ['-lwolfssl'] };

t.test('wolfSSL', { skip: missingToBuild(WOLFSSL) ?? false }, async (t) => {
  const program = await buildDeviceClient(t, WOLFSSL);
  if (!program) return;
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  /** The client offering `version` (1.2, 1.3 or any), with records of at most `mfl` bytes asked for (0: not asked). */
  const runWith = (version: string, mfl: number) => deviceDay(program, WOLFSSL.library, [version, String(mfl)]);
  differentialPerOrigin(t, proxy, [
    { title: 'its whole range, an RSA server', start: () => startRecordingOrigin({ tls: true, handler: deviceApi as never }), scenario: { name: 'wolfssl', run: runWith('any', 0) } },
    { title: 'TLS 1.2 alone, an ECDSA server', start: () => startRecordingOrigin({ tls: true, keyType: 'ec', handler: deviceApi as never }), scenario: { name: 'wolfssl tls1.2 ecdsa', run: runWith('1.2', 0) } },
    { title: 'TLS 1.3, records of 1024 bytes asked for, an ECDSA server', start: () => startRecordingOrigin({ tls: true, keyType: 'ec', handler: deviceApi as never }), scenario: { name: 'wolfssl tls1.3 mfl 1024 ecdsa', run: runWith('1.3', 1024) } },
  ], knownDifferences);
});
