// java.net.HttpURLConnection (Debian's JDK), the API of Android 4.x-era apps and of much Java code
// since, direct and through the proxy under test as an HTTP proxy and as a SOCKS5 proxy: a GET with
// a header added twice, a fixed-length JSON POST, a chunked POST and a photo PUT that waits for
// 100 Continue, over TLS to an HTTP/1.1 origin (HttpURLConnection speaks no HTTP/2) and in clear
// (absolute-form requests to an HTTP proxy). The client in test/fixtures/jdk-urlconnection/ is
// compiled with javac into a temporary folder. The origin's record and what the client got must be
// the same in every mode.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { startLab, tempDir } from '../helpers/lab.js';
import { clientProxyArgs, differential, jsonEchoHandler, runClient, startProxyUnderTest, startRecordingOrigin, withoutConnectionKeepAlive, type KnownDifferences, type RecordingOrigin, type RunContext } from './differential.js';
import { compileJava, jdkMissing, runJava } from './java-clients.js';

/** The JDK's switch for an SSL 2.0-format ClientHello, as old Java apps set it. */
const SSLV2_HELLO = '-Dhttps.protocols=SSLv2Hello,TLSv1,TLSv1.1,TLSv1.2';

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

  t.test('an old Java app\'s SSL 2.0-format ClientHello (https.protocols with SSLv2Hello, the default of Java 6): decrypted, and the server reads what it reads direct', async (t) => {
    // A server of that era's settings (SHA-1 signatures: such a hello names no signature scheme).
    const origin = await startRecordingOrigin({ tls: true, alpn: ['http/1.1'], handler: jsonEchoHandler as never, tlsOptions: { ciphers: 'DEFAULT:@SECLEVEL=0' } });
    t.teardown(() => origin.close());
    const hosts = path.join(work, 'hosts-sslv2');
    fs.writeFileSync(hosts, `127.0.0.1 ${origin.hostname}\n`);
    const run = async (context: RunContext): Promise<string> => {
      const { mode, port } = clientProxyArgs(context);
      const java = await runClient('java', [SSLV2_HELLO, `-Djdk.net.hosts.file=${hosts}`, '-cp', classPath, 'UrlConnectionClient', mode, String(port), context.caFile, `https://${origin.hostname}:${origin.port}`]);
      if (java.status !== 0) throw new Error(`the client failed: ${java.text}`);
      return java.text;
    };
    await differential(t, proxy, origin, { name: 'jdk-urlconnection with SSLv2Hello (https)', run }, knownDifferences);
    // Until 2026-12-07 the hello was not taken for TLS: relayed as a raw stream, never decrypted.
    const lab = await startLab();
    t.teardown(() => lab.close());
    const caFile = path.join(work, 'lab-ca.pem');
    fs.writeFileSync(caFile, lab.ca.certPem);
    const java = await runClient('java', [SSLV2_HELLO, '-cp', classPath, 'UrlConnectionClient', 'http', String(lab.port), caFile, `https://${origin.hostname}:${origin.port}`]);
    t.equal(java.status, 0, `through a capture: ${java.text.slice(0, 300)}`);
    const flow = await lab.next('flow:end', (f) => f.kind === 'http' && f.target.port === origin.port);
    t.ok(flow.tags.includes('decrypted'), `its requests were decrypted (${flow.tags})`);
    t.equal(flow.request?.url, `https://${origin.hostname}:${origin.port}/profile?id=42`);
  });

  t.test('an origin in clear', async (t) => {
    const origin = await startRecordingOrigin({ handler: jsonEchoHandler as never });
    t.teardown(() => origin.close());
    // HttpURLConnection's Proxy-Connection, the proxy's to keep, in place of Connection (withoutConnectionKeepAlive).
    await differential(t, proxy, origin, { name: 'jdk-urlconnection GET + POSTs + PUT (http)', run: runAgainst(origin), proxyDialect: withoutConnectionKeepAlive }, knownDifferences);
  });
});
