// RFC 5322 messages: a strict gate over the header block (which turns away HTTP and SIP header
// blocks and lone MIME part headers), header parsing with encoded words, and a decoder that splits
// a multipart message into its parts so attached photos reach the photo detector.

import { headerValue } from '../../model/flow.js';
import { childLayer, type Decoder } from './layer.js';
import { boundaryFromHeader, splitMultipart } from './multipart.js';
import { decodeQuotedPrintable } from './quoted-printable.js';

export interface MailMessage {
  readonly headers: Array<[string, string]>;
  readonly bodyOffset: number;
}

/** An e-mail address inside a header or a value (a TLD of letters keeps out icon@2x.png). */
export const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}/;
const FIELD_NAME = /^[!-9;-~]+$/;
const SUPPORTING = ['to', 'cc', 'subject', 'date', 'message-id', 'mime-version', 'received', 'return-path', 'references', 'in-reply-to', 'dkim-signature', 'reply-to'];
const MAX_HEADER_BYTES = 64 * 1024;

/** Decodes RFC 2047 encoded words (=?UTF-8?B?…?= and =?…?Q?…?=). */
export function decodeEncodedWords(text: string): string {
  return text.replace(/=\?([\w-]+)\?([BbQq])\?([^?]*)\?=(\s+(?==\?))?/g, (_m, charset: string, enc: string, data: string) => {
    const bytes = enc.toUpperCase() === 'B'
      ? Buffer.from(data, 'base64')
      : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    return /^utf-?8$/i.test(charset) ? bytes.toString('utf8') : bytes.toString('latin1');
  });
}

/** The header block of an RFC 5322 message at the start of `bytes`, or undefined when it is not one. */
export function parseMailMessage(bytes: Buffer): MailMessage | undefined {
  const text = bytes.toString('latin1', 0, Math.min(bytes.length, MAX_HEADER_BYTES));
  let at = 0;
  // An mbox separator line may come first.
  if (text.startsWith('From ')) at = text.indexOf('\n') + 1;
  const first = text.slice(at, text.indexOf('\n', at));
  if (/^[A-Z]+ \S+ (HTTP|SIP|RTSP)\/\d/.test(first) || /^(HTTP|SIP|RTSP)\/\d/.test(first)) return undefined;
  const headers: Array<[string, string]> = [];
  let bodyOffset: number | undefined;
  while (at < text.length) {
    const end = text.indexOf('\n', at);
    if (end < 0) return undefined; // header block never ends within what we have
    const line = text.slice(at, end).replace(/\r$/, '');
    at = end + 1;
    if (line === '') {
      bodyOffset = at;
      break;
    }
    if (/^[ \t]/.test(line)) {
      const last = headers[headers.length - 1];
      if (!last) return undefined;
      last[1] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || !FIELD_NAME.test(line.slice(0, colon))) return undefined;
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  if (bodyOffset === undefined) return undefined;
  const names = new Set(headers.map(([n]) => n.toLowerCase()));
  // SIP messages share the syntax: Via, CSeq and Call-ID give them away.
  if (names.has('via') && (names.has('cseq') || names.has('call-id'))) return undefined;
  const from = headerValue(headers, 'from');
  if (!from || !EMAIL.test(from)) return undefined;
  if (!names.has('to') && !names.has('cc') && !names.has('bcc') && !names.has('subject')) return undefined;
  let support = SUPPORTING.filter((n) => names.has(n)).length;
  const date = headerValue(headers, 'date');
  if (date && Number.isNaN(Date.parse(date.replace(/\s*\([^)]*\)\s*$/, '')))) support--;
  if (support < 2) return undefined;
  return { headers: headers.map(([n, v]) => [n, decodeEncodedWords(v)] as [string, string]), bodyOffset };
}

/** Splits a (multipart) mail into its parts, decoding base64 and quoted-printable bodies. */
export const mailMimeDecoder: Decoder = {
  name: 'mail-mime',
  decode(view) {
    if (view.structured !== undefined || view.bytes.length < 40) return [];
    const message = parseMailMessage(view.bytes);
    if (!message) return [];
    const boundary = boundaryFromHeader(headerValue(message.headers, 'content-type'));
    if (!boundary) return [];
    const decodePart = (part: { headers: Array<[string, string]>; body: Buffer }, index: number, step: string) => {
      const transfer = headerValue(part.headers, 'content-transfer-encoding')?.toLowerCase();
      let body = part.body;
      if (transfer === 'base64') body = Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
      else if (transfer === 'quoted-printable') body = decodeQuotedPrintable(body.toString('latin1'));
      const type = headerValue(part.headers, 'content-type')?.split(';')[0]?.trim().toLowerCase();
      const fileName = /filename\*?=(?:"([^"]+)"|([^;\s]+))/i.exec(headerValue(part.headers, 'content-disposition') ?? headerValue(part.headers, 'content-type') ?? '');
      return childLayer(view, body, `${step}[${index}]`, { headers: part.headers, ...(type ? { contentType: type } : {}), ...(fileName ? { fileName: fileName[1] ?? fileName[2]! } : {}) });
    };
    return splitMultipart(view.bytes.subarray(message.bodyOffset), boundary).map((part, i) => decodePart(part, i, 'mime:part'));
  },
};
