// A small flow is inspected on the proxy's own thread, within a small budget, instead of crossing to
// the inspection worker. Crossing cost more than inspecting: for a small request (a 1 KB flow, a
// 64-byte body) the detectors took about 20 µs, the hand-off about 75 µs more of CPU across the
// threads (the structured clone out and back, the worker's wake-up, its copy of the flow, the
// answer's message), about a fifth of all the CPU the capture spent on the request (issue #24).
//
// The quick look must never cost the proxy a pause nor change a finding, so it only decides when it
// is sure: a flow whose inspection hit any limit of the small budget (time, decoded bytes), met a
// decoder or detector that failed, or held a database (SQLite's reader lives in the worker) gets
// no answer here and goes to the worker, which inspects it from the start with the full budget.
// Findings are then the same as the worker's: the limits of a budget only ever take away, and
// taking away is always said as a problem.

import type { Flow } from '../model/flow.js';
import { flowPayloadBytes } from '../model/flow-codec.js';
import { DecodeBudget } from './decode/budget.js';
import { takeSqliteWanted } from './decode/sqlite.js';
import type { Detector } from './detect/detector.js';
import { inspectFlow, type InspectionResult } from './inspector.js';

export interface InlineInspectionLimits {
  readonly maxPayloadBytes: number;
  readonly timeMs: number;
  readonly decodedBytes: number;
}

export const inlineInspectionLimits: InlineInspectionLimits = {
  /** Bodies, messages and streams of a flow, all together: larger flows always go to the worker. */
  maxPayloadBytes: 16 * 1024,
  /**
   * What one quick look may hold up the proxy's thread for, at most (plus one decode step): every
   * connection on the thread waits that long. A small flow's detectors take about 20 µs; a flow
   * that needs more than 1 ms is the worker's.
   */
  timeMs: 1,
  /** What the decoders of one quick look may produce: 16 KiB of gzip can hide megabytes. */
  decodedBytes: 256 * 1024,
};

/**
 * The flow's findings when it is small and inspecting it here hit no limit; else undefined (the
 * worker's to do). The first flows of a run often go to the worker: the detectors' first calls are
 * slow (compiling, building their tables) and outlast the time limit.
 */
export function inspectInline(flow: Flow, detectors: readonly Detector[], limits: InlineInspectionLimits = inlineInspectionLimits): InspectionResult | undefined {
  if (flowPayloadBytes(flow) > limits.maxPayloadBytes) return undefined;
  let result: InspectionResult | undefined;
  try {
    result = inspectFlow(flow, detectors, new DecodeBudget(limits.timeMs, limits.decodedBytes));
  } catch {
    // Never on the proxy's thread: the worker meets it again and says what failed.
    result = undefined;
  }
  // Always taken, so a database met here does not leave the flag set for a later flow.
  const wantedSqlite = takeSqliteWanted();
  return result && result.problems.length === 0 && !wantedSqlite ? result : undefined;
}
