// Qt's QNetworkAccessManager (Debian's Qt 5.15 through PyQt5), the HTTP client of Qt applications:
// car head units, smart TVs, set-top boxes and the other embedded screens that run Qt, with its own
// HTTP/1.1, HTTP/2, HTTP proxy and SOCKS5 code. Direct and through the proxy under test as an HTTP
// proxy and over SOCKS5 (test/fixtures/python/qt_client.py): a GET with parameters and a header of
// its own, a JSON POST, a photo as a multipart form and a 300 kB photo PUT, over TLS with HTTP/1.1,
// over TLS with HTTP/2 (Qt offers h2 by ALPN when the app allows it), and in clear. Qt resolves
// names itself, so a direct run has its own /etc/hosts (runClientWithTestNames).

import path from 'node:path';
import t from 'tap';
import { cannotRunWithTestNames, clientProxyArgs, debianPython, differentialPerOrigin, jsonEchoHandler, missingPythonModules, runClientWithTestNames, startProxyUnderTest, startRecordingOrigin, type KnownDifferences, type RunContext } from './differential.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const qtClient = path.join(import.meta.dirname, '..', 'fixtures', 'python', 'qt_client.py');
const noQt = missingPythonModules('from PyQt5 import QtNetwork', 'PyQt5', 'python3-pyqt5');

t.test('Qt QNetworkAccessManager, a photo uploaded as a form and as a PUT too', { skip: noQt ?? cannotRunWithTestNames ?? false }, async (t) => {
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const runAs = (protocol: 'http1' | 'h2') => async (context: RunContext): Promise<string> => {
    const { origin } = context;
    const { mode, port } = clientProxyArgs(context);
    const args = [qtClient, mode, String(port), context.caFile, `${origin.tls ? 'https' : 'http'}://${origin.hostname}:${origin.port}`, protocol];
    // No display: QCoreApplication needs none, and Qt should not look for one.
    const result = await runClientWithTestNames([origin.hostname], debianPython, args, { env: { QT_QPA_PLATFORM: 'offscreen' } });
    return `exit ${result.status}\n${result.text}`;
  };
  differentialPerOrigin(t, proxy, [
    { title: 'an origin over TLS (HTTP/1.1)', start: () => startRecordingOrigin({ tls: true, alpn: ['http/1.1'], handler: jsonEchoHandler as never }), scenario: { name: 'qt requests (https)', run: runAs('http1') } },
    { title: 'an origin over TLS (HTTP/2)', start: () => startRecordingOrigin({ tls: true, alpn: ['h2', 'http/1.1'], handler: jsonEchoHandler as never }), scenario: { name: 'qt requests (h2)', run: runAs('h2') } },
    { title: 'an origin in clear', start: () => startRecordingOrigin({ handler: jsonEchoHandler as never }), scenario: { name: 'qt requests (http)', run: runAs('http1') } },
  ], knownDifferences);
});
