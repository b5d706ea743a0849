// The report built from run folders: numbers equal summary.json's, every finding with its evidence,
// the photo's thumbnail found again inside its upload, hostile text inert, --redact, --baseline,
// and the limits that keep a big run's report small.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { reportRunFolder } from '../../../src/report/build-report.js';
import { contentSecurityPolicy, cspHash, REPORT_CSS, REPORT_SCRIPT } from '../../../src/report/page-assets.js';
import { makeFlow } from '../../helpers/flows.js';
import { tempDir } from '../../helpers/lab.js';
import { makeFinding, writeRunFolder } from '../../helpers/runs.js';

const jpeg = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'fixtures', 'photos', 'camera.jpg'));
const sha = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');

function photoUpload(id: string, photo: Buffer) {
  const boundary = 'XyZ';
  const body = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="IMG_1.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`), photo, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return makeFlow({ id, url: 'https://gallery.example.cn/upload', target: { host: 'gallery.example.cn', port: 443 }, requestHeaders: [['content-type', `multipart/form-data; boundary=${boundary}`]], requestBody: body, bytesUp: body.length });
}

const summary = {
  v: 1, tool: { name: 'phonehome', version: '0.1.0' }, startedAt: '2026-11-27T18:30:00.000Z', endedAt: '2026-11-27T18:40:00.000Z', durationMs: 600_000,
  insecureUpstream: false, options: { listen: '0.0.0.0:8080', redact: false },
  flows: { seen: 2, http: 2, decrypted: 2, plainHttp: 0, websocket: 0, passedThrough: 0, raw: 0, tlsFailed: 0, rejected: 0, withErrors: 0, inspectedPartly: 0 },
  findings: { total: 3, byCategory: { photo: 1, sms: 1, mail: 1 }, bySeverity: { high: 3 } },
  destinations: [{ host: 'gallery.example.cn', ips: ['42.62.48.10'], country: 'CN', asn: 23724, org: 'CHINANET', flows: 1, bytesUp: 75_000, bytesDown: 20, findings: 1 }, { host: 'mail.example.de', ips: ['5.9.1.1'], country: 'DE', asn: 24940, org: 'Hetzner', flows: 1, bytesUp: 900, bytesDown: 200, findings: 2 }],
  byCountry: { CN: { flows: 1, bytesUp: 75_000, bytesDown: 20, findings: 1, hosts: ['gallery.example.cn'] }, DE: { flows: 1, bytesUp: 900, bytesDown: 200, findings: 2, hosts: ['mail.example.de'] } },
  coverage: { totals: { flows: { inspected: 2 }, bytesUp: 75_900, bytesUpInspected: 75_900, bytesDown: 220, bytesDownInspected: 220 }, unseenByHost: {} },
  tls: { client: { TLSv1: { flows: 1, hosts: ['gallery.example.cn'], devices: ['192.168.1.23'] }, 'TLSv1.3': { flows: 1, hosts: ['mail.example.de'], devices: ['192.168.1.23'] } }, server: { 'TLSv1.3': { flows: 2, hosts: ['gallery.example.cn', 'mail.example.de'], devices: ['192.168.1.23'] } } },
};

const hostile = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1"></style>javascript:alert(1) \u202Egpj.exe';

function run(dir: string) {
  const upload = photoUpload('fl-000001', jpeg);
  return writeRunFolder(dir, {
    summary,
    flows: [upload, makeFlow({ id: 'fl-000002', target: { host: 'mail.example.de', port: 443 } })],
    findings: [
      makeFinding(1, { flowId: 'fl-000001', summary: 'JPEG camera photo 1600x1200', evidence: { path: ['body', 'multipart:file', 'image/jpeg'], bytes: jpeg.length, sha256: sha(jpeg), excerpt: 'IMG_1.jpg' }, details: { camera: 'Xiaomi Redmi Note', takenAt: '2014-10-12 18:30:05', gps: [48.853, 2.3499] } }),
      makeFinding(2, { flowId: 'fl-000002', category: 'sms', detector: 'sms/records', host: 'mail.example.de', url: 'javascript:alert(1)', destination: { ip: '5.9.1.1', port: 443, country: 'DE', asn: 24940, org: 'Hetzner' }, summary: `1 SMS ${hostile}`, evidence: { path: ['body', 'json'], bytes: 80, sha256: 'b'.repeat(64), excerpt: `Rendez-vous demain ${hostile}` } }),
      makeFinding(3, { flowId: 'fl-000002', category: 'mail', detector: 'mail/smtp', host: 'mail.example.de', destination: { ip: '5.9.1.1', port: 443, country: 'DE', asn: 24940, org: 'Hetzner' }, summary: 'Mail to bob@example.org', evidence: { path: ['stream:up', 'smtp'], bytes: 300, sha256: 'c'.repeat(64), excerpt: 'Subject: Rendez-vous' }, canary: 'mail-canary' }),
    ],
  });
}

t.test('the report of a run: counts of summary.json, each finding, the photo found again and shown', async (t) => {
  const dir = run(tempDir());
  const written = await reportRunFolder(dir);
  t.equal(written.file, path.join(dir, 'report.html'));
  t.equal(written.thumbnails, 1, 'the photo was found inside its multipart upload');
  const html = fs.readFileSync(written.file, 'utf8');
  t.equal(fs.statSync(written.file).mode & 0o777, 0o644);
  t.match(html, /<strong id="total-findings">3<\/strong>/, 'the total of summary.json');
  t.match(html, /data-count-category="photo">1</);
  t.match(html, /data-count-category="sms">1</);
  for (const id of ['f-000001', 'f-000002', 'f-000003']) t.match(html, new RegExp(`<article class="finding high" id="${id}"`), `${id} is shown`);
  t.match(html, /<img class="thumb" alt="thumbnail of the photo sent to gallery.example.cn" src="data:image\/jpeg;base64,/);
  t.match(html, /<dd>Xiaomi Redmi Note<\/dd>/, 'the camera');
  t.match(html, /href="https:\/\/www\.openstreetmap\.org\/\?mlat=48\.85300&amp;mlon=2\.34990#map=16\/48\.85300\/2\.34990"/, 'the GPS position links to OpenStreetMap');
  t.match(html, /China \(CN\)/);
  t.match(html, /data-country="CN"/, 'the map shades China');
  t.match(html, /body › multipart:file › image\/jpeg/, 'the decode path');
  t.match(html, /canary: mail-canary/, 'the canary label');
  t.match(html, /href="#f-000001"/, 'the timeline links to the evidence');
  t.match(html, /The detectors were given <strong>100\.0 %<\/strong>/, 'the coverage ledger');
  t.match(html, /<tr class="old-tls"><td>device → phonehome<\/td><td>TLS 1\.0 <strong>\(obsolete\)<\/strong><\/td><td class="num">1<\/td><td class="num">1<\/td><td>device\(s\) <code>192\.168\.1\.23<\/code><\/td><\/tr>/, 'a device on TLS 1.0 stands out');
  t.match(html, /<tr><td>phonehome → server<\/td><td>TLS 1\.3<\/td><td class="num">2<\/td><td class="num">2<\/td>/);
  t.notMatch(html, /https?:\/\/(?!www\.openstreetmap\.org)[^"\s<]*"/, 'no other address to fetch in any attribute');
});

t.test('hostile text from traffic is inert: escaped, bidi tricks visible, one script, allowed by hash', async (t) => {
  const dir = run(tempDir());
  const html = fs.readFileSync((await reportRunFolder(dir)).file, 'utf8');
  t.equal(html.match(/<script/g)?.length, 1, 'the only script element is ours');
  t.equal(html.match(/<style/g)?.length, 1, 'the only style element is ours');
  t.equal(html.match(/<\/style>/g)?.length, 1, 'a payload cannot end the style sheet');
  t.notMatch(html, /onerror="/i, 'no event handler attribute');
  t.notMatch(html, /<img src=x/, 'the payload image is text');
  t.notMatch(html, /href="javascript:/i, 'a javascript: URL is never a link');
  t.match(html, /&lt;script&gt;window.__pwned=1&lt;\/script&gt;/, 'the payload is shown as text');
  t.match(html, /\\u202egpj\.exe/, 'the right-to-left override is shown, not obeyed');
  t.notMatch(html, /\u202E/, 'no raw override character anywhere');
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1]?.replace(/&#39;/g, "'");
  t.equal(csp, contentSecurityPolicy());
  t.match(csp!, /^default-src 'none'; /, 'nothing is allowed unless named');
  const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
  const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
  t.equal(script, REPORT_SCRIPT);
  t.equal(style, REPORT_CSS);
  t.ok(csp!.includes(`script-src ${cspHash(script)}`) && csp!.includes(`style-src ${cspHash(style)}`), 'the page script and style are the ones hashed');
});

t.test('--redact: no photos, masked values; a run captured with --redact is redacted without asking', async (t) => {
  const dir = run(tempDir());
  const html = fs.readFileSync((await reportRunFolder(dir, { redact: true })).file, 'utf8');
  t.notMatch(html, /<img /, 'no thumbnail');
  t.match(html, /photo not shown \(redacted report\)/);
  t.notMatch(html, /Rendez-vous demain/, 'message text masked');
  t.match(html, /Re\*+-\*+/, 'masked with its shape kept');
  t.notMatch(html, /openstreetmap/, 'no map link to the place');
  const captured = run(tempDir());
  fs.writeFileSync(path.join(captured, 'summary.json'), JSON.stringify({ ...summary, options: { redact: true } }));
  const auto = fs.readFileSync((await reportRunFolder(captured)).file, 'utf8');
  t.notMatch(auto, /<img /, 'the run said --redact: the report follows');
});

t.test('--baseline: the new photo is new, what the baseline had and this run has not is gone', async (t) => {
  const root = tempDir();
  const dir = run(path.join(root, 'run'));
  const base = writeRunFolder(path.join(root, 'base'), {
    hosts: ['mail.example.de', 'telemetry.example.com'],
    findings: [makeFinding(7, { category: 'mail', detector: 'mail/smtp', host: 'mail.example.de', summary: 'Mail to bob@example.org', evidence: { path: ['stream:up'], bytes: 300, sha256: 'c'.repeat(64) } }), makeFinding(8, { category: 'identifier', detector: 'identifier/imei', host: 'telemetry.example.com', summary: 'IMEI 35345', evidence: { path: ['body'], bytes: 15, sha256: 'e'.repeat(64) } })],
  });
  const html = fs.readFileSync((await reportRunFolder(dir, { baselineDir: base, out: path.join(root, 'cmp.html') })).file, 'utf8');
  const section = /<section id="comparison">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? '';
  t.match(section, /New findings \(2\)/, 'the photo and the SMS are new; the same mail is not');
  t.match(section, /<a href="#f-000001">JPEG camera photo/);
  t.match(section, /Findings gone since the baseline \(1\)[\s\S]*IMEI 35345/);
  t.match(section, /New destinations \(1\)[\s\S]*gallery\.example\.cn/);
  t.match(section, /Destinations gone \(1\)[\s\S]*telemetry\.example\.com/);
  t.match(section, /New categories \(2\)[\s\S]*Photos[\s\S]*SMS/);
  const article = (id: string): string => new RegExp(`<article[^>]* id="${id}"[\\s\\S]*?</article>`).exec(html)?.[0] ?? '';
  t.match(article('f-000001'), /new since baseline/, 'the new finding is badged in the list');
  t.notMatch(article('f-000003'), /new since baseline/, 'the mail in both runs is not');
});

t.test('bad folders are one clear error', async (t) => {
  const empty = tempDir();
  await t.rejects(reportRunFolder(empty), /has no summary\.json \(a run that was killed\? phonehome recover/);
  await t.rejects(reportRunFolder(path.join(empty, 'nope')), /is not a folder/);
  fs.writeFileSync(path.join(empty, 'summary.json'), '{"v":1,');
  await t.rejects(reportRunFolder(empty), /summary\.json is not JSON/);
});

t.test('a large run: 10,000 flows and 1,000 findings make a report well under 25 MB, thumbnails capped', async (t) => {
  const dir = tempDir();
  const flows = [];
  const findings = [];
  const tinyPhotos = await Promise.all(Array.from({ length: 30 }, (_, i) => import('sharp').then((s) => s.default({ create: { width: 64 + i, height: 48, channels: 3, background: { r: i * 8, g: 100, b: 200 } } }).jpeg().toBuffer())));
  for (let i = 0; i < 10_000; i++) {
    const id = `fl-${String(i + 1).padStart(6, '0')}`;
    const host = `host${i % 300}.example.com`;
    const photo = i < 30 ? tinyPhotos[i]! : undefined;
    flows.push(photo ? photoUpload(id, photo) : makeFlow({ id, target: { host, port: 443 }, url: `https://${host}/e`, requestBody: `{"i":${i}}`, bytesUp: 10, startedAt: new Date(Date.parse('2026-11-27T18:00:00Z') + i * 300).toISOString() }));
    if (i % 10 === 0) findings.push(makeFinding(i + 1, { flowId: id, category: photo ? 'photo' : 'identifier', host: photo ? 'gallery.example.cn' : host, summary: `finding ${i} <b>`, evidence: { path: ['body'], bytes: 10, sha256: photo ? sha(photo) : sha(Buffer.from(String(i))), excerpt: 'x'.repeat(300) } }));
  }
  writeRunFolder(dir, { summary: { ...summary, findings: { total: findings.length } }, flows, findings });
  const written = await reportRunFolder(dir, { limits: { maxThumbnails: 2, maxThumbnailBytes: 1_000_000 } });
  t.equal(written.findings, 1000);
  t.equal(written.thumbnails, 2, 'thumbnails stop at the limit');
  t.ok(written.bytes < 25 * 1024 * 1024, `${(written.bytes / 1048576).toFixed(1)} MiB`);
  const html = fs.readFileSync(written.file, 'utf8');
  t.match(html, /1 photo finding\(s\) without a thumbnail/, 'the photo over the limit is counted, not silently dropped');
});
