// A chunked body's framing as its sender wrote it, read from the raw bytes alongside Node's parser,
// so that it can go on unchanged: the chunk sizes the sender chose, in its case of hex (Python
// writes `ED8`), its chunk extensions, its trailer lines. Node's parser hands over only the bytes
// inside the chunks, and Node's writer frames each write as a chunk of its own: relayed that way,
// the JDK's 16 KiB chunks reached the server in the sizes each read delivered.
//
// Only the strict form is read (RFC 9112 §7.1): a size line of hex digits, extensions of tokens or
// quoted strings, and CRLF after every line and chunk. Our parser is lenient (http1-leniency.ts: a
// bare LF, spaces after a size, a chunk without its CRLF...), and a reader of ours that guessed how
// llhttp reads such a line could put the two out of step, and the receiver would read another
// body than the one recorded. So a line of another form ends the reading where the bytes still agree,
// at a chunk's boundary (`unsure`), and the rest of the body is framed again as before. A chunk
// whose data is not followed by CRLF is closed with the CRLF it lacked first: the receiver must
// read whole chunks.
//
// The last chunk and its trailers are held until their empty line: once "0" went out, a fallback
// could not add trailers of its own.

import { limits } from '../../limits.js';

/** What one call to `read` found, in order: bytes to send on as they are, and whether the body ended or can no longer be followed. */
export type FramingPiece =
  | { readonly kind: 'framing'; readonly bytes: Buffer }
  | { readonly kind: 'data'; readonly bytes: Buffer }
  /** The body ended; `rest` is what follows it (the next message's). */
  | { readonly kind: 'end'; readonly rest: Buffer }
  /** A line of a form not read here: what went out so far ends at a chunk boundary, and the rest is not followed. */
  | { readonly kind: 'unsure'; readonly reason: string }
  /** The body can no longer be followed, and not at a chunk boundary (requests-as-sent.ts: its connection's watch stopped). */
  | { readonly kind: 'cut'; readonly reason: string };

/** A chunk-size line (with its CRLF), strict: up to 13 hex digits (a number JavaScript holds exactly; llhttp's bound is 64 bits), then `;name` or `;name=value` extensions without spaces. */
const SIZE_LINE = /^([0-9A-Fa-f]{1,13})(?:;[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:=(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+|"[^"\\\r\n\x00-\x08\x0a-\x1f\x7f]*"))?)*\r\n$/;

/** A trailer field line (with its CRLF), strict: a token, a colon, a value of visible characters, spaces and tabs. */
const TRAILER_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[ \t\x21-\x7e\x80-\xff]*\r\n$/;

/** Whether a Transfer-Encoding value ends in chunked, which is what frames a message in chunks (RFC 9112 §6.1), in any case and spacing. */
export function endsInChunked(codings: string): boolean {
  return /(?:^|,)[ \t]*chunked[ \t]*$/i.test(codings);
}

const CRLF = Buffer.from('\r\n', 'latin1');
const EMPTY = Buffer.alloc(0);

type State =
  | { readonly at: 'size' }
  | { readonly at: 'data'; remaining: number }
  | { readonly at: 'data-end' }
  | { readonly at: 'trailers' }
  | { readonly at: 'ended' };

export class ChunkedFramingReader {
  #state: State = { at: 'size' };
  /** A line not yet whole (a size line, or the last chunk and its trailers, held together). */
  #held: Buffer = EMPTY;
  /** Bytes of the held last-chunk line, before its trailer lines. */
  #lastChunkBytes = 0;
  readonly #maxLineBytes: number;
  readonly #maxTrailerBytes: number;

  constructor(maxLineBytes = 4096, maxTrailerBytes = 64 * 1024) {
    this.#maxLineBytes = maxLineBytes;
    this.#maxTrailerBytes = maxTrailerBytes;
  }

  /** Whether the body ended, or stopped being followed: nothing more is read. */
  get done(): boolean {
    return this.#state.at === 'ended';
  }

  /** Reads the next bytes of the body; after `end` or `unsure` it reads nothing more. */
  read(bytes: Buffer): FramingPiece[] {
    const out: FramingPiece[] = [];
    let at = 0;
    while (at < bytes.length && this.#state.at !== 'ended') {
      const state = this.#state;
      if (state.at === 'data') {
        const take = Math.min(state.remaining, bytes.length - at);
        out.push({ kind: 'data', bytes: bytes.subarray(at, at + take) });
        state.remaining -= take;
        at += take;
        if (state.remaining === 0) this.#state = { at: 'data-end' };
        continue;
      }
      if (state.at === 'data-end') {
        // CRLF, which may come apart: held like a line.
        const piece = bytes.subarray(at, at + 2 - this.#held.length);
        const sofar = this.#held.length === 0 ? piece : Buffer.concat([this.#held, piece]);
        if (!CRLF.subarray(0, sofar.length).equals(sofar)) {
          // The chunk is closed as it should have been, so the server reads it whole.
          out.push({ kind: 'framing', bytes: CRLF });
          return this.#giveUp(out, 'a chunk not followed by CRLF');
        }
        at += piece.length;
        if (sofar.length < 2) {
          this.#held = sofar;
          continue;
        }
        this.#held = EMPTY;
        out.push({ kind: 'framing', bytes: CRLF });
        this.#state = { at: 'size' };
        continue;
      }
      // A size line, or the trailer section: up to the next LF.
      const lf = bytes.indexOf(0x0a, at);
      const end = lf < 0 ? bytes.length : lf + 1;
      this.#held = this.#held.length === 0 ? bytes.subarray(at, end) : Buffer.concat([this.#held, bytes.subarray(at, end)]);
      at = end;
      const limit = state.at === 'size' ? this.#maxLineBytes : this.#maxTrailerBytes;
      if (this.#held.length > limit) return this.#giveUp(out, `a ${state.at === 'size' ? 'chunk-size line' : 'trailer section'} over ${limit} bytes`);
      if (lf < 0) continue;
      if (state.at === 'size') {
        const line = this.#held.toString('latin1');
        const size = SIZE_LINE.exec(line);
        if (!size) return this.#giveUp(out, 'a chunk-size line of another form');
        const length = parseInt(size[1]!, 16);
        if (length === 0) {
          // The last chunk: held with the trailers until their empty line.
          this.#state = { at: 'trailers' };
          this.#lastChunkBytes = this.#held.length;
          continue;
        }
        out.push({ kind: 'framing', bytes: this.#held });
        this.#held = EMPTY;
        this.#state = { at: 'data', remaining: length };
        continue;
      }
      // Trailers: the held bytes are the last chunk's line and the lines since; the newest ends at the end.
      const lineStart = this.#held.lastIndexOf(0x0a, this.#held.length - 2) + 1;
      const line = this.#held.subarray(Math.max(lineStart, this.#lastChunkBytes)).toString('latin1');
      if (line === '\r\n') {
        out.push({ kind: 'framing', bytes: this.#held }, { kind: 'end', rest: bytes.subarray(at) });
        this.#held = EMPTY;
        this.#state = { at: 'ended' };
        return out;
      }
      if (!TRAILER_LINE.test(line)) return this.#giveUp(out, 'a trailer line of another form');
    }
    return out;
  }

  /** Stops where what went out ends: the held bytes and the rest are the caller's to frame again. */
  #giveUp(out: FramingPiece[], reason: string): FramingPiece[] {
    this.#held = EMPTY;
    this.#state = { at: 'ended' };
    out.push({ kind: 'unsure', reason });
    return out;
  }
}

/** A chunked body's pieces as its sender framed them, kept until a relay takes them (bounded: a body not taken is dropped). */
export class ChunkedBodyAsSent {
  #held: FramingPiece[] | undefined = [];
  #heldBytes = 0;
  #sink: ((piece: FramingPiece) => void) | undefined;

  /** Pieces so far, then each as it is read; false when they are no longer all there (too many held before the claim). */
  claim(sink: (piece: FramingPiece) => void): boolean {
    const held = this.#held;
    if (!held) return false;
    this.#held = undefined;
    this.#sink = sink;
    for (const piece of held) sink(piece);
    return true;
  }

  /** Not to be taken: nothing more is held. */
  discard(): void {
    this.#held = undefined;
  }

  deliver(piece: FramingPiece): void {
    if (this.#sink) {
      this.#sink(piece);
      return;
    }
    if (!this.#held) return;
    this.#held.push(piece);
    if ('bytes' in piece) this.#heldBytes += piece.bytes.length;
    if (this.#heldBytes > limits.unclaimedChunkedBodyBytes) this.#held = undefined;
  }
}
