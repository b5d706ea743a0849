// Keeps the first `limitBytes` of a stream for inspection and counts the rest.
// Chunks are kept by reference, not copied: Node hands each 'data' event a buffer of its own and
// nobody writes into it afterwards, and a copy per chunk cost ~10% of upload throughput.
// result() joins them once.

import type { CapturedBody } from '../model/flow.js';

export type { CapturedBody };

export class BodyCapture {
  readonly #limitBytes: number;
  #chunks: Buffer[] = [];
  #capturedBytes = 0;
  #totalBytes = 0;

  constructor(limitBytes: number) {
    this.#limitBytes = Math.max(0, limitBytes);
  }

  get totalBytes(): number {
    return this.#totalBytes;
  }

  push(chunk: Buffer): void {
    this.#totalBytes += chunk.length;
    const room = this.#limitBytes - this.#capturedBytes;
    if (room <= 0) return;
    const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.#chunks.push(kept);
    this.#capturedBytes += kept.length;
  }

  result(): CapturedBody {
    const bytes = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#capturedBytes);
    this.#chunks = [bytes];
    return { bytes, totalBytes: this.#totalBytes, truncated: this.#totalBytes > this.#capturedBytes };
  }
}

export const emptyBody: CapturedBody = Object.freeze({ bytes: Buffer.alloc(0), totalBytes: 0, truncated: false });
