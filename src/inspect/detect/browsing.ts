// Browsing history leaving the device: the pages a person visited (URLs on two or more unrelated
// sites, each with a title or a visit time; or one under a key that says history) and their search queries, in any wrapping — the 2020 reports on a phone
// maker's browser sending visited URLs, incognito included, base64-encoded, to servers abroad.
// Records whose keys say nothing (`{u, t, d}`, `[url, title, time]`) count as a list of several,
// on two sites or more, in what the device sends (browsing-by-values.ts): a news feed the server
// sends back has the same shape.
// Not browsing: an app's own URLs (its API, its pages: same site as where the flow goes), asset
// manifests (scripts, styles, images) and endpoint lists without titles or times.

import { getDomain } from 'tldts';
import type { FindingDraft } from '../../model/finding.js';
import type { Detector, View } from './detector.js';
import { quote } from './summary-text.js';
import { visitByValues } from './browsing-by-values.js';
import { isTime, siteOf, type Visit } from './web-visit.js';

export { siteOf, type Visit };

const URL_KEYS = new Set(['url', 'link', 'page', 'page_url', 'pageurl', 'uri', 'href', 'visited_url', 'visit_url']);
const TITLE_KEYS = new Set(['title', 'page_title', 'pagetitle']);
const TIME_KEYS = new Set(['time', 'timestamp', 'ts', 'date', 'visit_time', 'visittime', 'last_visit_time', 'lastvisittime', 'visited_at', 'visitedat', 'created', 'access_time']);
const COUNT_KEYS = new Set(['visit_count', 'visitcount', 'visits', 'typed_count', 'typedcount']);
const QUERY_KEYS = new Set(['query', 'q', 'search', 'search_term', 'searchterm', 'keyword', 'keywords', 'term', 'search_query']);
/** Keys and event names that say "history". */
const HISTORY_WORDS = /(^|[_\s.-])(history|histories|visit(ed|s)?|browse|browsing|incognito|tabs?|bookmarks?)([_\s.-]|$)/i;
interface Found { visits: Visit[]; queries: string[]; hinted: boolean; byValues: Visit[] }

/** An item whose keys say nothing about URLs (an array, or an object without a URL or query key). */
function keyless(item: unknown): item is Record<string, unknown> | unknown[] {
  if (Array.isArray(item)) return true;
  if (!item || typeof item !== 'object') return false;
  for (const key in item) { const lower = key.toLowerCase(); if (URL_KEYS.has(lower) || QUERY_KEYS.has(lower)) return false; }
  return true;
}

function visitOf(object: Record<string, unknown>, hinted: boolean): Visit | undefined {
  let url: string | undefined;
  let title: string | undefined;
  let support = 0;
  for (const [rawKey, value] of Object.entries(object)) {
    const key = rawKey.toLowerCase();
    if (URL_KEYS.has(key) && typeof value === 'string') url ??= value;
    else if (TITLE_KEYS.has(key) && typeof value === 'string' && /\p{L}/u.test(value)) { title ??= value; support++; }
    else if (TIME_KEYS.has(key) && isTime(value)) support++;
    else if (COUNT_KEYS.has(key) && (typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value)))) support++;
    else if (typeof value === 'string' && HISTORY_WORDS.test(value) && (key === 'event' || key === 'type' || key === 'source')) hinted = true;
  }
  if (!url || (support === 0 && !hinted)) return undefined;
  const site = siteOf(url);
  return site ? { url, site, ...(title ? { title } : {}) } : undefined;
}

function queryOf(object: Record<string, unknown>): string | undefined {
  let query: string | undefined;
  let timed = false;
  for (const [rawKey, value] of Object.entries(object)) {
    const key = rawKey.toLowerCase();
    if (QUERY_KEYS.has(key) && typeof value === 'string' && /\p{L}/u.test(value) && value.length <= 300) query ??= value;
    else if (TIME_KEYS.has(key) && isTime(value)) timed = true;
  }
  return query && timed ? query : undefined;
}

function collect(value: unknown, found: Found, hinted: boolean, depth = 0): void {
  if (depth > 16 || found.visits.length + found.byValues.length > 10_000) return;
  if (Array.isArray(value)) {
    // A list of bare URLs counts only under a key that says history.
    if (hinted) for (const item of value) if (typeof item === 'string') { const site = siteOf(item); if (site) found.visits.push({ url: item, site }); }
    // Records whose keys say nothing: two visits or more in one list, read by their values.
    const byValues: Visit[] = [];
    // A history is one shape throughout: eight records without a visit and the list is something else.
    for (const [index, item] of value.entries()) {
      if (byValues.length >= 10_000 || (index >= 8 && byValues.length === 0)) break;
      const visit = keyless(item) ? visitByValues(item) : undefined;
      if (visit) byValues.push(visit);
    }
    if (byValues.length >= 2) found.byValues.push(...byValues);
    for (const item of value) if (item && typeof item === 'object' && (byValues.length < 2 || !Array.isArray(item))) collect(item, found, hinted, depth + 1);
    return;
  }
  if (!value || typeof value !== 'object') return;
  const object = value as Record<string, unknown>;
  // Most objects have neither a URL nor a query key: one look at the keys, then straight down.
  let candidate = false;
  for (const key in object) {
    const lower = key.toLowerCase();
    if (URL_KEYS.has(lower) || QUERY_KEYS.has(lower)) { candidate = true; break; }
  }
  if (!candidate) {
    for (const key in object) { const inner = object[key]; if (inner && typeof inner === 'object') collect(inner, found, hinted || HISTORY_WORDS.test(key), depth + 1); }
    return;
  }
  const visit = visitOf(object, hinted);
  if (visit) {
    found.visits.push(visit);
    found.hinted ||= hinted;
    return;
  }
  const query = queryOf(object);
  if (query) found.queries.push(query);
  for (const [key, inner] of Object.entries(object)) if (inner && typeof inner === 'object') collect(inner, found, hinted || HISTORY_WORDS.test(key), depth + 1);
}

export const browsingDetector: Detector = {
  id: 'browsing',
  category: 'browsing',
  gate(view) {
    return view.structured !== undefined;
  },
  detect(view: View): FindingDraft[] {
    const found: Found = { visits: [], queries: [], hinted: false, byValues: [] };
    collect(view.structured, found, view.key !== undefined && HISTORY_WORDS.test(view.key));
    // Nothing that could make a finding (most layers): no need for the site's registered domain.
    if (found.visits.length === 0 && found.byValues.length === 0 && found.queries.length < 2) return [];
    // Pages of the site the flow goes to are the app's own, not the person's browsing.
    const own = getDomain(view.flow.target.host) ?? view.flow.target.host;
    const visits = found.visits.filter((v) => v.site !== own);
    const byValues = view.direction === 'request' ? found.byValues.filter((v) => v.site !== own) : [];
    if (new Set(byValues.map((v) => v.site)).size >= 2) visits.push(...byValues);
    const sites = [...new Set(visits.map((v) => v.site))];
    const findings: FindingDraft[] = [];
    if (sites.length >= 2 || (visits.length > 0 && found.hinted)) {
      findings.push({
        category: 'browsing', severity: 'high', direction: view.direction, detector: 'browsing/visited-pages',
        summary: `${visits.length} page${visits.length === 1 ? '' : 's'} visited on ${sites.length} site${sites.length === 1 ? '' : 's'} incl. ${sites.slice(0, 3).join(', ')}${visits[0]!.title ? `, ${quote(visits[0]!.title, 40)}` : ''}`,
        evidence: { path: view.path, bytes: view.bytes.length, excerpt: visits.slice(0, 3).map((v) => v.url).join(' ') },
        details: { count: visits.length, sites: sites.slice(0, 50), pages: visits.slice(0, 20) },
      });
    }
    if (found.queries.length >= 2) {
      findings.push({
        category: 'browsing', severity: 'high', direction: view.direction, detector: 'browsing/search-queries',
        summary: `${found.queries.length} search queries incl. ${found.queries.slice(0, 2).map((q) => quote(q, 30)).join(', ')}`,
        evidence: { path: view.path, bytes: view.bytes.length, excerpt: found.queries.slice(0, 3).join(' | ') },
        details: { count: found.queries.length, queries: found.queries.slice(0, 20) },
      });
    }
    return findings;
  },
};
