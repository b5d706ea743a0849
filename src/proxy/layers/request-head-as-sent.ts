// A device's request header lines as it wrote them, for the relay to send on. Node's parser hands
// over each value without the whitespace around it, and the relay wrote every line again as
// `Name: value`, so curl's `X-Empty:` (its `-H 'X-Empty;'`) reached the server as `X-Empty: `, a
// tab after a colon became a space, and trailing spaces went. A server, or a fingerprint, could
// tell a proxy was there.
//
// The lines go as sent only where the server must read them as phonehome did: every line in the
// strict form of RFC 9112 (section 5: a token, a colon, optional spaces or tabs, the value,
// optional spaces or tabs, CRLF), the request line ending in CRLF too, and each line saying the
// same name and value, in the same order, as the parser's reading. Anything else (a bare LF, a
// folded line, a line the lenient parser read another way, a header line past the count read) is
// written again from the parser's reading, as before: the relay then still sends what it recorded.

/**
 * The header lines of `head` (a whole request head, as latin1, through its empty line), each with
 * its CRLF, less those whose name `dropped` matches; undefined unless every line is strict and
 * agrees with `rawHeaders` (the parser's reading: name, value, name, value…).
 */
export function fieldLinesAsSent(head: string, rawHeaders: readonly string[], dropped?: RegExp): string | undefined {
  let at = lineEnd(head, 0);
  if (at === undefined) return undefined;
  let lines = '';
  let field = 0;
  for (;;) {
    const end = lineEnd(head, at);
    if (end === undefined) return undefined;
    if (end === at + 2) break;
    const colon = head.indexOf(':', at);
    if (colon <= at || colon >= end) return undefined;
    const name = head.slice(at, colon);
    if (name !== rawHeaders[field] || !isToken(name)) return undefined;
    if (valueWithin(head, colon + 1, end - 2) !== rawHeaders[field + 1]) return undefined;
    if (!dropped?.test(name)) lines += head.slice(at, end);
    field += 2;
    at = end;
  }
  return field === rawHeaders.length && at + 2 === head.length ? lines : undefined;
}

/** Just past the CRLF of the line that starts at `from`; undefined for a line with a bare CR or LF, or none. */
function lineEnd(head: string, from: number): number | undefined {
  const lf = head.indexOf('\n', from);
  if (lf < from + 1 || head.charCodeAt(lf - 1) !== 0x0d) return undefined;
  const cr = head.indexOf('\r', from);
  return cr === lf - 1 ? lf + 1 : undefined;
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
