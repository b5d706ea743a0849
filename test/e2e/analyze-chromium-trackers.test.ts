// A page that talks to trackers, recorded by Chromium (Debian's, driven by playwright-core, which
// writes the HAR), then read by `phonehome analyze`: every tracker host is named by its company and
// what it does, in the findings and in the summary's destinations. The tracker names are real
// (Amplitude, Umeng, Baidu; ones HSTS-preloaded, like Google Analytics, Chromium would only reach over HTTPS); Chromium maps every name to the local server, so nothing
// leaves the machine.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { once } from 'node:events';
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { chromium } from 'playwright-core';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/lab.js';

const chromiumPath = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && fs.existsSync(p));

/** The page: a script from Baidu, an analytics event to Amplitude with a location, an Umeng log with the IMEI. */
function page(port: number): string {
  // no-cors, as tracking snippets post (sendBeacon, no-cors fetch): no preflight, an opaque answer.
  const post = (url: string, body: unknown) => `fetch(${JSON.stringify(url)}, { method: 'POST', mode: 'no-cors', body: ${JSON.stringify(JSON.stringify(body))} })`;
  return `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>news</title>
<script src="http://hm.baidu.com:${port}/hm.js"></script></head><body><script>
Promise.all([
  ${post(`http://api2.amplitude.com:${port}/2/httpapi`, { api_key: '0f3b1c2d4e5f60718293a4b5c6d7e8f9', event_type: 'open', position: { latitude: 48.85341, longitude: 2.3488, accuracy: 12 } })},
  ${post(`http://alog.umeng.com:${port}/app_logs`, { header: { appkey: '54c8a1b2fd98c5d1e8000123', imei: '490154203237518', device_model: 'HM NOTE 1W' } })},
]).then(function () { document.title = 'done'; }, function (e) { document.title = 'failed ' + e; });
</script></body></html>`;
}

t.test('a Chromium HAR through analyze names the trackers by company and purpose', { skip: chromiumPath ? false : 'chromium is not installed (apt-get install chromium)' }, async (t) => {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.headers.host?.startsWith('news.example')) {
        res.setHeader('content-type', 'text/html');
        return res.end(page((server.address() as { port: number }).port));
      }
      if (req.url?.endsWith('.js')) {
        res.setHeader('content-type', 'application/javascript');
        return res.end('window._hmt = [];');
      }
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;

  const dir = tempDir();
  const harFile = path.join(dir, 'news.har');
  const browser = await chromium.launch({ executablePath: chromiumPath!, args: ['--no-sandbox', '--host-resolver-rules=MAP * 127.0.0.1'] });
  t.teardown(() => browser.close());
  const context = await browser.newContext({ recordHar: { path: harFile } });
  const tab = await context.newPage();
  await tab.goto(`http://news.example.org:${port}/`);
  await tab.waitForFunction(() => (globalThis as unknown as { document: { title: string } }).document.title !== 'news');
  const title = await tab.title();
  t.equal(title, 'done', `the page reached every tracker (${title})`);
  await context.close();

  const out = path.join(dir, 'run');
  const analyzed = spawnSync(process.execPath, [cli, 'analyze', harFile, '--out', out], { encoding: 'utf8', timeout: 120_000 });
  t.equal(analyzed.status, 0, analyzed.stderr);
  const findings = fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { host: string; category: string; destination: { entity?: string; purpose?: string } });
  const to = (host: string) => findings.filter((f) => f.host === host);
  t.ok(to('alog.umeng.com').some((f) => f.category === 'identifier'), 'the IMEI sent to Umeng is found');
  for (const f of to('alog.umeng.com')) t.match(f.destination, { entity: /Umeng/, purpose: 'analytics' }, 'Umeng is named, as analytics');
  t.ok(to('api2.amplitude.com').some((f) => f.category === 'location'), 'the position sent to Amplitude is found');
  for (const f of to('api2.amplitude.com')) t.match(f.destination, { entity: 'Amplitude', purpose: 'analytics' });
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as { destinations: Array<{ host: string; entity: string | null; purpose: string | null }> };
  t.match(summary.destinations.find((d) => d.host === 'hm.baidu.com'), { entity: 'Baidu', purpose: 'advertising' }, 'a tracker that got nothing worth a finding is still named in the destinations');
  t.match(summary.destinations.find((d) => d.host === 'news.example.org'), { entity: null, purpose: null }, 'the site itself is no tracker');
});
