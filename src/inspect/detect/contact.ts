// Contacts leaving the device: vCards (2.1 with quoted-printable and folded lines, 3.0, 4.0),
// JSON address books (people with phones or e-mails, Android's contacts rows), and hashed
// phone-number uploads (contact discovery: arrays of equal-length digests).

import type { FindingDraft } from '../../model/finding.js';
import type { Detector, View } from './detector.js';
import { quote } from './summary-text.js';
import { decodeQuotedPrintable } from '../decode/quoted-printable.js';

export interface Contact { name?: string; phones: string[]; emails: string[] }

/** The cards of a vCard text: unfolded, quoted-printable decoded, names, phones and e-mails. */
export function parseVcards(text: string): Contact[] {
  const contacts: Contact[] = [];
  for (const card of text.matchAll(/BEGIN:VCARD\r?\n([\s\S]*?)END:VCARD/gi)) {
    // Unfold: a line starting with a space continues the previous one; QP soft breaks end in '='.
    const body = card[1]!.replace(/\r?\n[ \t]/g, '');
    if (!/^VERSION:/im.test(body)) continue;
    const contact: Contact = { phones: [], emails: [] };
    const lines = body.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const [name, ...params] = line.slice(0, colon).split(';');
      const quotedPrintable = params.some((p) => /ENCODING=QUOTED-PRINTABLE|^QUOTED-PRINTABLE$/i.test(p));
      // vCard 2.1 quoted-printable values continue on the next line after a soft break ('=').
      while (quotedPrintable && line.endsWith('=') && i + 1 < lines.length) line = `${line}\n${lines[++i]}`;
      let value = line.slice(colon + 1);
      if (quotedPrintable) value = decodeQuotedPrintable(value).toString('utf8');
      const field = name!.toUpperCase().replace(/^ITEM\d+\./, '');
      if (field === 'FN' && value.trim()) contact.name = value.trim();
      else if (field === 'N' && !contact.name) contact.name = value.split(';').filter(Boolean).reverse().join(' ').trim() || undefined;
      else if (field === 'TEL' && (value.match(/\d/g) ?? []).length >= 6) contact.phones.push(value.replace(/^tel:/i, '').trim());
      else if (field === 'EMAIL' && value.includes('@')) contact.emails.push(value.trim());
    }
    if (contact.name || contact.phones.length > 0 || contact.emails.length > 0) contacts.push(contact);
  }
  return contacts;
}

const NAME_KEYS = new Set(['name', 'display_name', 'displayname', 'fullname', 'full_name', 'givenname', 'given_name', 'firstname', 'first_name', 'contact_name']);
const PHONE_KEYS = new Set(['phone', 'phones', 'phone_number', 'phonenumber', 'phonenumbers', 'number', 'numbers', 'mobile', 'tel', 'data1']);
const EMAIL_KEYS = new Set(['email', 'emails', 'email_address', 'emailaddresses', 'mail']);

function strings(value: unknown, depth = 0): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number') return [String(value)];
  if (depth > 3) return [];
  if (Array.isArray(value)) return value.flatMap((v) => strings(v, depth + 1));
  if (value && typeof value === 'object') return Object.values(value).flatMap((v) => strings(v, depth + 1));
  return [];
}

/** Google People API: `names: [{displayName, givenName, familyName}]`. */
function peopleApiName(value: unknown): string | undefined {
  if (!Array.isArray(value)) return undefined;
  for (const item of value) {
    if (!item || typeof item !== 'object') continue;
    const n = item as Record<string, unknown>;
    const text = n['displayName'] ?? n['unstructuredName'] ?? [n['givenName'], n['familyName']].filter((x) => typeof x === 'string').join(' ');
    if (typeof text === 'string' && /\p{L}/u.test(text)) return text;
  }
  return undefined;
}

function personOf(object: Record<string, unknown>): Contact | undefined {
  let name: string | undefined;
  const phones: string[] = [];
  const emails: string[] = [];
  for (const [rawKey, value] of Object.entries(object)) {
    const key = rawKey.toLowerCase();
    if (key === 'names') name ??= peopleApiName(value);
    else if (NAME_KEYS.has(key) && typeof value === 'string' && /\p{L}/u.test(value)) name ??= value;
    else if (PHONE_KEYS.has(key)) phones.push(...strings(value).filter((s) => /^\+?[\d\s().-]{6,20}$/.test(s) && (s.match(/\d/g) ?? []).length >= 6));
    else if (EMAIL_KEYS.has(key)) emails.push(...strings(value).filter((s) => /^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i.test(s)));
  }
  return name && (phones.length > 0 || emails.length > 0) ? { name, phones, emails } : undefined;
}

/** A person, or a wrapper holding one (`{contactPerson: {...}}` in People API batch calls). */
function personIn(value: unknown): Contact | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const direct = personOf(value as Record<string, unknown>);
  if (direct) return direct;
  for (const inner of Object.values(value)) {
    if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
      const wrapped = personOf(inner as Record<string, unknown>);
      if (wrapped) return wrapped;
    }
  }
  return undefined;
}

/** The People API's own shape (`names` with `phoneNumbers` or `emailAddresses`): a contact even alone. */
function isPeopleApiPerson(value: unknown): boolean {
  return !!value && typeof value === 'object' && !Array.isArray(value) && Array.isArray((value as Record<string, unknown>)['names']) && (Array.isArray((value as Record<string, unknown>)['phoneNumbers']) || Array.isArray((value as Record<string, unknown>)['emailAddresses']));
}

function collectPeople(value: unknown, out: Contact[], depth = 0): void {
  if (depth > 12 || out.length > 10_000) return;
  if (Array.isArray(value)) {
    const people = value.map(personIn).filter((p): p is Contact => p !== undefined);
    // One person with a phone is a profile; an address book is a list of them.
    if (people.length >= 2) out.push(...people);
    else for (const item of value) collectPeople(item, out, depth + 1);
  } else if (value && typeof value === 'object') {
    if (isPeopleApiPerson(value)) {
      const person = personOf(value as Record<string, unknown>);
      if (person) {
        out.push(person);
        return;
      }
    }
    for (const inner of Object.values(value)) collectPeople(inner, out, depth + 1);
  }
}

/** Arrays of five or more equal-length hex or base64 digests: hashed phone numbers for contact discovery. */
function hashedNumbers(value: unknown, depth = 0): number {
  if (depth > 8) return 0;
  if (Array.isArray(value)) {
    const hashes = value.filter((v) => typeof v === 'string' && /^([0-9a-f]{40}|[0-9a-f]{64}|[A-Za-z0-9+/]{43}=)$/i.test(v));
    if (hashes.length >= 5 && hashes.length === value.length && new Set(hashes.map((h) => (h as string).length)).size === 1) return hashes.length;
    return value.reduce((n: number, v) => Math.max(n, hashedNumbers(v, depth + 1)), 0);
  }
  if (value && typeof value === 'object') return Object.entries(value).reduce((n, [k, v]) => Math.max(n, /contact|phone|hash|number|address_?book/i.test(k) ? hashedNumbers(v, depth + 1) : 0), 0);
  return 0;
}

function summarise(contacts: Contact[], how: string): string {
  const first = contacts.find((c) => c.name) ?? contacts[0]!;
  const phones = contacts.reduce((n, c) => n + c.phones.length, 0);
  return `${contacts.length} contact${contacts.length > 1 ? 's' : ''} (${how}) with ${phones} phone number${phones === 1 ? '' : 's'}${first.name ? `, e.g. ${quote(first.name, 30)}` : ''}`;
}

export const contactDetector: Detector = {
  id: 'contact',
  category: 'contact',
  gate(view) {
    return view.structured !== undefined || (view.bytes.length >= 30 && /BEGIN:VCARD/i.test(view.bytes.toString('latin1', 0, Math.min(view.bytes.length, 4096))));
  },
  detect(view: View): FindingDraft[] {
    if (view.structured === undefined) {
      const cards = parseVcards(view.bytes.toString('utf8'));
      if (cards.length === 0) return [];
      return [{ category: 'contact', severity: 'high', direction: view.direction, detector: 'contact/vcard', summary: summarise(cards, 'vCard'), evidence: { path: [...view.path, 'text/vcard'], bytes: view.bytes.length, excerpt: cards[0]!.name ?? cards[0]!.phones[0] ?? '' }, details: { count: cards.length, contacts: cards.slice(0, 20) } }];
    }
    const findings: FindingDraft[] = [];
    const people: Contact[] = [];
    collectPeople(view.structured, people);
    if (people.length > 0) findings.push({ category: 'contact', severity: 'high', direction: view.direction, detector: 'contact/address-book', summary: summarise(people, 'address book'), evidence: { path: view.path, bytes: view.bytes.length, excerpt: people[0]!.name ?? '' }, details: { count: people.length, contacts: people.slice(0, 20) } });
    const hashes = hashedNumbers(view.structured);
    if (hashes > 0) findings.push({ category: 'contact', severity: 'medium', direction: view.direction, detector: 'contact/hashed-numbers', summary: `${hashes} hashed phone numbers (contact discovery: reversible by trying every number)`, evidence: { path: view.path, bytes: view.bytes.length }, details: { count: hashes } });
    return findings;
  },
};
