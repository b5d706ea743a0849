// What a string value may hold beneath it: base64 (standard, URL-safe, unpadded, wrapped), a data
// URI, hex, JSON inside a string, or a block of text (a mail, a vCard). Accepted only when the
// decoded bytes are something — a known magic, or readable text — never because a string merely
// looks like base64.

import { isUtf8 } from 'node:buffer';
import { sniff } from './magic.js';
import { parseSmsPduHex } from './sms-pdu.js';
import { printableRatio } from './layer.js';

export interface DecodedString {
  readonly bytes: Buffer;
  readonly step: string;
  readonly contentType?: string;
}

/** Media type we give a layer that holds a validated SMS PDU. */
export const SMS_PDU_TYPE = 'application/vnd.3gpp.sms';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;
const HEX = /^[0-9a-fA-F]+$/;
/** Lengths of hex digests (MD5, SHA-1, SHA-256, SHA-512): compared with canaries, not decoded. */
const DIGEST_HEX_LENGTHS = new Set([32, 40, 64, 128]);

/** Decoded bytes count as "something": a known format, or readable text. */
function meaningful(bytes: Buffer): { contentType?: string } | undefined {
  const type = sniff(bytes);
  if (type) return { contentType: type };
  if (bytes.length >= 8 && isUtf8(bytes) && printableRatio(bytes.toString('utf8', 0, 64 * 1024)) >= 0.9) return {};
  return undefined;
}

export function decodeBase64Candidate(text: string): DecodedString | undefined {
  // Line-wrapped base64 (MIME, Android's Base64.DEFAULT every 76 characters) and JSON's \/.
  const compact = text.length > 76 ? text.replace(/\\\//g, '/').replace(/[\r\n]+/g, '') : text;
  if (compact.length < 16 || compact.length % 4 === 1) return undefined;
  const urlSafe = !BASE64.test(compact) && BASE64URL.test(compact);
  if (!urlSafe && !BASE64.test(compact)) return undefined;
  // An identifier-looking run (all letters, or all digits) is a word or a number, not base64.
  if (/^[A-Za-z]+$/.test(compact) || /^\d+$/.test(compact)) return undefined;
  const bytes = Buffer.from(compact, urlSafe ? 'base64url' : 'base64');
  const what = meaningful(bytes);
  if (!what) return undefined;
  return { bytes, step: urlSafe ? 'base64url' : 'base64', ...what };
}

export function decodeStringValue(value: string): DecodedString[] {
  const trimmed = value.trim();
  if (trimmed.length < 16) return [];
  const dataUri = /^data:([\w.+/-]+)?((?:;[\w-]+=[^;,]*)*)(;base64)?,/i.exec(trimmed);
  if (dataUri) {
    const payload = trimmed.slice(dataUri[0].length);
    const bytes = dataUri[3] ? Buffer.from(payload, 'base64') : Buffer.from(decodeURIComponentSafe(payload));
    return [{ bytes, step: `data-uri:${(dataUri[1] ?? 'text/plain').toLowerCase()}`, ...(dataUri[1] ? { contentType: dataUri[1].toLowerCase() } : {}) }];
  }
  const first = trimmed[0];
  if ((first === '{' || first === '[') && /[}\]]$/.test(trimmed)) {
    try {
      JSON.parse(trimmed);
      return [{ bytes: Buffer.from(trimmed), step: 'json-string', contentType: 'application/json' }];
    } catch {
      // not JSON after all
    }
  }
  // SMS PDUs first: the validator is strict enough to run even on digest-length hex.
  const pdu = trimmed.length >= 26 && trimmed.length <= 352 && trimmed.length % 2 === 0 && HEX.test(trimmed) ? parseSmsPduHex(trimmed) : undefined;
  if (pdu) {
    // The PDU for the SMS detector, and its decoded text as a layer of its own (canaries, GSM 7-bit included).
    return [
      { bytes: Buffer.from(trimmed, 'hex'), step: 'hex:sms-pdu', contentType: SMS_PDU_TYPE },
      { bytes: Buffer.from(pdu.text, 'utf8'), step: 'hex:sms-pdu:text', contentType: 'text/plain' },
    ];
  }
  if (trimmed.length >= 32 && trimmed.length % 2 === 0 && HEX.test(trimmed) && !DIGEST_HEX_LENGTHS.has(trimmed.length)) {
    const bytes = Buffer.from(trimmed, 'hex');
    const what = meaningful(bytes);
    if (what) return [{ bytes, step: 'hex', ...what }];
  }
  const base64 = decodeBase64Candidate(trimmed);
  if (base64) return [base64];
  // A block of text with lines (a mail, a vCard, an SMS backup) gets a layer of its own.
  if (trimmed.length >= 40 && /\n/.test(trimmed)) return [{ bytes: Buffer.from(value), step: 'text' }];
  return [];
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
