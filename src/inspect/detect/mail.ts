// Mail leaving the device: RFC 5322 messages in any layer (an .eml upload, a Gmail API `raw`
// field once base64url-decoded, SMTP DATA and IMAP APPEND from raw streams, message/rfc822
// parts), and JSON mail lists (from/to/subject/body) found by shape.

import { headerValue } from '../../model/flow.js';
import { EMAIL, parseMailMessage } from '../decode/mail-message.js';
import type { FindingDraft } from '../../model/finding.js';
import { quote } from './summary-text.js';
import { collectRecords } from './record-walk.js';
import type { Detector, View } from './detector.js';
import { withFields } from '../../util/with-fields.js';


function firstAddress(value: string | undefined): string | undefined {
  return value ? EMAIL.exec(value)?.[0] : undefined;
}


/** A readable line of the body: the first text part, without quoted-printable soft breaks. */
function bodyExcerpt(bytes: Buffer, offset: number): string {
  const text = bytes.toString('utf8', offset, Math.min(bytes.length, offset + 4096));
  const plain = text.includes('Content-Type:') ? (text.split(/\r?\n\r?\n/)[1] ?? '') : text;
  return plain.replace(/=\r?\n/g, '').replace(/\s+/g, ' ').trim().slice(0, 120);
}

interface MailRecord {
  from?: string;
  to?: string;
  subject?: string;
  body?: string;
  /** Which API shape it came in: JMAP, Microsoft Graph / Outlook REST, EWS, Gmail API, or plain JSON. */
  via: 'jmap' | 'graph' | 'ews' | 'gmail-api' | 'json';
}

const FROM_KEYS = ['from', 'sender', 'from_address', 'fromaddress'];
const TO_KEYS = ['to', 'recipients', 'to_address', 'toaddress', 'torecipients', 'cc', 'ccrecipients'];
const SUBJECT_KEYS = ['subject', 'title'];
const BODY_KEYS = ['body', 'text', 'snippet', 'html', 'content', 'bodypreview', 'bodyvalues', 'uniquebody', 'textbody', 'htmlbody', 'preview'];

/** The first e-mail address anywhere in a value (a string, `[{email}]`, `{emailAddress: {address}}`, EWS mailboxes). */
function addressIn(value: unknown, depth = 0): string | undefined {
  if (typeof value === 'string') return firstAddress(value);
  if (depth > 4 || !value || typeof value !== 'object') return undefined;
  for (const inner of Array.isArray(value) ? value : Object.values(value)) {
    const found = addressIn(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Base64url text (a Gmail API part's body.data), when it decodes to readable UTF-8. */
function base64urlText(value: string): string | undefined {
  if (value.length < 8 || !/^[A-Za-z0-9_-]+={0,2}$/.test(value)) return undefined;
  const text = Buffer.from(value, 'base64url').toString('utf8');
  return /^[^\u0000-\u0008\ufffd]*$/.test(text) ? text : undefined;
}

/** The text of a body value: a string, `{content}` (Graph), `{"#text"}` (EWS), JMAP's `bodyValues`, Gmail parts. */
function textIn(value: unknown, depth = 0): string | undefined {
  if (typeof value === 'string') return value;
  if (depth > 4 || !value || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const text = textIn(item, depth + 1);
      if (text !== undefined) return text;
    }
    return undefined;
  }
  const object = value as Record<string, unknown>;
  for (const key of ['content', 'Content', '#text', 'value']) if (typeof object[key] === 'string') return object[key] as string;
  if (typeof object['data'] === 'string') return base64urlText(object['data']);
  for (const inner of Object.values(object)) {
    const text = textIn(inner, depth + 1);
    if (text !== undefined) return text;
  }
  return undefined;
}

/** Gmail API message payloads carry their fields as `headers: [{name, value}]`. */
function headerFields(object: Record<string, unknown>): Map<string, unknown> | undefined {
  const headers = object['headers'];
  if (!Array.isArray(headers) || headers.length === 0) return undefined;
  const fields = new Map<string, unknown>();
  for (const h of headers) {
    if (h && typeof h === 'object' && typeof (h as Record<string, unknown>)['name'] === 'string') fields.set(String((h as Record<string, unknown>)['name']).toLowerCase(), (h as Record<string, unknown>)['value']);
  }
  if (!fields.has('from') && !fields.has('to')) return undefined;
  if (object['parts'] !== undefined) fields.set('body', object['parts']);
  else if (object['body'] !== undefined) fields.set('body', object['body']);
  return fields;
}

const PARTY_KEYS = new Set([...FROM_KEYS, ...TO_KEYS]);

export function mailRecordOf(object: Record<string, unknown>): MailRecord | undefined {
  // Most objects are not mail: without a sender or a recipient key (or Gmail's header list) there
  // is nothing more to look at, and nothing is built.
  let party = false;
  for (const key in object) if (PARTY_KEYS.has(key.toLowerCase()) || key === 'headers') { party = true; break; }
  if (!party) return undefined;
  const gmail = headerFields(object);
  const lower = gmail ?? new Map(Object.entries(object).map(([k, v]) => [k.toLowerCase(), v]));
  if (!FROM_KEYS.some((k) => lower.has(k)) && !TO_KEYS.some((k) => lower.has(k))) return undefined;
  const get = (keys: readonly string[]): unknown => {
    for (const key of keys) if (lower.has(key)) return lower.get(key);
    return undefined;
  };
  const from = addressIn(get(FROM_KEYS));
  const to = addressIn(get(TO_KEYS));
  const subjectValue = get(SUBJECT_KEYS);
  const subject = typeof subjectValue === 'string' ? subjectValue : textIn(subjectValue);
  const bodyValue = get(BODY_KEYS);
  const body = bodyValue === undefined ? undefined : textIn(bodyValue) ?? '';
  if (subject === undefined) return undefined;
  // A sender with a recipient or a body; or, for APIs that send as the signed-in account (Graph's
  // sendMail), a recipient's address with a body.
  if (!(from && (to || body !== undefined)) && !(to && body !== undefined)) return undefined;
  const via: MailRecord['via'] = gmail ? 'gmail-api' : lower.has('bodyvalues') ? 'jmap' : lower.has('torecipients') ? 'graph' : 'json';
  return { ...(from ? { from } : {}), ...(to ? { to } : {}), subject, ...(body !== undefined ? { body } : {}), via };
}

const VIA_NAMES: Record<MailRecord['via'], string> = { jmap: 'JMAP', graph: 'Microsoft Graph / Outlook', ews: 'Exchange Web Services', 'gmail-api': 'the Gmail API', json: 'JSON' };

export const mailDetector: Detector = {
  id: 'mail',
  category: 'mail',
  gate(view) {
    if (view.structured !== undefined) return true;
    // Header blocks start with a field name; most binary and JSON layers are out at once.
    const head = view.bytes.toString('latin1', 0, 64);
    return view.bytes.length >= 40 && /^(From |[!-9;-~]+:)/.test(head);
  },
  detect(view: View): FindingDraft[] {
    if (view.structured !== undefined) {
      const ews = view.contentType === 'application/xml';
      const records = collectRecords(view.structured, mailRecordOf, 1000, 12).map((r) => (ews && r.via !== 'gmail-api' ? withFields(r, { via: 'ews' as const }) : r));
      if (records.length === 0) return [];
      const first = records[0]!;
      const who = `${first.from ? `from ${first.from}` : 'from the signed-in account'}${first.to ? ` to ${first.to}` : ''}`;
      return [{
        category: 'mail', severity: 'high', direction: view.direction, detector: `mail/${first.via}`,
        summary: `${records.length} mail${records.length > 1 ? 's' : ''}${first.via === 'json' ? '' : ` through ${VIA_NAMES[first.via]}`} ${who}, ${quote(first.subject ?? '', 60)}`,
        evidence: { path: view.path, bytes: view.bytes.length, excerpt: `${first.subject ?? ''} — ${(first.body ?? '').slice(0, 100)}` },
        details: { count: records.length, mails: records.slice(0, 20) },
      }];
    }
    const message = parseMailMessage(view.bytes);
    if (!message) return [];
    const from = headerValue(message.headers, 'from') ?? '';
    const to = headerValue(message.headers, 'to') ?? headerValue(message.headers, 'cc') ?? '';
    const subject = headerValue(message.headers, 'subject') ?? '';
    const excerpt = bodyExcerpt(view.bytes, message.bodyOffset);
    const source = view.path.some((p) => p.startsWith('smtp:')) ? 'SMTP' : view.path.some((p) => p.startsWith('imap:')) ? 'IMAP' : undefined;
    return [{
      category: 'mail', severity: 'high', direction: view.direction, detector: 'mail/rfc5322',
      summary: `Mail${source ? ` sent over ${source}` : ''} from ${firstAddress(from) ?? from} to ${firstAddress(to) ?? (to || 'undisclosed recipients')}, ${quote(subject, 60)}`,
      evidence: { path: [...view.path, 'message/rfc822'], bytes: view.bytes.length, excerpt: `${subject} — ${excerpt}` },
      details: {
        from, to, subject,
        ...(headerValue(message.headers, 'cc') ? { cc: headerValue(message.headers, 'cc') } : {}),
        ...(headerValue(message.headers, 'date') ? { date: headerValue(message.headers, 'date') } : {}),
        ...(headerValue(message.headers, 'message-id') ? { messageId: headerValue(message.headers, 'message-id') } : {}),
      },
    }];
  },
};
