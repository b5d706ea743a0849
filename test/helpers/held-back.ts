// Backpressure tests: a sender writes a patterned body while the other end reads nothing, the test
// finds where the sender was held, then lets the reader go on and checks every byte as it arrives.
// Shared by the HTTP/1.1 and HTTP/2 tests (bodies-and-connections, http2).

import type http2 from 'node:http2';

/** A 64 KiB chunk whose bytes depend on their place, so a byte out of order or lost shows. */
export function patternedChunk(): Buffer {
  const chunk = Buffer.alloc(64 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + 7) & 0xff;
  return chunk;
}

/** Whether `received` is `chunk` repeated, checked as it arrives (no copy of a large body is kept). */
export function patternChecker(chunk: Buffer): { add(data: Buffer): void; readonly bytes: number; readonly intact: boolean } {
  let bytes = 0;
  let intact = true;
  return {
    add(data: Buffer): void {
      for (let i = 0; i < data.length && intact; i++) intact = data[i] === chunk[(bytes + i) % chunk.length];
      bytes += data.length;
    },
    get bytes() { return bytes; },
    get intact() { return intact; },
  };
}

/**
 * Writes `chunk` until `total` bytes, waiting for 'drain' whenever a write is refused, then ends;
 * it stops early when the stream is closed (an HTTP/2 stream the other side reset). Returns how far
 * it got.
 */
export function writePattern(stream: NodeJS.WritableStream, chunk: Buffer, total: number): () => number {
  let sent = 0;
  const closed = (): boolean => (stream as { closed?: boolean }).closed === true;
  const pump = (): void => {
    while (sent < total && !closed()) {
      sent += chunk.length;
      if (!stream.write(chunk)) {
        stream.once('drain', pump);
        return;
      }
    }
    if (!closed()) stream.end();
  };
  pump();
  return () => sent;
}

/**
 * Where a sender's count stops while the other end reads nothing: rounds of traffic through the
 * proxy stand in for waiting (each turns the proxy's event loop many times, and a proxy that took
 * the held body into its own memory would read on meanwhile). The count is held when a whole round
 * passes without it moving; undefined when it reached `total`.
 */
export async function heldAt(count: () => number, total: number, round: () => Promise<unknown>): Promise<number | undefined> {
  while (count() < total) {
    const before = count();
    await round();
    if (count() === before) return before;
  }
  return undefined;
}

/** 10 PING round trips on `session`, one after another: once a PING comes back, its peer has read every frame sent before it. */
export function pingRounds(session: http2.Http2Session): Promise<void> {
  return new Promise((resolve) => {
    let left = 10;
    const next = (): void => {
      if (--left === 0) resolve();
      else session.ping(next);
    };
    session.ping(next);
  });
}
