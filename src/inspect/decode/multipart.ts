// multipart/form-data, /related and /mixed: our own splitter over the captured bytes (busboy does
// form-data only and throws on truncation). Boundary from the Content-Type, or from a first line
// `--token`. Tolerates a missing final `--`, bare LF, a preamble, and a body cut at the limit.

import { headerValue } from '../../model/flow.js';
import type { View } from '../detect/detector.js';
import { childLayer, type Decoder } from './layer.js';

const MAX_PARTS = 1_000;

/** The boundary of a multipart Content-Type, quoted or not; undefined for other types. */
export function boundaryFromHeader(contentTypeHeader: string | undefined): string | undefined {
  if (!contentTypeHeader || !/^multipart\//i.test(contentTypeHeader.trim())) return undefined;
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentTypeHeader);
  return match?.[1] ?? match?.[2];
}

function inferredBoundary(bytes: Buffer): string | undefined {
  // Looked at as text only when it starts as a delimiter does (no string for every other body).
  if (bytes[0] !== 0x2d || bytes[1] !== 0x2d) return undefined;
  const match = /^--([!-~]{1,70}?)\r?\n/.exec(bytes.toString('latin1', 0, 80));
  if (!match) return undefined;
  // The next lines must look like part headers, or this is just text starting with dashes.
  const after = bytes.toString('latin1', match[0].length, match[0].length + 200);
  return /^content-(disposition|type|transfer-encoding|id):/i.test(after) ? match[1] : undefined;
}

function partHeaders(block: string): Array<[string, string]> {
  const unfolded = block.replace(/\r?\n[ \t]+/g, ' ');
  const headers: Array<[string, string]> = [];
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return headers;
}

function dispositionParam(disposition: string | undefined, name: string): string | undefined {
  if (!disposition) return undefined;
  const extended = new RegExp(`${name}\\*=(?:[\\w-]+'[\\w-]*')?([^;]+)`, 'i').exec(disposition);
  if (extended) {
    try {
      return decodeURIComponent(extended[1]!.trim().replace(/^"|"$/g, ''));
    } catch {
      return extended[1]!.trim();
    }
  }
  const plain = new RegExp(`${name}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]+))`, 'i').exec(disposition);
  return plain ? (plain[1] ?? plain[2]!).trim() : undefined;
}

export interface Part {
  readonly headers: Array<[string, string]>;
  readonly body: Buffer;
}

export function splitMultipart(bytes: Buffer, boundary: string): Part[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let at = bytes.indexOf(delimiter);
  while (at >= 0 && parts.length < MAX_PARTS) {
    let start = at + delimiter.length;
    if (bytes[start] === 0x2d && bytes[start + 1] === 0x2d) break; // closing delimiter
    if (bytes[start] === 0x0d) start++;
    if (bytes[start] === 0x0a) start++;
    const next = bytes.indexOf(delimiter, start);
    let end = next < 0 ? bytes.length : next;
    // The line break before the next delimiter belongs to the delimiter.
    if (next >= 0 && bytes[end - 1] === 0x0a) end--;
    if (next >= 0 && bytes[end - 1] === 0x0d) end--;
    const part = bytes.subarray(start, end);
    const crlf = part.indexOf('\r\n\r\n');
    const lf = part.indexOf('\n\n');
    const split = crlf >= 0 && (lf < 0 || crlf <= lf) ? { at: crlf, len: 4 } : lf >= 0 ? { at: lf, len: 2 } : undefined;
    if (split) parts.push({ headers: partHeaders(part.toString('latin1', 0, split.at)), body: part.subarray(split.at + split.len) });
    else parts.push({ headers: [], body: part });
    at = next;
  }
  return parts;
}

export const multipartDecoder: Decoder = {
  name: 'multipart',
  decode(view) {
    const declared = view.headers ? headerValue(view.headers, 'content-type') : undefined;
    const boundary = boundaryFromHeader(declared) ?? inferredBoundary(view.bytes);
    if (!boundary) return [];
    return splitMultipart(view.bytes, boundary).map((part, index): View => {
      const disposition = headerValue(part.headers, 'content-disposition');
      const name = dispositionParam(disposition, 'name');
      const fileName = dispositionParam(disposition, 'filename');
      const type = headerValue(part.headers, 'content-type')?.split(';')[0]?.trim().toLowerCase();
      const transfer = headerValue(part.headers, 'content-transfer-encoding')?.trim().toLowerCase();
      let body = part.body;
      let step = `multipart:${name ?? fileName ?? `part[${index}]`}`;
      if (transfer === 'base64') {
        body = Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
        step += '+base64';
      }
      return childLayer(view, body, step, {
        headers: part.headers,
        ...(type ? { contentType: type } : {}),
        ...(fileName ? { fileName } : {}),
        ...(name ? { key: name.toLowerCase() } : {}),
      });
    });
  },
};
