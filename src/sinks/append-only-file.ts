// One line at a time, handed to the OS as it is made (writeSync), so a crash, a kill or a power
// cut of the process loses nothing already written. When the disk is full (or any write fails),
// nothing is lost silently and the proxy is never held up: lines wait in a bounded backlog, the
// failure is said once, writing resumes by itself when space returns, and what could not be kept
// is counted. findings.jsonl and flows.jsonl are such files.

import fs from 'node:fs';
import { describeError } from '../util/errors.js';

/** Lines shorter than this go out in one write; longer ones (large bodies) piece by piece. */
const ONE_WRITE_CHARS = 1024 * 1024;

/**
 * Part of a line: text, or text made only when it is written — a large body's base64 slice, so the
 * 40 MB of text of a 32 MB body never exist at once (only one slice at a time). `chars` is its
 * length, or an estimate when it cannot be known without making it (backlog accounting only).
 */
export type LinePiece = string | { readonly chars: number; text(): string };

function charsOf(pieces: readonly LinePiece[]): number {
  let n = 0;
  for (const piece of pieces) n += typeof piece === 'string' ? piece.length : piece.chars;
  return n;
}

/**
 * Writes all of `text`: a nearly full disk may take part of a write and refuse the rest, and
 * writeSync then reports fewer bytes instead of failing. Throws when nothing more can be written.
 */
function writeAll(fd: number, text: string): void {
  // Most lines go out whole in one call, without a Buffer copy of them first.
  const written = fs.writeSync(fd, text);
  if (written >= Buffer.byteLength(text)) return;
  const bytes = Buffer.from(text);
  let at = written;
  while (at < bytes.length) at += fs.writeSync(fd, bytes, at, bytes.length - at);
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

  /**
   * Appends several lines in order, in one write(2) when they are small and nothing waits: the
   * inspection worker writes the lines of each batch of flows so (one system call instead of one a
   * flow). On a failing write, the lines wholly written count, a cut one is ended by the next
   * write, and the rest wait in the backlog as append() keeps them. Never throws.
   */
  appendLines(lines: readonly LinePiece[][]): void {
    if (this.#closed || lines.length === 0) return;
    let chars = 0;
    for (const line of lines) chars += charsOf(line);
    if (lines.length === 1 || this.#backlog.length > 0 || this.#brokenLine || chars >= ONE_WRITE_CHARS) {
      for (const line of lines) this.append(line);
      return;
    }
    let text = '';
    for (const line of lines) {
      for (const piece of line) text += typeof piece === 'string' ? piece : piece.text();
      text += '\n';
    }
    let written = 0;
    let bytes: Buffer | undefined;
    try {
      written = fs.writeSync(this.#fd, text);
      if (written < Buffer.byteLength(text)) {
        bytes = Buffer.from(text);
        while (written < bytes.length) written += fs.writeSync(this.#fd, bytes, written, bytes.length - written);
      }
      this.#lines += lines.length;
      if (this.#error) this.#recovered();
    } catch (error) {
      // JSON lines hold no raw newline: the newlines written say how many lines are whole.
      const prefix = (bytes ?? Buffer.from(text)).subarray(0, written);
      let whole = 0;
      for (let at = prefix.indexOf(0x0a); at >= 0; at = prefix.indexOf(0x0a, at + 1)) whole++;
      this.#lines += whole;
      if (written > 0 && prefix[written - 1] !== 0x0a) this.#brokenLine = true;
      this.#fail(error);
      for (const line of lines.slice(whole)) this.#keep(line);
    }
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
        writeAll(this.#fd, `${pieces.map((p) => (typeof p === 'string' ? p : p.text())).join('')}\n`);
      } else {
        for (const piece of pieces) {
          const text = typeof piece === 'string' ? piece : piece.text();
          if (text.length === 0) continue;
          started = true;
          writeAll(this.#fd, text);
        }
        writeAll(this.#fd, '\n');
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
