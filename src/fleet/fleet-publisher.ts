// A capture node's link to the fleet: flow records, findings and (with --inspect remote) whole
// flows to inspect, published to JetStream from a bounded queue, so the proxy never waits for the
// bus. Every message carries an id (node + flow or finding id): a publish retried after a lost
// connection is stored once. When the bus is gone the queue holds up to its bound, then counts
// what it drops; remote inspection is refused at once, so the caller inspects locally instead.

import type { Flow } from '../model/flow.js';
import type { Finding } from '../model/finding.js';
import { describeError } from '../util/errors.js';
import type { Bus } from './bus-connection.js';
import { findingSubject, flowSubject, workSubject } from './fleet-names.js';
import { encodeFinding, encodeFlowMessage, encodeWorkReference, flowRecord } from './fleet-wire.js';

interface Outgoing {
  readonly subject: string;
  readonly msgID: string;
  readonly data: Uint8Array;
  /** Put this flow in the object store first; the message is the reference. */
  readonly object?: { readonly name: string; readonly data: Uint8Array };
  readonly kind: 'flow' | 'finding' | 'work';
}

export interface PublisherCounts {
  flowsPublished: number;
  findingsPublished: number;
  workPublished: number;
  workLargeObjects: number;
  dropped: number;
  /** Flows inspected locally because the bus could not take them. */
  inspectedLocally: number;
  reconnects: number;
}

/** Publishes in flight at once: enough to hide the round trip, few enough to redo after a loss. */
const WINDOW = 32;
const RETRY_MS = 250;

export class FleetPublisher {
  readonly node: string;
  readonly counts: PublisherCounts = { flowsPublished: 0, findingsPublished: 0, workPublished: 0, workLargeObjects: 0, dropped: 0, inspectedLocally: 0, reconnects: 0 };
  readonly #bus: Bus;
  readonly #maxQueueBytes: number;
  readonly #log: (message: string) => void;
  readonly #queue: Outgoing[] = [];
  #queuedBytes = 0;
  #connected = true;
  #pumping = false;
  #closed = false;
  #idle: Array<() => void> = [];
  /** Finding ids that came from the fleet (workers): not published back. */
  readonly #remote = new Set<string>();

  constructor(bus: Bus, node: string, options: { maxQueueBytes: number; log: (message: string) => void }) {
    this.#bus = bus;
    this.node = node;
    this.#maxQueueBytes = options.maxQueueBytes;
    this.#log = options.log;
    void this.#watchStatus();
  }

  async #watchStatus(): Promise<void> {
    for await (const status of this.#bus.nc.status()) {
      if (status.type === 'disconnect') {
        if (this.#connected) this.#log(`fleet: lost the connection to NATS; queueing up to ${Math.round(this.#maxQueueBytes / 1048576)} MiB, local files go on`);
        this.#connected = false;
      } else if (status.type === 'reconnect') {
        this.#connected = true;
        this.counts.reconnects++;
        this.#log(`fleet: reconnected to NATS; sending ${this.#queue.length} queued record(s)`);
        this.#pump();
      }
    }
  }

  get connected(): boolean {
    return this.#connected;
  }

  #enqueue(item: Outgoing): boolean {
    const size = item.data.length + (item.object?.data.length ?? 0);
    if (this.#closed || this.#queuedBytes + size > this.#maxQueueBytes) return false;
    this.#queue.push(item);
    this.#queuedBytes += size;
    this.#pump();
    return true;
  }

  publishFlowRecord(flow: Flow): void {
    if (!this.#enqueue({ kind: 'flow', subject: flowSubject(this.node), msgID: `${this.node}:${flow.id}:flow`, data: encodeFlowMessage(this.node, flowRecord(flow)) })) this.counts.dropped++;
  }

  publishFinding(finding: Finding): void {
    if (this.#remote.has(finding.id)) return;
    if (!this.#enqueue({ kind: 'finding', subject: findingSubject(this.node), msgID: `${this.node}:${finding.id}`, data: encodeFinding(finding) })) this.counts.dropped++;
  }

  /** A finding a worker made for this node (already on the bus). */
  markRemote(id: string): void {
    this.#remote.add(id);
  }

  /**
   * Hands a flow to the fleet's workers. False when the bus cannot take it now (disconnected, or
   * the queue is full): the caller inspects it locally, so no finding is lost.
   */
  submitWork(flow: Flow): boolean {
    if (!this.#connected || this.#closed) {
      this.counts.inspectedLocally++;
      return false;
    }
    const data = encodeFlowMessage(this.node, flow);
    const msgID = `${this.node}:${flow.id}:work`;
    // Leave room for headers: anything near the server's limit goes through the object store.
    const item: Outgoing = data.length <= this.#bus.maxPayload - 64 * 1024
      ? { kind: 'work', subject: workSubject(this.node), msgID, data }
      : { kind: 'work', subject: workSubject(this.node), msgID, data: encodeWorkReference(this.node, flow.id, `${this.node}.${flow.id}`), object: { name: `${this.node}.${flow.id}`, data } };
    if (!this.#enqueue(item)) {
      this.counts.inspectedLocally++;
      return false;
    }
    return true;
  }

  #pump(): void {
    if (this.#pumping || !this.#connected) return;
    this.#pumping = true;
    void (async () => {
      try {
        while (this.#queue.length > 0 && this.#connected) {
          const batch = this.#queue.slice(0, WINDOW);
          const results = await Promise.allSettled(batch.map((item) => this.#send(item)));
          let sent = 0;
          for (const result of results) {
            if (result.status === 'rejected') break;
            sent++;
          }
          // Sent items leave in order; the first failure and everything after it are tried again.
          for (const item of this.#queue.splice(0, sent)) {
            this.#queuedBytes -= item.data.length + (item.object?.data.length ?? 0);
            if (item.kind === 'flow') this.counts.flowsPublished++;
            else if (item.kind === 'finding') this.counts.findingsPublished++;
            else this.counts.workPublished++;
          }
          if (sent < batch.length) {
            const failure = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
            if (this.#connected) this.#log(`fleet: publish failed (${describeError(failure.reason)}); retrying`);
            await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
          }
        }
      } finally {
        this.#pumping = false;
        if (this.#queue.length === 0) for (const resolve of this.#idle.splice(0)) resolve();
        else if (this.#connected) this.#pump();
      }
    })();
  }

  async #send(item: Outgoing): Promise<void> {
    if (item.object) {
      await this.#bus.objects.putBlob({ name: item.object.name }, item.object.data);
      this.counts.workLargeObjects++;
    }
    await this.#bus.js.publish(item.subject, item.data, { msgID: item.msgID, timeout: 5000 });
  }

  /**
   * Waits for the queue to empty (or the deadline), then closes the connection. It waits while
   * reconnecting too: a node stopped just after an outage would otherwise drop everything it had
   * queued at once, though the bus comes back a moment later (a fleet test caught it under load).
   */
  async close(deadlineMs: number): Promise<void> {
    if (this.#queue.length > 0) {
      await Promise.race([new Promise<void>((resolve) => this.#idle.push(resolve)), new Promise((resolve) => setTimeout(resolve, deadlineMs))]);
    }
    this.#closed = true;
    this.counts.dropped += this.#queue.length;
    if (this.#queue.length > 0) this.#log(`fleet: ${this.#queue.length} record(s) could not be sent to NATS before the stop (counted in summary.json)`);
    this.#queue.length = 0;
    await this.#bus.close();
  }
}
