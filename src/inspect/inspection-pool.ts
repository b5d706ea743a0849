// Runs inspectFlow() for the default detectors in a worker thread, in order, with a bounded
// backlog: when inspection cannot keep up, flows beyond the bound are not inspected (said so),
// rather than held in memory without limit.
//
// Flows that end in the same turn of the event loop cross to the worker in one message, and the
// worker answers a batch with one message: each message costs a wake-up (a system call each way)
// and a fixed share of the structured clone, which a profile of small requests put at about a
// third of the hand-off.

import { Worker } from 'node:worker_threads';
import type { Flow } from '../model/flow.js';
import { encodeFlow, flowPayloadBytes, type FlowEnvelope } from '../model/flow-codec.js';
import type { InspectionResult } from './inspector.js';
import { limits } from '../limits.js';

/** Bytes of flows waiting for the worker before new ones are passed over (said, never silent). */
export const defaultMaxBacklogBytes = limits.inspectionBacklogBytes;

/** What crosses to the worker, and what comes back: flows and results matched by number. */
export interface InspectionBatch { readonly flows: ReadonlyArray<{ readonly seq: number; readonly envelope: FlowEnvelope }> }
export interface InspectionAnswers { readonly results: ReadonlyArray<{ readonly seq: number; readonly result: InspectionResult }> }

export class InspectionPool {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (r: InspectionResult) => void; bytes: number }>();
  #seq = 0;
  #backlogBytes = 0;
  /** Flows handed in during this turn of the event loop, sent together at its end. */
  #outgoing: Array<InspectionBatch['flows'][number]> = [];
  #dead: string | undefined;
  readonly #maxBacklogBytes: number;

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
    this.#worker.on('message', (message: InspectionAnswers) => {
      for (const { seq, result } of message.results) {
        const pending = this.#pending.get(seq);
        if (!pending) continue;
        this.#pending.delete(seq);
        this.#backlogBytes -= pending.bytes;
        pending.resolve(result);
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
      if (this.#outgoing.length === 0) setImmediate(() => this.#send());
      this.#outgoing.push({ seq, envelope: encodeFlow(flow) });
    });
  }

  #send(): void {
    const flows = this.#outgoing;
    this.#outgoing = [];
    if (this.#dead) return; // #fail() already answered them
    const batch: InspectionBatch = { flows };
    this.#worker.postMessage(batch);
  }

  /** The worker's heap limits as V8 applied them (for the test that they are set). */
  get resourceLimits(): Worker['resourceLimits'] {
    return this.#worker.resourceLimits;
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
