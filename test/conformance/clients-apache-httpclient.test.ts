// Apache HttpClient 4 (Debian's libhttpclient-java 4.5 on the Debian JDK): Android shipped it as
// org.apache.http, and the apps of the Android 2 to 5 years (the Redmi Note's among them) made
// their calls with it through DefaultHttpClient. Direct and through the proxy under test as an HTTP
// proxy and as a SOCKS5 proxy: a GET with a header added twice, a form POST, a chunked upload and
// a JSON PUT that waits for 100 Continue (Apache's expect-continue handshake), over TLS to an
// HTTP/1.1 origin (it speaks no HTTP/2) and in clear (absolute-form requests to an HTTP proxy).
// The client in test/fixtures/apache-httpclient/ is compiled with javac into a temporary folder.
// The origin's record and what the client got must be the same in every mode.

import fs from 'node:fs';
import t from 'tap';
import { tempDir } from '../helpers/lab.js';
import { clientProxyArgs, differential, jsonEchoHandler, startProxyUnderTest, startRecordingOrigin, withoutConnectionKeepAlive, type KnownDifferences, type RecordingOrigin, type RunContext } from './differential.js';
import { compileJava, jdkMissing, runJava } from './java-clients.js';

/** Debian's Apache HttpClient 4 and what it needs. */
const apacheJars = ['/usr/share/java/httpclient.jar', '/usr/share/java/httpcore.jar', '/usr/share/java/commons-logging.jar', '/usr/share/java/commons-codec.jar'];

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const skip = jdkMissing ?? (apacheJars.every((jar) => fs.existsSync(jar)) ? undefined : 'Apache HttpClient is not installed (apt-get install libhttpclient-java)');

t.test('Apache HttpClient 4', { skip: skip ?? false }, async (t) => {
  const classPath = await compileJava(t, ['apache-httpclient/ApacheClient.java', 'java/PemTrust.java'], apacheJars);
  const work = tempDir('conformance-apache-httpclient-');
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const runAgainst = (origin: RecordingOrigin) => (context: RunContext): Promise<string> => {
    const { mode, port } = clientProxyArgs(context);
    const base = `${origin.tls ? 'https' : 'http'}://${origin.hostname}:${origin.port}`;
    return runJava(work, classPath, origin, 'ApacheClient', [mode, String(port), context.caFile, base]);
  };

  t.test('an origin over TLS (HTTP/1.1)', async (t) => {
    const origin = await startRecordingOrigin({ tls: true, alpn: ['http/1.1'], handler: jsonEchoHandler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'apache-httpclient GET + POSTs + PUT (https)', run: runAgainst(origin) }, knownDifferences);
  });

  t.test('an origin in clear', async (t) => {
    const origin = await startRecordingOrigin({ handler: jsonEchoHandler as never });
    t.teardown(() => origin.close());
    // Apache's Proxy-Connection, the proxy's to keep, in place of Connection (withoutConnectionKeepAlive).
    await differential(t, proxy, origin, { name: 'apache-httpclient GET + POSTs + PUT (http)', run: runAgainst(origin), proxyDialect: withoutConnectionKeepAlive }, knownDifferences);
  });
});
