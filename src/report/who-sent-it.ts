// Who sent it and who got it (issue #22): the report's sentences "com.miui.gallery: photo → Xiaomi
// (vendor cloud, CN)" and its table of apps by category and destination. App ids, company names and
// purposes come from traffic (headers, bodies, hosts) or from data about hosts: all go through
// shown() like any other text from a device.

import { severityRank, type Finding, type Severity } from '../model/finding.js';
import type { AppAttribution } from '../model/flow.js';
import { escapeHtml, shown } from './html-text.js';
import { countryName } from './world-map.js';

/** Each category as a word in a sentence (the matrix and the list use their plural titles). */
const CATEGORY_WORDS: Record<string, string> = {
  photo: 'photo', sms: 'SMS', mail: 'mail', contact: 'contacts', 'call-log': 'call log', identifier: 'identifier', location: 'location',
  credential: 'credential', browsing: 'browsing history', 'app-list': 'app list', 'tls-pinned': 'pinned connection', opaque: 'unreadable data',
};

export const categoryWord = (category: string): string => CATEGORY_WORDS[category] ?? category;

const confidenceRank: Record<string, number> = { low: 0, medium: 1, high: 2 };

/** The attribution that speaks for an app: the most confident one seen. */
function stronger(a: AppAttribution | undefined, b: AppAttribution): AppAttribution {
  return !a || (confidenceRank[b.confidence] ?? -1) > (confidenceRank[a.confidence] ?? -1) ? b : a;
}

/** The key of a destination in the report's sentences: the company and country, or the host when no company is known. */
function destinationKey(f: Finding): string {
  const d = f.destination ?? {};
  return d.entity ? `entity\u0000${d.entity}\u0000${d.country ?? ''}` : `host\u0000${f.host}`;
}

/** "Xiaomi (vendor cloud, first party, CN)", or as before: "`host` in China (CN)". */
export function destinationText(f: Finding, hosts: readonly string[] = [f.host]): string {
  const d = f.destination ?? {};
  if (!d.entity) {
    const where = d.country ?? d.org;
    const place = !where ? 'unknown' : /^[A-Z]{2}$/.test(where) ? `${countryName(where)} (${where})` : where;
    return `<code>${shown(f.host, 120)}</code> in ${shown(place, 120)}`;
  }
  const facts = [d.purpose ? shown(d.purpose, 60) : '', d.firstParty ? 'first party' : '', d.country ? shown(d.country, 40) : ''].filter(Boolean);
  const title = `${hosts.length === 1 ? 'host' : 'hosts'}: ${hosts.slice(0, 8).join(', ')}${hosts.length > 8 ? ` and ${hosts.length - 8} more` : ''}`;
  return `<span class="entity" title="${shown(title, 600)}">${shown(d.entity, 120)}</span>${facts.length > 0 ? ` (${facts.join(', ')})` : ''}`;
}

/** The app's name as shown: its id (and display name), marked when the evidence is weaker, its evidence in a tooltip. */
export function appText(app: AppAttribution, evidences: readonly string[] = [app.evidence]): string {
  const named = app.name && app.name !== app.id ? `${shown(app.name, 80)} (<code>${shown(app.id, 160)}</code>)` : `<code>${shown(app.id, 160)}</code>`;
  const title = `${app.confidence} confidence: ${evidences.slice(0, 4).join('; ')}${evidences.length > 4 ? `; and ${evidences.length - 4} more` : ''}`;
  const mark = app.confidence === 'high' ? '' : ` <small class="confidence ${escapeHtml(app.confidence === 'medium' ? 'medium' : 'low')}">${app.confidence === 'medium' ? 'likely' : 'guess'}</small>`;
  return `<span class="app" data-app="${shown(app.id, 160)}" title="${shown(title, 600)}">${named}</span>${mark}`;
}

export interface SentenceGroup {
  readonly app?: AppAttribution;
  readonly evidences: readonly string[];
  readonly category: string;
  readonly findings: readonly Finding[];
  readonly hosts: readonly string[];
  readonly worst: Severity;
}

/** The findings grouped by app, category and destination, worst first, then the largest. */
export function sentenceGroups(findings: readonly Finding[]): SentenceGroup[] {
  const groups = new Map<string, { app?: AppAttribution; evidences: Set<string>; category: string; findings: Finding[]; hosts: Set<string>; worst: Severity }>();
  for (const f of findings) {
    const key = [f.app?.id ?? '', f.category, destinationKey(f)].join('\u0001');
    const group = groups.get(key) ?? { evidences: new Set<string>(), category: f.category, findings: [], hosts: new Set<string>(), worst: f.severity };
    if (f.app) {
      group.app = stronger(group.app, f.app);
      group.evidences.add(f.app.evidence);
    }
    group.findings.push(f);
    group.hosts.add(f.host);
    if (severityRank(f.severity) > severityRank(group.worst)) group.worst = f.severity;
    groups.set(key, group);
  }
  return [...groups.values()]
    .map((g) => ({ ...(g.app ? { app: g.app } : {}), evidences: [...g.evidences], category: g.category, findings: g.findings, hosts: [...g.hosts], worst: g.worst }))
    .sort((a, b) => severityRank(b.worst) - severityRank(a.worst) || b.findings.length - a.findings.length || (a.app?.id ?? '\uffff').localeCompare(b.app?.id ?? '\uffff'));
}

/** One sentence: "com.miui.gallery: photo → Xiaomi (vendor cloud, CN)", the count when more than one. */
export function sentence(group: SentenceGroup): string {
  const who = group.app ? `${appText(group.app, group.evidences)}: ` : '';
  const n = group.findings.length;
  return `${who}<strong>${escapeHtml(categoryWord(group.category))}</strong> → ${destinationText(group.findings[0]!, group.hosts)}${n > 1 ? ` <span class="muted">(${escapeHtml(String(n))} findings)</span>` : ''}`;
}

/** The table of apps ("unknown app" last), one row per category each sent: where it went and how often. */
export function appTable(findings: readonly Finding[], categories: readonly string[]): string {
  const rows = new Map<string, { app?: AppAttribution; evidences: Set<string>; findings: Finding[] }>();
  for (const f of findings) {
    const key = f.app?.id ?? '';
    const row = rows.get(key) ?? { evidences: new Set<string>(), findings: [] };
    if (f.app) {
      row.app = stronger(row.app, f.app);
      row.evidences.add(f.app.evidence);
    }
    row.findings.push(f);
    rows.set(key, row);
  }
  const ordered = [...rows.values()].sort((a, b) => Number(!a.app) - Number(!b.app) || b.findings.length - a.findings.length || (a.app?.id ?? '').localeCompare(b.app?.id ?? ''));
  const body = ordered.map((row) => {
    const evidences = [...row.evidences];
    const who = row.app
      ? `${appText(row.app, evidences)}<br><small class="muted evidence">${escapeHtml(row.app.confidence)}: ${evidences.slice(0, 3).map((e) => shown(e, 120)).join('; ')}${evidences.length > 3 ? `; and ${escapeHtml(String(evidences.length - 3))} more` : ''}</small>`
      : '<span class="muted">unknown app</span>';
    // One line per category the app sent (in the report's category order): where it went, how often.
    const lines = categories.flatMap((category) => {
      const inCategory = row.findings.filter((f) => f.category === category);
      if (inCategory.length === 0) return [];
      const byDestination = new Map<string, { first: Finding; hosts: Set<string>; count: number }>();
      for (const f of inCategory) {
        const d = byDestination.get(destinationKey(f)) ?? { first: f, hosts: new Set<string>(), count: 0 };
        d.hosts.add(f.host);
        d.count++;
        byDestination.set(destinationKey(f), d);
      }
      const items = [...byDestination.values()].sort((a, b) => b.count - a.count);
      const where = `${items.slice(0, 8).map((d) => `<div>${destinationText(d.first, [...d.hosts])} <span class="count">× ${escapeHtml(String(d.count))}</span></div>`).join('')}${items.length > 8 ? `<div class="muted">and ${escapeHtml(String(items.length - 8))} more</div>` : ''}`;
      return [`<td>${escapeHtml(categoryWord(category))}</td><td>${where}</td><td class="num">${escapeHtml(String(inCategory.length))}</td>`];
    });
    const head = `<th rowspan="${lines.length}">${who}</th>`;
    return `<tbody data-app-row="${row.app ? shown(row.app.id, 160) : ''}">${lines.map((line, i) => `<tr>${i === 0 ? head : ''}${line}</tr>`).join('')}</tbody>`;
  }).join('');
  return `<table class="apps" id="apps"><caption class="muted">Who sent what to whom: findings by app, category and destination (company, purpose and country, or host and country); an app's confidence and evidence under its name, more in its tooltip</caption><thead><tr><th>app</th><th>data</th><th>sent to</th><th class="num">findings</th></tr></thead>${body}</table>`;
}
