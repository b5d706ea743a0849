// The JDK's java.net.http.HttpClient (Debian's JDK), the HTTP client of Java services and of many
// desktop and server-side apps, direct and through the proxy under test as an HTTP proxy (it has no
// SOCKS support): a GET with a repeated and a mixed-case header, a JSON POST and a streamed POST,
// over TLS to an origin offering h2 and HTTP/1.1 (the JDK's own HTTP/2), to one speaking HTTP/1.1
// only, and in clear. The client in test/fixtures/jdk-httpclient/ is compiled with javac into a
// temporary folder. The origin's record and what the client got must be the same in every mode.

import t from 'tap';
import { tempDir } from '../helpers/lab.js';
import { clientProxyArgs, differential, jsonEchoHandler, startProxyUnderTest, startRecordingOrigin, type KnownDifferences, type RecordingOrigin, type RunContext } from './differential.js';
import { compileJava, jdkMissing, runJava } from './java-clients.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const skip = jdkMissing;

t.test('the JDK HttpClient', { skip: skip ?? false }, async (t) => {
  const classPath = await compileJava(t, ['jdk-httpclient/ConformanceClient.java', 'java/PemTrust.java']);
  const work = tempDir('conformance-jdk-httpclient-');
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const runAgainst = (origin: RecordingOrigin, version: 'h2' | 'http/1.1') => (context: RunContext): Promise<string> => {
    const { mode } = clientProxyArgs(context);
    const base = `${origin.tls ? 'https' : 'http'}://${origin.hostname}:${origin.port}`;
    return runJava(work, classPath, origin, 'ConformanceClient', [mode, String(context.proxy.httpPort), context.caFile, base, version]);
  };
  const scenario = (name: string, origin: RecordingOrigin, version: 'h2' | 'http/1.1') => ({ name, run: runAgainst(origin, version), modes: ['http-proxy'] as const });

  t.test('an origin offering h2 and HTTP/1.1: the JDK\'s HTTP/2 through CONNECT', async (t) => {
    const origin = await startRecordingOrigin({ tls: true, alpn: ['h2', 'http/1.1'], handler: jsonEchoHandler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, scenario('jdk-httpclient GET + POSTs (h2)', origin, 'h2'), knownDifferences);
  });

  t.test('an origin speaking HTTP/1.1 only: the head as the JDK wrote it, a chunked upload', async (t) => {
    const origin = await startRecordingOrigin({ tls: true, alpn: ['http/1.1'], handler: jsonEchoHandler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, scenario('jdk-httpclient GET + POSTs (http/1.1 over TLS)', origin, 'h2'), knownDifferences);
  });

  t.test('an origin in clear', async (t) => {
    const origin = await startRecordingOrigin({ handler: jsonEchoHandler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, scenario('jdk-httpclient GET + POSTs (http)', origin, 'http/1.1'), knownDifferences);
  });
});
