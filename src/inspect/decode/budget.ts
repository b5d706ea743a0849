// Budgets for one message's decoding: total decoded bytes, per-layer expansion, depth, layer
// count and time. Hitting one is recorded (and shown on the flow), never a crash or a spike.

import { performance } from 'node:perf_hooks';

export const decodeLimits = {
  /** Total bytes all decoders of one message may produce. */
  totalDecodedBytes: 128 * 1024 * 1024,
  /** One layer may produce at most max(1 MiB, min(64 MiB, 200 x its input)). */
  layerMinOutputBytes: 1024 * 1024,
  layerMaxOutputBytes: 64 * 1024 * 1024,
  layerExpansionRatio: 200,
  /** Decode steps below the raw message. */
  maxDepth: 6,
  /** Layers per message (a JSON array of 100,000 base64 strings must not make 100,000 layers). */
  maxLayers: 5_000,
  /** Wall-clock time for decoding and detecting one message. */
  timeMs: 2_000,
} as const;

export class DecodeBudget {
  readonly deadlineMs: number;
  #decodedBytesLeft: number = decodeLimits.totalDecodedBytes;
  #layersLeft: number = decodeLimits.maxLayers;
  readonly problems = new Set<string>();

  constructor(timeMs: number = decodeLimits.timeMs) {
    this.deadlineMs = performance.now() + timeMs;
  }

  /** The most one layer of `inputBytes` may expand to, within what is left of the message's budget. */
  outputCap(inputBytes: number): number {
    const layerCap = Math.max(decodeLimits.layerMinOutputBytes, Math.min(decodeLimits.layerMaxOutputBytes, inputBytes * decodeLimits.layerExpansionRatio));
    return Math.max(0, Math.min(layerCap, this.#decodedBytesLeft));
  }

  /** Accounts for a decoded layer; false when the budget is used up (the layer is dropped). */
  take(bytes: number): boolean {
    if (this.#layersLeft <= 0) {
      this.problems.add(`more than ${decodeLimits.maxLayers} layers: the rest was not decoded`);
      return false;
    }
    if (bytes > this.#decodedBytesLeft) {
      this.problems.add(`decoded-bytes budget of ${decodeLimits.totalDecodedBytes} bytes used up`);
      return false;
    }
    this.#layersLeft--;
    this.#decodedBytesLeft -= bytes;
    return true;
  }

  expired(): boolean {
    if (performance.now() <= this.deadlineMs) return false;
    this.problems.add(`time budget of ${decodeLimits.timeMs} ms used up: analysis truncated`);
    return true;
  }

  note(problem: string): void {
    this.problems.add(problem);
  }
}
