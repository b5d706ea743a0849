// Wires inspection to the event bus: every finished flow is inspected off the forwarding path
// (setImmediate), pinned handshakes and opaque tunnels become findings, and each finding is
// emitted on the bus for the sinks.

import type { EventBus } from '../flow/events.js';
import type { Flow } from '../flow/flow.js';
import type { Detector } from '../inspect/detect/detector.js';
import { FindingFactory } from '../inspect/finding-factory.js';
import { inspectFlow } from '../inspect/inspector.js';

export class FindingPipeline {
  readonly #bus: EventBus;
  readonly #detectors: readonly Detector[];
  readonly #factory = new FindingFactory();
  readonly #opaqueHostsReported = new Set<string>();
  #pending = 0;
  #drainWaiters: Array<() => void> = [];

  constructor(bus: EventBus, detectors: readonly Detector[]) {
    this.#bus = bus;
    this.#detectors = detectors;
    bus.on('flow:end', (flow) => this.#schedule(flow));
    bus.on('tls:failed', (failure) => this.#bus.emit('finding', this.#factory.tlsPinned(failure)));
    bus.on('tunnel:end', (flow) => {
      // One opaque finding per host and run: the flows themselves carry every tunnel.
      if (this.#opaqueHostsReported.has(flow.target.host)) return;
      this.#opaqueHostsReported.add(flow.target.host);
      this.#bus.emit('finding', this.#factory.opaqueTunnel(flow));
    });
  }

  /** Resolves when every flow handed in so far has been inspected. */
  drain(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Inspects a flow now (analyze mode) and emits its findings. */
  inspectNow(flow: Flow): void {
    const { drafts, problems } = inspectFlow(flow, this.#detectors);
    for (const problem of problems) this.#bus.log('warn', `${flow.id}: ${problem}`);
    for (const draft of drafts) this.#bus.emit('finding', this.#factory.fromDraft(draft, flow));
  }

  #schedule(flow: Flow): void {
    if (this.#detectors.length === 0) return;
    this.#pending++;
    setImmediate(() => {
      try {
        this.inspectNow(flow);
      } finally {
        this.#pending--;
        if (this.#pending === 0) for (const resolve of this.#drainWaiters.splice(0)) resolve();
      }
    });
  }
}
