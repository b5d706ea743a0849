// Announces flows on the event bus and counts the ones still open, so stopping can wait until
// every open flow has been recorded (and says how many were not, if they take too long). Every
// flow passes here once, so this is where it is told which app sent it (from its own requests or
// its connection's), and, with DNS on, where a flow to a bare address is named from the answers the
// device got.

import net from 'node:net';
import type { EventBus } from '../flow/events.js';
import { newFlowId, type CaptureMode, type Endpoint, type Flow } from '../model/flow.js';
import { limits } from '../limits.js';
import { emptyBody } from '../flow/body-capture.js';
import { ConnectionApps } from '../enrich/app/connection-apps.js';
import { withFields } from '../util/with-fields.js';

export class FlowTracker {
  readonly #events: EventBus;
  readonly #apps = new ConnectionApps();
  #open = 0;
  #idleWaiters: Array<() => void> = [];
  /** The name a DNS answer of this run gave the device for an address, as it stood at a time (set when DNS is on). */
  nameOf: ((address: string, atMs: number) => string | undefined) | undefined;

  constructor(events: EventBus) {
    this.#events = events;
  }

  #enriched(flow: Flow): Flow {
    return this.#apps.attribute(this.#named(flow));
  }

  #named(flow: Flow): Flow {
    if (!this.nameOf || flow.dnsName !== undefined || flow.kind === 'dns' || net.isIP(flow.target.host) === 0) return flow;
    // As it stood when the flow began: a long connection outlives its answer's TTL.
    const name = this.nameOf(flow.target.host, Date.parse(flow.startedAt));
    return name ? withFields(flow, { dnsName: name }) : flow;
  }

  /** A flow began: announced (when anyone listens) and counted until `end()`. */
  begin(id: string, client: Endpoint, target: { host: string; port: number }, how: 'connect' | 'request'): void {
    this.#open++;
    if (this.#events.listenerCount('flow:start') === 0) return;
    this.#events.emit('flow:start', { id, time: new Date().toISOString(), client, target: { host: target.host, port: target.port }, how });
  }

  /** A flow that was begun is recorded. */
  end(flow: Flow): void {
    this.#events.emit('flow:end', this.#enriched(flow));
    this.#settled();
  }

  /**
   * A decision still to come that may record a flow (a pinning verdict that waits a moment):
   * counted like an open flow, so stopping waits for it. Call the returned function once, when done.
   */
  pending(): () => void {
    this.#open++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#settled();
    };
  }

  #settled(): void {
    this.#open--;
    if (this.#open === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  /** A flow that never needed tracking (it is over as soon as it is known). */
  record(flow: Flow): void {
    this.#events.emit('flow:end', this.#enriched(flow));
  }

  /**
   * A request or connection refused before it went anywhere. `request`: what a refused HTTP request
   * asked for, so its record says GET http://… rather than looking like a CONNECT.
   */
  rejected(client: Endpoint, mode: CaptureMode, target: { host: string; port: number }, reason: string, tags: string[], request?: { method: string; url: string; httpVersion: string }): void {
    const now = new Date().toISOString();
    this.record({
      id: newFlowId(), kind: 'rejected', startedAt: now, endedAt: now, durationMs: 0, client, mode, target: { host: target.host, port: target.port }, scheme: 'http',
      ...(request ? { request: withFields(request, { headers: [], body: emptyBody }) } : {}),
      bytesUp: 0, bytesDown: 0, error: reason, tags,
    });
  }

  /** Resolves when every open flow was recorded, or after a bounded wait (then says how many were not). */
  whenIdle(): Promise<void> {
    if (this.#open === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#events.log('warn', `stopped with ${this.#open} flow(s) still closing; they are not in the output`);
        resolve();
      }, limits.stopGraceMs);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
