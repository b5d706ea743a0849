// Headers in which an app names its own package: strong evidence (`high`).
// - `X-Requested-With`: Android's WebView sends the host app's package on every request it makes
//   (Chromium fills it from the application context), unless the app opts out. Browsers' JavaScript
//   sends `XMLHttpRequest` in the same header; that and any other value that is not package-shaped
//   names no app.
// - `X-Android-Package` (with `X-Android-Cert`, the SHA-1 of the signing certificate): Google and
//   Firebase SDKs send them so that API keys restricted to one Android app work.
// - `X-Ios-Bundle-Identifier`: the iOS counterpart (Firebase Installations, Google Maps/Places keys).
// Other Google headers carry no package: `X-Firebase-Client` lists SDK versions (and the *installer's*
// package, `android-installer/com.android.vending`, which is not the app), `X-Goog-Api-Client` names
// client libraries, `X-Firebase-GMPID` is the Firebase app id (`1:1234:android:abcd…`), not a package.

import type { AppAttribution, HeaderList } from '../../model/flow.js';
import { headerValue } from '../../model/flow.js';
import { isPackageName } from './package-name.js';

/** A header value longer than this is not a package name; we do not even trim it. */
const maxHeaderValueChars = 512;

export function appOfPackageHeaders(headers: HeaderList): AppAttribution | undefined {
  const android = packageIn(headers, 'X-Android-Package');
  if (android) {
    const cert = signingCertificate(headerValue(headers, 'X-Android-Cert'));
    return { id: android, confidence: 'high', evidence: cert ? `X-Android-Package (signing certificate SHA-1 ${cert})` : 'X-Android-Package' };
  }
  const bundle = packageIn(headers, 'X-Ios-Bundle-Identifier');
  if (bundle) return { id: bundle, confidence: 'high', evidence: 'X-Ios-Bundle-Identifier' };
  const webView = packageIn(headers, 'X-Requested-With');
  if (webView) return { id: webView, confidence: 'high', evidence: 'X-Requested-With' };
  return undefined;
}

function packageIn(headers: HeaderList, name: string): string | undefined {
  const value = headerValue(headers, name);
  if (value === undefined || value.length > maxHeaderValueChars) return undefined;
  const trimmed = value.trim();
  return isPackageName(trimmed) ? trimmed : undefined;
}

/** The certificate hash as lower-case hex (Google accepts it with or without colons), when it is one. */
function signingCertificate(value: string | undefined): string | undefined {
  if (value === undefined || value.length > maxHeaderValueChars) return undefined;
  const hex = value.trim().replace(/:/g, '').toLowerCase();
  return /^[0-9a-f]{40}$|^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}
