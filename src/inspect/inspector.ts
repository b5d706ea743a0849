// Runs the registered detectors over every layer of a finished flow: each raw view (bodies,
// WebSocket messages, stream directions) is expanded by the decode chain, within one budget per
// flow. A detector that throws is reported and skipped; it never takes the others (or the proxy)
// down. Budget problems are reported too, so a reader knows what was not looked at.

import crypto from 'node:crypto';
import type { Flow } from '../model/flow.js';
import { describeError } from '../util/errors.js';
import { DecodeBudget } from './decode/budget.js';
import { expandLayers } from './decode/decode-chain.js';
import type { Detector } from './detect/detector.js';
import type { FindingDraft } from '../model/finding.js';
import { viewsOf } from './views.js';
import { withFields } from '../util/with-fields.js';

export interface InspectionResult {
  readonly drafts: FindingDraft[];
  /** One line per detector failure or exhausted budget, for the log and the summary. */
  readonly problems: string[];
}

/** Every finding's evidence carries a hash of what it was found in, so it can be matched later. */
function withHash(draft: FindingDraft, bytes: Buffer): FindingDraft {
  return draft.evidence.sha256 ? draft : withFields(draft, { evidence: withFields(draft.evidence, { sha256: crypto.createHash('sha256').update(bytes).digest('hex') }) });
}

/** `budget`: the defaults unless given (the proxy thread's quick look at a small flow gives a smaller one). */
export function inspectFlow(flow: Flow, detectors: readonly Detector[], budget: DecodeBudget = new DecodeBudget()): InspectionResult {
  const drafts: FindingDraft[] = [];
  // Made at the first finding: most flows have none.
  let seen: Set<string> | undefined;
  let canaries: Map<string, number> | undefined;
  for (const root of viewsOf(flow)) {
    for (const layer of expandLayers(root, budget)) {
      for (const detector of detectors) {
        if (budget.expired()) return { drafts, problems: [...budget.problems] };
        try {
          if (!detector.gate(layer)) continue;
          for (const draft of detector.detect(layer, budget)) {
            // The same thing seen through two routes (a structured layer and its raw text) is one finding.
            // A planted value seen in a layer and again deeper is one finding: the deeper path says more.
            if (draft.canary) {
              const key = `canary|${draft.canary}|${draft.direction}`;
              canaries ??= new Map();
              const earlier = canaries.get(key);
              if (earlier !== undefined && drafts[earlier]!.evidence.path.length >= draft.evidence.path.length) continue;
              if (earlier !== undefined) {
                drafts[earlier] = withHash(draft, layer.bytes);
                continue;
              }
              canaries.set(key, drafts.length);
              drafts.push(withHash(draft, layer.bytes));
              continue;
            }
            const key = `${draft.category}|${draft.detector}|${draft.evidence.sha256 ?? draft.summary}`;
            seen ??= new Set();
            if (seen.has(key)) continue;
            seen.add(key);
            drafts.push(withHash(draft, layer.bytes));
          }
        } catch (error) {
          budget.note(`detector ${detector.id} failed on ${layer.path.join(' > ')}: ${describeError(error)}`);
        }
      }
    }
  }
  return { drafts, problems: budget.problems.size === 0 ? [] : [...budget.problems] };
}
