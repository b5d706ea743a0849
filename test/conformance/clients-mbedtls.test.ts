// Mbed TLS 2.28, the TLS of ESP-IDF 4.x (the firmware of ESP32 boards: plugs, cameras, sensors)
// and of many another microcontroller's network stack, direct and through the proxy under test,
// as an HTTP proxy's CONNECT and over SOCKS5. test/fixtures/device-tls/mbedtls_client.c is built at test
// time against Debian's libmbedtls, set up as ESP-IDF's esp-tls sets it up; it prints what it
// negotiated (version, suite, whether its second connection resumed the first one's session, the
// record size agreed) and what it read, so the device's side of the handshake is compared too.
//
// A device short of memory asks for small records (max_fragment_length), and Mbed TLS 2 cannot
// read a handshake message split across records: the server's Certificate message must fit one.
// Until 2026-12-07 phonehome sent its CA with each leaf, and a device asking for 1024-byte records
// was refused by us where its server's own certificate fit (src/proxy/ca/leaf-store.ts).
//
// A device of an IoT hub (AWS IoT, Azure IoT Hub) shows its own certificate to a server that
// requires one: without that certificate given to phonehome (--client-cert), its connection
// passes through untouched, and the device must meet what it meets direct.

import t from 'tap';
import { differentialPerOrigin, startProxyUnderTest, startRecordingOrigin, type KnownDifferences } from './differential.js';
import { deviceCertificate } from '../helpers/device-certificate.js';
import { buildDeviceClient, deviceApi, deviceDay, missingToBuild, withoutHandshakeOnlyConnections, type DeviceClient } from './device-clients.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const MBEDTLS: DeviceClient = { library: 'Mbed TLS', source: 'mbedtls_client.c', header: '/usr/include/mbedtls/ssl.h', debianPackage: 'libmbedtls-dev', flags: ['-lmbedtls', '-lmbedx509', '-lmbedcrypto'] };

t.test('Mbed TLS', { skip: missingToBuild(MBEDTLS) ?? false }, async (t) => {
  const program = await buildDeviceClient(t, MBEDTLS);
  if (!program) return;
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const device = deviceCertificate();
  /** The client with records of at most `mfl` bytes asked for (0: not asked). */
  const runWith = (mfl: number) => deviceDay(program, MBEDTLS.library, [String(mfl)]);
  differentialPerOrigin(t, proxy, [
    { title: 'ESP-IDF\'s defaults, an RSA server', start: () => startRecordingOrigin({ tls: true, handler: deviceApi as never }), scenario: { name: 'mbedtls esp-tls', run: runWith(0) } },
    { title: 'records of 4096 bytes asked for, an RSA server', start: () => startRecordingOrigin({ tls: true, handler: deviceApi as never }), scenario: { name: 'mbedtls esp-tls mfl 4096', run: runWith(4096) } },
    { title: 'records of 1024 bytes asked for, an ECDSA server whose certificate fits one', start: () => startRecordingOrigin({ tls: true, keyType: 'ec', handler: deviceApi as never }), scenario: { name: 'mbedtls esp-tls mfl 1024 ecdsa', run: runWith(1024) } },
    {
      title: 'a device with its own certificate and a server that requires it (mutual TLS, an IoT hub): passed through, untouched',
      start: () => startRecordingOrigin({ tls: true, handler: deviceApi as never, clientCertificateCa: device.certPem }),
      scenario: {
        name: 'mbedtls esp-tls mutual TLS',
        run: deviceDay(program, MBEDTLS.library, ['0'], { env: { DEVICE_CERT: device.certFile, DEVICE_KEY: device.keyFile }, trustsServerToo: true }),
        // Through phonehome the server also reads our look at it first (a ClientHello it refuses
        // for want of a certificate); since 2026-12-07 only one (upstream.ts).
        originView: withoutHandshakeOnlyConnections,
      },
    },
  ], knownDifferences);
});
