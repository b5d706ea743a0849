// The app a User-Agent names, if it names one.
// - high: a product that is a package name (`com.miui.gallery/3.1 (Linux; U; Android 4.4.2; …)`, the
//   Cronet default `com.linkedin.android/179800 (…; Cronet/102…)`, `… org.odk.collect.android/v1.5.1`),
//   or a bundle id leading the first comment (Alamofire: `App/1.0 (com.example.app; build:1; iOS 16.0)
//   Alamofire/5.6`; AckeeCZ's okhttp interceptor copies the shape on Android).
// - medium: shapes that name the app without its package: CFNetwork's `Instagram/123 CFNetwork/…
//   Darwin/…` (the iOS app's executable name), a known app's mark (`[FB_IAB/FB4A;…]`, `WhatsApp/2.17.190 A`), or
//   an unknown product beside a mobile HTTP stack (`Dalvik/2.1.0 (…) NewsArticle/5.1.3`,
//   `Dart/3.2 (dart:io), AppName/1.0.0`, a WebView UA with the app's suffix).
// Browsers' own User-Agents and library-only ones (`okhttp/4.9.2`, `Dalvik/…`, `grpc-java-okhttp/…`,
// `Dart/2.19 (dart:io)`) name no app: every token they hold is in `knownTokens`.

import type { AppAttribution } from '../../model/flow.js';
import { isPackageName } from './package-name.js';
import { commentItems, userAgentProducts, userAgentScanChars, type UserAgentProduct } from './user-agent-tokens.js';
import { withFields } from '../../util/with-fields.js';

/** Products that are browsers, engines, HTTP stacks, frameworks or OS words: never an app's name. */
const knownTokens = new Set([
  // browsers and engines
  'mozilla', 'applewebkit', 'khtml', 'gecko', 'like', 'chrome', 'chromium', 'safari', 'mobile', 'version', 'mobilesafari', 'webkit',
  'firefox', 'fxios', 'focus', 'klar', 'crios', 'edga', 'edgios', 'edg', 'edge', 'opr', 'opios', 'opera', 'samsungbrowser', 'ucbrowser',
  'yabrowser', 'miuibrowser', 'vivaldi', 'brave', 'duckduckgo', 'huaweibrowser', 'heytapbrowser', 'qqbrowser', 'silk', 'trident',
  'presto', 'headlesschrome', 'electron',
  // HTTP stacks, RPC and media libraries, frameworks
  'dalvik', 'okhttp', 'cfnetwork', 'darwin', 'alamofire', 'afnetworking', 'dart', 'cronet', 'grpc-java-okhttp', 'grpc-java-netty',
  'grpc-java-cronet', 'grpc-c', 'grpc-objc', 'grpc-objc-cfstream', 'grpc-node', 'grpc-node-js', 'grpc-go', 'grpc-python', 'grpc-dotnet',
  'unityplayer', 'unity', 'reactnative', 'react-native', 'expo', 'cordova', 'flutter', 'crosswalk', 'exoplayerlib', 'exoplayer',
  'stagefright', 'applecoremedia', 'lavf', 'libmpv', 'androiddownloadmanager', 'retrofit', 'volley', 'ktor', 'ktor-client', 'java',
  'apache-httpclient', 'python-requests', 'python-urllib', 'curl', 'wget', 'axios', 'node-fetch', 'undici', 'node', 'go-http-client',
  'postmanruntime', 'gzip', 'deflate', 'br', 'via', 'and', 'http', 'https', 'httpclient',
  // OS and device words that appear outside comments
  'linux', 'android', 'iphone', 'ipad', 'ipod', 'ios', 'cpu', 'os', 'u', 'wv', 'build', 'mac', 'macos', 'windows', 'x11', 'profile',
  'configuration', 'release',
]);

/** A User-Agent that comes from a phone's HTTP stack or WebView: only there do we read an unknown product as an app. */
const mobileStack = /Android|iPhone|iPad|\biOS\b|CFNetwork\/|Darwin\/|Dalvik\/|okhttp\/|Alamofire\/|Dart\/|Cronet\/|grpc-java|grpc-objc|UnityPlayer\/|; wv\)/i;

/** What an app's name looks like when it is a single product token. */
const appNameToken = /^[A-Za-z][A-Za-z0-9._+-]{1,47}$/;

/**
 * Apps known by a mark they put in their User-Agent: in-app browsers (`[FB_IAB/FB4A;…]`), and
 * WhatsApp's own fetches, whose version ends in its platform (`WhatsApp/2.17.190 A`,
 * `WhatsApp/2.16.20/i`). A bare `WhatsApp/2` is not WhatsApp: Signal sends it for link previews.
 */
const markedApps: ReadonlyArray<{ marker: RegExp; name: string; android: string; ios: string; platform?: 'android' | 'ios'; what: string }> = [
  { marker: /\[(?:FB_IAB\/FB4A|FBAN\/FBIOS|FBAN\/FB4A)\b/, name: 'Facebook', android: 'com.facebook.katana', ios: 'com.facebook.Facebook', what: 'in-app browser' },
  { marker: /\[(?:FB_IAB\/MESSENGER|FBAN\/MessengerForiOS)\b/, name: 'Messenger', android: 'com.facebook.orca', ios: 'com.facebook.Messenger', what: 'in-app browser' },
  { marker: /\bInstagram \d+[\d.]* (?:Android|\()/, name: 'Instagram', android: 'com.instagram.android', ios: 'com.burbn.instagram', what: 'in-app browser' },
  { marker: /\bMicroMessenger\/\d/, name: 'WeChat', android: 'com.tencent.mm', ios: 'com.tencent.xin', what: 'in-app browser' },
  { marker: /^WhatsApp\/2\.\d+\.\d+ A(?: |$)/, name: 'WhatsApp', android: 'com.whatsapp', ios: 'net.whatsapp.WhatsApp', platform: 'android', what: 'version and platform' },
  { marker: /^WhatsApp\/2\.\d+\.\d+(?:\/i| i)(?: |$)/, name: 'WhatsApp', android: 'com.whatsapp', ios: 'net.whatsapp.WhatsApp', platform: 'ios', what: 'version and platform' },
];

export function appOfUserAgent(userAgent: string): AppAttribution | undefined {
  const text = userAgent.slice(0, userAgentScanChars);
  const products = userAgentProducts(text);
  return packageProduct(products) ?? bundleInComment(products) ?? markedApp(text) ?? cfNetworkApp(text) ?? namedApp(text, products);
}

/** A product whose name (or a `/` segment of its version: `edX/org.edx.mobile/1.0.09`) is a package. */
function packageProduct(products: readonly UserAgentProduct[]): AppAttribution | undefined {
  for (const product of products) {
    if (isPackageName(product.name)) return withVersion({ id: product.name, confidence: 'high', evidence: 'User-Agent' }, product.version);
    const segments = product.version?.split('/') ?? [];
    const index = segments.findIndex((segment) => isPackageName(segment));
    if (index >= 0 && appNameToken.test(product.name) && !knownTokens.has(product.name.toLowerCase())) {
      return withVersion({ id: segments[index]!, name: product.name, confidence: 'high', evidence: 'User-Agent' }, segments.slice(index + 1).join('/'));
    }
  }
  return undefined;
}

/** `Name/Version (bundle.id; build:N; iOS x)`: Alamofire's default, copied on Android by some okhttp interceptors. */
function bundleInComment(products: readonly UserAgentProduct[]): AppAttribution | undefined {
  for (const [index, product] of products.entries()) {
    if (!product.comment) continue;
    const first = commentItems(product.comment)[0];
    if (first === undefined || !isPackageName(first)) continue;
    // An executable name with spaces (`iOS Example/1.0 (…)`) arrives as bare words before the product.
    const leadingWords = products.slice(0, index).every((word) => word.name && word.version === undefined && !word.comment && !word.bracket);
    const fullName = leadingWords ? [...products.slice(0, index).map((word) => word.name), product.name].join(' ') : product.name;
    const name = product.name && !knownTokens.has(product.name.toLowerCase()) ? fullName : undefined;
    return withVersion({ id: first, ...(name ? { name } : {}), confidence: 'high', evidence: 'User-Agent' }, name ? product.version : undefined);
  }
  return undefined;
}

function markedApp(text: string): AppAttribution | undefined {
  for (const app of markedApps) {
    if (!app.marker.test(text)) continue;
    const ios = app.platform ? app.platform === 'ios' : /iPhone|iPad|\biOS\b|FBAN\/FBIOS|MessengerForiOS/.test(text);
    return { id: ios ? app.ios : app.android, name: app.name, confidence: 'medium', evidence: `User-Agent (${app.name} ${app.what})` };
  }
  return undefined;
}

/** `AppName/Version CFNetwork/… Darwin/…`: iOS's URLSession puts the app's executable name first, percent-encoded. */
function cfNetworkApp(text: string): AppAttribution | undefined {
  const match = /^(.{1,160}?)(?:\/(\S{1,40}))? CFNetwork\/[\d.]+ Darwin\/\d/.exec(text);
  if (!match) return undefined;
  const name = percentDecoded(match[1]!)?.trim();
  if (!name || name.length > 64 || /[\u0000-\u001f\u007f()/]/.test(name)) return undefined;
  if (knownTokens.has(name.toLowerCase())) return undefined;
  return withVersion({ id: name, name, confidence: 'medium', evidence: 'User-Agent (CFNetwork app name)' }, match[2]);
}

/**
 * An app name beside a mobile HTTP stack: the leading product (`News Republic/12.6.4 (Linux; U;
 * Android …)`, `Jellyfin Android TV/0.0.0 via jellyfin-sdk-kotlin (OkHttp/4.12.0)`), else the first
 * unknown product after the stack's own (`Dalvik/2.1.0 (…) NewsArticle/5.1.3`, `Dart/3.2 (dart:io),
 * AppName/1.0.0`, `… Mobile Safari/537.36 RepublikApp`).
 */
function namedApp(text: string, products: readonly UserAgentProduct[]): AppAttribution | undefined {
  if (!mobileStack.test(text)) return undefined;
  const leading = /^([A-Za-z][A-Za-z0-9 ._+-]{0,47}?)\/(\S{1,40})/.exec(text);
  if (leading) {
    const name = leading[1]!.trim();
    const firstWord = name.split(' ')[0]!.toLowerCase();
    if (!knownTokens.has(firstWord) && !knownTokens.has(name.toLowerCase())) {
      return withVersion({ id: name, name, confidence: 'medium', evidence: 'User-Agent (app name)' }, leading[2]);
    }
  }
  for (const product of products) {
    if (!product.name || !appNameToken.test(product.name) || knownTokens.has(product.name.toLowerCase())) continue;
    if (/^[0-9a-f]{8,}$/i.test(product.name) || !/[a-z]{2}/i.test(product.name)) continue;
    return withVersion({ id: product.name, name: product.name, confidence: 'medium', evidence: 'User-Agent (app name)' }, product.version);
  }
  return undefined;
}

function withVersion(app: AppAttribution, version: string | undefined): AppAttribution {
  const cleaned = version?.replace(/[,;]+$/, '').slice(0, 40);
  return cleaned ? withFields(app, { version: cleaned }) : app;
}

/** CFNetwork percent-encodes non-ASCII names (`%E6%B7%98%E5%AE%9D`); a broken encoding is no name. */
function percentDecoded(text: string): string | undefined {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
