// An app id inside a request: SDKs report the app they run in (Adjust's `package_name`/`bundle_id`,
// OpenRTB's `app.bundle`, Firebase Remote Config's `packageName`, OneSignal's `ios_bundle`).
// - medium: a package-shaped value under a package or bundle key, in a JSON body, a form body or the
//   query string;
// - low: a value under an app-id or app-name key that reads like a name (`"app_name": "Gallery"`).
// Look-alikes give nothing: `"package": "express"` (npm), an SDK's own key under `app_id`
// (`ca-app-pub-…~…`, hex tokens, Firebase's `1:1234:android:…`), package-ish words in prose.
// Only text bodies are read, and only their first `bodyScanBytes`.

import type { AppAttribution, HttpRequestRecord } from '../../model/flow.js';
import { headerValue } from '../../model/flow.js';
import { isPackageName } from './package-name.js';

/** Bytes of a body we scan for an app id: SDK payloads put it near the top. */
export const bodyScanBytes = 64 * 1024;

/** Keys whose value is the app's package or bundle id when it is package-shaped. */
const packageKeys = [
  'package', 'packageName', 'package_name', 'pkg', 'pkgName', 'pkg_name', 'app_package', 'appPackage', 'bundle', 'bundle_id',
  'bundleId', 'bundleID', 'bundleIdentifier', 'bundle_identifier', 'app_bundle', 'appBundle', 'ios_bundle', 'application_id',
  'applicationId', 'app_id', 'appId', 'appID',
];

/** Keys whose value may be the app's name (weak: SDKs use the same keys for their own ids). */
const nameKeys = ['app_name', 'appName', 'application_name', 'applicationName', 'app_id', 'appId', 'appID'];

const packageKeySet = new Set(packageKeys.map((key) => key.toLowerCase()));
const nameKeySet = new Set(nameKeys.map((key) => key.toLowerCase()));

/** `"key": "value"` in JSON (also JavaScript object literals with quoted keys); values without escapes. */
const jsonPair = /"([A-Za-z_]{2,32})"\s*:\s*"([^"\\\u0000-\u001f]{1,200})"/g;
/** `key=value` in a form body or a query string. */
const formPair = /(?:^|[&?])([A-Za-z_]{2,32})=([^&\s]{1,300})/g;

/** Pairs looked at per body, so a body made of nothing but pairs costs a bounded amount of work. */
const maxPairs = 2_000;

const textTypes = /^(?:text\/|application\/(?:[\w.+-]*json|x-www-form-urlencoded|[\w.+-]*xml|javascript|x-javascript))/i;

export function appOfRequestBody(request: HttpRequestRecord): AppAttribution | undefined {
  const answers: AppAttribution[] = [];
  const query = queryOf(request.url);
  if (query) answers.push(...appsIn(query, formPair, 'query'));
  const body = textOf(request);
  if (body !== undefined) answers.push(...appsIn(body, jsonPair, 'body'), ...appsIn(body, formPair, 'body'));
  return answers.find((app) => app.confidence === 'medium') ?? answers[0];
}

/**
 * What one text says of its app: the package-shaped value under a package key (medium) and the name
 * under an app-name key (low), each only when the text holds exactly one distinct such value. An app
 * reporting itself names one package; a body with several (`{"sdks":[{"package":"com.appsflyer"},
 * {"package":"com.adjust.sdk"}]}`, an installed-apps list) is an inventory of other things.
 */
function appsIn(text: string, pattern: RegExp, where: 'body' | 'query'): AppAttribution[] {
  let packageFound: AppAttribution | undefined;
  let nameFound: AppAttribution | undefined;
  let packages = 0;
  let names = 0;
  pattern.lastIndex = 0;
  let pairs = 0;
  for (let match = pattern.exec(text); match && pairs < maxPairs; match = pattern.exec(text), pairs++) {
    const key = match[1]!;
    const value = pattern === formPair ? formDecoded(match[2]!) : match[2]!.trim();
    const lower = key.toLowerCase();
    if (packageKeySet.has(lower) && isPackageName(value)) {
      if (packageFound?.id !== value) packages++;
      packageFound ??= { id: value, confidence: 'medium', evidence: `${where}:${key}` };
    } else if (nameKeySet.has(lower) && looksLikeAppName(value)) {
      if (nameFound?.id !== value) names++;
      nameFound ??= { id: value, confidence: 'low', evidence: `${where}:${key}` };
    }
  }
  return [packages === 1 ? packageFound : undefined, names === 1 ? nameFound : undefined].filter((app): app is AppAttribution => app !== undefined);
}

/**
 * A value that reads like an app's name rather than an SDK's key: starts with a letter, is short,
 * has no run of digits or hex that makes it a token (`5f7a9c2e…`, `ca-app-pub-3940256099942544~…`,
 * `1:722550545529:android:…`).
 */
function looksLikeAppName(value: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9 ._-]{1,39}$/.test(value)) return false;
  if (/\d{5,}/.test(value) || /[0-9a-f]{12,}/i.test(value)) return false;
  if (/^(?:true|false|null|undefined|none|test|default|unknown)$/i.test(value)) return false;
  return true;
}

function queryOf(url: string): string | undefined {
  const start = url.indexOf('?');
  if (start < 0) return undefined;
  const end = url.indexOf('#', start);
  return url.slice(start, end < 0 ? Math.min(url.length, start + bodyScanBytes) : Math.min(end, start + bodyScanBytes));
}

/** The body's first `bodyScanBytes` as text, when it is text (by its type, or by having no NUL and no compression). */
function textOf(request: HttpRequestRecord): string | undefined {
  const bytes = request.body?.bytes;
  if (!bytes || bytes.length === 0) return undefined;
  const encoding = headerValue(request.headers, 'content-encoding');
  if (encoding && !/^\s*identity\s*$/i.test(encoding)) return undefined;
  const head = bytes.subarray(0, bodyScanBytes);
  const type = headerValue(request.headers, 'content-type');
  if (type !== undefined ? !textTypes.test(type.trim()) : head.includes(0)) return undefined;
  return head.toString('utf8');
}

function formDecoded(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' ')).trim();
  } catch {
    return value;
  }
}
