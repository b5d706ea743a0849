// Runs inspectFlow() for the default detectors in a worker thread (small flows here first), with a bounded
// backlog: when inspection cannot keep up, flows beyond the bound are not inspected (said so),
// rather than held in memory without limit.
//
// Flows that end in the same turn of the event loop cross to the worker in one message, and the
// worker answers a batch with one message: each message costs a wake-up (a system call each way)
// and a fixed share of the structured clone, which a profile of small requests put at about a
// third of the hand-off. Small flows mostly do not cross at all: at the end of the turn each is
// first inspected here within a small budget (inline-inspection.ts), and only those that need more
// go to the worker.

import { Worker } from 'node:worker_threads';
import type { Flow } from '../model/flow.js';
import { encodeFlow, flowPayloadBytes, type FlowEnvelope } from '../model/flow-codec.js';
import type { InspectionResult } from './inspector.js';
import type { Detector } from './detect/detector.js';
import { defaultDetectors } from './detect/registry.js';
import { withCanaries } from './canary/canary-detector.js';
import { inlineInspectionLimits, inspectInline, type InlineInspectionLimits } from './inline-inspection.js';
import { limits } from '../limits.js';
import { clearOldGenerationFloorForNewIsolates } from '../util/old-generation-floor.js';

/** Bytes of flows waiting for the worker before new ones are passed over (said, never silent). */
export const defaultMaxBacklogBytes = limits.inspectionBacklogBytes;

/** What crosses to the worker, and what comes back: flows and results matched by number. */
export interface InspectionBatch { readonly flows: ReadonlyArray<{ readonly seq: number; readonly envelope: FlowEnvelope }> }
export interface InspectionAnswers { readonly results: ReadonlyArray<{ readonly seq: number; readonly result: InspectionResult }> }
/** The worker's first message: whether its old generation's pacer runs (util/old-generation-pacer.ts). */
export interface InspectionWorkerStarted { readonly pacing: boolean }

export class InspectionPool {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (r: InspectionResult) => void; bytes: number }>();
  #seq = 0;
  #backlogBytes = 0;
  #inspectedHere = 0;
  /** Flows handed in during this turn of the event loop, inspected or sent together at its end. */
  #outgoing: Array<{ readonly seq: number; readonly flow: Flow }> = [];
  /** The worker's detectors, for the small flows inspected on this thread. */
  readonly #detectors: readonly Detector[];
  #dead: string | undefined;
  readonly #maxBacklogBytes: number;
  readonly #inline: InlineInspectionLimits;
  readonly #workerPacing: Promise<boolean>;

  /**
   * `canariesFile`: planted values the worker also looks for (validated by the caller). `inline`:
   * which flows are inspected on this thread first (tests give a time limit no machine outlasts).
   */
  constructor(canariesFile?: string, maxBacklogBytes = defaultMaxBacklogBytes, inline = inlineInspectionLimits) {
    this.#maxBacklogBytes = maxBacklogBytes;
    this.#inline = inline;
    this.#detectors = withCanaries(defaultDetectors, canariesFile);
    // In the built package this file is .js; under the test runner it is the .ts source, and the
    // worker inherits the runner's TypeScript loader through execArgv.
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    // A small nursery: the worker's garbage is a flow's decoded layers, dead once it is answered,
    // and its bodies live outside the heap; V8's default let it grow to 32 MB and keep it idle.
    // Its old generation has no floor (old-generation-floor.ts) and is paced as the proxy thread's
    // (inspection-worker.ts); it has no hard limit either: a worker stopped for its heap would lose findings.
    clearOldGenerationFloorForNewIsolates();
    this.#worker = new Worker(new URL(`./inspection-worker${ext}`, import.meta.url), { workerData: { canariesFile }, resourceLimits: { maxYoungGenerationSizeMb: limits.inspectionWorkerYoungGenerationMb } });
    this.#worker.unref();
    let pacing: (running: boolean) => void = () => {};
    this.#workerPacing = new Promise((resolve) => (pacing = resolve));
    this.#worker.on('message', (message: InspectionAnswers | InspectionWorkerStarted) => {
      if ('pacing' in message) return pacing(message.pacing);
      for (const { seq, result } of message.results) this.#answer(seq, result);
    });
    this.#worker.on('error', (error) => this.#fail(`inspection worker failed: ${error.message}`));
    this.#worker.on('exit', (code) => {
      pacing(false); // a worker gone before its first message (a promise is settled once)
      this.#fail(`inspection worker exited with code ${code}`);
    });
  }

  #fail(reason: string): void {
    this.#dead ??= reason;
    for (const [seq, pending] of this.#pending) {
      this.#pending.delete(seq);
      pending.resolve({ drafts: [], problems: [reason] });
    }
    this.#backlogBytes = 0;
  }

  #answer(seq: number, result: InspectionResult): void {
    const pending = this.#pending.get(seq);
    if (!pending) return;
    this.#pending.delete(seq);
    this.#backlogBytes -= pending.bytes;
    pending.resolve(result);
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
      this.#outgoing.push({ seq, flow });
    });
  }

  /** The turn's flows: the small ones inspected here when they can be, the rest sent to the worker in one message. */
  #send(): void {
    const outgoing = this.#outgoing;
    this.#outgoing = [];
    if (this.#dead) return; // #fail() already answered them
    const flows: Array<InspectionBatch['flows'][number]> = [];
    for (const { seq, flow } of outgoing) {
      const result = inspectInline(flow, this.#detectors, this.#inline);
      if (result) {
        this.#inspectedHere++;
        this.#answer(seq, result);
      } else flows.push({ seq, envelope: encodeFlow(flow) });
    }
    if (flows.length > 0) this.#worker.postMessage({ flows } satisfies InspectionBatch);
  }

  /** Flows answered on this thread without crossing to the worker (for the test of the quick look). */
  get inspectedHere(): number {
    return this.#inspectedHere;
  }

  /** Whether the worker paces its old generation (false where the addon is missing, or the worker is gone). */
  get workerPacing(): Promise<boolean> {
    return this.#workerPacing;
  }

  /** The worker's heap limits as V8 applied them (for the test that they are set). */
  get resourceLimits(): Worker['resourceLimits'] {
    return this.#worker.resourceLimits;
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
