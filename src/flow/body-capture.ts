// Keeps the first `limitBytes` of a stream for inspection and counts the rest.
// Chunks are kept by reference, not copied: Node hands each 'data' event a buffer of its own and
// nobody writes into it afterwards, and a new buffer per chunk cost ~10% of upload throughput.
// result() joins them once. When the size is announced (Content-Length) and large, the body is
// instead copied into one buffer of that size as it passes: joining 32 MB of chunks at the end
// held the chunks and the joined copy at once, 32 MB more at the proxy's peak.
// Large bodies live in shared memory (SharedArrayBuffer): the inspection worker then reads the
// very bytes the proxy captured instead of a structured-clone copy of them — one 32 MB body was
// three copies at once (chunks, joined, the worker's). Nobody writes into a captured body.

import type { CapturedBody } from '../model/flow.js';

export type { CapturedBody };

/** Announced sizes from this on get one buffer up front; smaller bodies mostly come in one chunk. */
const PREALLOCATE_FROM_BYTES = 64 * 1024;

/** A zero-filled Buffer in shared memory, for bodies the worker will read. */
function sharedBuffer(bytes: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(bytes));
}

/**
 * Kept copies from this size on are made in shared memory. Measured here (100 copies handed to a
 * worker at a time): a copy and its postMessage cost 15.5 µs as an ordinary buffer and 8.6 in
 * shared memory at 4 KiB, 22.3 and 8.4 at 56 KiB; below 4 KiB Node's pool makes ordinary copies
 * cheap, and a shared buffer per small message is not worth its own allocation.
 */
export const SHARED_COPY_FROM_BYTES = 4 * 1024;

/**
 * A copy of `bytes` to keep for inspection (a WebSocket message): in shared memory unless small, as
 * a large body is, so the part that carries it reaches the inspection worker without a second copy.
 * A relay of 64 KiB messages spent 15 % of the proxy thread's busy time in postMessage's copies.
 */
export function keptCopy(bytes: Buffer): Buffer {
  return keptJoin([bytes], bytes.length);
}

/** The first `totalBytes` of `chunks` joined in one kept copy (a gRPC message's pieces), as keptCopy keeps one. */
export function keptJoin(chunks: readonly Buffer[], totalBytes: number): Buffer {
  return joined(chunks, totalBytes, SHARED_COPY_FROM_BYTES);
}

/** The first `totalBytes` of `chunks` in one new buffer: in shared memory from `sharedFromBytes` on. */
function joined(chunks: readonly Buffer[], totalBytes: number, sharedFromBytes: number): Buffer {
  if (totalBytes < sharedFromBytes) return Buffer.concat(chunks, totalBytes);
  const into = sharedBuffer(totalBytes);
  let at = 0;
  for (const chunk of chunks) {
    if (at >= totalBytes) break;
    at += chunk.copy(into, at);
  }
  return into;
}

export class BodyCapture {
  readonly #limitBytes: number;
  #chunks: Buffer[] = [];
  /** The one buffer of an announced size, filled as chunks pass (then #chunks stays empty). */
  #into: Buffer | undefined;
  #capturedBytes = 0;
  #totalBytes = 0;

  /** `expectedBytes`: the size the sender announced, if any (a hint: a wrong one costs nothing). */
  constructor(limitBytes: number, expectedBytes?: number) {
    this.#limitBytes = Math.max(0, limitBytes);
    if (expectedBytes !== undefined && Number.isSafeInteger(expectedBytes) && expectedBytes >= PREALLOCATE_FROM_BYTES && this.#limitBytes >= PREALLOCATE_FROM_BYTES) {
      this.#into = sharedBuffer(Math.min(expectedBytes, this.#limitBytes));
    }
  }

  get totalBytes(): number {
    return this.#totalBytes;
  }

  push(chunk: Buffer): void {
    this.#totalBytes += chunk.length;
    const room = this.#limitBytes - this.#capturedBytes;
    if (room <= 0) return;
    const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
    const into = this.#into;
    if (into && this.#capturedBytes + kept.length <= into.length) {
      kept.copy(into, this.#capturedBytes);
    } else {
      if (into) {
        // More than announced: what was copied becomes the first chunk, and chunks go on.
        this.#chunks.push(into.subarray(0, this.#capturedBytes));
        this.#into = undefined;
      }
      this.#chunks.push(kept);
    }
    this.#capturedBytes += kept.length;
  }

  result(): CapturedBody {
    const into = this.#into;
    if (into) {
      // Fewer bytes than announced: a copy of what came, so the large buffer is not kept alive
      // (and its unwritten rest never shown).
      this.#chunks = [this.#capturedBytes === into.length ? into : this.#join([into.subarray(0, this.#capturedBytes)])];
      this.#into = undefined;
    }
    const bytes = this.#chunks.length === 1 ? this.#chunks[0]! : this.#join(this.#chunks);
    this.#chunks = [bytes];
    return { bytes, totalBytes: this.#totalBytes, truncated: this.#totalBytes > this.#capturedBytes };
  }

  /** The captured bytes in one buffer of their own: shared memory when large. */
  #join(chunks: Buffer[]): Buffer {
    return joined(chunks, this.#capturedBytes, PREALLOCATE_FROM_BYTES);
  }
}

export const emptyBody: CapturedBody = Object.freeze({ bytes: Buffer.alloc(0), totalBytes: 0, truncated: false });
