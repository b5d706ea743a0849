// The run's sinks in one place: each is attached to the bus when added, and all close together at
// the stop in closeOrder (files flushed before the summary and the report read them). A sink that
// fails to close is said on the log and in the notes (a problem, exit 2, when it writes evidence);
// the others still close.

import type { EventBus } from '../flow/events.js';
import { describeError } from '../util/errors.js';
import { closeOrder, type ClosePhase, type RunEnding, type Sink, type SinkStats } from './sink.js';

/** The phases whose sinks write the run's evidence. */
const EVIDENCE = new Set<ClosePhase>(['files', 'summary', 'report']);

export type SinkReport = { readonly name: string; readonly stats: SinkStats } | { readonly name: string; readonly error: string };

export class SinkRegistry {
  readonly #bus: EventBus;
  readonly #sinks: Sink[] = [];
  #closing = false;

  constructor(bus: EventBus) {
    this.#bus = bus;
  }

  /** Attaches the sinks now; they close with the others. Refused once closing has begun. */
  add(...sinks: readonly Sink[]): void {
    if (this.#closing) throw new Error(`sink ${sinks.map((s) => s.name).join(', ')} added after the run stopped`);
    for (const sink of sinks) {
      this.#sinks.push(sink);
      sink.attach(this.#bus);
    }
  }

  get names(): string[] {
    return this.#sinks.map((sink) => sink.name);
  }

  /**
   * Closes every sink once, phase by phase (in the order added within a phase). Their problems,
   * notes and facts are gathered into `ending` as they go, so a later sink (the summary) sees
   * what an earlier one (the files) could not write.
   */
  async closeAll(ending: RunEnding): Promise<SinkReport[]> {
    this.#closing = true;
    const ordered = this.#sinks.splice(0).map((sink, index) => ({ sink, index }))
      .sort((a, b) => closeOrder.indexOf(a.sink.closes) - closeOrder.indexOf(b.sink.closes) || a.index - b.index);
    const reports: SinkReport[] = [];
    for (const { sink } of ordered) {
      try {
        const stats = await sink.close(ending);
        ending.notes.push(...(stats.notes ?? []));
        ending.problems.push(...(stats.problems ?? []));
        if (stats.facts) ending.facts[sink.name] = stats.facts;
        reports.push({ name: sink.name, stats });
      } catch (error) {
        const message = describeError(error);
        this.#bus.log('error', `sink ${sink.name} could not close: ${message}`);
        ending.notes.push(`sink ${sink.name} could not close: ${message}`);
        // A file, the summary or the report left half written makes the evidence incomplete (exit 2).
        if (EVIDENCE.has(sink.closes)) ending.problems.push(`${sink.name}: ${message}`);
        reports.push({ name: sink.name, error: message });
      }
    }
    return reports;
  }
}
