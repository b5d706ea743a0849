// Runs inspectFlow() for the default detectors in a worker thread, in order, with a bounded
// backlog: when inspection cannot keep up, flows beyond the bound are not inspected (said so),
// rather than held in memory without limit.

import { Worker } from 'node:worker_threads';
import type { Flow } from '../model/flow.js';
import { encodeFlow, flowPayloadBytes } from '../model/flow-codec.js';
import type { InspectionResult } from './inspector.js';

/** Bytes of flows waiting for the worker before new ones are passed over (said, never silent). */
export const defaultMaxBacklogBytes = 256 * 1024 * 1024;

export class InspectionPool {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (r: InspectionResult) => void; bytes: number }>();
  #seq = 0;
  #backlogBytes = 0;
  #dead: string | undefined;
  readonly #maxBacklogBytes: number;

  /** `canariesFile`: planted values the worker also looks for (validated by the caller). */
  constructor(canariesFile?: string, maxBacklogBytes = defaultMaxBacklogBytes) {
    this.#maxBacklogBytes = maxBacklogBytes;
    // In the built package this file is .js; under the test runner it is the .ts source, and the
    // worker inherits the runner's TypeScript loader through execArgv.
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    this.#worker = new Worker(new URL(`./inspection-worker${ext}`, import.meta.url), { workerData: { canariesFile } });
    this.#worker.unref();
    this.#worker.on('message', (message: { seq: number; result: InspectionResult }) => {
      const pending = this.#pending.get(message.seq);
      if (!pending) return;
      this.#pending.delete(message.seq);
      this.#backlogBytes -= pending.bytes;
      pending.resolve(message.result);
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
      this.#worker.postMessage({ seq, envelope: encodeFlow(flow) });
    });
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
