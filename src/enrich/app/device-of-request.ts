// The device behind a request, from its User-Agent: model and OS (Dalvik, okhttp, CFNetwork…). Pure.
// Android stacks put `Android <version>; <model> Build/<id>` in a comment (Dalvik, WebView, Chrome,
// Cronet); Unity writes `Android OS 5.1 / API-22 (…); <maker> <model>`; iOS browsers write `CPU iPhone
// OS 16_3 like Mac OS X`; Alamofire writes `iOS 16.0`; CFNetwork only gives the Darwin kernel version,
// which maps to an iOS major version (the table below, from Apple's kernel releases).

import type { HeaderList } from '../../model/flow.js';
import { headerValue } from '../../model/flow.js';
import { commentItems, userAgentProducts, userAgentScanChars, type UserAgentProduct } from './user-agent-tokens.js';

export interface DeviceFacts {
  /** `HM NOTE 1W`, `iPhone`… */
  readonly model?: string;
  /** `Android 4.4.2`, `iOS 17.1`… */
  readonly os?: string;
  /** The HTTP stack or framework the request came from: `okhttp`, `CFNetwork`, `grpc-java`, `Unity`, `React Native`… */
  readonly framework?: string;
  /** The header that said so. */
  readonly evidence: string;
}

/** Darwin kernel major → iOS major, for the releases where the pairing is settled. */
const iosOfDarwin: Readonly<Record<number, number>> = {
  10: 4, 11: 5, 12: 6, 13: 7, 14: 8, 15: 9, 16: 10, 17: 11, 18: 12, 19: 13, 20: 14, 21: 15, 22: 16, 23: 17, 24: 18, 25: 26,
};

/** Frameworks by the product that reveals them, most specific first (grpc-java-okhttp before okhttp). */
const frameworks: ReadonlyArray<{ test: (name: string) => boolean; framework: string }> = [
  { test: (n) => n === 'grpc-java-okhttp', framework: 'grpc-java (okhttp)' },
  { test: (n) => n === 'grpc-java-cronet', framework: 'grpc-java (Cronet)' },
  { test: (n) => n.startsWith('grpc-java'), framework: 'grpc-java' },
  { test: (n) => n.startsWith('grpc-objc'), framework: 'grpc-objc' },
  { test: (n) => n.startsWith('grpc-'), framework: '' }, // grpc-c, grpc-go…: the product's own name
  { test: (n) => n === 'unityplayer', framework: 'Unity' },
  { test: (n) => n === 'reactnative' || n === 'react-native', framework: 'React Native' },
  { test: (n) => n === 'dart', framework: 'Flutter (Dart)' },
  { test: (n) => n === 'alamofire', framework: 'Alamofire' },
  { test: (n) => n === 'cronet', framework: 'Cronet' },
  { test: (n) => n === 'okhttp', framework: 'okhttp' },
];
const locale = /^[a-z]{2,3}(?:[-_][A-Za-z]{2,4})?$/;
/** Comment items that are never a model. */
const notModel = /^(?:U|N|I|Linux|Mobile|wv|K|Tablet|Android|rv:.*|Build\/.*|Cronet\/.*|Model:.*|build:.*)$/i;

export function deviceOfRequest(headers: HeaderList): DeviceFacts | undefined {
  try {
    return deviceOf(headers);
  } catch {
    return undefined; // never: the parsers are bounded and total; but a device fact is not worth an exception
  }
}

function deviceOf(headers: HeaderList): DeviceFacts | undefined {
  const userAgent = headerValue(headers, 'user-agent')?.slice(0, userAgentScanChars);
  const unityVersion = headerValue(headers, 'x-unity-version');
  let model: string | undefined;
  let os: string | undefined;
  let framework: string | undefined;
  if (userAgent) {
    const products = userAgentProducts(userAgent);
    framework = frameworkOf(products, userAgent);
    for (const product of products) {
      if (!product.comment) continue;
      const found = androidFacts(product.comment) ?? appleFacts(product.comment);
      if (found) {
        model ??= found.model;
        os ??= found.os;
      }
      if (model && os) break;
    }
    os ??= darwinOs(userAgent);
  }
  const evidence = [userAgent && (model || os || framework) ? 'User-Agent' : undefined, unityVersion !== undefined && !framework ? 'X-Unity-Version' : undefined]
    .filter(Boolean).join(', ');
  if (unityVersion !== undefined) framework ??= 'Unity';
  if (!model && !os && !framework) return undefined;
  const facts = factsFound(model, os);
  if (framework) facts.framework = framework;
  facts.evidence = evidence;
  return facts as DeviceFacts;
}

/**
 * The model and OS that were found, in that key order. Built by assignment, not as
 * `{ ...(model ? { model } : {}), … }`: a literal that begins with a spread makes a hidden class
 * per object in Node 20 (util/with-fields.ts says why), and this runs for every request.
 */
function factsFound(model: string | undefined, os: string | undefined): { model?: string; os?: string; framework?: string; evidence?: string } {
  const facts: { model?: string; os?: string; framework?: string; evidence?: string } = {};
  if (model) facts.model = model;
  if (os) facts.os = os;
  return facts;
}

function frameworkOf(products: readonly UserAgentProduct[], userAgent: string): string | undefined {
  const names = products.map((product) => product.name.toLowerCase());
  for (const row of frameworks) {
    const name = names.find((n) => row.test(n));
    if (name !== undefined) return row.framework || name;
  }
  if (/Cronet\//.test(userAgent)) return 'Cronet';
  if (/; wv\)|Version\/4\.0 Chrome\//.test(userAgent) && /Android/.test(userAgent)) return 'Android WebView';
  if (names.includes('cfnetwork')) return 'CFNetwork';
  if (names.includes('dalvik')) return 'Dalvik';
  if (names.some((n) => n === 'firefox' || n === 'fxios')) return 'Firefox';
  if (names.some((n) => n === 'chrome' || n === 'crios')) return 'Chrome';
  if (names.includes('safari') && /iPhone|iPad|iPod|Macintosh/.test(userAgent)) return 'Safari';
  return undefined;
}

/** `Linux; U; Android 4.4.2; HM NOTE 1W MIUI/…`, `Linux; Android 5.1.1; Nexus 5 Build/LMY48B; wv`, Unity's and Cronet's shapes. */
function androidFacts(comment: string): { model?: string; os?: string } | undefined {
  const items = commentItems(comment);
  const osIndex = items.findIndex((item) => /^Android(?: OS)?(?: \d|$)/.test(item));
  if (osIndex < 0) return undefined;
  const version = /^Android(?: OS)? (\d+(?:\.\d+){0,3})/.exec(items[osIndex]!)?.[1];
  let model: string | undefined;
  for (const item of items) {
    const tagged = /^Model:(.{1,60})$/.exec(item)?.[1] ?? /^(.{1,60}?) (?:Build|MIUI)\//.exec(item)?.[1];
    if (tagged) {
      model = tagged.trim();
      break;
    }
  }
  model ??= items.slice(osIndex + 1).find((item) => !notModel.test(item) && !locale.test(item) && item.length <= 60 && !item.includes('('));
  return factsFound(model && withoutRepeatedMaker(model), version ? `Android ${version}` : 'Android');
}

/** `iPhone; CPU iPhone OS 10_1 like Mac OS X`, Alamofire's `iOS 16.0`, `iPhone/6s iOS/11.3`, grpc-c's `ios; chttp2`. */
function appleFacts(comment: string): { model?: string; os?: string } | undefined {
  const items = commentItems(comment);
  let model: string | undefined;
  let os: string | undefined;
  for (const item of items) {
    const device = /^(iPhone|iPad|iPod(?: touch)?)(?:\/(\w{1,12}))?(?: iOS\/(\d+(?:\.\d+){0,2}))?$/.exec(item);
    if (device) {
      model = device[2] ? `${device[1]} ${device[2]}` : device[1];
      if (device[3]) os = `iOS ${device[3]}`;
    }
    const cpu = /\bOS (\d+(?:_\d+){0,2}) like Mac OS X/.exec(item);
    if (cpu) os = `${/iPad/.test(item) ? 'iPadOS' : 'iOS'} ${cpu[1]!.replace(/_/g, '.')}`;
    const plain = /^(iOS|iPadOS)[ /](\d+(?:\.\d+){0,2})$/.exec(item);
    if (plain) os = `${plain[1]} ${plain[2]}`;
    if (item === 'ios') os ??= 'iOS';
    if (item === 'android') os ??= 'Android';
  }
  return model || os ? factsFound(model, os) : undefined;
}

/** CFNetwork's `Darwin/22.3.0`: iOS 16 (macOS when the comment names a Mac architecture). */
function darwinOs(userAgent: string): string | undefined {
  const match = /CFNetwork\/[\d.]+ Darwin\/(\d+)\.[\d.]*(?: \(([^)]{0,40})\))?/.exec(userAgent);
  if (!match) return undefined;
  if (match[2] && /x86_64|arm64|Mac/i.test(match[2])) return 'macOS';
  const ios = iosOfDarwin[Number(match[1])];
  return ios === undefined ? 'iOS' : `iOS ${ios}`;
}

/** Unity writes the maker before a model that often starts with it: `HUAWEI HUAWEI TIT-U02`, `LENOVO Lenovo TB-X304L`. */
function withoutRepeatedMaker(model: string): string {
  const [maker, ...rest] = model.split(' ');
  return rest.length > 0 && rest[0]!.toLowerCase() === maker!.toLowerCase() ? rest.join(' ') : model;
}
