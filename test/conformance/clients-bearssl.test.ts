// BearSSL 0.6, the TLS of the ESP8266's Arduino core (WiFiClientSecure: Tasmota and many another
// cheap plug, bulb and sensor), direct and through the proxy under test, as an HTTP proxy's
// CONNECT and over SOCKS5. test/fixtures/device-tls/bearssl_client.c is built at test time against
// Debian's libbearssl with the core's buffers; it prints what it negotiated (version, suite,
// whether its second connection resumed the first one's session) and what it read.

import t from 'tap';
import { differentialPerOrigin, startProxyUnderTest, startRecordingOrigin, type KnownDifferences } from './differential.js';
import { buildDeviceClient, deviceApi, deviceDay, missingToBuild, type DeviceClient } from './device-clients.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const BEARSSL: DeviceClient = { library: 'BearSSL', source: 'bearssl_client.c', header: '/usr/include/bearssl/bearssl.h', debianPackage: 'libbearssl-dev', flags: ['-I/usr/include/bearssl', '-lbearssl'] };

t.test('BearSSL', { skip: missingToBuild(BEARSSL) ?? false }, async (t) => {
  const program = await buildDeviceClient(t, BEARSSL);
  if (!program) return;
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  /** The client with buffers of `inBytes` and `outBytes`. */
  const runWith = (inBytes: number, outBytes: number) => deviceDay(program, BEARSSL.library, [String(inBytes), String(outBytes)]);
  differentialPerOrigin(t, proxy, [
    { title: 'the ESP8266 core\'s buffers, an RSA server', start: () => startRecordingOrigin({ tls: true, handler: deviceApi as never }), scenario: { name: 'bearssl esp8266', run: runWith(16709, 597) } },
    { title: 'the ESP8266 core\'s buffers, an ECDSA server', start: () => startRecordingOrigin({ tls: true, keyType: 'ec', handler: deviceApi as never }), scenario: { name: 'bearssl esp8266 ecdsa', run: runWith(16709, 597) } },
    { title: 'small buffers (512-byte records asked for), an RSA server', start: () => startRecordingOrigin({ tls: true, handler: deviceApi as never }), scenario: { name: 'bearssl esp8266 small buffers', run: runWith(512 + 325, 512 + 85) } },
  ], knownDifferences);
});
