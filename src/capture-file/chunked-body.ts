// A chunked HTTP/1.1 body (RFC 9112 §7.1) read from a recorded direction: where its data lies,
// its trailer fields, and where the message ends. The data is located, not copied, so a large
// chunked upload costs only its chunk-size lines.

import type { HeaderList } from '../model/flow.js';
import type { RecordedDirection } from './recorded-direction.js';

export interface ChunkedBody {
  /** [start, end) of each chunk's data in the direction. */
  readonly ranges: ReadonlyArray<readonly [number, number]>;
  readonly trailers: HeaderList;
  /** Just past the message (after the trailer section), or the end of what was recorded. */
  readonly end: number;
  /** Why the body is not whole: the capture ended inside it, or a size line was not hex. */
  readonly error?: string;
}

/** Longest chunk-size line (with extensions) or trailer line we read. */
const MAX_LINE_BYTES = 8 * 1024;

function readLine(direction: RecordedDirection, from: number): { line: string; next: number } | undefined {
  const at = direction.indexOfByte(0x0a, from, from + MAX_LINE_BYTES);
  if (at < 0) return undefined;
  return { line: direction.slice(from, at).toString('latin1').replace(/\r$/, ''), next: at + 1 };
}

export function readChunkedBody(direction: RecordedDirection, from: number): ChunkedBody {
  const ranges: Array<[number, number]> = [];
  let at = from;
  for (;;) {
    const sizeLine = readLine(direction, at);
    if (!sizeLine) return { ranges, trailers: [], end: direction.length, error: direction.length - at >= MAX_LINE_BYTES ? 'chunk-size line too long' : 'the capture ended inside a chunked body' };
    const match = /^([0-9A-Fa-f]{1,12})[ \t]*(;.*)?$/.exec(sizeLine.line);
    if (!match) return { ranges, trailers: [], end: at, error: `bad chunk-size line ${JSON.stringify(sizeLine.line.slice(0, 30))}` };
    const size = Number.parseInt(match[1]!, 16);
    at = sizeLine.next;
    if (size === 0) break;
    const end = at + size;
    ranges.push([at, Math.min(end, direction.length)]);
    if (end > direction.length) return { ranges, trailers: [], end: direction.length, error: 'the capture ended inside a chunked body' };
    const crlf = readLine(direction, end);
    if (!crlf) return { ranges, trailers: [], end: direction.length, error: 'the capture ended inside a chunked body' };
    if (crlf.line !== '') return { ranges, trailers: [], end, error: 'chunk data longer than its size' };
    at = crlf.next;
  }
  const trailers: Array<[string, string]> = [];
  for (;;) {
    const line = readLine(direction, at);
    if (!line) return { ranges, trailers, end: direction.length, error: 'the capture ended inside the trailers' };
    at = line.next;
    if (line.line === '') break;
    const colon = line.line.indexOf(':');
    if (colon > 0) trailers.push([line.line.slice(0, colon).trim(), line.line.slice(colon + 1).trim()]);
  }
  return { ranges, trailers, end: at };
}
