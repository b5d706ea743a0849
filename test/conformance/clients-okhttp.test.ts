// OkHttp 3 (Debian's libokhttp-java on the Debian JDK), the HTTP client of many Android apps,
// direct and through the proxy under test as an HTTP proxy and as a SOCKS5 proxy: a GET and a JSON
// POST over TLS to an origin offering h2 and HTTP/1.1 (with an RSA and with an ECDSA certificate),
// to one speaking HTTP/1.1 only, and in clear. The client in test/fixtures/okhttp/ is compiled with javac into a temporary folder. The origin's record and what OkHttp got (protocol,
// status, headers, body) must be the same in every mode.

import t from 'tap';
import { clientProxyArgs, differential, jsonEchoHandler, runClient, startProxyUnderTest, startRecordingOrigin, type KnownDifferences, type RecordingOrigin, type RunContext } from './differential.js';
import { compileJava, okhttpJars, okhttpMissing } from './java-clients.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const skip = okhttpMissing;

t.test('OkHttp', { skip: skip ?? false }, async (t) => {
  const classPath = await compileJava(t, ['okhttp/ConformanceClient.java', 'okhttp/OkHttpClients.java', 'java/PemTrust.java'], okhttpJars);
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const runAgainst = (origin: RecordingOrigin) => async (context: RunContext): Promise<string> => {
    const { mode, port } = clientProxyArgs(context);
    return (await runClient('java', ['-cp', classPath, 'ConformanceClient', mode, String(port), context.caFile, `${origin.tls ? 'https' : 'http'}://${origin.hostname}:${origin.port}`])).text;
  };

  t.test('an origin offering h2 and HTTP/1.1', async (t) => {
    const origin = await startRecordingOrigin({ tls: true, alpn: ['h2', 'http/1.1'], handler: jsonEchoHandler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'okhttp GET + JSON POST (h2)', run: runAgainst(origin) }, knownDifferences);
  });

  t.test('an origin in clear', async (t) => {
    const origin = await startRecordingOrigin({ handler: jsonEchoHandler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'okhttp GET + JSON POST (http)', run: runAgainst(origin) }, knownDifferences);
  });

  t.test('an origin with an ECDSA certificate (our leaf is ECDSA too, signed by our RSA CA)', async (t) => {
    const origin = await startRecordingOrigin({ tls: true, alpn: ['h2', 'http/1.1'], keyType: 'ec', handler: jsonEchoHandler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'okhttp GET + JSON POST (h2, ECDSA)', run: runAgainst(origin) }, knownDifferences);
  });

  t.test('an origin speaking HTTP/1.1 only', async (t) => {
    const origin = await startRecordingOrigin({ tls: true, alpn: ['http/1.1'], handler: jsonEchoHandler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'okhttp GET + JSON POST (http/1.1)', run: runAgainst(origin) }, knownDifferences);
  });
});
