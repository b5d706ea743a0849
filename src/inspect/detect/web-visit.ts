// A visited web page as the browsing detectors see it: its URL, its site (registrable domain) and
// its title; and what counts as a visit time. Shared by the keyed and the keyless readers.

import { getDomain } from 'tldts';

const ASSET = /\.(js|mjs|css|png|jpe?g|gif|svg|webp|ico|woff2?|ttf|json|mp4|m3u8|map)(\?|#|$)/i;

export interface Visit { readonly url: string; readonly site: string; readonly title?: string }

/** Milliseconds or seconds since 1970, Chrome's microseconds since 1601, or an ISO date and time. */
export function isTime(value: unknown): boolean {
  if (typeof value === 'number') return (value >= 1e12 && value < 2e12) || (value >= 1e9 && value < 2e9) || (value >= 1.2e16 && value < 1.4e16); // ms, s, Chrome's µs since 1601
  return typeof value === 'string' && (/^\d{10,17}$/.test(value) || (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(value) && !Number.isNaN(Date.parse(value))));
}

/** The site of a page URL (its registrable domain), or undefined for what is not a web page. */
export function siteOf(url: string): string | undefined {
  if (!/^https?:\/\/[^\s/]+/i.test(url) || ASSET.test(url)) return undefined;
  return getDomain(url) ?? undefined;
}
