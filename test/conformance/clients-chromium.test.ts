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
import { differential, missingCommand, startProxyUnderTest, startRecordingOrigin, withoutConnectionKeepAlive, type KnownDifferences, type RunContext } from './differential.js';
import { handler, nssDatabaseTrusting, page, requestsSorted, webSocketPage } from './browser-pages.js';
import { startWebSocketOrigin } from './websocket-origin.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const chromiumPath = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && fs.existsSync(p));

/** A home whose NSS database (Chromium on Linux reads $HOME/.pki/nssdb) trusts `caFile`. */
async function homeTrusting(caFile: string): Promise<string> {
  const home = tempDir('conformance-chromium-home-');
  await nssDatabaseTrusting(path.join(home, '.pki', 'nssdb'), caFile);
  return home;
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
