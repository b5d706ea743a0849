// Budgets for one message's decoding: total decoded bytes, per-layer expansion, depth, layer
// count and time. Hitting one is recorded (and shown on the flow), never a crash or a spike.

import { performance } from 'node:perf_hooks';
import { limits } from '../../limits.js';

export const decodeLimits = limits.decode;

/** expired() reads the clock once in this many calls (it says why). */
const CLOCK_EVERY = 8;

/** The budgets' clock unless a test gives its own: one function for all, none made per budget. */
const monotonicClock = (): number => performance.now();

export class DecodeBudget {
  readonly deadlineMs: number;
  readonly #timeMs: number;
  readonly #totalDecodedBytes: number;
  #decodedBytesLeft: number;
  #layersLeft: number = decodeLimits.maxLayers;
  readonly problems = new Set<string>();
  #callsUntilClock = 0;
  #expired = false;
  readonly #now: () => number;

  /**
   * Smaller limits than the defaults: the proxy thread's quick look at a small flow
   * (inline-inspection.ts). `now` is the clock, in milliseconds; a test gives its own, so that
   * what it checks does not depend on how the machine schedules it.
   */
  constructor(timeMs: number = decodeLimits.timeMs, totalDecodedBytes: number = decodeLimits.totalDecodedBytes, now: () => number = monotonicClock) {
    this.#now = now;
    this.deadlineMs = now() + timeMs;
    this.#timeMs = timeMs;
    this.#totalDecodedBytes = totalDecodedBytes;
    this.#decodedBytesLeft = totalDecodedBytes;
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
      this.problems.add(`decoded-bytes budget of ${this.#totalDecodedBytes} bytes used up`);
      return false;
    }
    this.#layersLeft--;
    this.#decodedBytesLeft -= bytes;
    return true;
  }

  /**
   * True once the time budget is used up. The inspector asks before every detector on every layer
   * (about 40 times for a small request), and reading the clock was 8 % of a small flow's
   * inspection in a profile. So while more than half the time is left the clock is read once in
   * CLOCK_EVERY calls, and on every call after that: the limit holds as before unless those few
   * unwatched steps alone take half the budget.
   */
  expired(): boolean {
    if (this.#expired) return true;
    if (--this.#callsUntilClock > 0) return false;
    const left = this.deadlineMs - this.#now();
    this.#callsUntilClock = left > this.#timeMs / 2 ? CLOCK_EVERY : 1;
    if (left >= 0) return false;
    this.#expired = true;
    this.problems.add(`time budget of ${this.#timeMs} ms used up: analysis truncated`);
    return true;
  }

  note(problem: string): void {
    this.problems.add(problem);
  }
}
