// MMS PDUs (OMA MMS encapsulation over WSP): m-send-req, m-retrieve-conf, m-notification-ind.
// Valid only if the message type comes first, every header value can be walked by WSP's generic
// rules, and the multipart body's parts consume the buffer exactly. Parts become layers, so a
// photo in an MMS is a photo finding; the text and addresses make the MMS finding.

import type { View } from '../detect/detector.js';
import { childLayer, type Decoder } from './layer.js';

export interface MmsPart { readonly contentType: string; readonly name?: string; readonly data: Buffer }
export interface MmsMessage {
  readonly type: 'send-req' | 'retrieve-conf' | 'notification-ind';
  readonly from?: string;
  readonly to: string[];
  readonly cc: string[];
  readonly subject?: string;
  readonly date?: string;
  readonly parts: MmsPart[];
}

const MESSAGE_TYPES: Record<number, MmsMessage['type']> = { 0x80: 'send-req', 0x84: 'retrieve-conf', 0x82: 'notification-ind' };
/** WSP well-known content types we name (WAP-230 table 40). */
const WELL_KNOWN_TYPES: Record<number, string> = {
  0x03: 'text/plain', 0x07: 'text/x-vcard', 0x1d: 'image/gif', 0x1e: 'image/jpeg', 0x20: 'image/png', 0x21: 'image/vnd.wap.wbmp',
  0x23: 'application/vnd.wap.multipart.mixed', 0x33: 'application/vnd.wap.multipart.related', 0x26: 'application/vnd.wap.multipart.alternative',
};
const MAX_PARTS = 100;

class Wsp {
  at = 0;
  constructor(readonly bytes: Buffer, readonly end = bytes.length) {}
  byte(): number {
    if (this.at >= this.end) throw new RangeError('short');
    return this.bytes[this.at++]!;
  }
  peek(): number {
    if (this.at >= this.end) throw new RangeError('short');
    return this.bytes[this.at]!;
  }
  uintvar(): number {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      value = value * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) return value;
    }
    throw new RangeError('uintvar too long');
  }
  text(): string {
    if (this.peek() === 0x7f || this.peek() === 0x22) this.at++;
    const zero = this.bytes.indexOf(0, this.at);
    if (zero < 0 || zero >= this.end) throw new RangeError('unterminated string');
    const text = this.bytes.toString('utf8', this.at, zero);
    this.at = zero + 1;
    return text;
  }
  /** Value-length: 0–30 in one byte, or 31 then a uintvar. */
  valueLength(): number {
    const b = this.byte();
    if (b <= 30) return b;
    if (b === 31) return this.uintvar();
    throw new RangeError('not a value length');
  }
  skip(n: number): void {
    if (n < 0 || this.at + n > this.end) throw new RangeError('short');
    this.at += n;
  }
  /** Any header value, by the generic WSP rule (length-prefixed, text, or short integer). */
  skipValue(): void {
    const b = this.peek();
    if (b <= 31) this.skip(this.valueLength());
    else if (b < 128) this.text();
    else this.at++;
  }
  /** Encoded-string-value: a text, or a length, a charset and a text. */
  encodedString(): string {
    if (this.peek() <= 31) {
      const length = this.valueLength();
      const end = this.at + length;
      this.skipValue(); // charset
      const text = this.text();
      this.at = end;
      return text;
    }
    return this.text();
  }
  /** Content-type value: a short integer, a text, or a length with a type and parameters. */
  contentType(): { type: string; name?: string } {
    const b = this.peek();
    if (b >= 128) return { type: WELL_KNOWN_TYPES[this.byte() & 0x7f] ?? 'application/octet-stream' };
    if (b > 31) return { type: this.text() };
    const length = this.valueLength();
    const end = this.at + length;
    const first = this.peek();
    const type = first >= 128 ? (WELL_KNOWN_TYPES[this.byte() & 0x7f] ?? 'application/octet-stream') : this.text();
    let name: string | undefined;
    while (this.at < end) {
      const param = this.byte();
      if (param === 0x85 || param === 0x97 || param === 0x98) name = this.text(); // name, name (1.4), filename
      else this.skipValue();
    }
    this.at = end;
    return { type, ...(name ? { name } : {}) };
  }
}

function address(value: string): string {
  return value.replace(/\/TYPE=PLMN$/i, '');
}

export function parseMms(bytes: Buffer): MmsMessage | undefined {
  if (bytes.length < 8 || bytes[0] !== 0x8c) return undefined;
  const type = MESSAGE_TYPES[bytes[1]!];
  if (!type) return undefined;
  try {
    const wsp = new Wsp(bytes);
    wsp.skip(2);
    const to: string[] = [];
    const cc: string[] = [];
    let from: string | undefined;
    let subject: string | undefined;
    let date: string | undefined;
    let contentType: string | undefined;
    let headers = 0;
    while (wsp.at < bytes.length && contentType === undefined) {
      if (++headers > 64) return undefined;
      const field = wsp.byte();
      if (field < 0x80 || field > 0xbf) return undefined; // only well-known MMS header codes
      switch (field) {
        case 0x89: { // From: length, then address-present (0x80) + encoded string, or insert-address (0x81)
          const length = wsp.valueLength();
          const end = wsp.at + length;
          if (wsp.byte() === 0x80) from = address(wsp.encodedString());
          wsp.at = end;
          break;
        }
        case 0x97: to.push(address(wsp.encodedString())); break;
        case 0x82: cc.push(address(wsp.encodedString())); break;
        case 0x96: subject = wsp.encodedString(); break;
        case 0x85: {
          const length = wsp.byte();
          if (length > 8) return undefined;
          let seconds = 0;
          for (let i = 0; i < length; i++) seconds = seconds * 256 + wsp.byte();
          date = new Date(seconds * 1000).toISOString();
          break;
        }
        case 0x8d: {
          const version = wsp.byte();
          if (version < 0x90 || version > 0x9f) return undefined;
          break;
        }
        case 0x84: contentType = wsp.contentType().type; break;
        default: wsp.skipValue();
      }
    }
    const parts: MmsPart[] = [];
    if (contentType?.includes('multipart')) {
      const count = wsp.uintvar();
      if (count > MAX_PARTS) return undefined;
      for (let i = 0; i < count; i++) {
        const headersLength = wsp.uintvar();
        const dataLength = wsp.uintvar();
        const headersEnd = wsp.at + headersLength;
        if (headersEnd + dataLength > bytes.length) return undefined;
        const part = new Wsp(bytes, headersEnd);
        part.at = wsp.at;
        const { type: partType, name } = part.contentType();
        parts.push({ contentType: partType, ...(name ? { name } : {}), data: bytes.subarray(headersEnd, headersEnd + dataLength) });
        wsp.at = headersEnd + dataLength;
      }
      // The parts must fill the PDU exactly.
      if (wsp.at !== bytes.length) return undefined;
    } else if (type !== 'notification-ind' && contentType === undefined) {
      return undefined;
    }
    return { type, ...(from ? { from } : {}), to, cc, ...(subject ? { subject } : {}), ...(date ? { date } : {}), parts };
  } catch {
    return undefined;
  }
}

export const MMS_TYPE = 'application/vnd.wap.mms-message';

export const mmsDecoder: Decoder = {
  name: 'mms',
  decode(view) {
    if (view.bytes[0] !== 0x8c || (view.contentType !== undefined && view.contentType !== MMS_TYPE && view.contentType !== 'application/octet-stream')) return [];
    const mms = parseMms(view.bytes);
    if (!mms) return [];
    // The MMS itself as a structured layer (for the SMS/MMS detector), and each part beneath it.
    const parts = mms.parts.map((p) => ({ contentType: p.contentType, ...(p.name ? { name: p.name } : {}), bytes: p.data.length, ...(p.contentType.startsWith('text/plain') ? { text: p.data.toString('utf8', 0, 1000) } : {}) }));
    const layer = childLayer(view, view.bytes, `mms:${mms.type}`, { structured: { mms: { ...mms, parts } }, contentType: MMS_TYPE });
    return [layer, ...mms.parts.map((part, i): View => ({ ...childLayer(layer, part.data, `mms:part[${i}]`, { contentType: part.contentType, ...(part.name ? { fileName: part.name } : {}) }) }))];
  },
};
