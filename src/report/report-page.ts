// The report as one HTML document: headline, run facts, map, timeline, comparison, findings with
// their evidence, and what could not be seen. Every string from traffic goes through shown();
// numbers and our own words go through escapeHtml() too, so nothing reaches the page unescaped.

import { severities, severityRank, type Finding, type Severity } from '../model/finding.js';
import { escapeHtml, formatBytes, shown } from './html-text.js';
import { contentSecurityPolicy, REPORT_CSS, REPORT_SCRIPT } from './page-assets.js';
import type { ReportModel } from './report-model.js';
import type { CoverageTotalsJson, RunSummary } from './report-source.js';
import { timelineSvg } from './timeline.js';
import { countryName, worldMapSvg } from './world-map.js';
import { appTable, appText, sentence, sentenceGroups } from './who-sent-it.js';

/** Sentences in the headline; the table of apps has them all. */
const HEADLINE_SENTENCES = 12;

const CATEGORY_TITLES: Record<string, string> = {
  photo: 'Photos', sms: 'SMS', mail: 'Mail', contact: 'Contacts', 'call-log': 'Call logs', identifier: 'Identifiers',
  location: 'Location', credential: 'Credentials', browsing: 'Browsing history', 'app-list': 'App inventories', 'tls-pinned': 'Pinned connections (not decrypted)', opaque: 'Data that could not be read',
};

const categoryTitle = (category: string): string => CATEGORY_TITLES[category] ?? category;

/** "China (CN)" for a code; labels such as "loopback" or "unknown" as they are. */
function place(code: string | null | undefined): string {
  if (!code) return 'unknown';
  return /^[A-Z]{2}$/.test(code) ? `${countryName(code)} (${code})` : code;
}

const sev = (s: Severity): string => `<span class="sev ${s}">${s}</span>`;
/** A count in a matrix: empty when zero, so the numbers that matter stand out. */
const count = (n: number): string => (n === 0 ? '<td class="num muted">·</td>' : `<td class="num">${n}</td>`);
const num = (n: number | undefined): string => `<td class="num">${escapeHtml((n ?? 0).toLocaleString('en-US'))}</td>`;

function worstOf(findings: readonly Finding[]): Severity | null {
  let worst: Severity | null = null;
  for (const f of findings) if (worst === null || severityRank(f.severity) > severityRank(worst)) worst = f.severity;
  return worst;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return 'unknown';
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function headline(model: ReportModel): string {
  const { findings, source } = model;
  const total = source.summary.findings?.total ?? findings.length;
  const byCategory = groupBy(findings, (f) => f.category);
  const ordered = [...byCategory].sort((a, b) => severityRank(worstOf(b[1])!) - severityRank(worstOf(a[1])!) || b[1].length - a[1].length);
  if (ordered.length === 0) {
    return `<div class="headline calm" id="headline"><p><strong>No personal data was found leaving the device</strong> in the ${escapeHtml(String(source.summary.flows?.['seen'] ?? model.flows.length))} flows recorded. See <a href="#coverage">what could not be seen</a> before concluding that nothing left.</p></div>`;
  }
  // One sentence per app, category and destination: "com.miui.gallery: photo → Xiaomi (vendor cloud, CN)".
  const groups = sentenceGroups(findings);
  const items = groups.slice(0, HEADLINE_SENTENCES).map((g) => `<li>${sev(g.worst)} ${sentence(g)}</li>`);
  const more = groups.length > HEADLINE_SENTENCES ? `<p class="muted">and ${escapeHtml(String(groups.length - HEADLINE_SENTENCES))} more (see the table of apps below)</p>` : '';
  const perCategory = ordered.map(([category, list]) => `${escapeHtml(categoryTitle(category))} <span data-count-category="${escapeHtml(category)}">${list.length}</span>`).join(', ');
  const countries = [...new Set(findings.map((f) => f.destination?.country ?? 'unknown'))].sort();
  const matrix = `<table class="matrix"><caption class="muted">Findings by category and destination country</caption><thead><tr><th>category</th><th>worst</th>${countries.map((c) => `<th class="num">${shown(place(c === 'unknown' ? null : c))}</th>`).join('')}<th class="num">total</th></tr></thead><tbody>${
    ordered.map(([category, list]) => `<tr><td>${escapeHtml(categoryTitle(category))}</td><td>${sev(worstOf(list)!)}</td>${countries.map((c) => count(list.filter((f) => (f.destination?.country ?? 'unknown') === c).length)).join('')}${num(list.length)}</tr>`).join('')
  }</tbody></table>`;
  const apps = appTable(findings, ordered.map(([category]) => category));
  return `<div class="headline" id="headline"><p><strong id="total-findings">${escapeHtml(String(total))}</strong> finding${total === 1 ? '' : 's'}: what left the device, which app sent it, and who got it.</p><ul>${items.join('')}</ul>${more}<p class="muted by-category">By category: ${perCategory}</p></div>${matrix}${apps}`;
}

function facts(model: ReportModel): string {
  const s = model.source.summary;
  const flows = s.flows ?? {};
  const options = Object.entries(s.options ?? {}).filter(([, v]) => v !== null && v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0));
  const rows: Array<[string, string]> = [
    ['source', `<code>${shown(model.source.title, 300)}</code>`],
    ['started', shown(s.startedAt ?? 'unknown')],
    ['ended', shown(s.endedAt ?? 'unknown')],
    ['duration', escapeHtml(duration(s.durationMs))],
    ['devices seen', model.devices.length === 0 ? 'none recorded' : model.devices.map((d) => `<code>${shown(d, 60)}</code>`).join(', ')],
    ['flows', `${escapeHtml(String(flows['seen'] ?? model.flows.length))} seen: ${escapeHtml(String(flows['decrypted'] ?? 0))} decrypted, ${escapeHtml(String(flows['plainHttp'] ?? 0))} plain HTTP, ${escapeHtml(String(flows['websocket'] ?? 0))} WebSocket, ${escapeHtml(String(flows['passedThrough'] ?? 0))} passed through, ${escapeHtml(String(flows['raw'] ?? 0))} raw streams, ${escapeHtml(String(flows['tlsFailed'] ?? 0))} TLS refused`],
    ['upstream certificates', s.insecureUpstream ? '<span class="warning">NOT verified (--insecure-upstream): a server could have been impersonated</span>' : 'verified'],
    ['options in force', options.length === 0 ? 'defaults' : options.map(([k, v]) => `<code>${shown(k, 60)}=${shown(typeof v === 'string' ? v : JSON.stringify(v), 200)}</code>`).join(' ')],
    ['captured with', `phonehome ${shown(s.tool?.version ?? 'unknown', 40)}`],
    ['location data', model.geoDatabases.map((g) => escapeHtml(g)).join('<br>')],
    ['report', `built ${escapeHtml(model.builtAt)}${model.redacted ? '; <strong>redacted</strong>: personal values masked, no photos' : ''}${model.source.cutLines() > 0 ? `; ${escapeHtml(String(model.source.cutLines()))} line(s) cut by a crash were left out` : ''}`],
  ];
  const notes = (s.notes ?? []).map((n) => `<li>${shown(n, 500)}</li>`).join('');
  return `<table class="facts"><tbody>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${v}</td></tr>`).join('')}</tbody></table>${notes ? `<ul class="notes">${notes}</ul>` : ''}`;
}

function mapSection(model: ReportModel): string {
  const byCountry = Object.entries(model.source.summary.byCountry ?? {});
  const table = `<table class="countries"><caption class="muted">Sent per country or network label (from summary.json)</caption><thead><tr><th>country</th><th class="num">flows</th><th class="num">bytes sent</th><th class="num">bytes received</th><th class="num">findings</th><th>destinations</th></tr></thead><tbody>${
    byCountry.map(([code, t]) => `<tr data-country-row="${escapeHtml(code)}"><td>${shown(place(code))}</td>${num(t.flows)}<td class="num">${escapeHtml(formatBytes(t.bytesUp ?? 0))}</td><td class="num">${escapeHtml(formatBytes(t.bytesDown ?? 0))}</td>${num(t.findings)}<td>${(t.hosts ?? []).slice(0, 6).map((h) => `<code>${shown(h, 100)}</code>`).join(', ')}${(t.hosts?.length ?? 0) > 6 ? ` and ${escapeHtml(String(t.hosts!.length - 6))} more` : ''}</td></tr>`).join('')
  }</tbody></table>`;
  const networks = Object.entries(model.source.summary.byNetwork ?? {}).slice(0, 12);
  const networkTable = networks.length === 0 ? '' : `<h3>Networks</h3><table class="networks"><thead><tr><th>network</th><th class="num">flows</th><th class="num">bytes sent</th><th class="num">findings</th><th>destinations</th></tr></thead><tbody>${
    networks.map(([name, t]) => `<tr><td>${shown(name, 120)}</td>${num(t.flows)}<td class="num">${escapeHtml(formatBytes(t.bytesUp ?? 0))}</td>${num(t.findings)}<td>${(t.hosts ?? []).slice(0, 4).map((h) => `<code>${shown(h, 100)}</code>`).join(', ')}</td></tr>`).join('')
  }</tbody></table>`;
  const legend = '<p class="legend muted">bytes sent: <span class="l1"></span>100 B+ <span class="l2"></span>1 kB+ <span class="l3"></span>10 kB+ <span class="l4"></span>100 kB+ <span class="l5"></span>1 MB+ <span class="lf"></span>findings sent there (outline coloured by the worst)</p>';
  const unplaced = byCountry.filter(([code]) => !/^[A-Z]{2}$/.test(code)).map(([code]) => code);
  const note = unplaced.length > 0 ? `<p class="muted">Not on the map: ${unplaced.map((c) => shown(c, 60)).join(', ')} (addresses with no country: local networks, loopback, or not in the database).</p>` : '';
  return `<div class="map-row">${worldMapSvg(model.countries)}</div>${legend}${note}${table}${networkTable}`;
}

function photoFacts(f: Finding, redacted: boolean): string {
  const d = f.details as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof d['camera'] === 'string') parts.push(`<dt>camera</dt><dd>${shown(d['camera'], 120)}</dd>`);
  if (typeof d['takenAt'] === 'string') parts.push(`<dt>taken</dt><dd>${shown(d['takenAt'], 60)}</dd>`);
  const gps = d['gps'];
  if (Array.isArray(gps) && typeof gps[0] === 'number' && typeof gps[1] === 'number' && Math.abs(gps[0]) <= 90 && Math.abs(gps[1]) <= 180) {
    const [lat, lon] = [gps[0].toFixed(5), gps[1].toFixed(5)];
    const text = `${lat}, ${lon}`;
    parts.push(`<dt>GPS</dt><dd>${redacted ? escapeHtml(text) : `<a href="https://www.openstreetmap.org/?mlat=${lat}&amp;mlon=${lon}#map=16/${lat}/${lon}" rel="noreferrer noopener" target="_blank">${escapeHtml(text)}</a> (OpenStreetMap)`}</dd>`);
  }
  if (typeof d['width'] === 'number' && typeof d['height'] === 'number') parts.push(`<dt>size</dt><dd>${escapeHtml(`${d['width']} × ${d['height']}`)}</dd>`);
  return parts.join('');
}

const SHOWN_ELSEWHERE = new Set(['camera', 'takenAt', 'gps', 'width', 'height', 'make', 'model', 'reasons', 'score']);

function findingArticle(f: Finding, model: ReportModel): string {
  const isNew = model.comparison?.newFindingIds.has(f.id) ?? false;
  const thumb = model.thumbnails.get(f.id);
  const dest = f.destination ?? {};
  const picture = f.category !== 'photo' ? ''
    : thumb?.kind === 'image' ? `<img class="thumb" alt="${escapeHtml(`thumbnail of the ${f.category} sent to ${f.host}`)}" src="${thumb.dataUri}">`
      : `<div class="placeholder">${model.redacted ? 'photo not shown (redacted report)' : shown(thumb?.reason ?? 'no preview: the photo was not kept in the run (--no-record, a body over the limit, or over the report\'s thumbnail limit)', 200)}</div>`;
  const rows = [
    f.app ? `<dt>app</dt><dd>${appText(f.app)}${f.app.version ? ` ${shown(f.app.version, 40)}` : ''} <small class="muted">${escapeHtml(f.app.confidence)} confidence: ${shown(f.app.evidence, 200)}</small></dd>` : '',
    dest.entity ? `<dt>company</dt><dd>${shown(dest.entity, 120)}${dest.purpose ? `: ${shown(dest.purpose, 60)}` : ''}${dest.firstParty ? ' (first party: the app\'s own vendor)' : ''}</dd>` : '',
    `<dt>destination</dt><dd><code>${shown(f.host, 200)}</code>${dest.ip ? ` at <code>${shown(dest.ip, 60)}${dest.port ? `:${escapeHtml(String(dest.port))}` : ''}</code>` : ''}</dd>`,
    `<dt>country</dt><dd>${shown(place(dest.country ?? dest.org))}${dest.asn ? `, network AS${escapeHtml(String(dest.asn))}` : ''}${dest.org && dest.country ? ` ${shown(dest.org, 120)}` : ''}</dd>`,
    f.url ? `<dt>request</dt><dd><code>${shown(f.method ?? '', 12)} ${shown(f.url, 400)}</code></dd>` : '',
    `<dt>decode path</dt><dd><code>${f.evidence.path.map((p) => shown(p, 80)).join(' › ')}</code></dd>`,
    `<dt>evidence</dt><dd>${escapeHtml(formatBytes(f.evidence.bytes))}${f.evidence.sha256 ? `, SHA-256 <code>${shown(f.evidence.sha256, 64)}</code>` : ''}</dd>`,
    `<dt>detector</dt><dd><code>${shown(f.detector, 80)}</code>, ${escapeHtml(f.direction)}</dd>`,
    f.rules && f.rules.length > 0 ? `<dt>rules</dt><dd>${f.rules.map((r) => `<code>${shown(r, 80)}</code>`).join(', ')}</dd>` : '',
    `<dt>device</dt><dd><code>${shown(f.client?.ip, 60)}</code>, flow <code>${shown(f.flowId, 40)}</code>, ${shown(f.time, 40)}</dd>`,
    f.category === 'photo' ? photoFacts(f, model.redacted) : '',
  ].join('');
  const excerpt = f.evidence.excerpt && f.category !== 'photo' ? `<blockquote class="excerpt">${shown(f.evidence.excerpt, 1200)}</blockquote>` : '';
  const extra = Object.entries(f.details ?? {}).filter(([k]) => !SHOWN_ELSEWHERE.has(k));
  const reasons = Array.isArray((f.details as Record<string, unknown>)['reasons']) ? ((f.details as Record<string, unknown>)['reasons'] as unknown[]) : [];
  const more = extra.length + reasons.length === 0 ? '' : `<details><summary>details</summary><dl>${extra.map(([k, v]) => `<dt>${shown(k, 60)}</dt><dd><code>${shown(typeof v === 'string' ? v : JSON.stringify(v), 600)}</code></dd>`).join('')}${reasons.length > 0 ? `<dt>why</dt><dd>${reasons.map((r) => shown(r, 200)).join('<br>')}</dd>` : ''}</dl></details>`;
  return `<article class="finding ${f.severity}" id="${escapeHtml(f.id)}" data-severity="${f.severity}" data-category="${escapeHtml(f.category)}"><div>${sev(f.severity)} <strong>${escapeHtml(categoryTitle(f.category))}</strong>${isNew ? ' <span class="badge new">new since baseline</span>' : ''}${f.canary ? ` <span class="badge canary">canary: ${shown(f.canary, 80)}</span>` : ''}${f.decryptedLater ? ' <span class="badge decrypted-later" title="made by phonehome decrypt from ciphertext recorded during the run, with keys brought afterwards">decrypted later</span>' : ''} <span class="muted">${shown(f.id, 20)}</span></div><p class="summary">${shown(f.summary, 600)}</p><div class="evidence-row">${picture}<dl>${rows}</dl></div>${excerpt}${more}</article>`;
}

function findingsSection(model: ReportModel): string {
  const groups = [...groupBy(model.findings, (f) => f.category)].sort((a, b) => severityRank(worstOf(b[1])!) - severityRank(worstOf(a[1])!) || b[1].length - a[1].length);
  const controls = `<div class="controls"><label for="filter">Search</label><input type="search" id="filter" placeholder="app, company, host, country, words of a message…" autocomplete="off"><label for="min-severity">at least</label><select id="min-severity">${severities.map((s) => `<option value="${s}">${s}</option>`).join('')}</select><span class="muted"><span id="shown-count">${model.findings.length}</span> of ${model.findings.length} shown</span></div>`;
  const photoNote = model.photosWithoutThumbnail > 0 ? `<p class="muted">${escapeHtml(String(model.photosWithoutThumbnail))} photo finding(s) without a thumbnail (redacted, not kept in the run, unreadable, or over the report's limit of thumbnails).</p>` : '';
  const body = groups.map(([category, list]) => {
    const sorted = [...list].sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.time.localeCompare(b.time));
    return `<section class="category-group" data-category="${escapeHtml(category)}"><h3>${escapeHtml(categoryTitle(category))} (${list.length})</h3>${sorted.map((f) => findingArticle(f, model)).join('')}</section>`;
  }).join('');
  return `${controls}${photoNote}${body || '<p>No findings.</p>'}`;
}

function comparisonSection(model: ReportModel): string {
  const c = model.comparison;
  if (!c) return '';
  const newFindings = model.findings.filter((f) => c.newFindingIds.has(f.id));
  const hostItem = (h: { host: string; country: string | null; bytesUp: number }, change: 'new' | 'gone'): string => `<li class="change-${change}"><code>${shown(h.host, 200)}</code> (${shown(place(h.country))}, ${escapeHtml(formatBytes(h.bytesUp))} sent)</li>`;
  const findingItem = (f: Finding, change: 'new' | 'gone'): string => `<li class="change-${change}">${sev(f.severity)} ${escapeHtml(categoryTitle(f.category))} to <code>${shown(f.host, 200)}</code>: ${change === 'new' ? `<a href="#${escapeHtml(f.id)}">${shown(f.summary, 300)}</a>` : shown(f.summary, 300)}</li>`;
  const appItem = (a: NonNullable<ReportModel['comparison']>['newApps'][number], change: 'new' | 'gone'): string => `<li class="change-${change}">${appText({ id: a.app, ...(a.name ? { name: a.name } : {}), confidence: a.confidence, evidence: a.evidence })}: ${escapeHtml(String(a.findings))} finding(s) (${a.categories.map((c) => escapeHtml(categoryTitle(c))).join(', ')}) to ${a.hosts.slice(0, 6).map((h) => `<code>${shown(h, 200)}</code>`).join(', ')}</li>`;
  const entityItem = (e: NonNullable<ReportModel['comparison']>['newEntities'][number], change: 'new' | 'gone'): string => `<li class="change-${change}"><span class="entity">${shown(e.entity, 120)}</span>${e.purpose ? ` (${shown(e.purpose, 60)})` : ''}: ${escapeHtml(String(e.findings))} finding(s) (${e.categories.map((c) => escapeHtml(categoryTitle(c))).join(', ')}) at ${e.hosts.slice(0, 6).map((h) => `<code>${shown(h, 200)}</code>`).join(', ')}</li>`;
  const list = (title: string, items: string[]): string => `<h3>${escapeHtml(title)} (${items.length})</h3>${items.length === 0 ? '<p class="muted">none</p>' : `<ul>${items.join('')}</ul>`}`;
  return `<section id="comparison"><h2>Compared with the baseline run</h2><p>Baseline: <code>${shown(c.baseTitle, 300)}</code>. A finding is the same when its category, destination, detector and evidence hash match: the same photo sent twice is one thing, a new photo is new.</p>
${list('New categories', c.newCategories.map((x) => `<li class="change-new">${escapeHtml(categoryTitle(x))}</li>`))}
${list('New apps sending something', c.newApps.map((a) => appItem(a, 'new')))}
${list('New companies receiving something', c.newEntities.map((e) => entityItem(e, 'new')))}
${list('New findings', newFindings.map((f) => findingItem(f, 'new')))}
${list('New destinations', c.newHosts.map((h) => hostItem(h, 'new')))}
${list('Findings gone since the baseline', c.goneFindings.map((f) => findingItem(f, 'gone')))}
${list('Destinations gone', c.goneHosts.map((h) => hostItem(h, 'gone')))}
${c.goneApps.length > 0 ? list('Apps that sent nothing this time', c.goneApps.map((a) => appItem(a, 'gone'))) : ''}
${c.goneEntities.length > 0 ? list('Companies that received nothing this time', c.goneEntities.map((e) => entityItem(e, 'gone'))) : ''}
${c.goneCategories.length > 0 ? list('Categories gone', c.goneCategories.map((x) => `<li class="change-gone">${escapeHtml(categoryTitle(x))}</li>`)) : ''}</section>`;
}

function share(part: number | undefined, whole: number | undefined): string {
  if (!whole) return '—';
  return `${(((part ?? 0) / whole) * 100).toFixed(1)} %`;
}

/** Old TLS is worth a line of its own: a device or server still on TLS 1.0 is a finding to read. */
const TLS_VERSION_NAMES: Record<string, string> = { TLSv1: 'TLS 1.0', 'TLSv1.1': 'TLS 1.1', 'TLSv1.2': 'TLS 1.2', 'TLSv1.3': 'TLS 1.3' };

function tlsVersionsPart(tls: RunSummary['tls']): string {
  const rows = (['client', 'server'] as const).flatMap((side) => Object.entries(tls?.[side] ?? {}).map(([version, t]) => {
    const old = version === 'TLSv1' || version === 'TLSv1.1';
    const who = side === 'client' ? `device(s) ${(t.devices ?? []).slice(0, 20).map((d) => `<code>${shown(d, 60)}</code>`).join(', ')}` : 'phonehome to the server';
    return `<tr${old ? ' class="old-tls"' : ''}><td>${side === 'client' ? 'device → phonehome' : 'phonehome → server'}</td><td>${escapeHtml(TLS_VERSION_NAMES[version] ?? version)}${old ? ' <strong>(obsolete)</strong>' : ''}</td><td class="num">${escapeHtml(String(t.flows ?? 0))}</td><td class="num">${escapeHtml(String((t.hosts ?? []).length))}</td><td>${who}</td></tr>`;
  }));
  if (rows.length === 0) return '';
  return `<table class="tls-versions"><caption class="muted">TLS versions spoken (decrypted connections)</caption><thead><tr><th>side</th><th>version</th><th class="num">flows</th><th class="num">hosts</th><th>who</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** DNS names seen, encrypted DNS not seen, QUIC made to fall back to TCP (summaries of older versions have none). */
function dnsCoveragePart(coverage: RunSummary['coverage']): string {
  const dns = coverage?.dns;
  const quic = coverage?.quic;
  const items: string[] = [];
  if (dns) {
    const names = `${dns.names ?? 0}${dns.namesCapped ? '+' : ''}`;
    items.push(`<li id="dns-seen">${escapeHtml(String(dns.queries ?? 0))} DNS question(s) answered by phonehome, ${escapeHtml(names)} distinct name(s) seen and inspected${dns.stripped ? `; ${escapeHtml(String(dns.stripped))} HTTPS/SVCB record(s) stripped from the answers` : ''}</li>`);
    const encrypted = dns.encrypted;
    if (encrypted && (encrypted.flows ?? 0) > 0) {
      const hosts = (encrypted.hosts ?? []).slice(0, 20).map((h) => `<code>${shown(h, 200)}</code>`).join(', ');
      items.push(`<li id="dns-encrypted"><strong>${escapeHtml(String(encrypted.flows))} connection(s) of encrypted DNS not seen</strong> (DNS over TLS or HTTPS${hosts ? ` to ${hosts}` : ''}, ${escapeHtml(formatBytes(encrypted.bytes ?? 0))}): the names they looked up are not in this report</li>`);
    } else {
      items.push('<li id="dns-encrypted">no encrypted DNS (DNS over TLS or HTTPS to a known public resolver) went by unread</li>');
    }
  }
  if (quic && typeof quic.dropped === 'number') items.push(`<li id="quic-dropped">${escapeHtml(String(quic.dropped))} QUIC packet(s) dropped, so apps fell back to TCP where phonehome reads them</li>`);
  if (quic && (quic.altSvcH3Removed ?? 0) > 0) items.push(`<li id="alt-svc-removed">${escapeHtml(String(quic.altSvcH3Removed))} response(s) had their HTTP/3 offer (Alt-Svc h3) removed</li>`);
  return items.length > 0 ? `<h3>DNS and QUIC</h3><ul>${items.join('')}</ul>` : '';
}

function coverageSection(model: ReportModel): string {
  const s = model.source.summary;
  const totals: CoverageTotalsJson | undefined = s.coverage?.totals;
  const flows = s.flows ?? {};
  const parts: string[] = [];
  if (totals) {
    parts.push(`<p>The detectors were given <strong>${escapeHtml(share(totals.bytesUpInspected, totals.bytesUp))}</strong> of the ${escapeHtml(formatBytes(totals.bytesUp ?? 0))} the devices sent, and ${escapeHtml(share(totals.bytesDownInspected, totals.bytesDown))} of the ${escapeHtml(formatBytes(totals.bytesDown ?? 0))} they received.</p>`);
  }
  parts.push(`<ul><li>${escapeHtml(String(flows['passedThrough'] ?? 0))} connection(s) passed through undecrypted (pinned apps, configured pass-through)</li><li>${escapeHtml(String(flows['raw'] ?? 0))} raw stream(s) that were not HTTP or TLS</li><li>${escapeHtml(String(flows['tlsFailed'] ?? 0))} TLS handshake(s) refused by the device</li><li>${escapeHtml(String(flows['inspectedPartly'] ?? 0))} flow(s) inspected only in part (bodies over the limit)</li></ul>`);
  // summary.json of decrypt (coverage.decryptedLater): opaque sessions opened afterwards with keys.
  const later = (s.coverage as { decryptedLater?: { sessions?: number; flows?: number; bytesUp?: number; bytesDown?: number } } | undefined)?.decryptedLater;
  const recorded = (s.coverage as { opaque?: { sessions?: number } | null } | undefined)?.opaque?.sessions;
  if (later && (later.sessions ?? 0) > 0) parts.push(`<p id="decrypted-later">${escapeHtml(String(later.sessions))}${typeof recorded === 'number' ? ` of the ${escapeHtml(String(recorded))}` : ''} opaque session(s)${typeof recorded === 'number' ? ' recorded in opaque.pcapng' : ''} were opened afterwards by <code>phonehome decrypt</code> with keys brought later: ${escapeHtml(String(later.flows ?? 0))} flow(s), ${escapeHtml(formatBytes(later.bytesUp ?? 0))} sent and ${escapeHtml(formatBytes(later.bytesDown ?? 0))} received read; their findings say <span class="badge decrypted-later">decrypted later</span>.</p>`);
  parts.push(dnsCoveragePart(s.coverage));
  const learned = s.passthrough?.learned ?? [];
  const configured = s.passthrough?.configured ?? [];
  if (learned.length + configured.length > 0) {
    parts.push(`<h3>Not decrypted</h3><ul>${learned.map((l) => `<li><code>${shown(l.host, 200)}</code>: ${shown(l.reason ?? 'refused our certificate', 200)} (${l.kind === 'client-certificate' ? 'the server requires a client certificate only the device holds' : l.kind === 'invalid-certificate' ? 'the server\'s certificate does not verify, and the device refused one as invalid' : 'learned'})</li>`).join('')}${configured.map((h) => `<li><code>${shown(h, 200)}</code> (configured --passthrough)</li>`).join('')}</ul>`);
  }
  parts.push(tlsVersionsPart(s.tls));
  const unseen = Object.entries(s.coverage?.unseenByHost ?? {});
  if (unseen.length > 0) {
    parts.push(`<table class="unseen"><caption class="muted">Destinations with something unseen</caption><thead><tr><th>destination</th><th>flows by class</th><th class="num">bytes sent</th><th class="num">inspected</th><th class="num">bytes received</th><th class="num">inspected</th></tr></thead><tbody>${
      unseen.slice(0, 200).map(([host, t]) => `<tr><td><code>${shown(host, 200)}</code></td><td>${Object.entries(t.flows ?? {}).map(([k, n]) => `${shown(k, 40)} ${escapeHtml(String(n))}`).join(', ')}</td><td class="num">${escapeHtml(formatBytes(t.bytesUp ?? 0))}</td><td class="num">${escapeHtml(share(t.bytesUpInspected, t.bytesUp))}</td><td class="num">${escapeHtml(formatBytes(t.bytesDown ?? 0))}</td><td class="num">${escapeHtml(share(t.bytesDownInspected, t.bytesDown))}</td></tr>`).join('')
    }</tbody></table>${unseen.length > 200 ? `<p class="muted">and ${escapeHtml(String(unseen.length - 200))} more destinations</p>` : ''}`);
  }
  return parts.join('');
}

export function renderReport(model: ReportModel): string {
  const s = model.source.summary;
  const start = Date.parse(s.startedAt ?? '');
  const end = Date.parse(s.endedAt ?? '');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy())}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>phonehome evidence report</title>
<style>${REPORT_CSS}</style></head>
<body>
<header><h1>What left the device</h1><p class="subtitle">phonehome evidence report of <code>${shown(model.source.title, 300)}</code></p>
${s.insecureUpstream ? '<p class="warning">Upstream certificate verification was OFF in this run (--insecure-upstream): the servers reached were not proven to be who they said.</p>' : ''}</header>
<main>
<section id="summary"><h2>Summary</h2>${headline(model)}</section>
<section id="facts"><h2>The run</h2>${facts(model)}</section>
<section id="map"><h2>Where it went</h2>${mapSection(model)}</section>
<section id="timeline"><h2>When</h2><p class="muted">Flows per destination over the run; ◆ marks a finding (select one to jump to it).</p>${timelineSvg(model.flows, model.marks, start, end)}</section>
${comparisonSection(model)}
<section id="findings"><h2>Findings and their evidence</h2>${findingsSection(model)}</section>
<section id="coverage"><h2>What could not be seen</h2>${coverageSection(model)}</section>
</main>
<footer>Made by phonehome from the run's findings.jsonl, flows and summary.json; opened offline, it fetches nothing. Countries: ip-location-db (CC BY 4.0); map shapes: Natural Earth via world-atlas. Countries and networks are those of the addresses connected to, not proof of where data is stored.</footer>
<script>${REPORT_SCRIPT}</script>
</body></html>
`;
}
