// HTTPX (Debian's python3-httpx 0.23, with h2 and socksio), the async-era Python client, whose
// HTTP/2 is the pure-Python h2 stack: direct and through the proxy under test, as an HTTP proxy and
// over SOCKS5, a GET with a header sent twice, a JSON POST and an upload streamed without a length,
// to an HTTP/2 origin over TLS, an HTTP/1.1 one, and one in clear. The client is
// test/fixtures/python/httpx_client.py, run with Debian's Python (/usr/bin/python3, where Debian's
// packages are). The origin's record and what HTTPX got must be the same in every mode.

import path from 'node:path';
import t from 'tap';
import { clientProxyArgs, debianPython, differentialPerOrigin, jsonEchoHandler, missingPythonModules, runClient, startProxyUnderTest, startRecordingOrigin, type KnownDifferences, type RunContext } from './differential.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const client = path.join(import.meta.dirname, '..', 'fixtures', 'python', 'httpx_client.py');
const skip = missingPythonModules('import httpx, h2, socksio', 'HTTPX', 'python3-httpx python3-socksio') ?? false;

t.test('HTTPX', { skip }, async (t) => {
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const run = async (context: RunContext): Promise<string> => {
    const { mode, port } = clientProxyArgs(context);
    const { origin } = context;
    return (await runClient(debianPython, [client, mode, String(port), context.caFile, `${origin.tls ? 'https' : 'http'}://${origin.hostname}:${origin.port}`])).text;
  };
  differentialPerOrigin(t, proxy, [
    { title: 'an HTTP/2 origin over TLS', start: () => startRecordingOrigin({ tls: true, alpn: ['h2', 'http/1.1'], handler: jsonEchoHandler as never }), scenario: { name: 'httpx (https, HTTP/2)', run } },
    { title: 'an HTTP/1.1 origin over TLS', start: () => startRecordingOrigin({ tls: true, alpn: ['http/1.1'], handler: jsonEchoHandler as never }), scenario: { name: 'httpx (https, HTTP/1.1)', run } },
    { title: 'an origin in clear (absolute-form requests to the HTTP proxy)', start: () => startRecordingOrigin({ handler: jsonEchoHandler as never }), scenario: { name: 'httpx (http)', run } },
  ], knownDifferences);
});
