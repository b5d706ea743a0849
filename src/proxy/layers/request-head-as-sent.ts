// A device's request header lines as it wrote them, for the relay to send on. Node's parser hands
// over each value without the whitespace around it, and the relay wrote every line again as
// `Name: value` in CRLF, so curl's `X-Empty:` (its `-H 'X-Empty;'`) reached the server as
// `X-Empty: `, a tab after a colon became a space, trailing spaces went, and firmware's bare-LF
// lines gained a CR. A server, or a fingerprint, could tell a proxy was there.
//
// The lines go as sent only where the server must read them as phonehome did: every line in the
// strict form of RFC 9112 (section 5: a token, a colon, optional spaces or tabs, the value,
// optional spaces or tabs, the line end), each saying the same name and value, in the same order,
// as the parser's reading, and one line end throughout: CRLF, or a bare LF on every line from the
// request line on (which RFC 9112 lets a server read as a line end, as nginx, Go and curl do; one
// that does not reads no end to the head at all, as it would have direct). Anything else (line
// ends mixed, a bare CR, a folded line, a line the lenient parser read another way, a header line
// past the count read) is written again from the parser's reading, in CRLF, as before: the relay
// then still sends what it recorded.

/** A head's header lines as sent, and the line end they use (the relay ends its request line and the head with it). */
export interface FieldLinesAsSent {
  readonly lines: string;
  readonly lineEnd: '\r\n' | '\n';
}

/**
 * The header lines of `head` (a whole request head, as latin1, through its empty line), each with
 * its line end, less those whose name `dropped` matches; undefined unless every line is strict,
 * all end alike, and they agree with `rawHeaders` (the parser's reading: name, value, name, value…).
 */
export function fieldLinesAsSent(head: string, rawHeaders: readonly string[], dropped?: RegExp): FieldLinesAsSent | undefined {
  const firstLf = head.indexOf('\n');
  const crlf = firstLf > 0 && head.charCodeAt(firstLf - 1) === 0x0d;
  // A head in bare LF has no CR at all: one would be a bare CR, or a line end of the other kind.
  if (!crlf && head.includes('\r')) return undefined;
  const endLength = crlf ? 2 : 1;
  let at = lineEnd(head, 0, crlf);
  if (at === undefined) return undefined;
  let lines = '';
  let field = 0;
  for (;;) {
    const end = lineEnd(head, at, crlf);
    if (end === undefined) return undefined;
    if (end === at + endLength) break;
    const colon = head.indexOf(':', at);
    if (colon <= at || colon >= end) return undefined;
    const name = head.slice(at, colon);
    if (name !== rawHeaders[field] || !isToken(name)) return undefined;
    if (valueWithin(head, colon + 1, end - endLength) !== rawHeaders[field + 1]) return undefined;
    if (!dropped?.test(name)) lines += head.slice(at, end);
    field += 2;
    at = end;
  }
  if (field !== rawHeaders.length || at + endLength !== head.length) return undefined;
  return { lines, lineEnd: crlf ? '\r\n' : '\n' };
}

/**
 * Just past the end of the line that starts at `from`: its CRLF (`crlf`), with no other CR or LF
 * before it, or its LF (a head with no CR at all); undefined where it has none of its kind.
 */
function lineEnd(head: string, from: number, crlf: boolean): number | undefined {
  const lf = head.indexOf('\n', from);
  if (lf < 0) return undefined;
  if (!crlf) return lf + 1;
  if (lf < from + 1 || head.charCodeAt(lf - 1) !== 0x0d) return undefined;
  return head.indexOf('\r', from) === lf - 1 ? lf + 1 : undefined;
}

/** The value between `from` and `to`, without the spaces and tabs around it (what the parser reports). */
function valueWithin(head: string, from: number, to: number): string {
  while (from < to && isBlank(head.charCodeAt(from))) from++;
  while (to > from && isBlank(head.charCodeAt(to - 1))) to--;
  return head.slice(from, to);
}

function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** RFC 9110's token: the characters a field name may have. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function isToken(name: string): boolean {
  return TOKEN.test(name);
}
