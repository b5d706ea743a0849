// What one side of a recorded session sent, as one byte stream with offsets, without joining the
// chunks: a 32 MiB upload stays the chunks the capture held, and only heads and chunk-size lines
// are copied out. Every offset also has a time: the capture time of the chunk it arrived in.

import type { RecordedChunk, RecordedSession } from './recorded-session.js';

interface Piece {
  readonly data: Buffer;
  readonly time: string;
  /** Offset of this piece's first byte in the direction's stream. */
  readonly start: number;
}

/** A part of the stream, by reference, with the time its chunk was captured. */
export interface TimedBytes {
  readonly data: Buffer;
  readonly time: string;
}

export class RecordedDirection {
  readonly #pieces: Piece[] = [];
  readonly length: number;

  constructor(chunks: readonly RecordedChunk[], fromClient: boolean) {
    let at = 0;
    for (const chunk of chunks) {
      if (chunk.fromClient !== fromClient || chunk.data.length === 0) continue;
      this.#pieces.push({ data: chunk.data, time: chunk.time, start: at });
      at += chunk.data.length;
    }
    this.length = at;
  }

  static of(session: RecordedSession, fromClient: boolean): RecordedDirection {
    return new RecordedDirection(session.chunks, fromClient);
  }

  /** Index of the piece holding `offset` (binary search; offsets past the end give the last piece). */
  #pieceAt(offset: number): number {
    let low = 0;
    let high = this.#pieces.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.#pieces[middle]!.start <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  /** When the byte at `offset` was captured (the last chunk's time past the end; `fallback` when empty). */
  timeAt(offset: number, fallback: string): string {
    if (this.#pieces.length === 0) return fallback;
    return this.#pieces[this.#pieceAt(Math.max(0, Math.min(offset, this.length - 1)))]!.time;
  }

  /** A copy of bytes [from, to), clipped to the stream. */
  slice(from: number, to: number): Buffer {
    const parts = this.pieces(from, to).map((p) => p.data);
    return parts.length === 1 ? Buffer.from(parts[0]!) : Buffer.concat(parts);
  }

  /** Bytes [from, to) as views into the recorded chunks, each with its time. */
  pieces(from: number, to: number): TimedBytes[] {
    const end = Math.min(to, this.length);
    const out: TimedBytes[] = [];
    if (from >= end || this.#pieces.length === 0) return out;
    for (let i = this.#pieceAt(from); i < this.#pieces.length; i++) {
      const piece = this.#pieces[i]!;
      if (piece.start >= end) break;
      const a = Math.max(from, piece.start) - piece.start;
      const b = Math.min(end, piece.start + piece.data.length) - piece.start;
      if (b > a) out.push({ data: a === 0 && b === piece.data.length ? piece.data : piece.data.subarray(a, b), time: piece.time });
    }
    return out;
  }

  /** First offset in [from, limit) holding `byte`, or -1; scans the chunks in place, without copying. */
  indexOfByte(byte: number, from: number, limit: number): number {
    const end = Math.min(limit, this.length);
    if (from >= end || this.#pieces.length === 0) return -1;
    for (let i = this.#pieceAt(from); i < this.#pieces.length; i++) {
      const piece = this.#pieces[i]!;
      if (piece.start >= end) break;
      const a = Math.max(from, piece.start) - piece.start;
      const b = Math.min(end, piece.start + piece.data.length) - piece.start;
      const at = piece.data.subarray(a, b).indexOf(byte);
      if (at >= 0) return piece.start + a + at;
    }
    return -1;
  }

  /**
   * Where an HTTP/1 head starting at `from` ends (just past its empty line: CRLF CRLF, or bare
   * LFs), or -1 when no empty line comes before `limit`. Line by line, so nothing is copied.
   */
  headEnd(from: number, limit: number): number {
    let lineStart = from;
    for (;;) {
      const newline = this.indexOfByte(0x0a, lineStart, limit);
      if (newline < 0) return -1;
      const length = newline - lineStart;
      if (lineStart > from && (length === 0 || (length === 1 && this.byteAt(lineStart) === 0x0d))) return newline + 1;
      lineStart = newline + 1;
    }
  }

  /** The byte at `offset` (inside the stream). */
  byteAt(offset: number): number {
    const piece = this.#pieces[this.#pieceAt(offset)]!;
    return piece.data[offset - piece.start]!;
  }
}
