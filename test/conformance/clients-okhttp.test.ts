// OkHttp 3 (Debian's libokhttp-java on the Debian JDK), the HTTP client of many Android apps,
// direct and through the proxy under test as an HTTP proxy and as a SOCKS5 proxy: a GET and a JSON
// POST over TLS to an origin offering h2 and HTTP/1.1, to one speaking HTTP/1.1 only, and in
// clear. The client in test/fixtures/okhttp/ is compiled with javac into a temporary folder. The origin's record and what OkHttp got (protocol,
// status, headers, body) must be the same in every mode.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { tempDir } from '../helpers/lab.js';
import { differential, missingCommand, runClient, startProxyUnderTest, startRecordingOrigin, type KnownDifferences, type RecordingOrigin, type RunContext } from './differential.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const jars = ['/usr/share/java/okhttp.jar', '/usr/share/java/okio.jar'];
const source = path.join(import.meta.dirname, '..', 'fixtures', 'okhttp', 'ConformanceClient.java');
/** Trust in the CAs of a PEM file, shared by the suite's Java clients. */
const pemTrustSource = path.join(import.meta.dirname, '..', 'fixtures', 'java', 'PemTrust.java');
const skip = missingCommand('javac', 'default-jdk-headless') ?? missingCommand('java', 'default-jdk-headless')
  ?? (jars.every((jar) => fs.existsSync(jar)) ? undefined : 'OkHttp is not installed (apt-get install libokhttp-java)');

function handler(req: { method?: string; url?: string; on: (e: string, f: (c?: Buffer) => void) => unknown }, res: { setHeader: (n: string, v: string) => unknown; end: (b: string) => unknown }): void {
  const body: Buffer[] = [];
  req.on('data', (c) => body.push(c!));
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.setHeader('cache-control', 'no-store');
    res.end(JSON.stringify({ method: req.method, url: req.url, bytes: Buffer.concat(body).length }));
  });
}

t.test('OkHttp', { skip: skip ?? false }, async (t) => {
  const classes = tempDir('conformance-okhttp-');
  const compiled = await runClient('javac', ['-nowarn', '-cp', jars.join(':'), '-d', classes, source, pemTrustSource]);
  t.equal(compiled.status, 0, `javac: ${compiled.text}`);
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const runAgainst = (origin: RecordingOrigin) => async (context: RunContext): Promise<string> => {
    const mode = context.mode === 'http-proxy' ? 'http' : context.mode;
    const port = context.mode === 'socks5' ? context.proxy.socksPort : context.proxy.httpPort;
    return (await runClient('java', ['-cp', [classes, ...jars].join(':'), 'ConformanceClient', mode, String(port), context.caFile, `${origin.tls ? 'https' : 'http'}://${origin.hostname}:${origin.port}`])).text;
  };

  t.test('an origin offering h2 and HTTP/1.1', async (t) => {
    const origin = await startRecordingOrigin({ tls: true, alpn: ['h2', 'http/1.1'], handler: handler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'okhttp GET + JSON POST (h2)', run: runAgainst(origin) }, knownDifferences);
  });

  t.test('an origin in clear', async (t) => {
    const origin = await startRecordingOrigin({ handler: handler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'okhttp GET + JSON POST (http)', run: runAgainst(origin) }, knownDifferences);
  });

  t.test('an origin speaking HTTP/1.1 only', async (t) => {
    const origin = await startRecordingOrigin({ tls: true, alpn: ['http/1.1'], handler: handler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'okhttp GET + JSON POST (http/1.1)', run: runAgainst(origin) }, knownDifferences);
  });
});
