// The report names who sent it and who got it (issue #22): the headline reads "app: data → company
// (purpose, country)", first party said as such, the host and country as before when no app or
// company is known; a table of apps by category and destination with each app's confidence and
// evidence; app ids and company names from traffic escaped like every other payload; --baseline
// lists new apps and new companies.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { Finding } from '../../../src/model/finding.js';
import { reportRunFolder } from '../../../src/report/build-report.js';
import { tempDir } from '../../helpers/lab.js';
import { makeFinding, writeRunFolder } from '../../helpers/runs.js';

const gallery = { id: 'com.miui.gallery', confidence: 'high' as const, evidence: 'User-Agent' };
const xiaomi = { ip: '42.62.48.10', port: 443, country: 'CN', entity: 'Xiaomi', purpose: 'vendor cloud', firstParty: true };
const hostile = '<img src=x onerror="window.__pwned=1">\u202Egpj.exe';

function findings(): Finding[] {
  return [
    makeFinding(1, { app: { ...gallery, version: '5.2.1' }, destination: xiaomi, host: 'gallery.example.cn' }),
    makeFinding(2, { app: { ...gallery, evidence: 'connection proxy-3: User-Agent' }, destination: xiaomi, host: 'backup.example.cn', evidence: { path: ['body'], bytes: 10, sha256: 'b'.repeat(64) } }),
    makeFinding(3, { category: 'location', severity: 'medium', detector: 'location/geo', summary: 'position', host: 'ads.example.com', app: { id: 'com.miui.weather2', name: 'Weather', confidence: 'medium', evidence: 'body:package' }, destination: { country: 'US', entity: 'AdCo', purpose: 'advertising', firstParty: false }, evidence: { path: ['body'], bytes: 5, sha256: 'c'.repeat(64) } }),
    // An app id and a company name that are payloads.
    makeFinding(4, { category: 'identifier', severity: 'medium', detector: 'identifier/imei', summary: 'IMEI', host: 'evil.example.com', app: { id: `com.evil${hostile}`, confidence: 'low', evidence: `X-Requested-With ${hostile}` }, destination: { country: 'US', entity: `Evil ${hostile}`, purpose: `spying ${hostile}` }, evidence: { path: ['body'], bytes: 5, sha256: 'd'.repeat(64) } }),
    // Neither app nor company: the host and country, as before.
    makeFinding(5, { category: 'sms', detector: 'sms/records', summary: '1 SMS', host: 'sms.example.cn', destination: { ip: '1.2.3.4', country: 'CN' }, evidence: { path: ['body'], bytes: 5, sha256: 'e'.repeat(64) } }),
  ];
}

const shownId = (id: string): string => id.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const text = (html: string): string => html.replace(/<[^>]+>/g, '').replace(/&gt;/g, '>').replace(/&lt;/g, '<').replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&quot;/g, '"');

t.test('the headline: app → data → company (purpose, first party, country); host and country without them', async (t) => {
  const dir = writeRunFolder(tempDir(), { findings: findings(), hosts: ['gallery.example.cn', 'backup.example.cn', 'ads.example.com', 'evil.example.com', 'sms.example.cn'] });
  const html = fs.readFileSync((await reportRunFolder(dir)).file, 'utf8');
  const headline = /<div class="headline" id="headline">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? '';
  const sentences = [...headline.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => text(m[1]!));
  t.same(sentences, [
    'high com.miui.gallery: photo → Xiaomi (vendor cloud, first party, CN) (2 findings)',
    'high SMS → sms.example.cn in China (CN)',
    `medium com.evil<img src=x onerror="window.__pwned=1">\\u202egpj.exe guess: identifier → Evil <img src=x onerror="window.__pwned=1">\\u202egpj.exe (spying <img src=x onerror="window.__pwned=1">\\u202egpj.exe, US)`,
    'medium Weather (com.miui.weather2) likely: location → AdCo (advertising, US)',
  ], 'one sentence per app, category and company, worst first; two hosts of one company are one sentence');
  t.match(headline, /<span class="entity" title="hosts: gallery\.example\.cn, backup\.example\.cn">Xiaomi<\/span>/, "the company's hosts in its tooltip");
  t.match(headline, /title="high confidence: User-Agent; connection proxy-3: User-Agent"/, "the app's evidence in its tooltip");
  t.match(headline, /By category: Photos <span data-count-category="photo">2<\/span>/, 'the counts per category stay');
  t.notMatch(html, /<img src=x/, 'the payload in an app id and a company name is text');
  t.notMatch(html, /onerror="/);
  t.notMatch(html, /\u202E/, 'the override is shown, not obeyed');

  const table = /<table class="apps" id="apps">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
  t.same(text(/<thead>([\s\S]*?)<\/thead>/.exec(table)?.[1] ?? '').trim(), 'appdatasent tofindings');
  const apps = [...table.matchAll(/<tbody data-app-row="([^"]*)">([\s\S]*?)<\/tbody>/g)].map((m) => [m[1], [...m[2]!.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => text(c[1]!)))]);
  const evil = `com.evil<img src=x onerror="window.__pwned=1">\\u202egpj.exe`;
  const evilText = `<img src=x onerror="window.__pwned=1">\\u202egpj.exe`;
  t.same(apps, [
    ['com.miui.gallery', [['com.miui.galleryhigh: User-Agent; connection proxy-3: User-Agent', 'photo', 'Xiaomi (vendor cloud, first party, CN) × 2', '2']]],
    [shownId(evil), [[`${evil} guesslow: X-Requested-With ${evilText}`, 'identifier', `Evil ${evilText} (spying ${evilText}, US) × 1`, '1']]],
    ['com.miui.weather2', [['Weather (com.miui.weather2) likelymedium: body:package', 'location', 'AdCo (advertising, US) × 1', '1']]],
    ['', [['unknown app', 'SMS', 'sms.example.cn in China (CN) × 1', '1']]],
  ], 'one group of rows per app (the unknown app last), one row per category: the destinations and counts');
  t.match(table, /<th rowspan="1">/, "the app's cell spans its categories");

  const article = /<article[^>]* id="f-000003"[\s\S]*?<\/article>/.exec(html)?.[0] ?? '';
  t.match(text(article), /appWeather \(com\.miui\.weather2\) likely medium confidence: body:package/, "the finding says its app and the app's evidence");
  t.match(text(article), /companyAdCo: advertising/, 'and the company');
  t.match(text(/<article[^>]* id="f-000001"[\s\S]*?<\/article>/.exec(html)?.[0] ?? ''), /companyXiaomi: vendor cloud \(first party: the app's own vendor\)/);
  t.match(text(/<article[^>]* id="f-000001"[\s\S]*?<\/article>/.exec(html)?.[0] ?? ''), /appcom\.miui\.gallery 5\.2\.1 high confidence: User-Agent/, "the app's version where its User-Agent gave one");
  t.notMatch(/<article[^>]* id="f-000005"[\s\S]*?<\/article>/.exec(html)?.[0] ?? '', /<dt>app<\/dt>|<dt>company<\/dt>/, 'no app, no company: no such rows');
});

t.test('--baseline: new apps sending something and new companies receiving it', async (t) => {
  const root = tempDir();
  const all = findings();
  const base = writeRunFolder(path.join(root, 'base'), { findings: [all[0]!, all[4]!], hosts: ['gallery.example.cn', 'sms.example.cn'] });
  const dir = writeRunFolder(path.join(root, 'run'), { findings: all, hosts: ['gallery.example.cn', 'sms.example.cn'] });
  const html = fs.readFileSync((await reportRunFolder(dir, { baselineDir: base })).file, 'utf8');
  const section = /<section id="comparison">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? '';
  t.match(text(section), /New apps sending something \(2\)\s*Weather \(com\.miui\.weather2\) likely: 1 finding\(s\) \(Location\) to ads\.example\.com/);
  t.match(section, /New companies receiving something \(2\)/);
  t.match(text(section), /AdCo \(advertising\): 1 finding\(s\) \(Location\) at ads\.example\.com/);
  t.notMatch(text(section), /New apps[^]*com\.miui\.gallery[^]*New companies/, 'the gallery sent in both runs');
  t.notMatch(section, /<img src=x/);
});
