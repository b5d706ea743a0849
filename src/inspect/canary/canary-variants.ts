// Every form a planted value may take on the wire, computed once: separators and national forms
// of phone numbers, case, URL-encoding, base64, hex, UCS-2 (SMS), and MD5/SHA-1/SHA-256 digests in
// hex and base64, whole and truncated. Each variant says how it was derived, for the evidence.

import crypto from 'node:crypto';
import type { CanaryDefinition } from './canary-file.js';

export interface CanaryVariant {
  readonly label: string;
  /** How the planted value became these bytes: 'as planted', 'sha256(digits) hex', 'base64'… */
  readonly transform: string;
}

const MIN_VARIANT_BYTES = 4;

/** Written forms of a phone number: E.164 with and without +, 00, national with 0, grouped. */
export function phoneForms(value: string): Array<[string, string]> {
  const digits = value.replace(/\D/g, '');
  const forms: Array<[string, string]> = [['digits', digits]];
  if (value.trim().startsWith('+') || digits.length > 10) {
    forms.push(['e164', `+${digits}`], ['00 prefix', `00${digits}`]);
    // National forms: we do not know the country code's length, so try 1 to 3 digits.
    for (const ccLength of [1, 2, 3]) {
      const national = `0${digits.slice(ccLength)}`;
      if (national.length < 7) continue;
      forms.push([`national (cc ${digits.slice(0, ccLength)})`, national]);
      forms.push([`national grouped`, national.replace(/(\d{2})(?=\d)/g, '$1 ')]);
      forms.push([`national dotted`, national.replace(/(\d{2})(?=\d)/g, '$1.')]);
      forms.push([`national dashed`, national.replace(/(\d{2})(?=\d)/g, '$1-')]);
      forms.push([`national without 0`, digits.slice(ccLength)]);
    }
  }
  return forms;
}

function normalizedForms(canary: CanaryDefinition): Array<[string, string]> {
  const value = canary.value!;
  const forms: Array<[string, string]> = [['as planted', value]];
  if (canary.type === 'phone') forms.push(...phoneForms(value));
  if (canary.type === 'email') forms.push(['lower-case', value.toLowerCase()]);
  if (canary.type === 'location') {
    const [lat, lon] = value.split(/[,\s]+/).map(Number);
    if (lat !== undefined && lon !== undefined && Number.isFinite(lat) && Number.isFinite(lon)) {
      for (const digits of [4, 3]) forms.push([`latitude to ${digits} decimals`, lat.toFixed(digits)], [`longitude to ${digits} decimals`, lon.toFixed(digits)]);
    }
  }
  return forms;
}

/** Bytes to search for, with what each one means. */
export function canaryVariants(canary: CanaryDefinition): Array<[Buffer, CanaryVariant]> {
  if (!canary.value) return [];
  const out = new Map<string, [Buffer, CanaryVariant]>();
  const add = (bytes: Buffer, transform: string): void => {
    if (bytes.length < MIN_VARIANT_BYTES) return;
    const key = bytes.toString('latin1').toLowerCase();
    if (!out.has(key)) out.set(key, [bytes, { label: canary.label, transform }]);
  };
  for (const [how, form] of normalizedForms(canary)) {
    const utf8 = Buffer.from(form, 'utf8');
    add(utf8, how);
    const encoded = encodeURIComponent(form);
    if (encoded !== form) add(Buffer.from(encoded), `${how}, URL-encoded`);
    if (form.includes(' ')) add(Buffer.from(form.replace(/ /g, '+')), `${how}, form-encoded`);
    add(Buffer.from(utf8.toString('hex')), `${how}, hex`);
    add(Buffer.from(utf8.toString('base64').replace(/=+$/, '')), `${how}, base64`);
    add(Buffer.from(utf8.toString('base64url')), `${how}, base64url`);
    if (canary.type === 'sms-text' || canary.type === 'name' || canary.type === 'mail-subject') add(Buffer.from(Buffer.from(form, 'utf16le').swap16().toString('hex')), `${how}, UCS-2 hex (SMS PDU)`);
    for (const algorithm of ['md5', 'sha1', 'sha256'] as const) {
      const digest = crypto.createHash(algorithm).update(utf8).digest();
      add(Buffer.from(digest.toString('hex')), `${algorithm}(${how}) hex`);
      add(Buffer.from(digest.toString('base64').replace(/=+$/, '')), `${algorithm}(${how}) base64`);
      // Truncated digests (the first 8 bytes) are common in ad and analytics IDs.
      add(Buffer.from(digest.subarray(0, 8).toString('hex')), `${algorithm}(${how}) hex, first 8 bytes`);
    }
  }
  return [...out.values()];
}
