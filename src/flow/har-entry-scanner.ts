// Finds the elements of a HAR document's `log.entries` array in a stream of bytes, without parsing
// the rest: a HAR of gigabytes is read a chunk at a time and each entry is handed on as its own
// bytes, to be parsed alone. Only the structure is followed — strings (with their escapes), brackets,
// and the keys of the root object and of `log` — which is all it takes to know where `log.entries`
// is, wherever `log.pages`, `creator` or extensions stand around it. The entries' own grammar is
// left to JSON.parse. UTF-8 is safe to scan byte by byte: no byte of a multi-byte character is an
// ASCII quote, backslash, bracket, colon or comma.

import { constants } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';

import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, OPEN_BRACE, OPEN_BRACKET, QUOTE } from '../util/json-bytes.js';

/**
 * An entry that grows past this is decoded to text as it comes, piece by piece, rather than kept as
 * bytes and decoded at its end: a 300 MB body is then never held as bytes and as text at once.
 * Smaller ones stay views into the chunks they were read in (cheaper for the garbage collector).
 */
const DECODE_AS_IT_COMES = 8 * 1024 * 1024;

/** Keys longer than this are none of the two we look for, and are not kept. */
const KEY_CAPTURE_LIMIT = 16;

/**
 * An entry is parsed as one string, and a V8 string holds at most this many characters (~512 MiB):
 * a longer entry cannot be read, so its bytes are not kept (memory stays bounded) and it is counted.
 */
export const MAX_ENTRY_BYTES = constants.MAX_STRING_LENGTH;

export interface ScannedEntry {
  /** The entry's text, from its `{` to its `}`. */
  readonly text: string;
  /** Where it starts in the file (bytes). */
  readonly offset: number;
}

export interface ScanEnd {
  /** The root value closed: the document is whole (whatever follows it is only whitespace). */
  readonly whole: boolean;
  /** A `log.entries` array was found. */
  readonly sawEntries: boolean;
  /** The file ended inside an entry, which was left out. */
  readonly droppedTail: boolean;
  /** The bytes read in all. */
  readonly bytes: number;
  /** Where the incomplete last entry began, when droppedTail. */
  readonly droppedAt?: number;
  /** Entries too large to parse, left out: where each began. */
  readonly oversized: readonly number[];
  /** Non-whitespace after the root value closed: where it began. */
  readonly trailingAt?: number;
  /** The first significant byte was not `{`: what it was. */
  readonly notAnObject?: string;
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export class HarEntryScanner {
  #offset = 0;
  #depth = 0;
  #inString = false;
  #escaped = false;
  #started = false;
  #closed = false;
  #trailingAt: number | undefined;
  #notAnObject: string | undefined;
  /** Inside the root object and inside `log`, a string there is a key when one is expected. */
  #expectKey = false;
  #capturingKey = false;
  #keyBytes: number[] = [];
  #rootKey = '';
  #logKey = '';
  #inLog = false;
  #inEntries = false;
  #sawEntries = false;
  /**
   * The entry being read: where it began, its bytes so far as views into the chunks, or (past
   * DECODE_AS_IT_COMES) its text so far; neither once it is too large.
   */
  #entryStart = -1;
  #entryParts: Buffer[] = [];
  #entryPieces: string[] = [];
  #decoder = new StringDecoder('utf8');
  #entryBytes = 0;
  #entryTooLarge = false;
  #oversized: number[] = [];
  #bom = 0;
  readonly #maxEntryBytes: number;

  constructor(maxEntryBytes = MAX_ENTRY_BYTES) {
    this.#maxEntryBytes = maxEntryBytes;
  }

  /** The next bytes of the file; returns the entries they completed, in order. */
  push(chunk: Buffer): ScannedEntry[] {
    const done: ScannedEntry[] = [];
    let i = 0;
    const end = chunk.length;
    // A UTF-8 byte-order mark (Charles and Windows tools write one) is skipped.
    while (this.#offset + i < 3 && this.#bom === this.#offset + i && i < end && chunk[i] === [0xef, 0xbb, 0xbf][this.#bom]) {
      this.#bom++;
      i++;
    }
    let entryFrom = this.#entryStart >= 0 ? i : -1; // where the current entry's bytes begin in this chunk
    while (i < end) {
      if (this.#inString) {
        i = this.#skipString(chunk, i, end);
        continue;
      }
      const c = chunk[i]!;
      if (this.#closed) {
        if (!isWhitespace(c) && this.#trailingAt === undefined) this.#trailingAt = this.#offset + i;
        i++;
        continue;
      }
      if (!this.#started) {
        if (!isWhitespace(c)) {
          this.#started = true;
          if (c !== OPEN_BRACE) {
            this.#notAnObject = String.fromCharCode(c);
            this.#closed = true;
            this.#trailingAt = this.#offset + i;
            i = end;
            continue;
          }
          this.#depth = 1;
          this.#expectKey = true;
        }
        i++;
        continue;
      }
      if (c === QUOTE) {
        this.#inString = true;
        this.#capturingKey = this.#expectKey && (this.#depth === 1 || (this.#depth === 2 && this.#inLog));
        this.#keyBytes.length = 0;
        i++;
        continue;
      }
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (this.#depth === 1 && c === OPEN_BRACE && this.#rootKey === 'log') {
          this.#inLog = true;
          this.#expectKey = true;
        } else if (this.#depth === 2 && this.#inLog && c === OPEN_BRACKET && this.#logKey === 'entries') {
          this.#inEntries = true;
          this.#sawEntries = true;
        } else if (this.#depth === 3 && this.#inEntries && c === OPEN_BRACE) {
          this.#entryStart = this.#offset + i;
          this.#entryParts = [];
          this.#entryPieces = [];
          this.#entryBytes = 0;
          this.#entryTooLarge = false;
          entryFrom = i;
        }
        this.#depth++;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        this.#depth--;
        if (this.#depth === 3 && this.#entryStart >= 0) {
          const whole = this.#takeEntry(chunk, entryFrom, i + 1);
          if (whole) done.push(whole);
          entryFrom = -1;
        } else if (this.#depth === 2 && this.#inEntries) {
          this.#inEntries = false;
        } else if (this.#depth === 1 && this.#inLog) {
          this.#inLog = false;
          this.#expectKey = false;
        } else if (this.#depth === 0) {
          this.#closed = true;
        }
      } else if (c === COLON) {
        if (this.#depth === 1 || (this.#depth === 2 && this.#inLog)) this.#expectKey = false;
      } else if (c === COMMA) {
        if (this.#depth === 1 || (this.#depth === 2 && this.#inLog)) this.#expectKey = true;
      }
      i++;
    }
    if (this.#entryStart >= 0 && entryFrom >= 0) this.#keepEntryBytes(chunk.subarray(entryFrom, end));
    this.#offset += end;
    return done;
  }

  /** The file has ended: how the document stood. */
  end(): ScanEnd {
    const droppedTail = this.#entryStart >= 0;
    return {
      whole: this.#closed && this.#notAnObject === undefined,
      sawEntries: this.#sawEntries,
      droppedTail,
      bytes: this.#offset,
      ...(droppedTail ? { droppedAt: this.#entryStart } : {}),
      oversized: this.#oversized,
      ...(this.#trailingAt !== undefined && this.#notAnObject === undefined ? { trailingAt: this.#trailingAt } : {}),
      ...(this.#notAnObject !== undefined ? { notAnObject: this.#notAnObject } : {}),
    };
  }

  /**
   * Inside a string from byte i: jumps to its closing quote with indexOf (a body of megabytes of
   * base64 is crossed at memchr speed), counting the backslashes before a quote to tell an escaped
   * one. Returns where scanning goes on.
   */
  #skipString(chunk: Buffer, i: number, end: number): number {
    if (this.#escaped) {
      this.#escaped = false;
      if (this.#capturingKey) this.#keyByte(chunk[i]!);
      return i + 1;
    }
    let from = i;
    for (;;) {
      const quote = chunk.indexOf(QUOTE, from);
      const stop = quote < 0 || quote >= end ? end : quote;
      let backslashes = 0;
      while (stop - 1 - backslashes >= from && chunk[stop - 1 - backslashes] === BACKSLASH) backslashes++;
      if (this.#capturingKey) for (let k = from; k < stop; k++) this.#keyByte(chunk[k]!);
      if (stop === end) {
        this.#escaped = backslashes % 2 === 1;
        return end;
      }
      if (backslashes % 2 === 1) {
        if (this.#capturingKey) this.#keyByte(QUOTE);
        from = stop + 1;
        continue;
      }
      this.#inString = false;
      if (this.#capturingKey) {
        const key = this.#keyBytes.length <= KEY_CAPTURE_LIMIT ? String.fromCharCode(...this.#keyBytes) : '';
        if (this.#depth === 1) this.#rootKey = key;
        else this.#logKey = key;
        this.#capturingKey = false;
      }
      return stop + 1;
    }
  }

  #keyByte(c: number): void {
    if (this.#keyBytes.length <= KEY_CAPTURE_LIMIT) this.#keyBytes.push(c);
  }

  #keepEntryBytes(bytes: Buffer): void {
    if (this.#entryTooLarge) return;
    this.#entryBytes += bytes.length;
    if (this.#entryBytes > this.#maxEntryBytes) {
      this.#entryTooLarge = true;
      this.#entryParts = [];
      this.#entryPieces = [];
      return;
    }
    this.#entryParts.push(bytes);
    if (this.#entryBytes > DECODE_AS_IT_COMES) this.#decodeParts();
  }

  #decodeParts(): void {
    for (const part of this.#entryParts) this.#entryPieces.push(this.#decoder.write(part));
    this.#entryParts = [];
  }

  #takeEntry(chunk: Buffer, from: number, to: number): ScannedEntry | undefined {
    const offset = this.#entryStart;
    this.#entryStart = -1;
    if (this.#entryParts.length === 0 && this.#entryPieces.length === 0 && !this.#entryTooLarge) {
      // Within one chunk (the usual case): decoded straight from it.
      if (to - from > this.#maxEntryBytes) {
        this.#oversized.push(offset);
        return undefined;
      }
      return { text: chunk.toString('utf8', from, to), offset };
    }
    this.#keepEntryBytes(chunk.subarray(from, to));
    if (this.#entryTooLarge) {
      this.#decoder.end();
      this.#oversized.push(offset);
      return undefined;
    }
    if (this.#entryPieces.length === 0) {
      // Not large: its views joined once and decoded once.
      const parts = this.#entryParts;
      this.#entryParts = [];
      return { text: Buffer.concat(parts, this.#entryBytes).toString('utf8'), offset };
    }
    this.#decodeParts();
    const pieces = this.#entryPieces;
    this.#entryPieces = [];
    const tail = this.#decoder.end(); // a character cut by the entry's end: JSON.parse will say
    if (tail) pieces.push(tail);
    return { text: pieces.join(''), offset };
  }
}
