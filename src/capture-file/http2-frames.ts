// HTTP/2 frames (RFC 9113 §4.1) cut from one direction of a recorded session as its chunks are
// pushed: a 9-byte header (length, type, flags, stream id) and the payload. Sans-IO; at most one
// frame (16 MiB by the 24-bit length) is ever held.

export interface Http2Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

export const FrameType = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const FrameFlag = { END_STREAM: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

export const clientPreface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export class Http2FrameReader {
  /** Bytes received and not yet cut into frames, as they came (joined only to cut a frame). */
  #held: Buffer[] = [];
  #heldBytes = 0;
  /** Bytes still to check before the first frame (the client's connection preface). */
  #preface: number;
  /** Bytes consumed by whole frames (and the preface): where an unparsed remainder would start. */
  consumed = 0;

  constructor(expectPreface: boolean) {
    this.#preface = expectPreface ? clientPreface.length : 0;
  }

  /** True when bytes of an unfinished frame are held. */
  get pending(): boolean {
    return this.#heldBytes > 0;
  }

  /** The first `n` held bytes (a view when one buffer has them all), consumed. */
  #take(n: number): Buffer {
    const first = this.#held[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#held.shift();
      else this.#held[0] = first.subarray(n);
    } else {
      out = Buffer.alloc(n);
      let filled = 0;
      while (filled < n) {
        const head = this.#held[0]!;
        const part = Math.min(head.length, n - filled);
        head.copy(out, filled, 0, part);
        filled += part;
        if (part === head.length) this.#held.shift();
        else this.#held[0] = head.subarray(part);
      }
    }
    this.#heldBytes -= n;
    this.consumed += n;
    return out;
  }

  /** The first `n` held bytes, not consumed (n is small: a preface or a frame header). */
  #peek(n: number): Buffer {
    const first = this.#held[0]!;
    if (first.length >= n) return first.subarray(0, n);
    // Only the few buffers that hold the first n bytes: a large frame's many chunks stay as they are.
    const parts: Buffer[] = [];
    let have = 0;
    for (const buffer of this.#held) {
      parts.push(buffer);
      have += buffer.length;
      if (have >= n) break;
    }
    return Buffer.concat(parts, have).subarray(0, n);
  }

  /** The frames this chunk completes. Throws on a client that does not start with the preface. */
  push(chunk: Buffer): Http2Frame[] {
    if (chunk.length === 0) return [];
    this.#held.push(chunk);
    this.#heldBytes += chunk.length;
    if (this.#preface > 0) {
      const seen = clientPreface.length - this.#preface;
      const take = Math.min(this.#preface, this.#heldBytes);
      if (!this.#take(take).equals(clientPreface.subarray(seen, seen + take))) throw new Error('the client did not send the HTTP/2 connection preface');
      this.#preface -= take;
    }
    const frames: Http2Frame[] = [];
    while (this.#heldBytes >= 9) {
      const header = this.#peek(9);
      const length = header.readUIntBE(0, 3);
      if (this.#heldBytes < 9 + length) break;
      const type = header[3]!;
      const flags = header[4]!;
      const streamId = header.readUInt32BE(5) & 0x7fffffff;
      const frame = this.#take(9 + length);
      frames.push({ type, flags, streamId, payload: frame.subarray(9) });
    }
    return frames;
  }
}
