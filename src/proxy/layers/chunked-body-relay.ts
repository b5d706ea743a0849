// A chunked body sent on in its sender's own framing: a device's request (requests-as-sent.ts)
// or a server's answer (answer-head-watch.ts), where relayBody would have let Node frame each read
// as a chunk of its own. Two readings of the same bytes meet here: the parser's (the data, which
// the recorder is shown, as for every body) and the sender's framing. The framing's data goes out
// only once the parser has read the same bytes, and is checked against them: the other side gets
// what is recorded, or nothing more. Where the framing stops being followed (a line of a form it
// does not read, at a chunk boundary), the rest goes as before: the parser's data, framed by Node,
// with the trailers it read.

import type http from 'node:http';
import type { ChunkedBodyAsSent, FramingPiece } from './chunked-framing.js';
import { writeHolding } from './body-relay.js';

/** What Node's writer frames by: chunked, until the framing is ours to write. */
interface ChunkedWriter { chunkedEncoding: boolean }

/**
 * Relays `from`'s body to `to`, whose head (stored already) says chunked, in the framing `asSent` reads, each chunk
 * of data shown to `seen` as the parser reads it. `onEnd` ends `to` (its trailers are the
 * framing's, or Node's after a fallback); `misread` stops the exchange if the two readings differ.
 * `readAhead` is writeHolding's.
 */
export function relayChunkedAsSent(from: http.IncomingMessage, to: http.OutgoingMessage, asSent: ChunkedBodyAsSent, seen: (chunk: Buffer) => void, onEnd: () => void, misread: (reason: string) => void, readAhead = 0): void {
  const writer = to as unknown as ChunkedWriter;
  /** The sender's framing goes out; false once it is no longer followed. */
  let framed = true;
  /** The parser's data not yet matched by the framing's (in framed mode), oldest first. */
  const parsed: Buffer[] = [];
  let parsedBytes = 0;
  /** The framing's pieces waiting for the parser's data. */
  const waiting: FramingPiece[] = [];
  let framingEnded = false;
  let parserEnded = false;
  let stopped = false;
  const write = writeHolding(from, to, readAhead);

  /** Takes `length` bytes of the parser's data, if it has read that many. */
  const takeParsed = (length: number): Buffer | undefined => {
    if (parsedBytes < length) return undefined;
    const first = parsed[0]!;
    let taken: Buffer;
    if (first.length >= length) {
      taken = first.subarray(0, length);
      if (first.length === length) parsed.shift();
      else parsed[0] = first.subarray(length);
    } else {
      const joined = Buffer.concat(parsed);
      taken = joined.subarray(0, length);
      parsed.length = 0;
      if (joined.length > length) parsed.push(joined.subarray(length));
    }
    parsedBytes -= length;
    return taken;
  };

  const stop = (reason: string): void => {
    stopped = true;
    misread(reason);
  };

  let ended = false;
  let checkScheduled = false;
  const finishIfDone = (): void => {
    if (!parserEnded || stopped || ended) return;
    if (framed && (!framingEnded || waiting.length > 0 || parsedBytes > 0)) {
      // The framing of a read is shown after the parser's callbacks for it, and the ticks they
      // queued, have run (parser-bytes.ts), so the parser's end may come first; it comes within
      // the same read, before the next turn of the event loop.
      if (checkScheduled) return;
      checkScheduled = true;
      setImmediate(() => {
        if (!ended && !stopped && framed && (!framingEnded || waiting.length > 0 || parsedBytes > 0)) stop('a chunked body ended for the parser and not for its framing');
      });
      return;
    }
    ended = true;
    onEnd();
  };

  /** Sends what both readings agree on so far; stops at a piece whose data the parser has not read yet. */
  const sendAgreed = (): void => {
    while (framed && waiting.length > 0 && !stopped) {
      const piece = waiting[0]!;
      if (piece.kind === 'data') {
        const same = takeParsed(piece.bytes.length);
        if (!same) return;
        if (!same.equals(piece.bytes)) {
          stop('a chunked body read two ways');
          return;
        }
        write(piece.bytes);
      } else if (piece.kind === 'framing') {
        write(piece.bytes);
      } else if (piece.kind === 'end') {
        framingEnded = true;
      } else if (piece.kind === 'cut') {
        stop(`a chunked body's framing was lost mid-chunk: ${piece.reason}`);
        return;
      } else {
        // From here Node frames what the parser reads, starting with what it read already.
        framed = false;
        writer.chunkedEncoding = true;
        for (const chunk of parsed.splice(0)) write(chunk);
        parsedBytes = 0;
      }
      waiting.shift();
    }
  };

  const flush = (): void => {
    // A chunk's size line, data and CRLF are three writes: corked, they leave in one.
    to.cork();
    try {
      sendAgreed();
    } finally {
      to.uncork();
    }
    finishIfDone();
  };

  writer.chunkedEncoding = false;
  from.on('data', (chunk: Buffer) => {
    seen(chunk);
    if (stopped) return;
    if (!framed) {
      write(chunk);
      return;
    }
    parsed.push(chunk);
    parsedBytes += chunk.length;
    flush();
  });
  from.on('end', () => {
    parserEnded = true;
    flush();
  });
  const claimed = asSent.claim((piece: FramingPiece) => {
    waiting.push(piece);
    flush();
  });
  if (!claimed) {
    // Held too long before this relay came for it: framed by Node from the start, as before.
    framed = false;
    writer.chunkedEncoding = true;
  }
}
