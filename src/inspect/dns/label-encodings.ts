// The encodings data takes to travel in DNS labels, undone: hex, base32 (RFC 4648), base64 and
// base64url. A label is at most 63 characters of a case-insensitive alphabet, so exfiltration
// tools favour hex and base32 (case cannot hurt them); base64 survives only because resolvers
// pass the case through as sent, so it is tried on the text as we have it.
//
// Random-looking host names (CDN shards, hashes, UUIDs) decode into something under some of these
// alphabets too; what they decode into is binary noise. Only decodings that read as text are kept,
// which is what planted values and identifiers are when they leave.

import { isUtf8 } from 'node:buffer';
import { printableRatio } from '../decode/layer.js';

export type LabelEncoding = 'hex' | 'base32' | 'base64' | 'base64url';

export interface DecodedLabel {
  readonly encoding: LabelEncoding;
  readonly bytes: Buffer;
}

/** Shorter encoded text decodes to fewer than 4 bytes: nothing a detector could tell from noise. */
const MIN_ENCODED_CHARS = 6;
const MIN_DECODED_BYTES = 4;

const HEX = /^(?:[0-9a-f]{2})+$/i;
const BASE32 = /^[a-z2-7]+$/i;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * RFC 4648 base32 without padding, either case; undefined for a length no encoder produces
 * (1, 3 or 6 characters past a multiple of 8).
 */
export function decodeBase32(text: string): Buffer | undefined {
  const upper = text.replace(/=+$/, '').toUpperCase();
  if ([1, 3, 6].includes(upper.length % 8)) return undefined;
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of upper) {
    const index = BASE32_ALPHABET.indexOf(char);
    if (index < 0) return undefined;
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
    value &= (1 << bits) - 1;
  }
  return Buffer.from(out);
}

/** Decoded bytes that read as text: valid UTF-8, printable throughout. */
export function readsAsText(bytes: Buffer): boolean {
  return bytes.length >= MIN_DECODED_BYTES && isUtf8(bytes) && printableRatio(bytes.toString('utf8')) === 1;
}

function base64Decodable(text: string): boolean {
  return text.replace(/=+$/, '').length % 4 !== 1;
}

/** Every reading of `text` (a label, or labels joined) under the encodings above that reads as text. */
export function decodeLabelText(text: string): DecodedLabel[] {
  if (text.length < MIN_ENCODED_CHARS) return [];
  const candidates: DecodedLabel[] = [];
  if (HEX.test(text)) candidates.push({ encoding: 'hex', bytes: Buffer.from(text, 'hex') });
  if (BASE32.test(text)) {
    const bytes = decodeBase32(text);
    if (bytes) candidates.push({ encoding: 'base32', bytes });
  }
  if (BASE64URL.test(text) && base64Decodable(text)) {
    // Without '-' or '_' the text is base64 as well; it is named by the common name.
    candidates.push({ encoding: /[-_]/.test(text) ? 'base64url' : 'base64', bytes: Buffer.from(text, 'base64url') });
  } else if (BASE64.test(text) && base64Decodable(text)) {
    candidates.push({ encoding: 'base64', bytes: Buffer.from(text, 'base64') });
  }
  return candidates.filter((c) => readsAsText(c.bytes));
}
