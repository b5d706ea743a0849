// Firefox (Debian's ESR, driven by puppeteer-core over WebDriver BiDi), direct and through the
// proxy under test as an HTTP proxy and as a SOCKS5 proxy: the pages the Chromium test loads (a
// fetch() POST of JSON; a WebSocket that sends four messages as soon as it is open). Firefox is
// the other browser engine a phone runs (GeckoView: Firefox for Android, Focus, Tor Browser) and
// its TLS is NSS, not BoringSSL: another ClientHello, other extensions, its own HTTP/2 and proxy
// code. The requests the origin received (sorted: a browser's connection use is its own) and what
// the page got must be the same in every mode.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { createRequire } from 'node:module';
import { tempDir } from '../helpers/lab.js';
import { differential, missingCommand, startProxyUnderTest, startRecordingOrigin, type KnownDifferences, type RunContext } from './differential.js';
import { handler, nssDatabaseTrusting, page, requestsSorted, webSocketPage } from './browser-pages.js';
import { startWebSocketOrigin } from './websocket-origin.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

/**
 * Firefox's dialect for a WebSocket over HTTP/2 when it talks to an HTTP proxy
 * (Scenario.proxyDialect): the extended CONNECT carries only the Sec-WebSocket-* fields and
 * User-Agent, in alphabetical order, where direct (and over SOCKS5) it carries the whole request
 * (Origin, Accept-*, Sec-Fetch-*, Pragma, Cache-Control) in its own order. Seen the same through a
 * bare CONNECT tunnel that reads nothing, so the browser's choice. Undone by keeping, on both
 * sides, the fields it always sends, sorted; the pseudo-fields, messages and frames are compared
 * as they are.
 */
function withFieldsFirefoxAlwaysSends(transcript: string): string {
  const lines = transcript.split('\n');
  const isField = (line: string): boolean => /^[a-z][a-z0-9-]*: /.test(line);
  const kept = (line: string): boolean => /^(sec-websocket-[a-z-]+|user-agent): /.test(line);
  const out: string[] = [];
  for (let i = 0; i < lines.length;) {
    if (!isField(lines[i]!)) { out.push(lines[i++]!); continue; }
    const block: string[] = [];
    while (i < lines.length && isField(lines[i]!)) block.push(lines[i++]!);
    out.push(...block.filter(kept).sort());
  }
  return out.join('\n');
}

/**
 * puppeteer-core's CommonJS build, by require: loaded as an ES module it failed in a fresh clone's
 * first `npm test` ("Cannot find module .../chromium-bidi/lib/cjs/bidiMapper/BidiMapper.js.js"),
 * and passed on every run after. Not pinned down: tap builds its plugin set (package.json drops
 * @tapjs/typescript) during its first run, which is the likely difference. A require goes past ES
 * module loaders, and with it a fresh clone's first run passes.
 */
const puppeteer = createRequire(import.meta.url)('puppeteer-core') as typeof import('puppeteer-core').default;

const firefoxPath = [process.env['FIREFOX_PATH'], '/usr/bin/firefox-esr', '/usr/bin/firefox'].find((p): p is string => !!p && fs.existsSync(p));

/**
 * Preferences for one run. Direct, every name resolves to 127.0.0.1 (Firefox's own resolver
 * setting); through the proxy the name goes to the proxy (SOCKS5 with remote DNS, as an app that
 * proxies does). Everything Firefox would fetch on its own (updates, safe browsing, captive-portal
 * checks, DNS over HTTPS) is off beyond what puppeteer turns off, so the origin sees the page only.
 */
function preferences(context: RunContext): Record<string, unknown> {
  const quiet = {
    'network.trr.mode': 5,
    'network.captive-portal-service.enabled': false,
    'network.connectivity-service.enabled': false,
    'network.http.http3.enable': false,
    'network.dns.disablePrefetch': true,
    'network.prefetch-next': false,
    'network.http.speculative-parallel-limit': 0,
    'security.OCSP.enabled': 0,
    'security.remote_settings.crlite_filters.enabled': false,
    'browser.safebrowsing.malware.enabled': false,
    'browser.safebrowsing.phishing.enabled': false,
    // Remote settings (firefox.settings.services.mozilla.com), fetched at start-up otherwise.
    'services.settings.server': 'data:,#remote-settings-off/v1',
  };
  const { mode, proxy } = context;
  if (mode === 'direct') return { ...quiet, 'network.proxy.type': 0, 'network.dns.forceResolve': '127.0.0.1' };
  const common = { ...quiet, 'network.proxy.type': 1, 'network.proxy.no_proxies_on': '', 'network.proxy.allow_hijacking_localhost': true };
  return mode === 'http-proxy'
    ? { ...common, 'network.proxy.http': '127.0.0.1', 'network.proxy.http_port': proxy.httpPort, 'network.proxy.ssl': '127.0.0.1', 'network.proxy.ssl_port': proxy.httpPort }
    : { ...common, 'network.proxy.socks': '127.0.0.1', 'network.proxy.socks_port': proxy.socksPort, 'network.proxy.socks_version': 5, 'network.proxy.socks_remote_dns': true };
}

/**
 * Firefox at the lowest CPU priority: its start-up takes both of a small CI machine's cores for a
 * few seconds, and the suite's other files run beside it, some of them timing mail servers' and
 * devices' dialogues. A script that becomes Firefox (exec, the same process) under `nice`.
 */
function niceFirefox(): string {
  const script = path.join(tempDir('conformance-firefox-bin-'), 'firefox');
  fs.writeFileSync(script, `#!/bin/sh\nexec nice -n 19 ${JSON.stringify(firefoxPath!)} "$@"\n`, { mode: 0o755 });
  return script;
}

let firefoxCommand: string | undefined;

async function runFirefox(context: RunContext): Promise<string> {
  const { origin } = context;
  const profile = path.join(tempDir('conformance-firefox-'), 'profile');
  await nssDatabaseTrusting(profile, context.caFile);
  firefoxCommand ??= niceFirefox();
  const browser = await puppeteer.launch({ browser: 'firefox', executablePath: firefoxCommand, headless: true, userDataDir: profile, extraPrefsFirefox: preferences(context) });
  try {
    const tab = await browser.newPage();
    const response = await tab.goto(`${origin.tls ? 'https' : 'http'}://${origin.hostname}:${origin.port}/`, { waitUntil: 'load' });
    await tab.waitForFunction("document.getElementById('out')?.textContent !== 'waiting'", { timeout: 20_000 });
    const headers = Object.entries(response?.headers() ?? {}).sort(([a], [b]) => a.localeCompare(b));
    return [
      `status ${response?.status()}`,
      ...headers.map(([name, value]) => `${name}: ${value}`),
      `page: ${await tab.$eval('#out', (element) => element.textContent)}`,
    ].join('\n');
  } finally {
    await browser.close();
  }
}

const skip = firefoxPath ? missingCommand('certutil', 'libnss3-tools') : 'Firefox is not installed (apt-get install firefox-esr)';

t.test('Firefox', { skip: skip ?? false }, async (t) => {
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());

  t.test('a page in clear (HTTP/1.1)', async (t) => {
    const origin = await startRecordingOrigin({ handler: handler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'firefox page + fetch POST (http)', run: runFirefox, originView: requestsSorted }, knownDifferences);
  });

  t.test('a page over TLS (h2), from an origin with an ECDSA certificate', async (t) => {
    const origin = await startRecordingOrigin({ tls: true, alpn: ['h2', 'http/1.1'], keyType: 'ec', handler: handler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'firefox page + fetch POST (h2)', run: runFirefox, originView: requestsSorted }, knownDifferences);
  });

  t.test('a page over TLS (HTTP/1.1 only)', async (t) => {
    const origin = await startRecordingOrigin({ tls: true, alpn: ['http/1.1'], handler: handler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'firefox page + fetch POST (https, http/1.1)', run: runFirefox, originView: requestsSorted }, knownDifferences);
  });

  for (const secure of [true, false]) {
    t.test(`a WebSocket (${secure ? 'wss' : 'ws'}) with permessage-deflate, four messages as soon as it is open`, async (t) => {
      const origin = await startWebSocketOrigin(secure, webSocketPage);
      t.teardown(() => origin.close());
      await differential(t, proxy, origin, { name: `firefox websocket (${secure ? 'wss' : 'ws'})`, run: runFirefox, closesConnections: true }, knownDifferences);
    });
  }

  t.test('a WebSocket over HTTP/2 (RFC 8441) with permessage-deflate, on the page\'s connection', async (t) => {
    const origin = await startWebSocketOrigin(true, webSocketPage, { http2: true });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'firefox websocket (wss over h2)', run: runFirefox, closesConnections: true, proxyDialect: withFieldsFirefoxAlwaysSends }, knownDifferences);
  });
});
