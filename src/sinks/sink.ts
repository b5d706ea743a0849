// A sink: anything that takes the run's events off the bus and puts them somewhere (files, the
// summary, the console, the terminal UI, the report, the fleet). Every sink has the same shape,
// so the capture session needs no knowledge of any one of them: it attaches them all at the
// start and closes them all, in the order below, at the stop.
//
// A new sink is one file here (a class implementing Sink, its phase in closeOrder) and one
// `sinks.add(...)` line: in CaptureSession#openFiles when it writes the run folder, in the
// session's constructor when it runs with or without one, or in a command (capture, ui, demo)
// when it is a front end.

import type { EventBus } from '../flow/events.js';

/**
 * The order sinks close in, and why: the fleet is flushed first (its counts go into the
 * summary); the run files are closed (and flows.har built) before the summary and the report
 * read them; the summary before the report; what the person watches (console, terminal UI) last,
 * so it shows every message of the stop.
 */
export const closeOrder = ['publish', 'files', 'summary', 'report', 'display'] as const;
export type ClosePhase = (typeof closeOrder)[number];

/** What one sink did, for the summary's notes and the exit code. */
export interface SinkStats {
  /** Records written: lines, messages, files. */
  readonly written: number;
  /** Records not written (dropped, cut, refused). */
  readonly skipped: number;
  /** Sentences for summary.json's notes. */
  readonly notes?: readonly string[];
  /** What could not be written: any makes the run's evidence incomplete (exit 2). */
  readonly problems?: readonly string[];
  /** Facts for summary.json, under the sink's name (the fleet's counts). */
  readonly facts?: Record<string, unknown>;
}

/**
 * The stop as the sinks see it while they close, one after the other: what those closed before
 * said. A sink that does not care ignores it.
 */
export interface RunEnding {
  readonly endedAt: string;
  /** The run's notes so far; sinks closed earlier have added theirs. */
  readonly notes: string[];
  /** What could not be written so far. */
  readonly problems: string[];
  /** summary.json facts of the sinks closed so far, by sink name. */
  readonly facts: Record<string, Record<string, unknown>>;
  /** The exit code as things stand: 2 with problems, 3 with findings at --fail-on, else 0. */
  exitCode(): 0 | 2 | 3;
}

export interface Sink {
  /** Said in warnings and counts ("console", "flows.jsonl"); also the name its listeners fail under. */
  readonly name: string;
  readonly closes: ClosePhase;
  /** Starts listening. The bus isolates its listeners: a throw is said once and counted. */
  attach(bus: EventBus): void;
  /** Flushes and lets go; called once, after the proxy and inspection have stopped. */
  close(ending: RunEnding): Promise<SinkStats>;
}

/** A sink with nothing to count when it closes. */
export const nothingWritten: SinkStats = { written: 0, skipped: 0 };
