// What an Android package name or an iOS bundle id looks like, so that nothing else is reported as one.
// Android: reverse-DNS, two labels or more, each a Java identifier ([A-Za-z_][A-Za-z0-9_]*). iOS bundle
// ids also allow hyphens (`com.alamofire.iOS-Example`), so a label may hold one after its first character.

/** Longest id we accept: Android allows longer, but real packages stay far below this. */
export const maxPackageNameLength = 150;

const packageShape = /^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)+$/;

/**
 * Top-level domains that a forward host name ends in. A package is a domain written backwards
 * (`com.example.app`), so a value whose *last* label is one of these and whose first is not is a host
 * name or a file (`example.com`, `api.github.com`), not an app.
 */
const topLevelDomains = new Set([
  'com', 'net', 'org', 'io', 'edu', 'gov', 'info', 'biz', 'app', 'dev', 'me', 'co', 'tv', 'cn', 'de', 'fr', 'uk', 'jp', 'kr',
  'ru', 'in', 'br', 'it', 'es', 'nl', 'eu', 'us', 'ca', 'au', 'ch', 'se', 'pl', 'xyz', 'top', 'cc', 'hk', 'tw', 'sg', 'id', 'vn',
]);

/** File extensions: `index.html`, `libfoo.so`, `config.json` are files, not packages. */
const fileExtensions = new Set([
  'html', 'htm', 'js', 'mjs', 'css', 'json', 'xml', 'php', 'asp', 'aspx', 'jsp', 'txt', 'png', 'jpg', 'jpeg', 'gif', 'webp', 'svg',
  'so', 'dex', 'apk', 'ipa', 'zip', 'gz', 'tar', 'exe', 'dll', 'jar', 'plist', 'md', 'yaml', 'yml', 'csv', 'log', 'mp4', 'mp3',
]);

/** True when `value` is shaped like an Android package or an iOS bundle id. */
export function isPackageName(value: string): boolean {
  if (value.length < 3 || value.length > maxPackageNameLength) return false;
  if (!packageShape.test(value)) return false;
  const labels = value.split('.');
  const first = labels[0]!.toLowerCase();
  const last = labels[labels.length - 1]!.toLowerCase();
  if (first === 'www') return false;
  if (fileExtensions.has(last)) return false;
  if (topLevelDomains.has(last) && !topLevelDomains.has(first)) return false;
  return true;
}
