// Runs inspectFlow() for the default detectors in a worker thread, in order, with a bounded
// backlog: when inspection cannot keep up, flows beyond the bound are not inspected (said so),
// rather than held in memory without limit.
//
// Flows that end in the same turn of the event loop cross to the worker in one message, and the
// worker answers a batch with one message: each message costs a wake-up (a system call each way)
// and a fixed share of the structured clone, which a profile of small requests put at about a
// third of the hand-off.
//
// The worker can also write the run's flow log (openFlowLog): each flow then crosses once, for
// both its inspection and its line, and the proxy thread no longer builds or writes the line (on
// a profile of small requests, about a quarter of its CPU). The worker writes a batch's lines
// before it inspects the batch, and takes batches that arrive while it inspects between one flow
// and the next: a line reaches the OS at the end of the proxy thread's turn in which the flow
// ended plus, at most, the inspection of the one flow the worker is busy with (inspection-worker.ts).

import { Worker } from 'node:worker_threads';
import type { Flow } from '../model/flow.js';
import { encodeFlow, flowPayloadBytes, type FlowEnvelope } from '../model/flow-codec.js';
import type { InspectionResult } from './inspector.js';
import type { AppendOnlyFileEvents, AppendOnlyFileStats } from '../sinks/append-only-file.js';
import type { FlowPlace } from '../sinks/flow-line.js';
import { limits } from '../limits.js';

/** Bytes of flows waiting for the worker before new ones are passed over (said, never silent). */
export const defaultMaxBacklogBytes = limits.inspectionBacklogBytes;

/**
 * One flow crossing to the worker: inspected when it has a `seq` (its result comes back under that
 * number), its line written when `line` is set (with the destination's place, looked up here).
 */
export interface InspectionJob {
  readonly envelope: FlowEnvelope;
  seq?: number;
  line?: { readonly place?: FlowPlace };
}

/** What the proxy thread says to the worker. */
export type ToInspectionWorker =
  | { readonly jobs: readonly InspectionJob[] }
  | { readonly openFlowLog: { readonly file: string; readonly redact: boolean; readonly backlogLimitBytes: number; readonly retryMs: number } }
  | { readonly closeFlowLog: true };

/** What the worker says back: results matched by number, the flow log's troubles, its last figures. */
export type FromInspectionWorker =
  | { readonly results: ReadonlyArray<{ readonly seq: number; readonly result: InspectionResult }> }
  | { readonly flowLogEvent: { readonly kind: keyof AppendOnlyFileEvents; readonly message: string } }
  | { readonly flowLogClosed: AppendOnlyFileStats };

export class InspectionPool {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (r: InspectionResult) => void; bytes: number }>();
  #seq = 0;
  #backlogBytes = 0;
  /** Flows handed in during this turn of the event loop, sent together at its end. */
  #outgoing: Array<{ flow: Flow; job: InspectionJob }> = [];
  #dead: string | undefined;
  readonly #maxBacklogBytes: number;
  /** The flow log the worker writes, from openFlowLog() until it is closed or the worker is gone. */
  #flowLog: { events: AppendOnlyFileEvents; linesSent: number; closed?: (stats: AppendOnlyFileStats) => void } | undefined;
  #flowLogStats: Promise<AppendOnlyFileStats> | undefined;

  /** `canariesFile`: planted values the worker also looks for (validated by the caller). */
  constructor(canariesFile?: string, maxBacklogBytes = defaultMaxBacklogBytes) {
    this.#maxBacklogBytes = maxBacklogBytes;
    // In the built package this file is .js; under the test runner it is the .ts source, and the
    // worker inherits the runner's TypeScript loader through execArgv.
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    // A small nursery: the worker's garbage is a flow's decoded layers, dead once it is answered,
    // and its bodies live outside the heap; V8's default let it grow to 32 MB and keep it idle.
    // The old generation is left to V8: a worker stopped for its heap would lose findings.
    this.#worker = new Worker(new URL(`./inspection-worker${ext}`, import.meta.url), { workerData: { canariesFile }, resourceLimits: { maxYoungGenerationSizeMb: limits.inspectionWorkerYoungGenerationMb } });
    this.#worker.unref();
    this.#worker.on('message', (message: FromInspectionWorker) => {
      if ('results' in message) {
        for (const { seq, result } of message.results) {
          const pending = this.#pending.get(seq);
          if (!pending) continue;
          this.#pending.delete(seq);
          this.#backlogBytes -= pending.bytes;
          pending.resolve(result);
        }
      } else if ('flowLogEvent' in message) {
        this.#flowLog?.events[message.flowLogEvent.kind](message.flowLogEvent.message);
      } else if ('flowLogClosed' in message) {
        this.#flowLog?.closed?.(message.flowLogClosed);
      }
    });
    this.#worker.on('error', (error) => this.#fail(`inspection worker failed: ${error.message}`));
    this.#worker.on('exit', (code) => this.#fail(`inspection worker exited with code ${code}`));
  }

  #fail(reason: string): void {
    this.#dead ??= reason;
    for (const [seq, pending] of this.#pending) {
      this.#pending.delete(seq);
      pending.resolve({ drafts: [], problems: [reason] });
    }
    this.#backlogBytes = 0;
    const log = this.#flowLog;
    if (log && !log.closed) {
      // Lines handed over and not yet written are gone with the worker: said, never silent.
      log.events.failed(`the inspection worker stopped (${reason}); flows.jsonl lines of the last flows handed to it may be missing, and the proxy thread writes them from now on`);
    }
    log?.closed?.({ lines: log.linesSent, dropped: 0, pending: 0, error: reason });
    this.#flowLog = undefined;
  }

  /**
   * From now on the worker writes `file` (appended to): a flow given to writeLine() gets its line
   * there, in the order given. Failures and recoveries of the file are told to `events`.
   */
  openFlowLog(file: string, events: AppendOnlyFileEvents, options: { redact: boolean; backlogLimitBytes: number; retryMs: number }): boolean {
    if (this.#dead || this.#flowLog || this.#flowLogStats) return false;
    this.#flowLog = { events, linesSent: 0 };
    this.#worker.postMessage({ openFlowLog: { file, ...options } } satisfies ToInspectionWorker);
    return true;
  }

  /**
   * Hands the flow's line to the worker; false when it cannot take it (no flow log open, worker
   * gone), and the caller writes the line itself. A flow also given to inspect() in the same turn
   * crosses once, for both.
   */
  writeLine(flow: Flow, place: FlowPlace | undefined): boolean {
    if (this.#dead || !this.#flowLog || this.#flowLog.closed) return false;
    this.#flowLog.linesSent++;
    const line = place ? { place } : {};
    const last = this.#outgoing[this.#outgoing.length - 1];
    if (last?.flow === flow && !last.job.line) last.job.line = line;
    else this.#enqueue(flow, { envelope: encodeFlow(flow), line });
    return true;
  }

  /** Closes the flow log in the worker (each line handed over written or counted) and gives its figures. */
  closeFlowLog(): Promise<AppendOnlyFileStats> | undefined {
    const log = this.#flowLog;
    if (this.#flowLogStats || !log) return this.#flowLogStats;
    this.#flowLogStats = new Promise((resolve) => {
      log.closed = resolve;
    });
    this.#send(); // lines of this turn first
    this.#worker.postMessage({ closeFlowLog: true } satisfies ToInspectionWorker);
    return this.#flowLogStats;
  }

  inspect(flow: Flow): Promise<InspectionResult> {
    if (this.#dead) return Promise.resolve({ drafts: [], problems: [this.#dead] });
    const bytes = flowPayloadBytes(flow);
    if (this.#backlogBytes + bytes > this.#maxBacklogBytes) {
      return Promise.resolve({ drafts: [], problems: [`not inspected: inspection is ${Math.round(this.#backlogBytes / 1048576)} MiB behind the traffic`] });
    }
    this.#backlogBytes += bytes;
    const seq = ++this.#seq;
    return new Promise((resolve) => {
      this.#pending.set(seq, { resolve, bytes });
      const last = this.#outgoing[this.#outgoing.length - 1];
      if (last?.flow === flow && last.job.seq === undefined) last.job.seq = seq;
      else this.#enqueue(flow, { envelope: encodeFlow(flow), seq });
    });
  }

  #enqueue(flow: Flow, job: InspectionJob): void {
    if (this.#outgoing.length === 0) setImmediate(() => this.#send());
    this.#outgoing.push({ flow, job });
  }

  #send(): void {
    const outgoing = this.#outgoing;
    if (outgoing.length === 0) return;
    this.#outgoing = [];
    if (this.#dead) return; // #fail() already answered them
    const jobs: InspectionJob[] = new Array(outgoing.length);
    for (let i = 0; i < outgoing.length; i++) jobs[i] = outgoing[i]!.job;
    this.#worker.postMessage({ jobs } satisfies ToInspectionWorker);
  }

  /** The worker's heap limits as V8 applied them (for the test that they are set). */
  get resourceLimits(): Worker['resourceLimits'] {
    return this.#worker.resourceLimits;
  }

  async close(): Promise<void> {
    await this.closeFlowLog();
    await this.#worker.terminate();
  }
}
