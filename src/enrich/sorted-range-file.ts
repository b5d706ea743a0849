// A sorted "start,end,…" CSV of address ranges, searched where it lies on disk: each lookup
// bisects the file by byte offset with a few small positional reads (about a dozen for the 21 MB ASN
// table) instead of holding the table in memory. Held in memory, the country and network tables
// cost an idle capture about 40 MB of its ~130; read this way they cost a file descriptor each,
// and the kernel's page cache (shared, and not the process's) keeps the hot parts.
//
// The file's contract: one range per line, `start,end,rest` with start and end unsigned decimal
// integers without leading zeros, lines sorted by start and not overlapping. The ip-location-db
// "-num" files are written that way.

import fs from 'node:fs';

/** The part of a line after "start,end,", and the range it belongs to. */
export interface RangeLine {
  readonly start: string;
  readonly end: string;
  readonly rest: string;
}

// Every line of the tables we read is well under 256 bytes; a read this size holds one line and
// the tail of the one before it. Longer lines take more reads, up to the cap.
const PROBE_BYTES = 512;
const MAX_LINE_BYTES = 64 * 1024;
// Probes kept per file: the top 11 levels of the bisection, about 300 KB.
const KEPT_PROBES = 2047;

/** Orders two unsigned decimal integers given as digit strings without leading zeros. */
export function compareDecimal(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export class SortedRangeFile {
  readonly #file: string;
  readonly #fd: number;
  readonly #size: number;
  readonly #probe = Buffer.alloc(PROBE_BYTES);
  readonly #probes = new Map<number, { next: number; line: RangeLine | undefined }>();
  /** Where every bisection starts; read when the file is opened, so a file of another kind is refused then, not at some later lookup. */
  readonly #first: RangeLine | undefined;

  private constructor(file: string, fd: number, size: number) {
    this.#file = file;
    this.#fd = fd;
    this.#size = size;
    this.#first = this.#lineAt(0);
  }

  /** Opens the file for lookups; it stays open for the life of the process, as the tables do. */
  static open(file: string): SortedRangeFile {
    const fd = fs.openSync(file, 'r');
    return new SortedRangeFile(file, fd, fs.fstatSync(fd).size);
  }

  /** The range holding `value` (a decimal integer string), or undefined in a gap or outside the table. */
  find(value: string): RangeLine | undefined {
    // Invariant: the line starting at `low` begins at or below `value`; no line starting at or
    // after `high` does. When no line starts strictly between them, `low` is the answer.
    let low = 0;
    let line = this.#first;
    if (line === undefined || compareDecimal(line.start, value) > 0) return undefined;
    let high = this.#size;
    while (high - low > 1) {
      const middle = low + Math.floor((high - low) / 2);
      const probe = this.#probeAt(middle);
      if (probe.next < high && probe.line !== undefined && compareDecimal(probe.line.start, value) <= 0) {
        low = probe.next;
        line = probe.line;
      } else {
        // Either no line starts in [middle, high), or none in [middle, next) and the one at
        // `next` begins past `value`: the answer starts before `middle`.
        high = middle;
      }
    }
    return compareDecimal(value, line.end) <= 0 ? line : undefined;
  }

  /**
   * The first line starting at or after `offset` (offset > 0) and where it begins (the file's size
   * when none does). The first levels of the bisection are the same for every lookup, so their
   * probes are kept: a lookup then reads the disk about 11 times per file instead of 25.
   */
  #probeAt(offset: number): { next: number; line: RangeLine | undefined } {
    const known = this.#probes.get(offset);
    if (known !== undefined) return known;
    // Usually one read holds the end of the line under `offset` and the whole next one.
    const read = this.#read(offset - 1, PROBE_BYTES);
    const newline = read.indexOf(10);
    const after = newline + 1;
    const lineEnd = newline < 0 ? -1 : read.indexOf(10, after);
    const whole = lineEnd >= 0 || (newline >= 0 && offset - 1 + read.length >= this.#size);
    const next = whole ? offset + newline : this.#lineStartAtOrAfter(offset);
    let line: RangeLine | undefined;
    if (next >= this.#size) line = undefined;
    else if (whole) line = this.#parse(read.subarray(after, lineEnd < 0 ? read.length : lineEnd), next);
    else line = this.#lineAt(next);
    const probe = { next, line };
    if (this.#probes.size < KEPT_PROBES) this.#probes.set(offset, probe);
    return probe;
  }

  /** Where the first line starting at or after `offset` begins (the file's size when none does). */
  #lineStartAtOrAfter(offset: number): number {
    if (offset <= 0) return 0;
    // A line starts at `offset` when the byte before it is a newline.
    for (let from = offset - 1; from < this.#size; from += PROBE_BYTES) {
      const read = this.#read(from, PROBE_BYTES);
      const newline = read.indexOf(10);
      if (newline >= 0) return from + newline + 1;
      if (from + PROBE_BYTES - offset > MAX_LINE_BYTES) throw this.#malformed(offset, `no line end within ${MAX_LINE_BYTES} bytes`);
    }
    return this.#size;
  }

  /** The line starting at `offset`, or undefined for an empty last line. */
  #lineAt(offset: number): RangeLine | undefined {
    let length = PROBE_BYTES;
    for (;;) {
      const read = this.#read(offset, length);
      const newline = read.indexOf(10);
      if (newline < 0 && offset + read.length < this.#size) {
        if (length >= MAX_LINE_BYTES) throw this.#malformed(offset, `no line end within ${MAX_LINE_BYTES} bytes`);
        length *= 4;
        continue;
      }
      return this.#parse(newline < 0 ? read : read.subarray(0, newline), offset);
    }
  }

  /** A line's bytes (without its newline) as a range; undefined for an empty last line. */
  #parse(bytes: Buffer, offset: number): RangeLine | undefined {
    const text = bytes.toString('latin1').replace(/\r$/, '');
    if (text === '') return undefined;
    const first = text.indexOf(',');
    const second = first < 0 ? -1 : text.indexOf(',', first + 1);
    const start = text.slice(0, first);
    const end = text.slice(first + 1, second < 0 ? text.length : second);
    if (first <= 0 || !/^\d+$/.test(start) || !/^\d+$/.test(end)) throw this.#malformed(offset, 'not "start,end,…"');
    // latin1 keeps byte offsets exact while bisecting; the rest is decoded as the UTF-8 it is.
    return { start, end, rest: second < 0 ? '' : Buffer.from(text.slice(second + 1), 'latin1').toString('utf8') };
  }

  #read(offset: number, length: number): Buffer {
    const buffer = length === PROBE_BYTES ? this.#probe : Buffer.allocUnsafe(length);
    const bytesRead = fs.readSync(this.#fd, buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  }

  #malformed(offset: number, why: string): Error {
    return new Error(`${this.#file}: the line at byte ${offset} is ${why}; the file is not a sorted range table`);
  }
}
