// SMS leaving the device as records: the Android SMS provider's rows and their renamed variants,
// found by shape (an address that is a phone number or a short sender, a text body, and a date,
// a box type or a thread), in JSON and form layers; by their values in schemaless protobuf and in
// keyless rows (dates in milliseconds or seconds); and SMS Backup & Restore XML.

import { parseSmsPdu } from '../decode/sms-pdu.js';
import { SMS_PDU_TYPE } from '../decode/strings.js';
import { MMS_TYPE } from '../decode/mms.js';
import type { FindingDraft } from '../../model/finding.js';
import { maskNumber, quote } from './summary-text.js';
import { collectRecords } from './record-walk.js';
import type { Detector, View } from './detector.js';

/** Keys that name an SMS correspondent in the Android provider and its common renamings. */
const STRONG_ADDRESS_KEYS = new Set(['address', 'sender', 'originating_address', 'originatingaddress', 'phone', 'phone_number', 'phonenumber', 'msisdn', 'recipient', 'sender_number', 'sms_from', 'sms_sender', 'sms_address', 'sms_to', 'sms_number', 'from_number', 'to_number']);
/** Keys that may name one, but name many other things too. */
const WEAK_ADDRESS_KEYS = new Set(['from', 'to', 'number', 'num', 'contact', 'peer']);
const BODY_KEYS = new Set(['body', 'text', 'content', 'message', 'msg', 'sms_body', 'smsbody', 'message_body', 'messagebody']);
const DATE_KEYS = new Set(['date', 'time', 'timestamp', 'date_sent', 'datesent', 'ts', 'sent_at', 'received_at', 'created_at', 'sms_time', 'sms_date']);
/** Keys of an event that may name what it is about: `{event: "sms_received", …}`. */
const EVENT_KEYS = new Set(['event', 'event_type', 'eventtype', 'type', 'kind', 'category', 'name', 'action']);
const NAMES_SMS = /(^|[_\s.:-])(sms|text_?message|mms)([_\s.:-]|$)/i;
const TYPE_KEYS = new Set(['type', 'box', 'folder', 'msg_box', 'msgbox']);
const THREAD_KEYS = new Set(['thread_id', 'threadid', 'thread', 'conversation_id', 'conversationid']);
const READ_KEYS = new Set(['read', 'seen', 'is_read']);
const SERVICE_KEYS = new Set(['service_center', 'sc', 'smsc', 'protocol', 'sub_id', 'subscription_id', 'sim_slot']);

const TYPE_WORDS = /^(inbox|sent|draft|outbox|failed|queued|incoming|outgoing|received)$/i;

export interface SmsRecord {
  readonly address: string;
  readonly body: string;
  readonly date?: string;
  readonly type?: string;
}

/** How strongly a value is an SMS address: 2 for an international number, 1 for a national one or a short alphanumeric sender. */
export function smsAddressStrength(value: string): 0 | 1 | 2 {
  const v = value.trim();
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(v)) return 0; // an IPv4 address
  const digits = (v.match(/\d/g) ?? []).length;
  if (/^\+\d[\d\s().-]{6,19}$/.test(v) && digits >= 8 && digits <= 15) return 2;
  if (/^\d[\d\s().-]{4,19}$/.test(v) && digits >= 5 && digits <= 15) return 1;
  // Alphanumeric senders are at most 11 characters (3GPP TS 23.038) and contain a letter.
  if (/^[A-Za-z][A-Za-z0-9 .&-]{1,10}$/.test(v) && !/^(true|false|null|none|inbox|sent|text|body|admin|user|test|home|settings|main)$/i.test(v)) return 1;
  return 0;
}

/** Milliseconds (2001–2033) or seconds since 1970, or an ISO date. */
function isDate(value: unknown): string | undefined {
  const n = typeof value === 'string' && /^\d{9,13}$/.test(value) ? Number(value) : value;
  if (typeof n === 'number') {
    if (n >= 1e12 && n < 2e12) return new Date(n).toISOString();
    if (n >= 1e9 && n < 2e9) return new Date(n * 1000).toISOString();
    return undefined;
  }
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(value) && !Number.isNaN(Date.parse(value))) return new Date(value).toISOString();
  return undefined;
}

function isType(value: unknown): boolean {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 1 && value <= 6;
  return typeof value === 'string' && (/^[1-6]$/.test(value) || TYPE_WORDS.test(value));
}

/**
 * An object that has the shape of an SMS record, or undefined. Scored: the correspondent (2 for a
 * number under an SMS key or an international number, 1 for weaker signs) plus supporting fields
 * (a plausible date, a box type 1–6, a thread id, a read flag, a service centre); a text body is
 * required. 3 or more is an SMS. So {to: "settings", message: "tap", timestamp} stays quiet.
 */
export function smsRecordOf(object: Record<string, unknown>): SmsRecord | undefined {
  let address: string | undefined;
  let addressScore = 0;
  let body: string | undefined;
  let date: string | undefined;
  let type: string | undefined;
  let support = 0;
  for (const [rawKey, value] of Object.entries(object)) {
    const key = rawKey.toLowerCase();
    if ((STRONG_ADDRESS_KEYS.has(key) || WEAK_ADDRESS_KEYS.has(key)) && typeof value === 'string') {
      const strength = smsAddressStrength(value);
      const score = STRONG_ADDRESS_KEYS.has(key) ? strength + (strength > 0 ? 1 : 0) : strength === 2 ? 2 : 0;
      if (score > addressScore) {
        addressScore = Math.min(score, 2);
        address = value.trim();
      }
    } else if (BODY_KEYS.has(key) && typeof value === 'string' && value.trim().length > 0 && !/^https?:\/\//.test(value)) {
      body ??= value;
    } else if (DATE_KEYS.has(key) && isDate(value)) {
      date ??= isDate(value);
      support++;
    } else if (TYPE_KEYS.has(key) && isType(value)) {
      type ??= String(value);
      support++;
    } else if (EVENT_KEYS.has(key) && typeof value === 'string' && NAMES_SMS.test(value)) {
      support++; // an event that says it is an SMS
    } else if (THREAD_KEYS.has(key) && (typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value)))) {
      support++;
    } else if (READ_KEYS.has(key) && (value === 0 || value === 1 || value === '0' || value === '1' || typeof value === 'boolean')) {
      support++;
    } else if (SERVICE_KEYS.has(key) && value !== null && value !== '') {
      support++;
    }
  }
  if (!address || body === undefined || addressScore === 0 || addressScore + support < 3) return undefined;
  return { address, body, ...(date ? { date } : {}), ...(type ? { type } : {}) };
}

/** Seconds since 1970 of a plausible era for a message (2009–2035): fewer ids and counters pass. */
const SECONDS_FROM = Date.UTC(2009, 0, 1) / 1000;
const SECONDS_TO = Date.UTC(2036, 0, 1) / 1000;
function secondsDate(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= SECONDS_FROM && value < SECONDS_TO ? new Date(value * 1000).toISOString() : undefined;
}

/** A google.protobuf.Timestamp read without its schema: {1: seconds, 2: nanos}. */
function timestampMessage(value: unknown): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const fields = value as Record<string, unknown>;
  const keys = Object.keys(fields);
  if (keys.some((k) => k !== '1' && k !== '2')) return undefined;
  const nanos = fields['2'];
  if (nanos !== undefined && !(typeof nanos === 'number' && Number.isInteger(nanos) && nanos >= 0 && nanos < 1e9)) return undefined;
  return secondsDate(fields['1']);
}

/** A person's name (`Jean Dupont`): what a contact carries beside its number, not a message. */
const NAME_LIKE = /^\p{Lu}[\p{Ll}'’-]+(\s+\p{Lu}[\p{Ll}'’.-]*){1,3}$/u;
/** Log and machine text: levels, key=value, camelCase or CONSTANT_CASE tokens, tags like I/Telephony. */
const MACHINE_TEXT = /(^|\s)(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|[VDIWEF]\/\w+)\b|\w=\S|\b[a-z]{2,}[A-Z]\w*\b|\b[A-Z]+_[A-Z_]+\b|\[[\w.:-]+\]/;

/**
 * Records without key names (schemaless protobuf): an international number, a text and a
 * timestamp among the values of one message. The timestamp in milliseconds, as the Android
 * provider keeps it; or in seconds (int64, fixed32 or a Timestamp message), as many protocols
 * send it — then the text must read as a message a person wrote, not a contact's name or a log
 * line, since a seconds-sized integer is a commoner thing than a millisecond one.
 */
export function smsRecordByValues(object: Record<string, unknown>): SmsRecord | undefined {
  let address: string | undefined;
  const texts: string[] = [];
  let msDate: string | undefined;
  let secDate: string | undefined;
  for (const value of Object.values(object)) {
    if (typeof value === 'string') {
      if (!address && smsAddressStrength(value) === 2) address = value.trim();
      else if (texts.length < 8 && /\p{L}/u.test(value) && value.trim().length >= 2 && smsAddressStrength(value) === 0) texts.push(value);
    } else if (typeof value === 'number') {
      if (!msDate && value >= 1e12 && value < 2e12) msDate = new Date(value).toISOString();
      else secDate ??= secondsDate(value);
    } else secDate ??= timestampMessage(value);
  }
  if (!address || texts.length === 0) return undefined;
  if (msDate) return { address, body: texts[0]!, date: msDate };
  const body = texts.find((text) => isHumanText(text) && !NAME_LIKE.test(text.trim()) && !MACHINE_TEXT.test(text));
  return secDate && body ? { address, body, date: secDate } : undefined;
}

/**
 * A row as an array, its columns unnamed: `["+33612345678", "Rendez-vous…", 1413131405, 1]`. As
 * with short keys, all four — an international number, a text a person wrote, a date (seconds or
 * milliseconds) and a box type 1–6 — so a contact row or a log tuple stays quiet.
 */
export function smsRecordByPosition(items: readonly unknown[]): SmsRecord | undefined {
  if (items.length < 4 || items.length > 12) return undefined;
  let address: string | undefined;
  let body: string | undefined;
  let date: string | undefined;
  let type: string | undefined;
  for (const value of items) {
    if (typeof value === 'string') {
      if (!address && smsAddressStrength(value) === 2) address = value.trim();
      else if (!body && isHumanText(value) && !NAME_LIKE.test(value.trim()) && !MACHINE_TEXT.test(value)) body = value;
    } else if (typeof value === 'number') {
      if (!date && isDate(value)) date = isDate(value);
      else if (!type && Number.isInteger(value) && value >= 1 && value <= 6) type = String(value);
    } else if (value !== null && typeof value === 'object') return undefined; // rows hold scalars
  }
  return address && body && date && type ? { address, body, date, type } : undefined;
}

/** Text a person wrote: letters, two words or more (or one run of CJK), no template placeholders. */
function isHumanText(value: string): boolean {
  const v = value.trim();
  if (!/\p{L}/u.test(v) || /%[sd@]|\{\{|\$\{|\{\d+\}/.test(v) || /^https?:\/\//.test(v)) return false;
  return v.split(/\s+/).length >= 2 || /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]{2,}/u.test(v);
}

/**
 * Records whose keys say nothing (`{a: "+33612…", b: "Rendez-vous…", d: 1413131405000, t: 1}`):
 * all keys one or two characters, and the values alone make the provider's row — an international
 * number, a text a person wrote, a timestamp and a box type 1–6. All four, so a bot's greeting or
 * a notification (no number, or no box type) stays quiet.
 */
export function smsRecordByShortKeys(object: Record<string, unknown>): SmsRecord | undefined {
  const keys = Object.keys(object);
  if (keys.length < 4 || keys.length > 12 || keys.some((k) => k.length > 2)) return undefined;
  let address: string | undefined;
  let body: string | undefined;
  let date: string | undefined;
  let type: string | undefined;
  for (const value of Object.values(object)) {
    if (typeof value === 'string') {
      if (!address && smsAddressStrength(value) === 2) address = value.trim();
      else if (!body && isHumanText(value)) body = value;
    } else if (typeof value === 'number') {
      if (!date && isDate(value)) date = isDate(value);
      else if (!type && Number.isInteger(value) && value >= 1 && value <= 6) type = String(value);
    }
  }
  return address && body && date && type ? { address, body, date, type } : undefined;
}

const MAX_RECORDS = 10_000;

/** `<sms address="…" date="…" type="1" body="…" />` elements of an SMS Backup & Restore file. */
export function smsBackupRecords(text: string): SmsRecord[] {
  const records: SmsRecord[] = [];
  const unescape = (v: string): string => v.replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n))).replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  for (const match of text.matchAll(/<sms\s([^>]*?)\/?>/g)) {
    const attributes: Record<string, string> = {};
    for (const attr of match[1]!.matchAll(/([\w:-]+)="([^"]*)"/g)) attributes[attr[1]!] = unescape(attr[2]!);
    const record = smsRecordOf(attributes);
    if (record) records.push(record);
    if (records.length >= MAX_RECORDS) break;
  }
  return records;
}



export function smsSummary(records: readonly SmsRecord[]): string {
  const first = records[0]!;
  const addresses = new Set(records.map((r) => r.address));
  const who = addresses.size === 1 ? ` with ${maskNumber(first.address)}` : ` with ${addresses.size} correspondents`;
  return `${records.length} SMS${who}, ${quote(first.body)}`;
}

export const smsDetector: Detector = {
  id: 'sms',
  category: 'sms',
  gate(view) {
    if (view.structured !== undefined || view.contentType === SMS_PDU_TYPE) return true;
    return view.bytes.length >= 20 && view.bytes.includes('<sms ');
  },
  detect(view: View): FindingDraft[] {
    if (view.contentType === MMS_TYPE && view.structured !== undefined) return mmsFinding(view);
    const records: SmsRecord[] = [];
    let detector = 'sms/records';
    let details: Record<string, unknown> = {};
    if (view.contentType === SMS_PDU_TYPE) {
      const pdu = parseSmsPdu(view.bytes);
      if (!pdu) return [];
      records.push({ address: pdu.address, body: pdu.text, ...(pdu.time ? { date: pdu.time } : {}), type: pdu.kind === 'deliver' ? 'inbox' : 'sent' });
      detector = `sms/pdu-${pdu.kind}`;
      details = { pdu: { kind: pdu.kind, encoding: pdu.encoding, ...(pdu.smsc ? { smsc: pdu.smsc } : {}) } };
    } else if (view.structured !== undefined) {
      const byValues = view.contentType === 'application/x-protobuf';
      records.push(...collectRecords(view.structured, byValues ? smsRecordByValues : (o) => smsRecordOf(o) ?? smsRecordByShortKeys(o), MAX_RECORDS, 16, byValues ? undefined : smsRecordByPosition));
      if (byValues) detector = 'sms/protobuf';
    }
    else {
      records.push(...smsBackupRecords(view.bytes.toString('utf8')));
      detector = 'sms/backup-xml';
    }
    if (records.length === 0) return [];
    return [{
      category: 'sms', severity: 'high', direction: view.direction, detector,
      summary: smsSummary(records),
      evidence: { path: view.path, bytes: view.bytes.length, excerpt: `${records[0]!.address}: ${records[0]!.body.slice(0, 120)}` },
      details: { count: records.length, records: records.slice(0, 20), ...details },
    }];
  },
};

interface MmsSummary {
  type: string;
  from?: string;
  to: string[];
  cc: string[];
  subject?: string;
  date?: string;
  parts: Array<{ contentType: string; name?: string; bytes: number; text?: string }>;
}

/** An MMS: who, what subject, which parts, and its text. Its photos are found in the part layers. */
function mmsFinding(view: View): FindingDraft[] {
  const mms = (view.structured as { mms?: MmsSummary }).mms;
  if (!mms || (mms.type === 'notification-ind' && !mms.from)) return [];
  const text = mms.parts.find((p) => p.text)?.text ?? '';
  const who = [mms.from ? `from ${maskNumber(mms.from)}` : '', mms.to.length > 0 ? `to ${mms.to.map(maskNumber).join(', ')}` : ''].filter(Boolean).join(' ');
  const kinds = mms.parts.filter((p) => !p.contentType.includes('smil')).map((p) => p.contentType);
  return [{
    category: 'sms', severity: 'high', direction: view.direction, detector: `sms/mms-${mms.type}`,
    summary: `MMS ${who}${mms.subject ? `, subject ${quote(mms.subject)}` : ''}, ${kinds.length} part${kinds.length === 1 ? '' : 's'} (${kinds.join(', ')})${text ? `, ${quote(text)}` : ''}`,
    evidence: { path: view.path, bytes: view.bytes.length, excerpt: `${mms.subject ?? ''} ${text}`.trim().slice(0, 160) },
    details: { mms },
  }];
}
