// Flows of one client connection share the app one of its requests revealed (a connection belongs
// to one app). Remembers a bounded number of recent connections.
// A flow gets the stronger of its own evidence and its connection's; at equal strength its own. A
// stronger attribution later on the connection replaces a weaker one for the flows after it (earlier
// flows were already handed on). Flows without a `connection` share nothing. Runs on the proxy's
// thread for every flow: it never throws, whatever the flow holds.

import type { AppAttribution, Flow } from '../../model/flow.js';
import { appOfRequest, compareConfidence } from './app-of-request.js';
import { withFields } from '../../util/with-fields.js';

/**
 * Connections remembered, least recently used dropped first. Each entry is a few hundred bytes; a
 * phone keeps tens of connections open, a lab with several phones a few hundred.
 */
export const connectionAppEntries = 4_096;

interface Revealed {
  readonly app: AppAttribution;
  /** The flow whose own request revealed it. */
  readonly flowId: string;
}

export class ConnectionApps {
  readonly #byConnection = new Map<string, Revealed>();
  readonly #capacity: number;

  constructor(capacity = connectionAppEntries) {
    this.#capacity = Math.max(1, capacity);
  }

  /** Connections currently remembered. */
  get size(): number {
    return this.#byConnection.size;
  }

  /** The flow with its `app`: its own evidence, else what an earlier flow of its connection revealed. */
  attribute(flow: Flow): Flow {
    try {
      return this.#attribute(flow);
    } catch {
      return flow; // an attribution is never worth breaking the flow's way to the sinks
    }
  }

  #attribute(flow: Flow): Flow {
    const own = (flow.request ? appOfRequest(flow.request) : undefined) ?? flow.app;
    const connection = typeof flow.connection === 'string' && flow.connection ? flow.connection : undefined;
    if (!connection) return own ? withFields(flow, { app: own }) : flow;

    const known = this.#recall(connection);
    if (own && !own.evidence.startsWith('connection ') && (!known || compareConfidence(own.confidence, known.app.confidence) > 0)) {
      this.#remember(connection, { app: own, flowId: flow.id });
    }
    const shared = known && (!own || compareConfidence(known.app.confidence, own.confidence) > 0)
      ? withFields(known.app, { evidence: `connection ${known.flowId}: ${known.app.evidence}` })
      : undefined;
    const app = shared ?? own;
    return app ? withFields(flow, { app }) : flow;
  }

  /** The connection's entry, marked as the most recently used. */
  #recall(connection: string): Revealed | undefined {
    const entry = this.#byConnection.get(connection);
    if (entry) {
      this.#byConnection.delete(connection);
      this.#byConnection.set(connection, entry);
    }
    return entry;
  }

  #remember(connection: string, entry: Revealed): void {
    this.#byConnection.delete(connection);
    this.#byConnection.set(connection, entry);
    while (this.#byConnection.size > this.#capacity) {
      const oldest = this.#byConnection.keys().next().value;
      if (oldest === undefined) break;
      this.#byConnection.delete(oldest);
    }
  }
}
