// Each answer head a server connection reads, looked at before Node's parser reads it. Heads that
// the devices' own clients read and the parser refuses (a repeated Content-Length, SHOUTcast's
// `ICY 200 OK`, whitespace before a colon...: answer-head-for-parser.ts) were a 502 of ours; now the
// parser is shown a head it reads, and the device gets the head the server wrote, byte for byte
// (takeAnswerHead: its bytes, and its lines for the record; takeInformationalHead for a 1xx).
//
// Which bytes are a head: the first ones after each request is given the connection (Node's client
// sends a request only once the last answer is done, and a server answers a request once it has
// it), and those after an informational (1xx) head. A head that comes in several reads is held
// until its empty line, since the parser can do nothing with part of one either; past the answer
// head limit it goes on as it is, for the parser to refuse. Bytes that cannot start a status line
// (mayStartStatusLine) go on untouched and at once. Until 2026-12-08 they were held for an empty
// line too: a server that answered a request with a line of another protocol, such as an SMTP
// greeting, and then waited, left the device waiting with nothing, where direct its client reads
// the line and gives up; the parser now refuses it at once, a 502 that says why. Everything after
// a final head goes on untouched too: a body is not changed, and only a chunked one is looked at,
// for its framing as the server wrote it (chunked-framing.ts), which the relay sends on
// (takeChunkedAnswerAsSent, chunked-body-relay.ts).
//
// How: net.Socket hands what it reads to push(), which emits it to the parser. Each server
// connection gets its own push() once, when its first request is given it, and keeps it; its
// state lives here, keyed by the socket: a property added per request and deleted after turned
// every server socket into a slow dictionary object, about 30 µs more CPU per small request
// (measured with scripts/profile-capture.mjs).

import type net from 'node:net';
import { limits } from '../../limits.js';
import { ICY, startsIcy, type StatusLineVersion } from './icy-status-line.js';
import { headForTheParser, restoredHeaderList, type HeaderLineSetAside } from './answer-head-for-parser.js';
import { ChunkedBodyAsSent, ChunkedFramingReader, endsInChunked } from './chunked-framing.js';

type Pushing = net.Socket & { push(chunk: unknown, encoding?: BufferEncoding): boolean };

const watches = new WeakMap<net.Socket, AnswerHeadWatch>();

/**
 * The next bytes `socket` reads start an answer head: looked at before any listener reads them.
 * Called as each request is given the socket, with its method (a HEAD's answer has no body).
 */
export function watchAnswerHeads(socket: net.Socket, method?: string): void {
  const watch = watches.get(socket) ?? new AnswerHeadWatch(socket as Pushing);
  watches.set(socket, watch);
  watch.expectHead(method === 'HEAD');
}

/** A chunked answer's body as its server framed it (chunked-framing.ts), when its head said chunked; taken once, from the 'response' event. */
export function takeChunkedAnswerAsSent(response: { readonly socket: net.Socket | null }): ChunkedBodyAsSent | undefined {
  const watch = response.socket ? watches.get(response.socket) : undefined;
  const body = watch?.chunkedBody;
  if (watch) watch.chunkedBody = undefined;
  return body;
}

/** The version of an answer's status line as its server wrote it: `ICY` for SHOUTcast's. */
export function answerStatusVersion(response: { readonly httpVersion: string; readonly socket: net.Socket | null }): StatusLineVersion {
  return response.socket && watches.get(response.socket)?.answeredIcy ? 'ICY' : `HTTP/${response.httpVersion}`;
}

/** An answer's head as its server wrote it. */
export interface AnswerHead {
  /** Its header lines (names and values), as the parser's rawHeaders lists them; with the lines it was not shown put back. */
  readonly fields: string[];
  /** Its bytes, status line to empty line, as Latin-1 text (one character a byte); undefined for a socket that is not watched. */
  readonly asSent: string | undefined;
}

/** An answer's head as its server wrote it. Call once per answer, from its 'response' (or 'upgrade') event: it is handed over once. */
export function takeAnswerHead(response: { readonly rawHeaders: string[]; readonly socket: net.Socket | null }): AnswerHead {
  const watch = response.socket ? watches.get(response.socket) : undefined;
  if (!watch) return { fields: response.rawHeaders, asSent: undefined };
  const asSent = watch.asSent;
  const setAside = watch.setAside;
  watch.asSent = undefined;
  watch.setAside = undefined;
  return { fields: setAside ? restoredHeaderList(response.rawHeaders, setAside) : response.rawHeaders, asSent };
}

/** The next informational (1xx) head `socket` read, as Latin-1 text, in the order they came; undefined when none waits. Call from each 'information' event. */
export function takeInformationalHead(socket: net.Socket | null): string | undefined {
  return socket ? watches.get(socket)?.informational?.shift() : undefined;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
/** `HTTP/` in upper case: OR-ing 0x20 into a letter makes it lower case. */
const HTTP_SLASH_LOWER = [0x68, 0x74, 0x74, 0x70];
const SLASH = 0x2f;
const DOT = 0x2e;
/** A head ends with an empty line: CR LF, or a bare LF (some firmware; the parser is lenient about it). */
const EMPTY_LINE_AFTER_CRLF = Buffer.from('\n\r\n', 'latin1');
const EMPTY_LINE_AFTER_LF = Buffer.from('\n\n', 'latin1');

class AnswerHeadWatch {
  readonly #socket: Pushing;
  readonly #push: Pushing['push'];
  #expectingHead = true;
  #first = true;
  /** The start of a head whose empty line has not come yet. */
  #held: Buffer | undefined;
  /** The last final head, until its answer takes it. */
  asSent: string | undefined;
  /** The informational heads of the current answer not yet taken (rare: made when one comes). */
  informational: string[] | undefined;
  setAside: readonly HeaderLineSetAside[] | undefined;
  answeredIcy = false;
  /** The answer expected has no body whatever its head says (it answers a HEAD). */
  #bodiless = false;
  /** The current answer's chunked framing, read as it passes, until it ends. */
  #framing: { readonly reader: ChunkedFramingReader; readonly body: ChunkedBodyAsSent } | undefined;
  /** The last chunked answer's body as sent, until its answer takes it. */
  chunkedBody: ChunkedBodyAsSent | undefined;

  constructor(socket: Pushing) {
    this.#socket = socket;
    this.#push = socket.push;
    const watch = this;
    socket.push = function pushWatched(chunk: unknown, encoding?: BufferEncoding): boolean {
      if (watch.#expectingHead) return watch.#read(chunk, encoding);
      if (watch.#framing && Buffer.isBuffer(chunk)) watch.#follow(chunk);
      return watch.#push.call(this, chunk, encoding);
    };
  }

  expectHead(bodiless: boolean): void {
    this.#expectingHead = true;
    this.#bodiless = bodiless;
    this.informational = undefined;
    // A connection goes to the next request only once the last answer ended.
    this.#framing = undefined;
    this.chunkedBody?.discard();
    this.chunkedBody = undefined;
  }

  /** The framing of a chunked answer's next bytes. */
  #follow(bytes: Buffer): void {
    const framing = this.#framing!;
    for (const piece of framing.reader.read(bytes)) {
      framing.body.deliver(piece);
      if (piece.kind === 'end' || piece.kind === 'unsure') this.#framing = undefined;
    }
  }

  /** What the connection read while a head was expected: heads looked at, then passed on with what follows them. */
  #read(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (!Buffer.isBuffer(chunk)) {
      // The end of the stream (null): a head still held goes first, for the parser to judge.
      if (this.#held) this.#pass(this.#held);
      this.#held = undefined;
      this.#expectingHead = false;
      return this.#push.call(this.#socket, chunk, encoding);
    }
    const bytes = this.#held ? Buffer.concat([this.#held, chunk]) : chunk;
    this.#held = undefined;
    let from = 0;
    for (;;) {
      const end = endOfHead(bytes, from);
      if (end < 0) {
        if (bytes.length - from <= limits.http1MaxResponseHeadBytes && mayStartStatusLine(bytes, from, this.#first)) {
          this.#held = bytes.subarray(from);
          return from === 0 || this.#pass(bytes.subarray(0, from));
        }
        this.#expectingHead = false;
        return this.#pass(bytes);
      }
      const first = this.#first;
      this.#first = false;
      const status = statusClass(bytes, from, first);
      if (status === 'informational') {
        (this.informational ??= []).push(bytes.toString('latin1', from, end));
        from = end;
        continue;
      }
      this.#expectingHead = false;
      if (status === 'final') {
        return this.#passFinalHead(bytes, from, end, first);
      }
      // A 101 (what follows is another protocol; its head is handed on as sent) or not a status
      // line at all: as it came.
      if (status === 'switching') {
        this.asSent = bytes.toString('latin1', from, end);
        this.setAside = undefined;
      }
      return this.#pass(bytes);
    }
  }

  /** `bytes` with a final head from `from` to `end`: passed on as they came when the parser reads the head, else with the head it reads. */
  #passFinalHead(bytes: Buffer, from: number, end: number, first: boolean): boolean {
    const text = bytes.toString('latin1', from, end);
    const view = headForTheParser(text, first);
    this.asSent = text;
    this.setAside = view?.setAside;
    if (!this.#bodiless && framedInChunks(text)) {
      this.chunkedBody = new ChunkedBodyAsSent();
      this.#framing = { reader: new ChunkedFramingReader(), body: this.chunkedBody };
      if (end < bytes.length) this.#follow(bytes.subarray(end));
    }
    if (!view) return this.#pass(bytes);
    if (view.icy) this.answeredIcy = true;
    this.#pass(bytes.subarray(0, from));
    return this.#pass(Buffer.concat([view.head, bytes.subarray(end)]));
  }

  #pass(bytes: Buffer): boolean {
    return bytes.length === 0 || this.#push.call(this.#socket, bytes);
  }
}

/**
 * Whether an answer head frames its body in chunks, as the parser reads it: not a 204 or a 304
 * (no body), and chunked the last coding of its one Transfer-Encoding line (a field sent twice, or
 * folded onto the next line, is not followed: the body is then framed again by Node).
 */
function framedInChunks(head: string): boolean {
  const status = /^\S+[ \t]+(\d{3})/.exec(head)?.[1];
  if (status === undefined || status === '204' || status === '304') return false;
  // One line only: the parser joins several, and which coding is last is then theirs to say.
  if ((head.match(/\ntransfer-encoding[ \t]*:/gi)?.length ?? 0) !== 1) return false;
  const codings = /\ntransfer-encoding[ \t]*:([^\r\n]*)\r?\n(?![ \t])/i.exec(head)?.[1];
  return codings !== undefined && endsInChunked(codings);
}

/** Where the head that starts at `from` ends (after its empty line), or -1 while it has not. */
function endOfHead(bytes: Buffer, from: number): number {
  const crlf = bytes.indexOf(EMPTY_LINE_AFTER_CRLF, from);
  // A bare-LF empty line is looked for only before the first CR LF one, so a body is not searched.
  const lf = bytes.subarray(0, crlf < 0 ? bytes.length : crlf + 1).indexOf(EMPTY_LINE_AFTER_LF, from);
  if (lf >= 0) return lf + 2;
  return crlf < 0 ? -1 : crlf + 3;
}

/**
 * What kind of head starts at `from`: HTTP/x.y (in any case) then a status code, or on a
 * connection's first answer SHOUTcast's ICY (always final).
 */
function statusClass(bytes: Buffer, from: number, first: boolean): 'informational' | 'switching' | 'final' | 'other' {
  if (first && startsIcy(bytes, from)) return 'final';
  if (!startsHttpSlash(bytes, from)) return 'other';
  const space = bytes.indexOf(SPACE, from);
  if (space < 0 || space > bytes.indexOf(LF, from)) return 'other';
  // Some servers put more than one space (or a tab) before the code: curl reads it.
  let codeStart = space + 1;
  while (bytes[codeStart] === SPACE || bytes[codeStart] === TAB) codeStart++;
  if (codeStart + 3 > bytes.length) return 'other';
  const code = bytes.toString('latin1', codeStart, codeStart + 3);
  if (!/^\d{3}$/.test(code)) return 'other';
  if (code === '101') return 'switching';
  return code[0] === '1' ? 'informational' : 'final';
}

/**
 * Whether the bytes from `from`, the start of a head not yet whole, may still become a status
 * line: what is there so far begins as one does, `HTTP/`, a digit, a dot, a digit and a space or
 * a tab (HTTP/ in any case, as statusClass reads it), or on a connection's first answer `ICY `.
 * Empty lines before it are the parser's to skip.
 */
function mayStartStatusLine(bytes: Buffer, from: number, first: boolean): boolean {
  let at = from;
  while (at < bytes.length && (bytes[at] === CR || bytes[at] === LF)) at++;
  const seen = Math.min(bytes.length - at, STATUS_LINE_START.length);
  if (first && bytes.toString('latin1', at, at + Math.min(seen, ICY.length)) === ICY.slice(0, seen)) return true;
  for (let i = 0; i < seen; i++) if (!STATUS_LINE_START[i]!(bytes[at + i]!)) return false;
  return true;
}

/** How a status line starts, a byte at a time: `HTTP/` (in any case), a digit, a dot, a digit, a space or a tab. */
const STATUS_LINE_START: ReadonlyArray<(byte: number) => boolean> = [
  ...HTTP_SLASH_LOWER.map((letter) => (byte: number) => (byte | 0x20) === letter),
  (byte) => byte === SLASH,
  isDigit,
  (byte) => byte === DOT,
  isDigit,
  (byte) => byte === SPACE || byte === TAB,
];

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

/** Whether `HTTP/` starts at `from`, in any case (some servers write `http/1.1`). */
function startsHttpSlash(bytes: Buffer, from: number): boolean {
  if (bytes.length - from < 5 || bytes[from + 4] !== SLASH) return false;
  for (let i = 0; i < 4; i++) if ((bytes[from + i]! | 0x20) !== HTTP_SLASH_LOWER[i]) return false;
  return true;
}
