// Whether UTF-8 text needs no escaping inside a JSON string: JSON.stringify escapes only `"`, `\`,
// the control characters below U+0020 and lone surrogates (which valid UTF-8 cannot hold), so text
// free of those bytes is its own JSON string content, byte for byte. The flow log then writes a
// large text body's bytes as they are, instead of making two strings of every slice of it (the
// text, then its JSON): those were 87 % of what a capture allocated during 64 MB uploads.

import { BACKSLASH, QUOTE } from './json-bytes.js';

const FIRST_PRINTABLE = 0x20;

function escapedByte(byte: number): boolean {
  return byte < FIRST_PRINTABLE || byte === QUOTE || byte === BACKSLASH;
}

/**
 * True when no byte of `bytes` is one JSON escapes (valid UTF-8 is assumed: the caller decided the
 * body is text). Four bytes at a time: a word has a byte below 0x20 when subtracting 0x20 from every
 * byte borrows into a high bit that was clear, and a byte equal to `"` or `\` when the word XORed
 * with it has a zero byte (the same test against 0x01). A borrow can only set a false high bit
 * above a byte that really matched, so the answer for the whole word is exact.
 */
export function isJsonVerbatim(bytes: Uint8Array): boolean {
  const end = bytes.length;
  let at = 0;
  // Bytes before the first 4-byte boundary of the underlying memory (Uint32Array needs it aligned).
  const head = Math.min(end, (4 - (bytes.byteOffset & 3)) & 3);
  for (; at < head; at++) if (escapedByte(bytes[at]!)) return false;
  const words = (end - at) >>> 2;
  if (words > 0) {
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset + at, words);
    for (let i = 0; i < words; i++) {
      const word = view[i]!;
      const quote = word ^ 0x22222222;
      const backslash = word ^ 0x5c5c5c5c;
      if ((((word - 0x20202020) & ~word) | ((quote - 0x01010101) & ~quote) | ((backslash - 0x01010101) & ~backslash)) & 0x80808080) return false;
    }
    at += words * 4;
  }
  for (; at < end; at++) if (escapedByte(bytes[at]!)) return false;
  return true;
}
