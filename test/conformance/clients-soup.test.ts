// libsoup 3 (Debian's, through PyGObject), the HTTP library of GNOME and of WebKitGTK and WPE
// WebKit, the web engine of set-top boxes and other embedded screens: its own HTTP/1.1 code, its
// TLS GnuTLS through glib-networking, its proxies GIO's. Direct and through the proxy under test as
// an HTTP proxy and over SOCKS5 (test/fixtures/python/soup_client.py): a GET with parameters and a
// header of its own, a JSON POST, a photo as a multipart form and a 300 kB photo PUT, over TLS and
// in clear. libsoup resolves names itself, so a direct run has its own /etc/hosts
// (runClientWithTestNames).
//
// HTTP/1.1 in every mode (SOUP_FORCE_HTTP1): libsoup offers h2 only when it uses no proxy. Through
// a proxy its ClientHello offers `http/1.1,http/1.0` where direct it offers `h2,http/1.1,http/1.0`,
// the same through a bare SOCKS5 relay that reads nothing, so a proxied run can never match a
// direct one that spoke HTTP/2.

import path from 'node:path';
import t from 'tap';
import { cannotRunWithTestNames, clientProxyArgs, debianPython, differentialPerOrigin, jsonEchoHandler, missingPythonModules, runClientWithTestNames, startProxyUnderTest, startRecordingOrigin, type KnownDifferences, type RunContext } from './differential.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const soupClient = path.join(import.meta.dirname, '..', 'fixtures', 'python', 'soup_client.py');
const noSoup = missingPythonModules('import gi; gi.require_version("Soup", "3.0"); from gi.repository import Soup', 'libsoup 3', 'python3-gi gir1.2-soup-3.0 glib-networking');

t.test('libsoup 3, a photo uploaded as a form and as a PUT too', { skip: noSoup ?? cannotRunWithTestNames ?? false }, async (t) => {
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const run = async (context: RunContext): Promise<string> => {
    const { origin } = context;
    const { mode, port } = clientProxyArgs(context);
    const args = [soupClient, mode, String(port), context.caFile, `${origin.tls ? 'https' : 'http'}://${origin.hostname}:${origin.port}`];
    const result = await runClientWithTestNames([origin.hostname], debianPython, args, { env: { SOUP_FORCE_HTTP1: '1' } });
    return `exit ${result.status}\n${result.text}`;
  };
  differentialPerOrigin(t, proxy, [
    { title: 'an origin over TLS', start: () => startRecordingOrigin({ tls: true, alpn: ['h2', 'http/1.1'], handler: jsonEchoHandler as never }), scenario: { name: 'libsoup requests (https)', run } },
    { title: 'an origin in clear', start: () => startRecordingOrigin({ handler: jsonEchoHandler as never }), scenario: { name: 'libsoup requests (http)', run } },
  ], knownDifferences);
});
