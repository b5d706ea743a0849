// Mail leaving the device: RFC 5322 messages in any layer (an .eml upload, a Gmail API `raw`
// field once base64url-decoded, SMTP DATA and IMAP APPEND from raw streams, message/rfc822
// parts), and JSON mail lists (from/to/subject/body) found by shape.

import { headerValue } from '../../model/flow.js';
import { EMAIL, parseMailMessage } from '../decode/mail-message.js';
import type { FindingDraft } from '../../model/finding.js';
import { quote } from './summary-text.js';
import { collectRecords } from './record-walk.js';
import type { Detector, View } from './detector.js';


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
  from: string;
  to?: string;
  subject?: string;
  body?: string;
}

function mailRecordOf(object: Record<string, unknown>): MailRecord | undefined {
  const entries = Object.entries(object);
  // Most objects are not mail: without a sender-like key there is nothing more to look at.
  if (!entries.some(([k]) => /^(from|sender|from_?address)$/i.test(k))) return undefined;
  const lower = new Map(entries.map(([k, v]) => [k.toLowerCase(), v]));
  const get = (...keys: string[]): unknown => {
    for (const key of keys) if (lower.has(key)) return lower.get(key);
    return undefined;
  };
  const asText = (v: unknown): string | undefined => (typeof v === 'string' ? v : Array.isArray(v) ? v.filter((x) => typeof x === 'string').join(', ') : v && typeof v === 'object' ? String((v as Record<string, unknown>)['email'] ?? (v as Record<string, unknown>)['address'] ?? '') : undefined);
  const from = firstAddress(asText(get('from', 'sender', 'from_address', 'fromaddress')));
  const to = firstAddress(asText(get('to', 'recipients', 'to_address', 'toaddress', 'torecipients')));
  const subject = asText(get('subject', 'title'));
  const body = asText(get('body', 'text', 'snippet', 'html', 'content', 'bodypreview'));
  // A sender's address plus a subject, and a recipient or a body.
  if (!from || subject === undefined || (!to && body === undefined)) return undefined;
  return { from, ...(to ? { to } : {}), subject, ...(body !== undefined ? { body } : {}) };
}

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
      const records = collectRecords(view.structured, mailRecordOf, 1000, 12);
      if (records.length === 0) return [];
      const first = records[0]!;
      return [{
        category: 'mail', severity: 'high', direction: view.direction, detector: 'mail/json',
        summary: `${records.length} mail${records.length > 1 ? 's' : ''} from ${first.from}${first.to ? ` to ${first.to}` : ''}, ${quote(first.subject ?? '', 60)}`,
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
