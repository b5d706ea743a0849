// The inventory of installed apps leaving the device: many package names from unrelated vendors
// (a fingerprint, and a map of a life — banking, health, dating, religion). As a JSON list of names
// or of objects with a package key, an object keyed by package, or `pm list packages` text.
// Not an inventory: an app's list of its own modules (one vendor), Java class names, host names.

import type { FindingDraft } from '../../model/finding.js';
import type { Detector, View } from './detector.js';

const PACKAGE_KEYS = new Set(['package', 'packagename', 'package_name', 'pkg', 'pkgname', 'pkg_name', 'bundleid', 'bundle_id', 'appid', 'app_id', 'applicationid']);
/** First labels of reverse-DNS package names (a host name has its TLD last, a package first). */
const FIRST_LABELS = new Set(['com', 'org', 'net', 'io', 'co', 'me', 'tv', 'app', 'dev', 'info', 'biz', 'edu', 'gov', 'fr', 'de', 'uk', 'cn', 'jp', 'kr', 'ru', 'in', 'br', 'it', 'es', 'nl', 'se', 'ch', 'at', 'be', 'pl', 'us', 'ca', 'au', 'tw', 'hk', 'vn', 'id', 'tr', 'mx', 'ar', 'eu', 'jio', 'ai', 'gg', 'xyz', 'air', 'mobi', 'ly', 'fm', 'to', 'so', 'im']);
const PACKAGE = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$/;
/** Apps whose presence says the most about a person, named first in summaries. */
const REVEALING = /grindr|tinder|bumble|hinge|badoo|okcupid|doctolib|health|medic|clinic|pregnan|period|clue|flo\b|bible|quran|muslim|prayer|church|bank|paypal|crypto|wallet|bet|casino|signal|telegram|tor|vpn|therapy|mental|hiv/i;

/** A package name, not a class name (`com.foo.MainActivity`) or a host name (`api.example.com`). */
export function isPackageName(value: string, underPackageKey = false): boolean {
  if (value.length > 150 || !PACKAGE.test(value)) return false;
  const labels = value.split('.');
  if (/^[A-Z]/.test(labels.at(-1)!) && labels.length > 2) return false;
  return underPackageKey || FIRST_LABELS.has(labels[0]!.toLowerCase());
}

const vendorOf = (name: string): string => name.split('.').slice(0, 2).join('.').toLowerCase();

function packagesIn(value: unknown): string[] {
  if (Array.isArray(value)) {
    if (value.length < 10) return [];
    const names: string[] = [];
    for (const item of value) {
      if (typeof item === 'string' && isPackageName(item)) names.push(item);
      else if (item && typeof item === 'object' && !Array.isArray(item)) {
        for (const [key, inner] of Object.entries(item)) if (PACKAGE_KEYS.has(key.toLowerCase()) && typeof inner === 'string' && isPackageName(inner, true)) { names.push(inner); break; }
      }
    }
    return names;
  }
  // An object keyed by package: only worth reading with ten keys or more.
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    return keys.length >= 10 ? keys.filter((k) => isPackageName(k)) : [];
  }
  return [];
}

/** The largest inventory-looking list anywhere in a structured value. */
function largestList(value: unknown, depth = 0): string[] {
  if (depth > 12 || !value || typeof value !== 'object') return [];
  let best = packagesIn(value);
  for (const inner of Array.isArray(value) ? value : Object.values(value)) {
    if (inner && typeof inner === 'object') {
      const found = largestList(inner, depth + 1);
      if (found.length > best.length) best = found;
    }
  }
  return best;
}

/** Ten or more packages from five or more vendors, none of them more than 60 % of the list. */
export function isInventory(names: readonly string[]): boolean {
  const unique = [...new Set(names)];
  if (unique.length < 10) return false;
  const vendors = new Map<string, number>();
  for (const n of unique) vendors.set(vendorOf(n), (vendors.get(vendorOf(n)) ?? 0) + 1);
  return vendors.size >= 5 && Math.max(...vendors.values()) <= unique.length * 0.6;
}

export function inventorySummary(names: readonly string[]): string {
  const unique = [...new Set(names)];
  const named = [...unique.filter((n) => REVEALING.test(n)), ...unique.filter((n) => !REVEALING.test(n))].slice(0, 3);
  return `${unique.length} apps incl. ${named.join(', ')}`;
}

export const appListDetector: Detector = {
  id: 'app-list',
  category: 'app-list',
  gate(view) {
    return view.structured !== undefined || (view.bytes.length >= 80 && view.bytes.toString('latin1', 0, 8) === 'package:');
  },
  detect(view: View): FindingDraft[] {
    const names = view.structured !== undefined
      ? largestList(view.structured)
      : view.bytes.toString('utf8').split(/\r?\n/).map((l) => /^package:(?:.*=)?([\w.]+)\s*$/.exec(l.trim())?.[1]).filter((n): n is string => n !== undefined && isPackageName(n, true));
    if (!isInventory(names)) return [];
    const unique = [...new Set(names)];
    return [{
      category: 'app-list', severity: 'high', direction: view.direction, detector: view.structured !== undefined ? 'app-list/packages' : 'app-list/pm-list',
      summary: inventorySummary(unique),
      evidence: { path: view.path, bytes: view.bytes.length, excerpt: unique.slice(0, 8).join(', ') },
      details: { count: unique.length, vendors: new Set(unique.map(vendorOf)).size, packages: unique.slice(0, 100) },
    }];
  },
};
