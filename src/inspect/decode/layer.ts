// Helpers for decoders: a decoder is a pure function from one layer to the layers beneath it.

import type { View } from '../detect/detector.js';
import type { DecodeBudget } from './budget.js';

export interface Decoder {
  readonly name: string;
  /** Child layers of `view`, or none. May throw: the driver records it and moves on. */
  decode(view: View, budget: DecodeBudget): View[];
}

/** A child layer: same flow and direction, one step deeper, with `step` appended to the path. */
export function childLayer(parent: View, bytes: Buffer, step: string, extra: Partial<Omit<View, 'flow' | 'direction' | 'depth' | 'path' | 'bytes'>> = {}): View {
  return {
    bytes,
    path: [...parent.path, step],
    direction: parent.direction,
    depth: parent.depth + 1,
    flow: parent.flow,
    ...(parent.origin ? { origin: parent.origin } : {}),
    ...extra,
  };
}

/** Characters looked at by printableRatio(): text is text from its start. */
const PRINTABLE_SAMPLE_CHARS = 64 * 1024;

/** Share of printable characters in a string (text vs. binary that happened to decode), on a sample. */
export function printableRatio(text: string): number {
  if (text.length === 0) return 0;
  const length = Math.min(text.length, PRINTABLE_SAMPLE_CHARS);
  let printable = 0;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 0x20 && c !== 0x7f && c !== 0xfffd) || c === 0x09 || c === 0x0a || c === 0x0d) printable++;
  }
  return printable / length;
}
