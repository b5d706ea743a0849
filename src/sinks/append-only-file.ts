// One line at a time, handed to the OS as it is made (writeSync), so a crash, a kill or a power
// cut of the process loses nothing already written. When the disk is full (or any write fails),
// nothing is lost silently and the proxy is never held up: lines wait in a bounded backlog, the
// failure is said once, writing resumes by itself when space returns, and what could not be kept
// is counted. findings.jsonl and flows.jsonl are such files.

import fs from 'node:fs';
import { describeError } from '../util/errors.js';
import { GatheredWrites } from './gathered-writes.js';

/**
 * Lines shorter than this are joined and go out in one write; longer ones (large bodies) are made
 * piece by piece and written a mebibyte at a time (gathered-writes.ts). Below V8's large-object
 * size (128 KiB, two bytes a character at worst): a joined text past it is a large object, moved
 * to the old generation when a nursery collection finds it in use, and then kept until a full
 * collection (see INLINE_BYTES in flow-log-sink.ts).
 */
export const ONE_WRITE_CHARS = 48 * 1024;

/**
 * Part of a line: text, or text made only when it is written — a large body's base64 slice, so the
 * 40 MB of text of a 32 MB body never exist at once (only one slice at a time). A made piece may be
 * its text's UTF-8 bytes instead (a text body's slice that needs no escaping: written as it is).
 * `chars` is its length, or an estimate when it cannot be known without making it (backlog
 * accounting only).
 */
export type LinePiece = string | { readonly chars: number; text(): string | Uint8Array };

function charsOf(pieces: readonly LinePiece[]): number {
  let n = 0;
  for (const piece of pieces) n += typeof piece === 'string' ? piece.length : piece.chars;
  return n;
}

/**
 * Writes all of `data` (text, or its UTF-8 bytes): a nearly full disk may take part of a write and
 * refuse the rest, and writeSync then reports fewer bytes instead of failing. Throws when nothing
 * more can be written.
 */
function writeAll(fd: number, data: string | Uint8Array): void {
  // Most lines go out whole in one call, without a Buffer copy of them first.
  const written = typeof data === 'string' ? fs.writeSync(fd, data) : fs.writeSync(fd, data, 0, data.length);
  const bytes = typeof data === 'string' ? (written >= Buffer.byteLength(data) ? undefined : Buffer.from(data)) : data;
  if (bytes === undefined) return;
  let at = written;
  while (at < bytes.length) at += fs.writeSync(fd, bytes, at, bytes.length - at);
}

/** A piece as text, made now if it is made when written. */
function pieceText(piece: LinePiece): string {
  if (typeof piece === 'string') return piece;
  const made = piece.text();
  return typeof made === 'string' ? made : Buffer.from(made.buffer, made.byteOffset, made.length).toString('utf8');
}

export interface AppendOnlyFileEvents {
  /** Said once per failure episode: the first write that failed, and what happens now. */
  failed(message: string): void;
  /** Writing works again; `written` lines from the backlog went out. */
  recovered(message: string): void;
}

export interface AppendOnlyFileStats {
  readonly lines: number;
  /** Lines that could not be kept (backlog full); counted, never silently. */
  readonly dropped: number;
  /** Lines still waiting in memory. */
  readonly pending: number;
  /** The last write error while failing, else undefined. */
  readonly error?: string;
}

export class AppendOnlyFile {
  readonly path: string;
  readonly #fd: number;
  readonly #events: AppendOnlyFileEvents;
  readonly #backlogLimitBytes: number;
  readonly #retryMs: number;
  #backlog: LinePiece[][] = [];
  #backlogBytes = 0;
  #lines = 0;
  #dropped = 0;
  #error: string | undefined;
  /** A line was cut by a failing write: the next write starts a new line, so readers can skip it. */
  #brokenLine = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Made for the first long line. */
  #gathered: GatheredWrites | undefined;

  constructor(file: string, events: AppendOnlyFileEvents, options: { backlogLimitBytes: number; retryMs: number; mode?: number }) {
    this.path = file;
    this.#fd = fs.openSync(file, 'a', options.mode ?? 0o644);
    this.#events = events;
    this.#backlogLimitBytes = options.backlogLimitBytes;
    this.#retryMs = options.retryMs;
  }

  get stats(): AppendOnlyFileStats {
    return { lines: this.#lines, dropped: this.#dropped, pending: this.#backlog.length, ...(this.#error ? { error: this.#error } : {}) };
  }

  /** Appends one line given in pieces (the newline is added). Never throws. */
  append(pieces: LinePiece[]): void {
    if (this.#closed) return;
    if (this.#backlog.length > 0 && !this.#flushBacklog()) {
      this.#keep(pieces);
      return;
    }
    if (!this.#write(pieces)) this.#keep(pieces);
  }

  /** Tries the backlog once more and closes. What is left is in `stats`. */
  close(): AppendOnlyFileStats {
    clearTimeout(this.#retryTimer);
    if (!this.#closed) {
      this.#flushBacklog();
      this.#closed = true;
      try {
        fs.closeSync(this.#fd);
      } catch {
        // closing a file on a full disk can fail too; the stats say what was not written
      }
    }
    return this.stats;
  }

  #write(pieces: LinePiece[]): boolean {
    let started = false;
    try {
      if (this.#brokenLine) {
        writeAll(this.#fd, '\n');
        this.#brokenLine = false;
      }
      if (pieces.length === 1 && typeof pieces[0] === 'string') {
        started = true;
        writeAll(this.#fd, `${pieces[0]}\n`);
      } else if (charsOf(pieces) < ONE_WRITE_CHARS) {
        // Most lines: one system call (a profile of small requests showed a write per piece).
        started = true;
        writeAll(this.#fd, `${pieces.map(pieceText).join('')}\n`);
      } else {
        // A long line (large bodies): its pieces made one at a time and written a mebibyte at a time.
        // Always reset after a line, written or not, so each line starts from nothing.
        const gathered = (this.#gathered ??= new GatheredWrites(this.#fd));
        try {
          for (const piece of pieces) gathered.add(typeof piece === 'string' ? piece : piece.text());
          gathered.add('\n');
          gathered.flush();
        } finally {
          started = gathered.written > 0;
          gathered.reset();
        }
      }
      this.#lines++;
      if (this.#error) this.#recovered();
      return true;
    } catch (error) {
      if (started) this.#brokenLine = true;
      this.#fail(error);
      return false;
    }
  }

  #keep(pieces: LinePiece[]): void {
    const bytes = charsOf(pieces);
    if (this.#backlogBytes + bytes > this.#backlogLimitBytes) {
      this.#dropped++;
      return;
    }
    this.#backlog.push(pieces);
    this.#backlogBytes += bytes;
    this.#scheduleRetry();
  }

  #flushBacklog(): boolean {
    while (this.#backlog.length > 0) {
      const next = this.#backlog[0]!;
      if (!this.#write(next)) return false;
      this.#backlog.shift();
      this.#backlogBytes -= charsOf(next);
    }
    return true;
  }

  #fail(error: unknown): void {
    const first = this.#error === undefined;
    this.#error = describeError(error);
    if (first) this.#events.failed(`${this.path}: ${this.#error}; the proxy goes on, new lines wait in memory (up to ${Math.round(this.#backlogLimitBytes / 1048576)} MiB) and are written when it works again`);
    this.#scheduleRetry();
  }

  #recovered(): void {
    const dropped = this.#dropped;
    this.#error = undefined;
    this.#events.recovered(`${this.path}: writing again${dropped > 0 ? `; ${dropped} line(s) could not be kept meanwhile` : ''}`);
  }

  #scheduleRetry(): void {
    if (this.#retryTimer || this.#closed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#backlog.length > 0 && !this.#flushBacklog()) this.#scheduleRetry();
    }, this.#retryMs);
    this.#retryTimer.unref();
  }
}
