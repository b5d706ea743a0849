// java.net.HttpURLConnection (Debian's JDK), the API of Android 4.x-era apps and of much Java code
// since, direct and through the proxy under test as an HTTP proxy and as a SOCKS5 proxy: a GET with
// a header added twice, a fixed-length JSON POST, a chunked POST and a photo PUT that waits for
// 100 Continue, over TLS to an HTTP/1.1 origin (HttpURLConnection speaks no HTTP/2) and in clear
// (absolute-form requests to an HTTP proxy). The client in test/fixtures/jdk-urlconnection/ is
// compiled with javac into a temporary folder. The origin's record and what the client got must be
// the same in every mode.

import t from 'tap';
import { tempDir } from '../helpers/lab.js';
import { clientProxyArgs, differential, jsonEchoHandler, startProxyUnderTest, startRecordingOrigin, type KnownDifferences, type RecordingOrigin, type RunContext } from './differential.js';
import { compileJava, jdkMissing, runJava } from './java-clients.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {
  // Not a proxy defect: like Chromium, HttpURLConnection sends Proxy-Connection: keep-alive to an
  // HTTP proxy where it sends Connection: keep-alive direct, and Proxy-* headers are the proxy's
  // to drop (documented). curl sends no Connection direct and Proxy-Connection to a proxy, so
  // turning one into the other would be wrong for curl: no rule fits both.
  'jdk-urlconnection GET + POSTs + PUT (http) @ http-proxy origin': 'HttpURLConnection sends Proxy-Connection: keep-alive to a proxy in place of Connection: keep-alive, which phonehome drops as documented: the origin gets neither (expected)',
};

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
    await differential(t, proxy, origin, { name: 'jdk-urlconnection GET + POSTs + PUT (http)', run: runAgainst(origin) }, knownDifferences);
  });
});
