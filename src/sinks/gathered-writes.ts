// A long line's pieces (a large body's slices: flow-log-sink.ts) handed to the OS a mebibyte at a
// time instead of one write per 16 KiB slice: a 32 MB body took 2,048 writes, gathered 32. Writing
// the line of a 32 MB body cost the proxy thread 31-34 ms of CPU as text and 34-36 as base64,
// gathered 20-21 and 23.5-25.5 (medians of six, three rounds each, in process, this box's ext4).
// Texts are copied into one reused buffer; bytes (a text body's slices that need no escaping) are
// written from where they are. Still synchronous: every byte is with the OS when `flush` returns,
// as the flow log promises.

import fs from 'node:fs';

/** Bytes gathered before they are written. */
export const GATHER_BYTES = 1024 * 1024;
/** Parts per write at most: Linux's IOV_MAX. */
const MAX_PARTS = 1024;

export class GatheredWrites {
  readonly #fd: number;
  /** Texts are encoded here; reused once its bytes are written. */
  readonly #scratch = Buffer.allocUnsafe(GATHER_BYTES);
  #scratchUsed = 0;
  #parts: Uint8Array[] = [];
  #partBytes = 0;
  /** Bytes handed to the OS since the last `reset`. */
  written = 0;

  constructor(fd: number) {
    this.#fd = fd;
  }

  /** Adds text (as UTF-8) or bytes (kept by reference until written: not to be changed before). */
  add(data: string | Uint8Array): void {
    if (typeof data !== 'string') {
      this.#push(data);
      return;
    }
    // A UTF-16 unit is at most three bytes of UTF-8.
    if (this.#scratchUsed + data.length * 3 > this.#scratch.length) this.flush();
    if (data.length * 3 > this.#scratch.length) {
      this.#push(Buffer.from(data));
      return;
    }
    const start = this.#scratchUsed;
    this.#scratchUsed += this.#scratch.write(data, start);
    this.#push(this.#scratch.subarray(start, this.#scratchUsed));
  }

  /** Writes everything gathered. Throws when the OS takes nothing more (what it took is in `written`). */
  flush(): void {
    let parts = this.#parts;
    this.#parts = [];
    this.#partBytes = 0;
    try {
      while (parts.length > 0) {
        let done = fs.writevSync(this.#fd, parts);
        if (done === 0) throw new Error('the file took none of a write');
        this.written += done;
        // A nearly full disk may take part of a write and refuse the rest on the next call.
        let first = 0;
        while (first < parts.length && done >= parts[first]!.length) done -= parts[first++]!.length;
        parts = parts.slice(first);
        if (done > 0) parts[0] = parts[0]!.subarray(done);
      }
    } finally {
      this.#scratchUsed = 0;
    }
  }

  /** Forgets what is gathered and not written (after a failed write), and the count of what was. */
  reset(): void {
    this.#parts = [];
    this.#partBytes = 0;
    this.#scratchUsed = 0;
    this.written = 0;
  }

  #push(part: Uint8Array): void {
    if (part.length === 0) return;
    this.#parts.push(part);
    this.#partBytes += part.length;
    if (this.#partBytes >= GATHER_BYTES || this.#parts.length >= MAX_PARTS) this.flush();
  }
}
