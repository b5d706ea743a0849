// The summary as a sink: every flow and finding is counted as it arrives (for the summary, the
// exit code and the final line), and summary.json is written at the stop, after the files, with
// what the sinks closed before it could not write and the notes of the run.

import path from 'node:path';
import type { EventBus } from '../flow/events.js';
import { severityRank, type Severity } from '../model/finding.js';
import type { LearnedHost } from '../model/learned-host.js';
import { writeJsonAtomically } from '../run/atomic-write.js';
import { SUMMARY_FILE } from '../run/layout.js';
import { describeError } from '../util/errors.js';
import type { RunEnding, Sink, SinkStats } from './sink.js';
import { SummaryCollector, type SummaryContext } from './summary.js';

export interface SummarySinkOptions {
  /** The run folder; without one (--no-files) nothing is written, but the counts are kept. */
  readonly outDir?: string;
  /** --fail-on: findings at or above it make the exit code 3. */
  readonly failOn?: Severity;
  /** Read at the stop: the run's first start, its options, the hosts learned for passthrough. */
  readonly context: () => SummaryContext;
  readonly learnedPassthrough: () => readonly LearnedHost[];
}

export class SummarySink implements Sink {
  readonly name = 'summary';
  readonly closes = 'summary';
  readonly collector = new SummaryCollector();
  readonly #options: SummarySinkOptions;
  #worstSeverity = -1;

  constructor(options: SummarySinkOptions) {
    this.#options = options;
  }

  attach(bus: EventBus): void {
    bus.listen('flow:end', 'summary', (flow) => this.collector.addFlow(flow));
    bus.listen('finding', 'summary', (finding) => {
      this.collector.addFinding(finding);
      this.#worstSeverity = Math.max(this.#worstSeverity, severityRank(finding.severity));
    });
  }

  /** 2 when something could not be written, 3 with a finding at or above --fail-on, else 0. */
  exitCode(problems: number): 0 | 2 | 3 {
    const failOn = this.#options.failOn;
    return problems > 0 ? 2 : failOn !== undefined && this.#worstSeverity >= severityRank(failOn) ? 3 : 0;
  }

  async close(ending: RunEnding): Promise<SinkStats> {
    const outDir = this.#options.outDir;
    if (!outDir) return { written: 0, skipped: 0 };
    const notes = [...ending.notes, ...ending.problems.map((problem) => `not written: ${problem}`)];
    try {
      writeJsonAtomically(path.join(outDir, SUMMARY_FILE), this.collector.snapshot(this.#options.context(), {
        endedAt: ending.endedAt, learnedPassthrough: this.#options.learnedPassthrough(), exitCode: ending.exitCode(),
        failOn: this.#options.failOn ?? null, notes, ...ending.facts,
      }));
      return { written: 1, skipped: 0 };
    } catch (error) {
      return { written: 0, skipped: 1, problems: [`${SUMMARY_FILE}: ${describeError(error)}`] };
    }
  }
}
