// run.json's last word: the session's end time and `finished: true`, written only when every file
// before it was whole, so an unfinished run.json tells `recover` there is something to rebuild.

import type { EventBus } from '../flow/events.js';
import { writeRunRecord, type RunRecord } from '../run/run-record.js';
import { RUN_FILE } from '../run/layout.js';
import { describeError } from '../util/errors.js';
import type { RunEnding, Sink, SinkStats } from './sink.js';

export class RunRecordSink implements Sink {
  readonly name = 'run record';
  readonly closes = 'summary';
  readonly #outDir: string;
  readonly #record: RunRecord;

  /** The record as written at the start; this session is its last. */
  constructor(outDir: string, record: RunRecord) {
    this.#outDir = outDir;
    this.#record = record;
  }

  attach(_bus: EventBus): void {
    // Nothing to hear: run.json changes only at the start and the stop.
  }

  async close(ending: RunEnding): Promise<SinkStats> {
    if (ending.problems.length > 0) return { written: 0, skipped: 1 };
    this.#record.sessions.at(-1)!.endedAt = ending.endedAt;
    this.#record.finished = true;
    try {
      writeRunRecord(this.#outDir, this.#record);
      return { written: 1, skipped: 0 };
    } catch (error) {
      return { written: 0, skipped: 1, problems: [`${RUN_FILE}: ${describeError(error)}`] };
    }
  }
}
