// java.net.HttpURLConnection (Debian's JDK), the API of Android 4.x-era apps and of much Java code
// since, direct and through the proxy under test as an HTTP proxy and as a SOCKS5 proxy: a GET with
// a header added twice, a fixed-length JSON POST, a chunked POST and a photo PUT that waits for
// 100 Continue, over TLS to an HTTP/1.1 origin (HttpURLConnection speaks no HTTP/2) and in clear
// (absolute-form requests to an HTTP proxy). The client in test/fixtures/jdk-urlconnection/ is
// compiled with javac into a temporary folder. The origin's record and what the client got must be
// the same in every mode.

import t from 'tap';
import { tempDir } from '../helpers/lab.js';
import { clientProxyArgs, differential, jsonEchoHandler, startProxyUnderTest, startRecordingOrigin, withoutConnectionKeepAlive, type KnownDifferences, type RecordingOrigin, type RunContext } from './differential.js';
import { compileJava, jdkMissing, runJava } from './java-clients.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

t.test('the JDK HttpURLConnection', { skip: jdkMissing ?? false }, async (t) => {
  const classPath = await compileJava(t, ['jdk-urlconnection/UrlConnectionClient.java', 'java/PemTrust.java']);
  const work = tempDir('conformance-jdk-urlconnection-');
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const runAgainst = (origin: RecordingOrigin) => (context: RunContext): Promise<string> => {
    const { mode, port } = clientProxyArgs(context);
    const base = `${origin.tls ? 'https' : 'http'}://${origin.hostname}:${origin.port}`;
    return runJava(work, classPath, origin, 'UrlConnectionClient', [mode, String(port), context.caFile, base]);
  };

  t.test('an origin over TLS (HTTP/1.1)', async (t) => {
    const origin = await startRecordingOrigin({ tls: true, alpn: ['http/1.1'], handler: jsonEchoHandler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'jdk-urlconnection GET + POSTs + PUT (https)', run: runAgainst(origin) }, knownDifferences);
  });

  t.test('an origin in clear', async (t) => {
    const origin = await startRecordingOrigin({ handler: jsonEchoHandler as never });
    t.teardown(() => origin.close());
    // HttpURLConnection's Proxy-Connection, the proxy's to keep, in place of Connection (withoutConnectionKeepAlive).
    await differential(t, proxy, origin, { name: 'jdk-urlconnection GET + POSTs + PUT (http)', run: runAgainst(origin), proxyDialect: withoutConnectionKeepAlive }, knownDifferences);
  });
});
