// Under a phone's pace the proxy thread's old generation fills slowly with garbage (objects that
// lived through two nursery collections and then died: 45-60 KB/s on the lab day), and V8 starts
// collecting it only near its limit, which the launcher's floor keeps at 32 MB or more for the
// sake of uploads (bin/phonehome.js), or when its memory reducer finds the thread idle enough:
// 100-270 s apart on a 30-minute lab day. Meanwhile the old space grew 15 -> 25 MB, dead Buffers
// waited with it (up to 6.5 MB), and V8 kept the pages it had grown to: RSS rose by ~10 MB in steps.
//
// The pacer looks every few seconds and, once the old generation holds a set amount more than its
// lowest level since the last start, starts V8's incremental marking of the memory-reducing kind
// (src/util/incremental-marking.ts: what V8 does under moderate memory pressure; it also compacts
// pages to give them back), marked in small steps and on V8's helper threads, the thread paused to
// finish (3.5-9.4 ms on the lab day). It never forces a full stop-the-world collection (`gc()`),
// which took 17-55 ms of the proxy thread here.
//
// The step is 2 MiB (every 50-60 s on the lab day; 4 MiB until 2026-12-04, every 90-110 s). Two
// 30-minute lab days, each beside one with 4 MiB: RSS from minute 5 at a median of 101 and 97 MB
// against 105 and 103. In the second pair V8's old space held at 18.1 MB committed instead of 19.4,
// and the memory outside this thread's heap (glibc's, the inspection worker's) at 27 MB instead of
// 31, likely because dead Buffers, freed only when a full collection finds their objects, give
// their memory back to glibc twice as soon.
// Under the bench's load V8 reaches its own limit first: 8-9 full collections in a 12-s run of
// small requests with the 4 MiB step, the 2 MiB step and no pacer alike.
//
// Where the addon did not build, there is no pacer and V8 keeps its own schedule.

import v8 from 'node:v8';
import { incrementalMarking } from './incremental-marking.js';

/**
 * When to start a collection, from samples of the old generation's size: once it holds `stepBytes`
 * more than the lowest sample since the last start. A collection (ours or V8's) shows as a fall,
 * and the lowest level follows it down. No I/O: the timer and V8 are the caller's.
 */
export class OldGenerationPacing {
  #lowest = Infinity;

  constructor(readonly stepBytes: number) {}

  /** Takes one sample; true when a collection should start now. */
  observe(usedBytes: number): boolean {
    this.#lowest = Math.min(this.#lowest, usedBytes);
    if (usedBytes - this.#lowest <= this.stepBytes) return false;
    // Measured afresh from the next sample: the collection lowers it, or shows the growth was live.
    this.#lowest = Infinity;
    return true;
  }
}

export interface PacerOptions {
  /** Growth of the old generation that starts a collection (default 2 MiB: on the lab day one every 50-60 s). */
  readonly stepBytes?: number;
  /** How often to look (default 5 s; a look reads V8's space statistics, about 1 µs). */
  readonly intervalMs?: number;
}

/** The old generation's size in use: V8's old space and its large objects (what a full collection frees). */
export function oldGenerationUsedBytes(): number {
  let used = 0;
  for (const space of v8.getHeapSpaceStatistics()) {
    if (space.space_name === 'old_space' || space.space_name === 'large_object_space') used += space.space_used_size;
  }
  return used;
}

/** A running pacer on this thread's heap. */
export interface OldGenerationPacer {
  /** Collections started so far. */
  readonly started: number;
  /** Until stop(). */
  readonly running: boolean;
  stop(): void;
}

/** Starts pacing this thread's old generation; undefined where the addon is missing. The timer never keeps the process alive. */
export function startOldGenerationPacer(options: PacerOptions = {}): OldGenerationPacer | undefined {
  const startMarking = incrementalMarking()?.reduceMemory;
  if (!startMarking) return undefined;
  const pacing = new OldGenerationPacing(options.stepBytes ?? 2 * 1024 * 1024);
  let started = 0;
  let running = true;
  const timer = setInterval(() => {
    if (!pacing.observe(oldGenerationUsedBytes())) return;
    started++;
    startMarking();
  }, options.intervalMs ?? 5000);
  timer.unref();
  return {
    get started() {
      return started;
    },
    get running() {
      return running;
    },
    stop: () => {
      running = false;
      clearInterval(timer);
    },
  };
}
