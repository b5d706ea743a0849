// Tells whether the bytes of one line make one whole JSON object, reading them a piece at a time:
// flows.har is built from flows.jsonl as a stream of bytes, so a line of tens of megabytes (a
// large body) never has to exist as a string, and a line cut by a crash or a full disk is still
// recognised. It checks the structure — opened with '{', every string and bracket closed, the
// object closed on the line's last byte — not the whole JSON grammar: our writer makes the lines,
// and what can go wrong with them is a cut. UTF-8 is safe to scan byte by byte: no byte of a
// multi-byte character is an ASCII quote, backslash or bracket.

import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, OPEN_BRACE, OPEN_BRACKET, QUOTE } from '../util/json-bytes.js';

export class ObjectLineScanner {
  #bytes = 0;
  #depth = 0;
  #inString = false;
  #escaped = false;
  /** The top-level object closed at byte #closedAt (counted from the line's start), or -1. */
  #closedAt = -1;
  #broken = false;

  /** The next bytes of the line (no newline among them). */
  push(bytes: Uint8Array, start = 0, end = bytes.length): void {
    for (let i = start; i < end && !this.#broken; i++) {
      const c = bytes[i]!;
      const at = this.#bytes + (i - start);
      if (at === 0 && c !== OPEN_BRACE) {
        this.#broken = true;
        break;
      }
      if (this.#closedAt >= 0) {
        // Anything after the object closed: not one object.
        this.#broken = true;
        break;
      }
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (c === BACKSLASH) this.#escaped = true;
        else if (c === QUOTE) this.#inString = false;
        continue;
      }
      if (c === QUOTE) this.#inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.#depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        this.#depth--;
        if (this.#depth === 0) this.#closedAt = at;
        else if (this.#depth < 0) this.#broken = true;
      }
    }
    this.#bytes += end - start;
  }

  /** Whether the line, now complete, was one whole object. */
  get whole(): boolean {
    return !this.#broken && this.#bytes > 0 && this.#closedAt === this.#bytes - 1;
  }
}
