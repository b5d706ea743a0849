// Runs the registered detectors over every view of a finished flow. A detector that throws is
// reported and skipped; it never takes the others (or the proxy) down.

import { performance } from 'node:perf_hooks';
import type { Flow } from '../flow/flow.js';
import { describeError } from '../util/errors.js';
import type { Detector } from './detect/detector.js';
import type { FindingDraft } from './finding.js';
import { viewsOf } from './views.js';

export interface InspectionResult {
  readonly drafts: FindingDraft[];
  /** One line per detector failure or exhausted budget, for the flow's record and the log. */
  readonly problems: string[];
}

export const inspectionTimeBudgetMs = 2_000;

export function inspectFlow(flow: Flow, detectors: readonly Detector[]): InspectionResult {
  const drafts: FindingDraft[] = [];
  const problems: string[] = [];
  const budget = { deadlineMs: performance.now() + inspectionTimeBudgetMs };
  for (const view of viewsOf(flow)) {
    for (const detector of detectors) {
      if (performance.now() > budget.deadlineMs) {
        problems.push(`inspection time budget of ${inspectionTimeBudgetMs} ms used up`);
        return { drafts, problems };
      }
      try {
        if (detector.gate(view)) drafts.push(...detector.detect(view, budget));
      } catch (error) {
        problems.push(`detector ${detector.id} failed on ${view.path.join(' > ')}: ${describeError(error)}`);
      }
    }
  }
  return { drafts, problems };
}
