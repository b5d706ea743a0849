// report.html on stop (--report): made from the files just closed, so it says exactly what they
// say; skipped when any of them could not be written whole.

import type { EventBus } from '../flow/events.js';
import { describeError } from '../util/errors.js';
import type { RunEnding, Sink, SinkStats } from './sink.js';

export class ReportSink implements Sink {
  readonly name = 'report';
  readonly closes = 'report';
  readonly #outDir: string;
  readonly #redact: boolean;

  constructor(outDir: string, options: { redact: boolean }) {
    this.#outDir = outDir;
    this.#redact = options.redact;
  }

  attach(_bus: EventBus): void {
    // The report reads the run folder, not the bus.
  }

  async close(ending: RunEnding): Promise<SinkStats> {
    if (ending.problems.length > 0) return { written: 0, skipped: 1 };
    try {
      const { reportRunFolder } = await import('../report/build-report.js');
      await reportRunFolder(this.#outDir, { redact: this.#redact });
      return { written: 1, skipped: 0 };
    } catch (error) {
      return { written: 0, skipped: 1, problems: [`report.html: ${describeError(error)}`] };
    }
  }
}
