// Browsing history whose keys say nothing: `{"u": "https://…", "t": "Title", "d": 1417000000}` or
// `["https://…", "Title", 1417000000]`. The values alone make a visit — one web page among them,
// and a title a person would read or a visit time. The list decides (browsing.ts): several such
// records, on two sites or more, sent by the device.
// Not visits: API endpoints (api., sdk., /v1/, /collect…), app-store links (an app list), media and
// CDN hosts (images with their sizes), records with nothing but a URL and ids.

import { getDomain } from 'tldts';
import { isTime, siteOf, type Visit } from './web-visit.js';

/** First host labels of machines rather than pages. */
const MACHINE_HOSTS = /^(api|apis|api-[a-z0-9-]+|sdk|t|tr|track|tracking|collect|collector|log|logs|event|events|analytics|stats|metrics|telemetry|beacon|graph|gateway|gw|rpc|push|config|ws|wss|mqtt|cdn|cdn\d*|static|assets?|img|imgs|image|images|i|media|fonts?|pics?|photos?|thumbs?|thumbnails?|video|videos|s\d*|st|upload|uploads|dl|download)$/i;
/** Hosting that serves files, not pages. */
const CDN_DOMAINS = /(^|\.)(cloudfront\.net|akamaized\.net|akamaihd\.net|fastly\.net|cloudflare\.net|gstatic\.com|googleusercontent\.com|fbcdn\.net|twimg\.com|ytimg\.com|googleapis\.com|amazonaws\.com|alicdn\.com|qpic\.cn|bdstatic\.com|jsdelivr\.net|unpkg\.com)$/i;
/** Path segments of API calls. */
const MACHINE_PATH = /(^|\/)(api|apis|rest|graphql|rpc|v\d+(\.\d+)?|collect|track|events?|log|logs|beacon|ping|sdk|config|oauth2?|token)(\/|$)/i;
/** App stores: a list of their links is an app list, not browsing. */
const APP_STORES = /^(play\.google\.com|apps\.apple\.com|itunes\.apple\.com|appgallery\.huawei\.com|appgallery\.cloud\.huawei\.com|app\.mi\.com|apps\.samsung\.com|galaxystore\.samsung\.com|f-droid\.org|apkpure\.com|www\.apkmirror\.com)$/i;

/** A URL a person opens in a browser: not an API, not a file host, not a store listing. */
export function isPageUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const host = parsed.hostname.toLowerCase();
  const first = host.split('.')[0]!;
  if (MACHINE_HOSTS.test(first) || CDN_DOMAINS.test(host) || APP_STORES.test(host)) return false;
  if (MACHINE_PATH.test(parsed.pathname) || /[?&]id=[\w.]+\.[\w.]+/.test(parsed.search)) return false;
  return getDomain(host) !== null;
}

/** Text a person reads as a page title: letters, more than one word (or a run of CJK), not an identifier. */
export function isTitle(value: string): boolean {
  const v = value.trim();
  if (v.length < 3 || v.length > 300 || !/\p{L}/u.test(v) || /^[a-z]+:\/\//i.test(v)) return false;
  if (/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]{2,}/u.test(v)) return true;
  const words = v.split(/\s+/);
  // `GET /v1/feed`, `state=idle` and `com.example.app` are machine text, not titles.
  return words.length >= 2 && !/[=@{}<>]|^(GET|POST|PUT|DELETE|HEAD|PATCH|OPTIONS)\s/.test(v) && !words.every((w) => /^[\w.:/-]+$/.test(w) && /[_./:]/.test(w));
}

/** A visit read from the values of one record (an object with unnamed keys, or an array). */
export function visitByValues(record: Record<string, unknown> | readonly unknown[]): Visit | undefined {
  const values = Array.isArray(record) ? record : Object.values(record);
  if (values.length < 2 || values.length > 10) return undefined; // a history row is small (url, title, time, counts, id)
  // Most records hold no URL: one cheap look for it before reading the rest.
  const url = values.find((value): value is string => typeof value === 'string' && /^https?:\/\//i.test(value));
  if (!url) return undefined;
  let title: string | undefined;
  let timed = false;
  for (const value of values) {
    if (typeof value === 'string') {
      if (value === url || /^https?:\/\//i.test(value)) continue;
      if (isTime(value)) timed = true;
      else if (isTitle(value)) title ??= value;
    } else if (typeof value === 'number' && isTime(value)) timed = true;
  }
  if ((!title && !timed) || !isPageUrl(url)) return undefined;
  const site = siteOf(url);
  return site ? { url, site, ...(title ? { title } : {}) } : undefined;
}
