// The report in a real browser (Debian's Chromium driven by playwright-core): the demo's report
// opens from file:// with no console error and no request to any network; the map has its country
// shapes with the findings' countries shaded; the counts shown are summary.json's; the filter box
// narrows the list; a report holding hostile payloads runs no script — not even one slipped past
// the escaping, because the page's CSP allows only its own script; and analyze --report works on a
// HAR recorded by the browser itself. A screenshot is kept in test-artifacts/ to be looked at.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { once } from 'node:events';
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { chromium, type Browser, type Page } from 'playwright-core';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/lab.js';
import { makeFinding, writeRunFolder } from '../helpers/runs.js';
import { installRoot } from '../../src/util/install-paths.js';

const chromiumPath = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && fs.existsSync(p));
const artifacts = path.join(installRoot, 'test-artifacts');
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

interface Opened { page: Page; errors: string[]; requests: string[] }

async function open(browser: Browser, file: string): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  // What left the page: a request the CSP refused before it went out fails with "csp" (Chromium's net::ERR_BLOCKED_BY_CSP).
  page.on('requestfinished', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url()); });
  page.on('requestfailed', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:') && !/^csp$|BLOCKED_BY_CSP/.test(r.failure()?.errorText ?? '')) requests.push(`${r.url()} (${r.failure()?.errorText})`); });
  await page.goto(`file://${file}`, { waitUntil: 'load' });
  return { page, errors, requests };
}

t.test('the report in Chromium', { skip: chromiumPath ? false : 'chromium is not installed (apt-get install chromium)' }, async (t) => {
  const browser = await chromium.launch({ executablePath: chromiumPath!, args: ['--no-sandbox'] });
  t.teardown(() => browser.close());

  t.test("the demo's report: no error, no request, the map shaded, summary.json's counts, a working filter", async (t) => {
    const dir = path.join(tempDir(), 'run');
    const demo = run(['demo', '--headless', '--out', dir]);
    t.equal(demo.status, 0, demo.stderr);
    const made = run(['report', dir]);
    t.equal(made.status, 0, made.stderr);
    t.match(made.stderr, /^phonehome: report of 9 finding\(s\), 1 thumbnail\(s\), \d+ kB: .*report\.html\n$/);
    const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as { findings: { total: number; byCategory: Record<string, number> } };
    const { page, errors, requests } = await open(browser, path.join(dir, 'report.html'));
    t.same(errors, [], 'no console error');
    t.same(requests, [], 'no request to any network');

    t.ok(await page.locator('svg.world-map path.land').count() >= 177, 'the map has its country shapes');
    for (const code of ['CN', 'US', 'DE', 'FR']) {
      const cls = await page.locator(`svg.world-map path[data-country="${code}"]`).first().getAttribute('class');
      t.match(cls, /\bsent-[1-5]\b/, `${code} is shaded by bytes sent`);
    }
    t.match(await page.locator('svg.world-map path[data-country="CN"]').first().getAttribute('class'), /has-findings sev-high/, 'China, where the photo went, is outlined as high');

    t.equal(Number(await page.locator('#total-findings').textContent()), summary.findings.total, 'the total of summary.json');
    for (const [category, n] of Object.entries(summary.findings.byCategory).filter(([, n]) => n > 0)) {
      t.equal(Number(await page.locator(`[data-count-category="${category}"]`).textContent()), n, `${category}: ${n}`);
    }
    t.equal(await page.locator('article.finding').count(), summary.findings.total, 'one article per finding');
    const thumb = page.locator('article.finding[data-category="photo"] img.thumb');
    t.equal(await thumb.evaluate((img) => { const image = img as unknown as { complete: boolean; naturalWidth: number }; return image.complete && image.naturalWidth > 0 && image.naturalWidth <= 240; }), true, 'the photo thumbnail is decoded and shown');

    // Who sent it and who got it: one sentence per app, category and company, and the table of apps.
    const sentences = (await page.locator('#headline li').allTextContents()).map((x) => x.replace(/\s+/g, ' ').trim());
    t.ok(sentences.includes('high com.miui.gallery: photo → Xiaomi (simulated) (vendor cloud, first party, CN)'), `the photo's sentence names the app and the company (${sentences.join(' | ')})`);
    t.ok(sentences.includes('high com.miui.weather2 likely: location → Google (simulated) (advertising, US)'), 'an app known by weaker evidence says so');
    t.ok(sentences.every((x) => / → .+ \(simulated\) \(/.test(x)), 'every finding goes to a named (simulated) company');
    t.equal(await page.locator('#headline li').filter({ hasText: /^\s*\S+\s+com\.miui\./ }).count(), 5, 'the five HTTP findings name their app; SMTP and the pinned app have none to give');
    t.equal(await page.locator('table.apps tbody[data-app-row="com.miui.gallery"] th .app').getAttribute('title'), 'high confidence: User-Agent', "the app's evidence as a tooltip");
    t.same((await page.locator('table.apps tbody[data-app-row="com.miui.cloudservice"] tr').allInnerTexts()).map((x) => x.replace(/\s+/g, ' ').trim()), ['com.miui.cloudservice high: User-Agent SMS Xiaomi (simulated) (vendor cloud, first party, CN) × 1 1', 'contacts Xiaomi (simulated) (vendor cloud, first party, CN) × 1 1'], 'SMS and contacts, one each, to the vendor cloud');
    t.match(await page.locator('table.apps tbody[data-app-row=""]').textContent(), /unknown app/, 'the findings without an app have their row');
    await page.fill('#filter', 'cloudservice');
    t.equal(await page.locator('#shown-count').textContent(), '2', 'the filter finds a finding by its app');

    await page.fill('#filter', 'gallery');
    t.equal(await page.locator('#shown-count').textContent(), '1', 'typing narrows the list');
    t.equal(await page.locator('article.finding:visible').count(), 1);
    t.equal(await page.locator('article.finding:visible').getAttribute('data-category'), 'photo');
    await page.fill('#filter', '');
    await page.selectOption('#min-severity', 'critical');
    t.equal(await page.locator('article.finding:visible').count(), 1, 'at least critical: the clear-text password alone');
    await page.selectOption('#min-severity', 'info');

    fs.mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, 'report-demo.png'), fullPage: true });
    t.ok(fs.statSync(path.join(artifacts, 'report-demo.png')).size > 50_000, 'screenshot written to test-artifacts/report-demo.png');
    await page.emulateMedia({ media: 'print' });
    t.equal(await page.locator('.controls').isVisible(), false, 'printed, the search box is left out');
    const pdf = await page.pdf({ format: 'A4' });
    t.ok(pdf.length > 20_000, `it prints (${pdf.length} bytes of PDF)`);
    await page.close();
  });

  t.test('hostile payloads run nothing, even one that slipped past the escaping', async (t) => {
    const dir = writeRunFolder(tempDir(), {
      hosts: ['evil.example.cn'],
      findings: [makeFinding(1, {
        category: 'sms', host: 'evil.example.cn', url: 'javascript:window.__pwned=3',
        // An app id and a company name are payloads too (the app id comes from a header).
        app: { id: 'com.evil"><script>window.__pwned=6</script>', confidence: 'high', evidence: 'X-Requested-With <img src=x onerror="window.__pwned=7">' },
        destination: { country: 'CN', entity: '<script>window.__pwned=8</script>', purpose: '<b onmouseover="window.__pwned=9">ads</b>' },
        summary: '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1"><svg><script>window.__pwned=1</script></svg></style><style>body{display:none}</style>',
        evidence: { path: ['body'], bytes: 5, sha256: 'f'.repeat(64), excerpt: '<a href="javascript:window.__pwned=2">x</a> \u202Egpj.exe' },
      })],
    });
    t.equal(run(['report', dir]).status, 0);
    const file = path.join(dir, 'report.html');
    const escaped = await open(browser, file);
    t.equal(await escaped.page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned), undefined, 'no payload ran');
    t.equal(await escaped.page.locator('body').isVisible(), true, 'no payload style applied');
    t.equal(await escaped.page.locator('a[href^="javascript:"]').count(), 0, 'no javascript: link');
    t.same(escaped.errors, []);
    await escaped.page.close();
    // Defence in depth: a script that got into the page anyway is refused by the CSP.
    const smuggled = path.join(dir, 'smuggled.html');
    fs.writeFileSync(smuggled, fs.readFileSync(file, 'utf8').replace('<main>', '<main><script>window.__pwned=4</script><img src="x" onerror="window.__pwned=5"><img src="https://tracker.invalid/p.gif">'));
    const attacked = await open(browser, smuggled);
    t.equal(await attacked.page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned), undefined, 'the smuggled script and handler did not run');
    t.same(attacked.requests, [], 'the smuggled image was not fetched');
    t.ok(attacked.errors.some((e) => /Content Security Policy/.test(e)), 'the browser says the CSP refused them');
    t.equal(await attacked.page.locator('#shown-count').textContent(), '1', 'and the page script itself still runs');
    await attacked.page.fill('#filter', 'nothing-like-this');
    t.equal(await attacked.page.locator('#shown-count').textContent(), '0');
    await attacked.page.close();
  });

  t.test('analyze --report on a HAR recorded by the browser', async (t) => {
    const server = http.createServer((req, res) => {
      if (req.method === 'GET') {
        res.setHeader('content-type', 'text/html');
        res.end('<!doctype html><title>sync</title><script>fetch("/v2/sms", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ messages: [{ address: "+33612345678", body: "Rendez-vous demain à 18h devant la gare", date: 1413131405000, type: 1 }] }) }).then(function (r) { return r.text(); }).then(function (t) { document.title = "done " + t; });</script>');
        return;
      }
      req.resume();
      req.on('end', () => res.end('{"ok":true}'));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.teardown(() => server.close());
    const dir = tempDir();
    const harFile = path.join(dir, 'browser.har');
    const context = await browser.newContext({ recordHar: { path: harFile } });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
    await page.waitForFunction(() => (globalThis as unknown as { document: { title: string } }).document.title.startsWith('done'));
    await context.close();
    const analyzed = run(['analyze', harFile, '--report']);
    t.equal(analyzed.status, 0, analyzed.stderr);
    const sms = analyzed.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { category: string });
    t.ok(sms.some((f) => f.category === 'sms'), 'the SMS is found in the browser HAR');
    const reportFile = path.join(dir, 'browser.report.html');
    t.match(analyzed.stderr, /report: .*browser\.report\.html/);
    const { page: view, errors } = await open(browser, reportFile);
    t.same(errors, []);
    t.match(await view.locator('article.finding[data-category="sms"] .summary').textContent(), /SMS/);
    await view.close();
  });
});
