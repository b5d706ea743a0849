// A server's answer head as Node's parser can read it. The parser (llhttp) refuses, even when
// lenient, heads that the devices' own clients read, and each was a 502 of ours where direct the
// device read the answer:
//   - a Content-Length sent more than once with one value, on two lines or as a list (`5, 5`):
//     NanoHTTPD, the web server inside many Android apps and cameras, did it for years; curl,
//     wget, Chromium and OkHttp read it, and RFC 9112 §6.3 lets a recipient take it as one length;
//   - whitespace between a field's name and its colon (`Content-Type : text/html`), which curl,
//     Chromium and OkHttp read;
//   - a line that is not a field at all (no colon, or a name that is not a token: `X Foo: bar`,
//     `: x`): each client skips it or refuses the answer, its own way;
//   - a status line in lower case (`http/1.1 200 OK`) or with more than one space, which curl reads;
//   - SHOUTcast's `ICY 200 OK`, on a connection's first answer (icy-status-line.ts).
// The parser is shown a head it reads: one length, names without the whitespace, lines that are
// not fields left out, a status line it knows. The device gets the head as the server wrote it
// (answer-head-watch.ts hands on the bytes), so its own client decides as it would direct, and the
// flow records the lines as written: what was set aside here goes back into the parser's list.
// Lengths that differ stay the parser's to refuse (a 502 that says why): a proxy must not guess
// which one frames the body (RFC 9112 §6.3), and Chromium refuses them too.

import { TOKEN, TOKEN_CHARACTER } from '../../util/http-token.js';
import { ICY, icyAsTheParserReads } from './icy-status-line.js';

/** A header line the parser is not shown as written, and what it was: `index` counts header lines from 0. */
export interface HeaderLineSetAside {
  readonly index: number;
  readonly name: string;
  readonly value: string;
  /** Left out of the parser's head, or shown to it in another form (its name or its length). */
  readonly kind: 'removed' | 'rewritten';
}

export interface ParserView {
  /** The head as the parser reads it. */
  readonly head: Buffer;
  /** In the order of `index`. */
  readonly setAside: readonly HeaderLineSetAside[];
  /** The status line was SHOUTcast's. */
  readonly icy: boolean;
}

/** What llhttp reads as a status line: HTTP/x.y, one space, three digits. */
const READABLE_STATUS_LINE = /^HTTP\/\d\.\d \d{3}[ \r\n]/;
/** A line that is none of: a field (a token, then a colon), a folded continuation, the empty line. */
const UNREADABLE_LINE = new RegExp(`\\n(?!${TOKEN_CHARACTER}+:|[ \\t]|\\r?\\n|$)`);
const CONTENT_LENGTH_LINE = /\ncontent-length[ \t]*:([^\r\n]*)/gi;
/** A status line curl and Chromium read: the version in any case, spaces or tabs between the parts. */
const LENIENT_STATUS_LINE = /^http\/(\d)\.(\d)[ \t]+(\d{3})(?:[ \t]+(.*))?$/i;

/**
 * A head (status line to the empty line, as Latin-1 text: one character a byte) as Node's parser
 * reads it, with what was set aside; undefined when the parser reads it as it is (nearly every
 * answer: this is on every answer's path). `firstOnConnection`: only a connection's first answer
 * may be SHOUTcast's.
 */
export function headForTheParser(text: string, firstOnConnection: boolean): ParserView | undefined {
  const icy = firstOnConnection && text.startsWith(ICY);
  if (!icy && READABLE_STATUS_LINE.test(text) && !UNREADABLE_LINE.test(text) && !repeatsLength(text)) return undefined;

  const [statusLine, ...lines] = headLines(text);
  const setAside: HeaderLineSetAside[] = [];
  const shown: Array<{ line: HeaderLine; name: string; value: string } | undefined> = [];
  for (const line of lines) {
    const name = withoutWhitespace(line.name);
    // A line that is not a field is left out, and so is what is folded onto it.
    const readable = line.colon && TOKEN.test(name) && !line.folded;
    shown.push(readable ? { line, name, value: line.value } : undefined);
  }
  mendLength(shown);
  const parserLines: string[] = [];
  for (const [index, line] of lines.entries()) {
    const view = shown[index];
    if (!view) {
      setAside.push({ index: line.index, name: line.name, value: line.value, kind: 'removed' });
      continue;
    }
    if (view.name !== line.name || view.value !== line.value) setAside.push({ index: line.index, name: line.name, value: line.value, kind: 'rewritten' });
    parserLines.push(`${view.name}: ${view.value}${line.continuation}`);
  }
  const parserStatus = icy ? undefined : readableStatusLine(statusLine!.text);
  const statusBytes = icy ? icyAsTheParserReads(statusLine!.text) : parserStatus;
  return {
    head: Buffer.from(`${statusBytes}\r\n${parserLines.map((line) => `${line}\r\n`).join('')}\r\n`, 'latin1'),
    setAside,
    icy,
  };
}

/** The header list the parser read from a ParserView's head, with the lines set aside back where they were, as written. */
export function restoredHeaderList(raw: readonly string[], setAside: readonly HeaderLineSetAside[]): string[] {
  const restored = raw.slice();
  for (const line of setAside) {
    if (line.kind === 'rewritten') restored.splice(2 * line.index, 2, line.name, line.value);
    else restored.splice(2 * line.index, 0, line.name, line.value);
  }
  return restored;
}

/** Whether the head names Content-Length twice, or lists values in one. */
function repeatsLength(text: string): boolean {
  CONTENT_LENGTH_LINE.lastIndex = 0;
  const first = CONTENT_LENGTH_LINE.exec(text);
  if (!first) return false;
  return first[1]!.includes(',') || CONTENT_LENGTH_LINE.exec(text) !== null;
}

/** A Content-Length repeated with one value: the first line shown with it, the others left out. Lengths that differ are left as they are. */
function mendLength(shown: Array<{ line: HeaderLine; name: string; value: string } | undefined>): void {
  const lengths = shown.flatMap((view, index) => (view && /^content-length$/i.test(view.name) ? [index] : []));
  if (lengths.length === 0) return;
  let length: string | undefined;
  for (const index of lengths) {
    const view = shown[index]!;
    // A value continued on the next line is left to the parser.
    if (view.line.continuation !== '') return;
    for (const item of view.value.split(',')) {
      const digits = withoutWhitespace(item);
      if (!/^\d+$/.test(digits)) return;
      const value = digits.replace(/^0+(?=\d)/, '');
      if (length !== undefined && value !== length) return;
      length = value;
    }
  }
  if (length === undefined || (lengths.length === 1 && shown[lengths[0]!]!.value === length)) return;
  shown[lengths[0]!] = { ...shown[lengths[0]!]!, value: length };
  for (const index of lengths.slice(1)) shown[index] = undefined;
}

/** The status line as the parser reads it: one the parser knows as it is, or a lenient one written again. */
function readableStatusLine(line: string): string {
  const match = LENIENT_STATUS_LINE.exec(line);
  if (READABLE_STATUS_LINE.test(`${line}\r\n`) || !match) return line;
  return `HTTP/${match[1]}.${match[2]} ${match[3]}${match[4] === undefined ? '' : ` ${match[4]}`}`;
}

/** Without the spaces and tabs around it (HTTP's whitespace; String.trim would take more). */
function withoutWhitespace(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, '');
}

interface HeaderLine {
  /** Which header line this is, counted from 0 as the parser lists them. */
  readonly index: number;
  /** The name as written (before the first colon; the whole line when there is none) and the value without the whitespace around it. */
  readonly name: string;
  readonly value: string;
  readonly colon: boolean;
  /** Folded continuation lines after it, as written (each with the line end before it), for the parser. */
  readonly continuation: string;
  /** A folded line with no field before it to fold onto (right after the status line). */
  readonly folded: boolean;
}

/** The status line, and the header lines with their folded continuations. */
function headLines(text: string): [{ text: string }, ...HeaderLine[]] {
  const all = text.split(/\r?\n/);
  const status = { text: all[0]! };
  const lines: HeaderLine[] = [];
  for (const content of all.slice(1)) {
    if (content === '') break;
    const previous = lines.at(-1);
    if ((content[0] === ' ' || content[0] === '\t') && previous) {
      lines[lines.length - 1] = { ...previous, continuation: `${previous.continuation}\r\n${content}` };
      continue;
    }
    const colon = content.indexOf(':');
    const folded = content[0] === ' ' || content[0] === '\t';
    lines.push({
      index: lines.length, name: colon < 0 ? content : content.slice(0, colon), value: colon < 0 ? '' : withoutWhitespace(content.slice(colon + 1)),
      colon: colon >= 0, continuation: '', folded,
    });
  }
  return [status, ...lines];
}
