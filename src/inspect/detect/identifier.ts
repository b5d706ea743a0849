// Device and subscriber identifiers, decided by value *and* key: IMEI (Luhn; one that fails it
// under a key that says IMEI is still reported, at medium: cheap MediaTek phones and repaired ones
// carry such IMEIs; a filler like 123456789012345 is a placeholder) and ICCID (89…, Luhn), IMSI (a real MCC), MAC addresses (not the 02:00:00:00:00:00 placeholder), Android IDs,
// advertising IDs (the all-zero "limited" one is reported as such), and phone numbers under
// phone keys. A 15-digit order number, a hash or an EAN code under another key stays quiet.

import type { FindingDraft, Severity } from '../../model/finding.js';
import type { Detector, View } from './detector.js';

export type IdentifierKind = 'IMEI' | 'IMEISV' | 'IMSI' | 'ICCID' | 'MAC' | 'Android ID' | 'advertising ID' | 'phone number' | 'serial number';

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const KEY_KINDS: Array<[RegExp, IdentifierKind]> = [
  [/^(imei_?[12]?|imei_?(no|number)|device_?imei|meid|deviceid|device_id|did)$/i, 'IMEI'],
  [/^imeisv$/i, 'IMEISV'],
  [/^(imsi|subscriber_?id|subscriberid)$/i, 'IMSI'],
  [/^(iccid|sim_?serial|simserial(number)?|sim_?id)$/i, 'ICCID'],
  [/^(mac|mac_?address|macaddr|wifi_?mac|wlan_?mac|bt_?mac|bluetooth_?mac)$/i, 'MAC'],
  [/^(android_?id|androidid|ssaid)$/i, 'Android ID'],
  [/^(gaid|adid|ad_?id|advertising_?id|advertisingid|idfa|ifa|aaid|oaid)$/i, 'advertising ID'],
  [/^(msisdn|phone|phone_?number|phonenumber|mobile|mobile_?number|tel|line1_?number|own_?number)$/i, 'phone number'],
  [/^(serial|serial_?number|serialno|ro\.serialno)$/i, 'serial number'],
];

/** Keys repeat across every record of a list: their kind is worked out once. */
const keyKinds = new Map<string, IdentifierKind | null>();
function kindOfKey(key: string): IdentifierKind | undefined {
  let kind = keyKinds.get(key);
  if (kind === undefined) {
    // Header and cookie names: `X-Device-IMEI` is device_imei.
    const normal = key.replace(/^x[-_]/i, '').replace(/-/g, '_');
    kind = KEY_KINDS.find(([re]) => re.test(normal))?.[1] ?? null;
    if (keyKinds.size < 10_000) keyKinds.set(key, kind);
  }
  return kind ?? undefined;
}

const SEVERITY: Record<IdentifierKind, Severity> = {
  IMEI: 'high', IMEISV: 'high', IMSI: 'high', ICCID: 'high', 'phone number': 'high',
  MAC: 'medium', 'Android ID': 'medium', 'advertising ID': 'medium', 'serial number': 'medium',
};

/** Emulator and test values: real identifiers never look like these. */
const PLACEHOLDERS = new Set(['000000000000000', '358240051111110', '310260000000000', '89014103211118510720', '02:00:00:00:00:00', '00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', '9774d56d682e549c']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Keys that say IMEI in so many words (not deviceid or did, which hold many other numbers). */
const NAMES_IMEI = /imei/i;
export const CHECK_DIGIT_NOTE = 'check digit does not match';
const PLACEHOLDER_NOTE = 'emulator or placeholder value';

/**
 * A filler typed in by a factory or a test: one digit repeated, or digits counting up or down
 * (123456789012345, 987654321098765), whatever the last (check) digit. No TAC looks like that.
 */
export function isFillerImei(digits: string): boolean {
  const body = digits.slice(0, -1);
  let same = true;
  let up = true;
  let down = true;
  for (let i = 1; i < body.length; i++) {
    const step = (body.charCodeAt(i) - body.charCodeAt(i - 1) + 10) % 10;
    same &&= step === 0;
    up &&= step === 1;
    down &&= step === 9;
  }
  return same || up || down;
}

const MAC = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i;

export interface IdentifierHit { kind: IdentifierKind; value: string; key: string; note?: string }

/** What an identifier value under `key` is, or undefined. */
export function classifyIdentifier(key: string, raw: unknown): IdentifierHit | undefined {
  const value = typeof raw === 'number' && Number.isSafeInteger(raw) ? String(raw) : typeof raw === 'string' ? raw.trim() : undefined;
  if (!value) return undefined;
  const kind = kindOfKey(key);
  if (!kind) return undefined;
  const lower = value.toLowerCase();
  if (PLACEHOLDERS.has(lower)) return { kind, value, key, note: PLACEHOLDER_NOTE };
  switch (kind) {
    case 'IMEI':
      if (/^\d{15}$/.test(value) && !/^0{8}/.test(value)) {
        if (isFillerImei(value)) return { kind, value, key, note: PLACEHOLDER_NOTE };
        if (luhnValid(value)) return { kind, value, key };
        // A wrong check digit under a generic key (deviceid, did) is just another number.
        if (NAMES_IMEI.test(key)) return { kind, value, key, note: CHECK_DIGIT_NOTE };
        return undefined;
      }
      if (/^[0-9a-f]{14}$/i.test(value) && key.toLowerCase() === 'meid') return { kind, value, key, note: 'MEID' };
      return undefined;
    case 'IMEISV':
      return /^\d{16}$/.test(value) ? { kind, value, key } : undefined;
    case 'IMSI': {
      if (!/^\d{14,15}$/.test(value)) return undefined;
      const mcc = Number(value.slice(0, 3));
      return mcc >= 202 && mcc <= 750 ? { kind, value, key } : undefined;
    }
    case 'ICCID':
      return /^89\d{17,18}$/.test(value) && luhnValid(value) ? { kind, value, key } : undefined;
    case 'MAC': {
      const m = MAC.exec(value);
      if (!m) return undefined;
      // The locally administered bit marks a randomised MAC: still an identifier, but a weaker one.
      const randomised = (parseInt(m[1]!, 16) & 0x02) !== 0;
      return { kind, value: lower, key, ...(randomised ? { note: 'randomised (locally administered)' } : {}) };
    }
    case 'Android ID':
      return /^[0-9a-f]{16}$/.test(value) ? { kind, value, key } : undefined;
    case 'advertising ID':
      if (!UUID.test(value)) return undefined;
      return /^[0-]+$/.test(value) ? { kind, value, key, note: 'present but zeroed (the user limited ad tracking)' } : { kind, value, key };
    case 'phone number':
      return /^\+?\d[\d\s().-]{6,18}$/.test(value) && (value.match(/\d/g) ?? []).length >= 8 ? { kind, value, key } : undefined;
    case 'serial number':
      return /^[A-Za-z0-9]{6,20}$/.test(value) && /\d/.test(value) && !/^(unknown|0+)$/i.test(value) ? { kind, value, key } : undefined;
  }
}

/** An international number (E.164: +, country code, 8 to 15 digits in all) is a phone number under any key… */
const E164 = /^\+[1-9]\d{7,14}$/;
/** …but for the keys of SMS, call and contact records: those detectors report their numbers. */
const RECORD_NUMBER_KEYS = /^(address|sender|recipient|from|to|number|num|contact|peer|caller|callee|data1|originating_?address|formatted_?number|normalized_?number|service_?center|sms_(from|to|sender|address|number)|(from|to)_number)$/i;

function collect(value: unknown, out: IdentifierHit[], depth = 0): void {
  if (depth > 16 || out.length > 200) return;
  if (Array.isArray(value)) for (const item of value) collect(item, out, depth + 1);
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      const hit = classifyIdentifier(key, inner) ?? (typeof inner === 'string' && !RECORD_NUMBER_KEYS.test(key) && E164.test(inner.replace(/[\s().-]/g, '')) ? { kind: 'phone number' as const, value: inner.trim(), key, note: 'E.164 number under another key' } : undefined);
      if (hit) out.push(hit);
      else if (inner && typeof inner === 'object') collect(inner, out, depth + 1);
    }
  }
}

function shown(hit: IdentifierHit): string {
  const v = hit.value;
  return v.length > 8 ? `${v.slice(0, Math.ceil(v.length / 2))}…` : v;
}

export const identifierDetector: Detector = {
  id: 'identifier',
  category: 'identifier',
  gate(view) {
    return view.structured !== undefined;
  },
  detect(view: View): FindingDraft[] {
    const hits: IdentifierHit[] = [];
    collect(view.structured, hits);
    return identifierDrafts(view, hits);
  },
};

/** One finding per kind of identifier found in a layer (also used for the labels of DNS names). */
export function identifierDrafts(view: View, hits: readonly IdentifierHit[]): FindingDraft[] {
  const byKind = new Map<IdentifierKind, IdentifierHit[]>();
  for (const hit of hits) byKind.set(hit.kind, [...(byKind.get(hit.kind) ?? []), hit]);
  return [...byKind].map(([kind, list]): FindingDraft => {
    const weak = (h: IdentifierHit): boolean => h.note?.startsWith('randomised') === true || h.note?.startsWith('E.164') === true || h.note === CHECK_DIGIT_NOTE;
    const real = list.filter((h) => !h.note || weak(h) || h.note === 'MEID');
    const first = real.find((h) => !weak(h)) ?? real[0] ?? list[0]!;
    const severity: Severity = real.length === 0 ? 'info' : first.note?.startsWith('randomised') ? 'low' : first.note?.startsWith('E.164') || first.note === CHECK_DIGIT_NOTE ? 'medium' : SEVERITY[kind];
    const distinct = new Set(list.map((h) => h.value)).size;
    return {
      category: 'identifier', severity, direction: view.direction, detector: `identifier/${kind.toLowerCase().replace(/\s+/g, '-')}`,
      summary: `${kind} ${shown(first)} under "${first.key}"${distinct > 1 ? ` (and ${distinct - 1} more)` : ''}${first.note ? `: ${first.note}` : ''}`,
      evidence: { path: view.path, bytes: view.bytes.length, excerpt: `${first.key}: ${first.value}` },
      details: { kind, values: [...new Set(list.map((h) => h.value))].slice(0, 20), keys: [...new Set(list.map((h) => h.key))], ...(first.note ? { note: first.note } : {}) },
    };
  });
}
