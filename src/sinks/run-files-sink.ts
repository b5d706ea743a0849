// The run folder's two logs as one sink: findings.jsonl and flows.jsonl, written line by line as
// findings and flows arrive, closed at the stop, and flows.har built from the flow log when the run
// is small (the log is the one durable record, the HAR its view: src/run/har-on-stop.ts). What could
// not be written becomes a problem (exit 2).

import path from 'node:path';
import type { EventBus } from '../flow/events.js';
import { limits } from '../limits.js';
import type { HarLogFacts } from '../run/har-builder.js';
import { buildHarWhenSmall } from '../run/har-on-stop.js';
import { FINDINGS_FILE, FLOW_LOG, HAR_FILE } from '../run/layout.js';
import { describeError } from '../util/errors.js';
import { FindingsJsonlSink } from './findings-jsonl-sink.js';
import { FlowLogSink } from './flow-log-sink.js';
import type { Sink, SinkStats } from './sink.js';

export interface RunFilesOptions {
  readonly redact: boolean;
  readonly insecureUpstream: boolean;
  /** flows.har's head, read at the stop (the run's first start). */
  readonly harFacts: () => HarLogFacts;
  /** flows.har is built on stop up to this much flows.jsonl (default limits.harOnStopMaxLogBytes). */
  readonly harOnStopMaxLogBytes?: number;
}

export class RunFilesSink implements Sink {
  readonly name = 'run files';
  readonly closes = 'files';
  readonly #outDir: string;
  readonly #harFacts: () => HarLogFacts;
  readonly #harOnStopMaxLogBytes: number;
  readonly #findings: FindingsJsonlSink;
  readonly #flows: FlowLogSink;

  /** Opens (creates or appends to) both logs; their write failures and recoveries go to the log. */
  constructor(outDir: string, log: (level: 'error' | 'info', message: string) => void, options: RunFilesOptions) {
    this.#outDir = outDir;
    this.#harFacts = options.harFacts;
    this.#harOnStopMaxLogBytes = options.harOnStopMaxLogBytes ?? limits.harOnStopMaxLogBytes;
    const events = { failed: (message: string) => log('error', message), recovered: (message: string) => log('info', message) };
    const files = { backlogLimitBytes: limits.sinkBacklogBytes, retryMs: limits.sinkRetryMs };
    this.#findings = new FindingsJsonlSink(path.join(outDir, FINDINGS_FILE), events, { redact: options.redact, insecureUpstream: options.insecureUpstream, ...files });
    this.#flows = new FlowLogSink(path.join(outDir, FLOW_LOG), events, { redact: options.redact, ...files });
  }

  attach(bus: EventBus): void {
    bus.listen('finding', FINDINGS_FILE, (finding) => this.#findings.write(finding));
    bus.listen('flow:end', FLOW_LOG, (flow) => this.#flows.write(flow));
  }

  /** A start that failed: the files are let go at once, without flows.har. */
  abandon(): void {
    this.#findings.close();
    this.#flows.close();
  }

  async close(): Promise<SinkStats> {
    const problems: string[] = [];
    const notes: string[] = [];
    let written = 0;
    let skipped = 0;
    for (const [name, file] of [[FINDINGS_FILE, this.#findings], [FLOW_LOG, this.#flows]] as const) {
      const stats = file.close();
      written += stats.lines;
      skipped += stats.dropped + stats.pending;
      if (stats.dropped > 0 || stats.pending > 0) problems.push(`${name}: ${stats.dropped + stats.pending} line(s) could not be written (${stats.error ?? 'write failed'})`);
    }
    try {
      const har = await buildHarWhenSmall(this.#outDir, this.#harFacts(), { maxLogBytes: this.#harOnStopMaxLogBytes });
      if (!har.built) notes.push(har.note);
    } catch (error) {
      problems.push(`${HAR_FILE}: ${describeError(error)} (${FLOW_LOG} keeps every flow; run phonehome recover ${this.#outDir} when there is room)`);
    }
    return { written, skipped, notes, problems };
  }
}
