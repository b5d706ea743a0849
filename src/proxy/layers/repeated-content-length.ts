// A server's Content-Length sent more than once with one value: `Content-Length: 5` on two lines
// (NanoHTTPD, embedded in many Android apps and devices, did it for years; uWebSockets behind a
// framework that sets its own; Envoy met it in health checks), or as a list (`Content-Length: 5, 5`,
// what an intermediary that joins repeated fields makes of it). curl, wget, Chromium and OkHttp
// read such an answer; RFC 9112 §6.3 lets a recipient take it as the one length. Node's parser
// refuses it even when lenient, so the device got a 502 of ours where direct it read the answer.
//
// So the head Node's parser reads has the length once (the first line, with the one value), and
// the lines set aside here go back into the header list the device is sent and the flow records:
// the device reads the head as the server wrote it, and its client decides, as it would direct.
// Lengths that differ stay the parser's to refuse (a 502 that says why): a proxy must not guess
// which one frames the body (RFC 9112 §6.3), and Chromium refuses them too.

/** A header line the parser is not shown, and what it was: `index` counts header lines from 0. */
export interface HeaderLineSetAside {
  readonly index: number;
  readonly name: string;
  readonly value: string;
  /** Removed from the head, or kept with the one length in place of its list. */
  readonly kind: 'removed' | 'shortened';
}

export interface MendedHead {
  /** The head as the parser reads it: one Content-Length line, with one value. */
  readonly head: Buffer;
  readonly setAside: readonly HeaderLineSetAside[];
}

/** A Content-Length line: its name as written, then its value up to the line's end. */
const CONTENT_LENGTH_LINE = /\ncontent-length:([^\r\n]*)/gi;

/**
 * `head` (status line to the empty line, bare LF line ends allowed) as Node's parser can read it
 * when its Content-Length is repeated with one value, and what was set aside for the device;
 * undefined when there is nothing to mend (one length, none, lengths that differ, or one that is
 * not a number).
 */
export function mendRepeatedContentLength(head: Buffer): MendedHead | undefined {
  const text = head.toString('latin1');
  CONTENT_LENGTH_LINE.lastIndex = 0;
  const first = CONTENT_LENGTH_LINE.exec(text);
  if (!first) return undefined;
  // The common answer: one line, one value. Only a second line or a comma needs a closer look.
  const second = CONTENT_LENGTH_LINE.exec(text);
  if (!second && !first[1]!.includes(',')) return undefined;

  const lines = headerLines(text);
  const found = lines.filter((line) => /^content-length$/i.test(line.name));
  let length: string | undefined;
  for (const line of found) {
    // A value continued on the next line (obs-fold) is left to the parser.
    if (line.folded) return undefined;
    for (const item of line.value.split(',')) {
      const digits = withoutWhitespace(item);
      if (!/^\d+$/.test(digits)) return undefined;
      const value = digits.replace(/^0+(?=\d)/, '');
      if (length !== undefined && value !== length) return undefined;
      length = value;
    }
  }
  if (length === undefined) return undefined;

  const setAside: HeaderLineSetAside[] = [];
  let mended = '';
  let from = 0;
  for (const [position, line] of found.entries()) {
    const kept = position === 0;
    if (kept && line.value === length) continue;
    setAside.push({ index: line.index, name: line.name, value: line.value, kind: kept ? 'shortened' : 'removed' });
    mended += text.slice(from, line.start) + (kept ? `${line.name}: ${length}` : '');
    from = kept ? line.contentEnd : line.end;
  }
  mended += text.slice(from);
  return { head: Buffer.from(mended, 'latin1'), setAside };
}

/** The header list the parser read from a mended head, with the lines set aside back where they were. */
export function restoredHeaderList(raw: readonly string[], setAside: readonly HeaderLineSetAside[]): string[] {
  const restored = raw.slice();
  for (const line of setAside) {
    if (line.kind === 'shortened') restored[2 * line.index + 1] = line.value;
    else restored.splice(2 * line.index, 0, line.name, line.value);
  }
  return restored;
}

interface HeaderLine {
  /** Which header line this is, counted from 0 as the parser lists them (a folded continuation is not one). */
  readonly index: number;
  readonly name: string;
  /** The value without the whitespace around it, as the parser reports it. */
  readonly value: string;
  readonly folded: boolean;
  /** Where the line starts, where its text ends (before CR LF), and where the next starts. */
  readonly start: number;
  readonly contentEnd: number;
  readonly end: number;
}

/** Without the spaces and tabs around it (HTTP's whitespace; String.trim would take more). */
function withoutWhitespace(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, '');
}

function headerLines(text: string): HeaderLine[] {
  const lines: HeaderLine[] = [];
  let start = text.indexOf('\n') + 1;
  let index = 0;
  while (start > 0 && start < text.length) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline + 1;
    const contentEnd = newline < 0 ? text.length : text[newline - 1] === '\r' ? newline - 1 : newline;
    const content = text.slice(start, contentEnd);
    if (content === '') break;
    if (content[0] === ' ' || content[0] === '\t') {
      const previous = lines.at(-1);
      if (previous) lines[lines.length - 1] = { ...previous, folded: true };
    } else {
      const colon = content.indexOf(':');
      const name = colon < 0 ? content : content.slice(0, colon);
      lines.push({ index, name, value: colon < 0 ? '' : withoutWhitespace(content.slice(colon + 1)), folded: false, start, contentEnd, end });
      index += 1;
    }
    start = end;
  }
  return lines;
}
