// The lab day's arithmetic, apart from any measuring so it can be tested on its own: percentiles
// of the added latency per kind of action, the capture's CPU % over a sample interval, RSS at the
// minutes the README lists, and whether RSS stayed flat (within ±10 % of its warmed-up level).

import type { ActionKind, LatencyPair } from './lab-day-device.js';

/** One sample of the capture process, every ~10 s. */
export interface LabDaySample {
  readonly seconds: number;
  readonly rssMb: number;
  /** Over the interval since the previous sample (all threads; 100 = one core); null for the first. */
  readonly cpuPercent: number | null;
  /** Flows completed through the capture so far. */
  readonly flows: number;
}

/** The value below which p % of the values lie (nearest rank); NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** CPU % of one core over an interval, from clock ticks (utime + stime) at its two ends. */
export function cpuPercent(ticksBefore: number, ticksAfter: number, clockTicksPerSecond: number, seconds: number): number {
  if (seconds <= 0 || clockTicksPerSecond <= 0) throw new Error(`lab day: a CPU interval needs positive seconds and ticks per second, not ${seconds} s at ${clockTicksPerSecond}/s`);
  return (Math.max(0, ticksAfter - ticksBefore) / clockTicksPerSecond / seconds) * 100;
}

export interface AddedLatency {
  readonly kind: ActionKind;
  readonly pairs: number;
  readonly directP50: number;
  readonly throughP50: number;
  /** Percentiles of (through − direct) over the pairs, in ms. */
  readonly addedP50: number;
  readonly addedP99: number;
}

/** Per kind of action (in a fixed order; kinds without a pair are left out). */
export function addedLatency(pairs: readonly LatencyPair[]): AddedLatency[] {
  const kinds: ActionKind[] = ['api', 'upload', 'websocket', 'pinned'];
  return kinds.flatMap((kind) => {
    const mine = pairs.filter((p) => p.kind === kind);
    if (mine.length === 0) return [];
    const added = mine.map((p) => p.throughMs - p.directMs);
    return [{ kind, pairs: mine.length, directP50: percentile(mine.map((p) => p.directMs), 50), throughP50: percentile(mine.map((p) => p.throughMs), 50), addedP50: percentile(added, 50), addedP99: percentile(added, 99) }];
  });
}

/** RSS at each whole minute asked for: the first sample at or after it (none past the end). */
export function rssAtMinutes(samples: readonly LabDaySample[], minutes: readonly number[]): Array<{ minute: number; rssMb: number }> {
  return minutes.flatMap((minute) => {
    const sample = samples.find((s) => s.seconds >= minute * 60);
    return sample ? [{ minute, rssMb: sample.rssMb }] : [];
  });
}

export interface Flatness {
  /** When the warm-up ended: the reference is the first sample at or after it. */
  readonly warmUpSeconds: number;
  /** The first sample at or after the warm-up: the level the rest is held to. */
  readonly referenceMb: number;
  readonly minMb: number;
  readonly maxMb: number;
  /** The largest departure from the reference, as a fraction (0.07 = 7 %). */
  readonly maxDeviation: number;
  readonly flat: boolean;
}

/** Whether RSS after the warm-up stays within ±tolerance of its level at the warm-up's end; undefined without a sample past it. */
export function rssFlatness(samples: readonly LabDaySample[], warmUpSeconds = 60, tolerance = 0.1): Flatness | undefined {
  const warm = samples.filter((s) => s.seconds >= warmUpSeconds);
  if (warm.length === 0) return undefined;
  const referenceMb = warm[0]!.rssMb;
  const values = warm.map((s) => s.rssMb);
  const minMb = Math.min(...values);
  const maxMb = Math.max(...values);
  const maxDeviation = referenceMb > 0 ? Math.max(maxMb - referenceMb, referenceMb - minMb) / referenceMb : Infinity;
  return { warmUpSeconds, referenceMb, minMb, maxMb, maxDeviation, flat: maxDeviation <= tolerance };
}

/**
 * How long the phones take to make every kind of action at least once: a device waits gap x
 * (0.5 to 1.5) before each action of a kind (the pinned app, which starts at once with its
 * refusal, before its second attempt, the first passed through), so 1.5 x the longest gap. At a
 * phone's pace that is 3 minutes. Until then the capture is still meeting kinds of traffic for the
 * first time (the first photo's buffers, the pinned host learned), and RSS rises with them: a
 * reference taken earlier judged where the warm-up stood more than whether memory grew.
 */
export function labDayWarmUpSeconds(gaps: Readonly<Record<string, number>>): number {
  return 1.5 * Math.max(...Object.values(gaps));
}

/** Mean and peak CPU % over the samples that have an interval. */
export function cpuFigures(samples: readonly LabDaySample[]): { meanPercent: number; peakPercent: number } | undefined {
  const values = samples.map((s) => s.cpuPercent).filter((v): v is number => v !== null);
  if (values.length === 0) return undefined;
  return { meanPercent: values.reduce((a, b) => a + b, 0) / values.length, peakPercent: Math.max(...values) };
}
