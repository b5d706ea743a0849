// The bench's arithmetic, apart from any measuring so it can be tested on its own: the median of
// a figure's rounds with its spread, and the CPU a subject spent per request.

/** A figure over its rounds: the median and the lowest and highest round. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly rounds: number;
}

/** The middle value (the mean of the two middle ones for an even count); undefined for none. */
export function median(values: readonly number[]): number | undefined {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median, min and max of the rounds that produced a number (a failed round gives none). */
export function spreadOf(values: readonly (number | undefined)[]): Spread | undefined {
  const measured = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  const mid = median(measured);
  if (mid === undefined) return undefined;
  return { median: mid, min: Math.min(...measured), max: Math.max(...measured), rounds: measured.length };
}

/**
 * Microseconds of CPU (user + system, every thread) per request, from clock ticks read before and
 * after the requests. A tick is 1/clockTicksPerSecond s (10 ms at the usual 100), so a figure is
 * only as good as the ticks it spans: a few thousand requests are needed for a close one.
 */
export function cpuMicrosPerRequest(ticksBefore: number, ticksAfter: number, clockTicksPerSecond: number, requests: number): number | undefined {
  if (requests <= 0 || clockTicksPerSecond <= 0 || ticksAfter < ticksBefore) return undefined;
  return ((ticksAfter - ticksBefore) / clockTicksPerSecond) * 1e6 / requests;
}

/** Milliseconds of CPU per MB moved, from the same ticks (a 128 MB upload spans 35-60 of them here: ±3 %). */
export function cpuMillisPerMb(ticksBefore: number, ticksAfter: number, clockTicksPerSecond: number, megabytes: number): number | undefined {
  const micros = cpuMicrosPerRequest(ticksBefore, ticksAfter, clockTicksPerSecond, megabytes);
  return micros === undefined ? undefined : micros / 1000;
}

/** A number for the table: thousands grouped, `digits` decimals. */
export function formatNumber(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** "median (min–max)", or the median alone when the rounds agree or there was one. */
export function formatSpread(spread: Spread | undefined, digits = 0, unit = ''): string {
  if (!spread) return '–';
  const mid = `${formatNumber(spread.median, digits)}${unit}`;
  const low = formatNumber(spread.min, digits);
  const high = formatNumber(spread.max, digits);
  return spread.rounds < 2 || low === high ? mid : `${mid} (${low}–${high})`;
}
