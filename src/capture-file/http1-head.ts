// The head of an HTTP/1.x message read back from a capture: request or status line and header
// fields (RFC 9112), and how its body is framed. Node's own parser (llhttp) is not public and
// wants a socket; this one is small, strict where framing depends on it (Content-Length,
// Transfer-Encoding), lenient where a recorder only reads (bare LF line ends, obsolete folding).
// Pure and table-tested.

import type { HeaderList } from '../model/flow.js';
import { TOKEN, TOKEN_CHARACTER } from '../util/http-token.js';

export interface RequestHeadLine {
  readonly kind: 'request';
  readonly method: string;
  readonly target: string;
  /** `HTTP/1.1`, `HTTP/1.0`. */
  readonly httpVersion: string;
  readonly headers: HeaderList;
}

export interface ResponseHeadLine {
  readonly kind: 'response';
  readonly status: number;
  readonly statusText: string;
  readonly httpVersion: string;
  readonly headers: HeaderList;
}

export type ParsedHead<T> = { readonly ok: true; readonly head: T } | { readonly ok: false; readonly reason: string };

const REQUEST_LINE = new RegExp(`^(${TOKEN_CHARACTER}+) (\\S+) (HTTP\\/\\d\\.\\d)$`);
const VERSION = /^HTTP\/1\.[01]$/;

function lines(head: Buffer): string[] {
  return head.toString('latin1').replace(/\r?\n\r?\n$/, '').split(/\r?\n/);
}

function headerFields(rawLines: readonly string[]): ParsedHead<HeaderList> {
  const headers: Array<[string, string]> = [];
  for (const line of rawLines) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      // Obsolete line folding: a continuation of the previous value.
      const last = headers[headers.length - 1]!;
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) return { ok: false, reason: `malformed header line ${JSON.stringify(line.slice(0, 40))}` };
    headers.push([name, line.slice(colon + 1).trim()]);
  }
  return { ok: true, head: headers };
}

/** `head`: the bytes up to and including the empty line. */
export function parseRequestHead(head: Buffer): ParsedHead<RequestHeadLine> {
  const [first = '', ...rest] = lines(head);
  const match = REQUEST_LINE.exec(first);
  if (!match) return { ok: false, reason: `not an HTTP/1 request line: ${JSON.stringify(first.slice(0, 60))}` };
  if (!VERSION.test(match[3]!)) return { ok: false, reason: `unsupported HTTP version ${match[3]}` };
  const headers = headerFields(rest);
  if (!headers.ok) return headers;
  return { ok: true, head: { kind: 'request', method: match[1]!, target: match[2]!, httpVersion: match[3]!, headers: headers.head } };
}

export function parseResponseHead(head: Buffer): ParsedHead<ResponseHeadLine> {
  const [first = '', ...rest] = lines(head);
  const match = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(first);
  if (!match) return { ok: false, reason: `not an HTTP/1 status line: ${JSON.stringify(first.slice(0, 60))}` };
  if (!VERSION.test(match[1]!)) return { ok: false, reason: `unsupported HTTP version ${match[1]}` };
  const headers = headerFields(rest);
  if (!headers.ok) return headers;
  return { ok: true, head: { kind: 'response', status: Number(match[2]), statusText: match[3] ?? '', httpVersion: match[1]!, headers: headers.head } };
}

/** How a message's body is delimited (RFC 9112 §6). */
export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly bytes: number }
  | { readonly kind: 'chunked' }
  /** A response without length: its body is everything until the server closes. */
  | { readonly kind: 'close' }
  | { readonly kind: 'invalid'; readonly reason: string };

function all(headers: HeaderList, name: string): string[] {
  return headers.filter(([key]) => key.toLowerCase() === name).map(([, value]) => value);
}

/** Transfer-Encoding, else Content-Length (all copies must agree), else `otherwise`. */
function framingOf(headers: HeaderList, otherwise: BodyFraming, isRequest: boolean): BodyFraming {
  const codings = all(headers, 'transfer-encoding').flatMap((v) => v.split(',')).map((v) => v.trim().toLowerCase()).filter((v) => v !== '');
  if (codings.length > 0) {
    if (codings[codings.length - 1] === 'chunked') return { kind: 'chunked' };
    // A request whose length cannot be known is not HTTP a server would read; a response runs to the close.
    return isRequest ? { kind: 'invalid', reason: `request Transfer-Encoding ${codings.join(', ')} without chunked` } : { kind: 'close' };
  }
  const lengths = all(headers, 'content-length').flatMap((v) => v.split(',')).map((v) => v.trim());
  if (lengths.length > 0) {
    if (!lengths.every((v) => /^\d{1,15}$/.test(v)) || new Set(lengths).size > 1) return { kind: 'invalid', reason: `bad Content-Length ${JSON.stringify(lengths.join(', ').slice(0, 40))}` };
    const bytes = Number(lengths[0]);
    return bytes === 0 ? { kind: 'none' } : { kind: 'length', bytes };
  }
  return otherwise;
}

export function requestFraming(head: RequestHeadLine): BodyFraming {
  return framingOf(head.headers, { kind: 'none' }, true);
}

/** `method`: the request's (a HEAD's response has no body, whatever its headers say). */
export function responseFraming(head: ResponseHeadLine, method: string): BodyFraming {
  if (method === 'HEAD' || (head.status >= 100 && head.status < 200) || head.status === 204 || head.status === 304) return { kind: 'none' };
  if (method === 'CONNECT' && head.status >= 200 && head.status < 300) return { kind: 'none' };
  return framingOf(head.headers, { kind: 'close' }, false);
}
