// BusyBox, the userland of routers, IP cameras and many another small Linux device, direct and
// through the proxy under test: its own TLS 1.2 (`ssl_client`, what its wget runs for https), and
// its wget's own HTTP/1.1 in clear (absolute-form to an HTTP proxy). BusyBox's ClientHello is
// minimal: a few AES suites, two groups, and no signature_algorithms at all, which tells a server
// it takes SHA-1 signatures only (RFC 5246 §7.4.1.4.1). A server whose OpenSSL 3 refuses SHA-1
// signatures (Node's, at its default security level) refuses it: handshake_failure. Through
// phonehome it got through until 2026-12-07: our ClientHello offered SHA-256 and better
// (src/proxy/upstream-hello-extensions.ts). With that mended, the server refused us, and the
// device was still answered with a handshake of ours and a 502 for its request, where direct it
// gets the server's alert (src/proxy/layers/server-tls-refusal.ts).

import t from 'tap';
import type { Flow } from '../../src/model/flow.js';
import { startLab } from '../helpers/lab.js';
import { differential, missingCommand, runClient, startProxyUnderTest, startRecordingOrigin, type KnownDifferences, type RunContext } from './differential.js';

const TLS_REQUEST = new URL('../fixtures/busybox/tls-request.sh', import.meta.url).pathname;

const skip = missingCommand('busybox', 'busybox') ?? missingCommand('bash', 'bash');

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

/** A firmware server's answer to a whole request: what it read, and the connection closed. */
function firmwareServer(received: Buffer): Buffer | undefined {
  const text = received.toString('latin1');
  if (!text.includes('\r\n\r\n')) return undefined;
  const body = `{"model":"cam-7","latest":"2.4.1","asked":${JSON.stringify(text.slice(0, text.indexOf('\r\n')))}}\n`;
  return Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`, 'latin1');
}

/** ssl_client to its end, straight or through the proxy's CONNECT; what it printed and how it ended. */
async function busyboxTls(context: RunContext, request: string): Promise<string> {
  const { port, hostname } = context.origin;
  const through = context.mode === 'direct' ? [] : [String(context.proxy.httpPort)];
  return (await runClient('bash', [TLS_REQUEST, String(port), hostname, request, ...through])).text;
}

t.test('BusyBox', { skip: skip ?? false }, async (t) => {
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const request = 'GET /firmware/check?model=cam-7&serial=C7A1F00D HTTP/1.1\\r\\nHost: updates.example.test\\r\\nUser-Agent: Wget\\r\\nConnection: close\\r\\n\\r\\n';

  // A server that still signs with SHA-1 for a client that names no scheme: BusyBox gets through.
  const lenient = await startRecordingOrigin({ tls: true, hostname: 'updates.example.test', script: firmwareServer, closeAfterScript: true, tlsOptions: { ciphers: 'DEFAULT:@SECLEVEL=0' } });
  t.teardown(() => lenient.close());
  await differential(t, proxy, lenient, {
    name: 'BusyBox TLS to a server that signs with SHA-1',
    modes: ['http-proxy'],
    closesConnections: true,
    run: async (context) => {
      const text = await busyboxTls(context, request);
      if (!text.startsWith('exit 0\nHTTP/1.1 200 OK')) throw new Error(`BusyBox did not get the page: ${text}`);
      return text;
    },
  }, knownDifferences);

  // Node's own TLS server (OpenSSL 3, security level 1) refuses it, direct and through phonehome.
  const strict = await startRecordingOrigin({ tls: true, hostname: 'updates.example.test', script: firmwareServer, closeAfterScript: true });
  t.teardown(() => strict.close());
  await differential(t, proxy, strict, {
    name: 'BusyBox TLS to a server that refuses SHA-1',
    modes: ['http-proxy'],
    closesConnections: true,
    run: async (context) => {
      const text = await busyboxTls(context, request);
      if (!/alert code 40/.test(text)) throw new Error(`BusyBox was not refused with handshake_failure: ${text}`);
      return text;
    },
  }, knownDifferences);

  // BusyBox wget's HTTP/1.1 in clear, with a header of the firmware's own.
  const plain = await startRecordingOrigin({ hostname: 'updates.example.test', script: firmwareServer, closeAfterScript: true });
  t.teardown(() => plain.close());
  await differential(t, proxy, plain, {
    name: 'BusyBox wget, clear',
    modes: ['http-proxy'],
    closesConnections: true,
    run: async (context) => {
      const env = context.mode === 'direct' ? {} : { http_proxy: `http://127.0.0.1:${context.proxy.httpPort}` };
      const run = await runClient('busybox', ['wget', '-q', '-O', '-', '--header', 'X-Device-Serial: C7A1F00D', `http://127.0.0.1:${plain.port}/firmware/check?model=cam-7`], { env });
      if (run.status !== 0) throw new Error(`busybox wget failed: ${run.text}`);
      return run.text;
    },
  }, knownDifferences);
});

t.test('a server that refuses the device\'s TLS offer: the device is sent its alert, and the record says so', { skip: skip ?? false }, async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const strict = await startRecordingOrigin({ tls: true, hostname: 'updates.example.test', script: firmwareServer, closeAfterScript: true });
  t.teardown(() => strict.close());
  const run = await runClient('bash', [TLS_REQUEST, String(strict.port), 'updates.example.test', 'GET / HTTP/1.1\\r\\nHost: updates.example.test\\r\\n\\r\\n', String(lab.port)]);
  t.match(run.stderr, /TLS error from peer \(alert code 40\): handshake failure/, 'BusyBox read the server\'s alert');
  t.equal(run.stdout.length, 0, 'and nothing else');
  const flow: Flow = await lab.next('flow:end', (f) => f.target.host === 'updates.example.test');
  t.equal(flow.kind, 'tls-failed');
  t.ok(flow.tags.includes('tls:server-refused') && flow.tags.includes('tls:server-alert-40'), `tagged (${flow.tags})`);
  t.match(flow.error, /the server refused the device's TLS offer with alert handshake failure \(40\)/);
  t.notOk(flow.tags.includes('tls:certificate-rejected'), 'not taken for a device that refused our certificate');
  t.same(lab.passthrough.learned(), [], 'and nothing learned as pinned');
});
