// gRPC's length-prefixed messages, read as the bytes pass (sans-IO): [flag][length, 4 bytes BE]
// [message]. Flag bit 0 = compressed with the call's grpc-encoding; bit 7 = a gRPC-Web trailers
// frame. A bidirectional stream is never buffered to its end: each message comes out as soon as
// its last byte is pushed, and a message longer than the capture limit is counted, not held.

import { keptJoin, SHARED_COPY_FROM_BYTES } from '../../flow/body-capture.js';

export interface GrpcFrame {
  readonly compressed: boolean;
  /** gRPC-Web: this frame carries the trailers ("grpc-status: 0\r\n…"), not a message. */
  readonly trailers: boolean;
  /** The message as captured, up to the reader's limit. */
  readonly data: Buffer;
  /** The message's declared length. */
  readonly totalBytes: number;
}

export class GrpcFrameReader {
  readonly #captureBytes: number;
  #header: Buffer = Buffer.alloc(0);
  #current: { flag: number; length: number; remaining: number; chunks: Buffer[]; captured: number } | undefined;
  /** The stream stopped looking like gRPC framing (a reserved flag bit set); nothing more is read. */
  #broken = false;

  constructor(captureBytes: number) {
    this.#captureBytes = captureBytes;
  }

  get broken(): boolean {
    return this.#broken;
  }

  /** Bytes of an unfinished frame (header or message) at the end of what was pushed. */
  get pending(): boolean {
    return this.#header.length > 0 || this.#current !== undefined;
  }

  push(chunk: Buffer): GrpcFrame[] {
    const frames: GrpcFrame[] = [];
    let at = 0;
    while (at < chunk.length && !this.#broken) {
      if (!this.#current) {
        const need = 5 - this.#header.length;
        const take = chunk.subarray(at, at + need);
        at += take.length;
        this.#header = this.#header.length === 0 ? take : Buffer.concat([this.#header, take]);
        if (this.#header.length < 5) break;
        const flag = this.#header[0]!;
        if ((flag & 0x7e) !== 0) {
          this.#broken = true;
          break;
        }
        const length = this.#header.readUInt32BE(1);
        this.#header = Buffer.alloc(0);
        this.#current = { flag, length, remaining: length, chunks: [], captured: 0 };
      }
      const current = this.#current;
      const take = chunk.subarray(at, at + current.remaining);
      at += take.length;
      current.remaining -= take.length;
      const room = this.#captureBytes - current.captured;
      if (room > 0 && take.length > 0) {
        const kept = take.length <= room ? take : take.subarray(0, room);
        current.chunks.push(kept);
        current.captured += kept.length;
      }
      if (current.remaining === 0) {
        frames.push({
          compressed: (current.flag & 1) === 1,
          trailers: (current.flag & 0x80) !== 0,
          // A small message in one chunk is kept as a view of it; others are joined, in shared
          // memory unless small (keptJoin), so the part carrying them reaches the inspection
          // worker without postMessage copying them again.
          data: current.chunks.length === 1 && current.captured < SHARED_COPY_FROM_BYTES ? current.chunks[0]! : keptJoin(current.chunks, current.captured),
          totalBytes: current.length,
        });
        this.#current = undefined;
      }
    }
    return frames;
  }
}

/** A gRPC-Web trailers frame ("grpc-status: 0\r\ngrpc-message: ok\r\n") as header pairs. */
export function parseGrpcWebTrailers(data: Buffer): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const line of data.toString('latin1').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    pairs.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return pairs;
}

/**
 * grpc-web-text bodies are base64, possibly several padded segments one after another, split
 * anywhere by the transport. Decodes what is whole and keeps the rest for the next chunk.
 */
export class Base64StreamDecoder {
  #rest = '';

  push(chunk: Buffer): Buffer {
    const text = this.#rest + chunk.toString('latin1').replace(/\s+/g, '');
    const whole = text.length - (text.length % 4);
    this.#rest = text.slice(whole);
    if (whole === 0) return Buffer.alloc(0);
    // Node stops at the first padding character, so each padded segment is decoded on its own.
    const segments = text.slice(0, whole).split(/(?<==)(?=[^=])/);
    return segments.length === 1 ? Buffer.from(segments[0]!, 'base64') : Buffer.concat(segments.map((s) => Buffer.from(s, 'base64')));
  }
}
