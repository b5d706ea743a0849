// Chromium (Debian's, driven by playwright-core), direct and through the proxy under test as an
// HTTP proxy and as a SOCKS5 proxy: a page over HTTPS (the origin offers h2 and HTTP/1.1) that
// posts JSON with fetch(), and a page whose WebSocket (wss and ws, permessage-deflate offered)
// sends four messages as soon as it is open. The requests the origin received (sorted by path: a browser's order and
// connection use are its own) and what the page got must be the same in every mode.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { chromium } from 'playwright-core';
import { tempDir } from '../helpers/lab.js';
import { differential, missingCommand, runClient, startProxyUnderTest, startRecordingOrigin, withoutConnectionKeepAlive, type KnownDifferences, type RunContext } from './differential.js';
import { startWebSocketOrigin } from './websocket-origin.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const chromiumPath = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && fs.existsSync(p));

const page = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>conformance</title></head>
<body><pre id="out">waiting</pre><script>
fetch('/api/contacts?sync=1', { method: 'POST', headers: { 'content-type': 'application/json', 'x-app': 'conformance' }, body: JSON.stringify({ name: 'Ada', phone: '+44 20 7946 0000' }) })
  .then(async (r) => { document.getElementById('out').textContent = r.status + ' ' + r.headers.get('x-echo') + ' ' + await r.text(); });
</script></body></html>`;

/** A page that opens a WebSocket, sends four messages once it is open and closes on the last echo. */
const webSocketPage = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>conformance</title></head>
<body><pre id="out">waiting</pre><script>
const events = [];
const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/chat?room=7', ['chat.v2', 'chat.v1']);
ws.binaryType = 'arraybuffer';
ws.onopen = () => {
  events.push('open ' + ws.protocol + ' ' + ws.extensions);
  ws.send('hello');
  ws.send(JSON.stringify({ sms: '+33612345678: your code is 4921' }));
  ws.send(new Uint8Array([0, 1, 2, 255]));
  ws.send('last');
};
ws.onmessage = (e) => {
  if (typeof e.data !== 'string') return events.push('binary ' + [...new Uint8Array(e.data)].map((b) => b.toString(16).padStart(2, '0')).join(''));
  events.push('text ' + e.data);
  if (e.data === 'echo:last') ws.close(1000, 'bye');
};
ws.onerror = () => events.push('error');
ws.onclose = (e) => { events.push('close ' + e.code + ' ' + e.reason); document.getElementById('out').textContent = events.join('\\n'); };
</script></body></html>`;

function handler(req: { method?: string; url?: string; on: (e: string, f: (c?: Buffer) => void) => unknown }, res: { statusCode: number; setHeader: (n: string, v: string) => unknown; end: (b?: string) => unknown }): void {
  const body: Buffer[] = [];
  req.on('data', (c) => body.push(c!));
  req.on('end', () => {
    if (req.url === '/') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(page);
    } else if (req.url?.startsWith('/api/')) {
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-echo', 'yes');
      res.end(JSON.stringify({ got: Buffer.concat(body).toString() }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
}

/**
 * A home whose NSS database trusts `caFile` for TLS servers, as a user who installed the CA would
 * have: Chromium on Linux reads $HOME/.pki/nssdb. (--ignore-certificate-errors-spki-list matches
 * only certificates the server sends, and neither phonehome nor the origin sends its CA.)
 */
async function homeTrusting(caFile: string): Promise<string> {
  const home = tempDir('conformance-chromium-home-');
  const db = `sql:${path.join(home, '.pki', 'nssdb')}`;
  fs.mkdirSync(path.join(home, '.pki', 'nssdb'), { recursive: true });
  for (const args of [['-N', '--empty-password', '-d', db], ['-A', '-d', db, '-n', 'conformance-ca', '-t', 'C,,', '-i', caFile]]) {
    const made = await runClient('certutil', args);
    if (made.status !== 0) throw new Error(`certutil ${args[0]} failed: ${made.text}`);
  }
  return home;
}

/** Where an HTTP/1 request starts in the escaped transcript: its request line. */
const requestLineStart = /(?=\b(?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) \S+ HTTP\/1\.[01]\\r\\n)/;

/**
 * The origin's transcript with the browser's connection use taken out: TLS lines once (a browser
 * opens as many connections as it likes), each HTTP/1 request on its own and sorted, connection
 * numbers dropped. Whether two requests share a connection is the browser's timing: one CI run
 * under load saw this scenario differ, which its report did not show, and on one connection or two
 * is the only part of the transcript a browser may vary. A connection's bytes are joined before
 * they are split at request lines, so a body that came apart from its head stays with it. Requests
 * stay a multiset: one sent twice shows twice.
 */
function requestsSorted(transcript: string): string {
  const connectionLines = new Set<string>();
  const bytesOf = new Map<string, string>();
  const segments = transcript.split(/^(?=--- connection \d+ )/m);
  for (const [i, segment] of segments.entries()) {
    // Each but the last ends with the line break the rendering joined segments with.
    const [, connection, kind, body] = /^--- connection (\d+) (\w+)\n([^]*)$/.exec(i < segments.length - 1 ? segment.slice(0, -1) : segment) ?? [];
    if (kind === 'bytes') bytesOf.set(connection!, (bytesOf.get(connection!) ?? '') + body!);
    else if (kind) connectionLines.add(`${kind}\n${body!.trimEnd()}`);
  }
  const requests = [...bytesOf.values()].flatMap((bytes) => bytes.split(requestLineStart).map((request) => `bytes\n${request.trimEnd()}`));
  return [...connectionLines, ...requests].sort().join('\n');
}

async function runChromium(context: RunContext): Promise<string> {
  const { origin, mode, proxy } = context;
  const userDataDir = path.join(tempDir('conformance-chromium-'), 'profile');
  const args = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    mode === 'direct' ? `--host-resolver-rules=MAP ${origin.hostname} 127.0.0.1`
      : mode === 'http-proxy' ? `--proxy-server=http://127.0.0.1:${proxy.httpPort}` : `--proxy-server=socks5://127.0.0.1:${proxy.socksPort}`,
  ];
  const home = await homeTrusting(context.caFile);
  const browser = await chromium.launchPersistentContext(userDataDir, { executablePath: chromiumPath!, headless: true, args, env: { ...process.env, HOME: home } });
  try {
    const tab = browser.pages()[0] ?? await browser.newPage();
    const response = await tab.goto(`${origin.tls ? 'https' : 'http'}://${origin.hostname}:${origin.port}/`, { waitUntil: 'load' });
    await tab.locator('#out').filter({ hasNotText: 'waiting' }).waitFor({ timeout: 20_000 });
    const headers = response ? await response.headersArray() : [];
    return [
      `status ${response?.status()}`,
      ...headers.map((h) => `${h.name}: ${h.value}`),
      `page: ${await tab.locator('#out').textContent()}`,
    ].join('\n');
  } finally {
    await browser.close();
  }
}

const skip = chromiumPath ? missingCommand('certutil', 'libnss3-tools') : 'chromium is not installed (apt-get install chromium)';

t.test('Chromium', { skip: skip ?? false }, async (t) => {
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());

  t.test('a page in clear (HTTP/1.1)', async (t) => {
    const origin = await startRecordingOrigin({ handler: handler as never });
    t.teardown(() => origin.close());
    // Chromium's Proxy-Connection, the proxy's to keep, in place of Connection (withoutConnectionKeepAlive).
    await differential(t, proxy, origin, { name: 'chromium page + fetch POST (http)', run: runChromium, originView: requestsSorted, proxyDialect: withoutConnectionKeepAlive }, knownDifferences);
  });

  for (const secure of [true, false]) {
    t.test(`a WebSocket (${secure ? 'wss' : 'ws'}) with permessage-deflate, four messages as soon as it is open`, async (t) => {
      const origin = await startWebSocketOrigin(secure, webSocketPage);
      t.teardown(() => origin.close());
      await differential(t, proxy, origin, { name: `chromium websocket (${secure ? 'wss' : 'ws'})`, run: runChromium, closesConnections: true }, knownDifferences);
    });
  }

  // Chromium opens a WebSocket on the page's h2 connection when the server allows extended
  // CONNECT (RFC 8441); through the proxy it must still do so, not fall back to HTTP/1.1.
  t.test('a WebSocket over HTTP/2 (RFC 8441) with permessage-deflate, on the page\'s connection', async (t) => {
    const origin = await startWebSocketOrigin(true, webSocketPage, { http2: true });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'chromium websocket (wss over h2)', run: runChromium, closesConnections: true }, knownDifferences);
  });

  // ECDSA here (the WebSocket origins above are RSA): through phonehome Chromium gets an ECDSA leaf
  // signed by our RSA CA, as it gets an ECDSA certificate direct.
  t.test('a page over TLS (h2), from an origin with an ECDSA certificate', async (t) => {
    const origin = await startRecordingOrigin({ tls: true, alpn: ['h2', 'http/1.1'], keyType: 'ec', handler: handler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'chromium page + fetch POST (h2)', run: runChromium, originView: requestsSorted }, knownDifferences);
  });
});
