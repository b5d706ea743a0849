// Flow ids across proxy loops (--threads). Each loop numbers its flows from fl-000001, as one
// process always did; the primary gives each id the next number of the run's one counter
// (newFlowId: the same counter numbers DNS flows and goes on after an --append) the first time it
// hears of it, and uses that number wherever the loop names the flow again: the flow itself, the
// `connection` its exchanges point at, a refusal of our certificate, a log line. So flows.jsonl,
// findings, the console and the HAR all say one id, and ids stay unique and `fl-NNNNNN`.
//
// A loop names a connection's id again for as long as the connection lasts, so entries are kept
// most recently used first, up to a bound; an evicted connection still open only gets a second id
// for its later exchanges.

import { newFlowId, type Flow } from '../../model/flow.js';
import type { TlsFailure } from '../../flow/events.js';

/** Ids remembered per loop: far more than the connections a loop holds open at once. */
export const renumberedIdsPerLoop = 50_000;

const flowIdPattern = /^fl-\d+$/;

export class FlowRenumbering {
  readonly #loop: number;
  readonly #ids = new Map<string, string>();

  constructor(loop: number) {
    this.#loop = loop;
  }

  /** The run's id for the loop's `local` id, given now if it has none yet. */
  idOf(local: string): string {
    if (!flowIdPattern.test(local)) {
      // A plain proxy connection's `proxy-N` (it has no flow of its own): made unique per loop.
      return local.startsWith('proxy-') ? `proxy-${this.#loop}.${local.slice('proxy-'.length)}` : local;
    }
    const known = this.#ids.get(local);
    if (known !== undefined) {
      this.#ids.delete(local);
      this.#ids.set(local, known);
      return known;
    }
    const id = newFlowId();
    this.#ids.set(local, id);
    if (this.#ids.size > renumberedIdsPerLoop) this.#ids.delete(this.#ids.keys().next().value!);
    return id;
  }

  flow(flow: Flow): Flow {
    const renumbered = { ...flow, id: this.idOf(flow.id), ...(flow.connection !== undefined ? { connection: this.idOf(flow.connection) } : {}) };
    // The parts of a long-lived WebSocket, gRPC call or raw stream point at their first part's id.
    return (renumbered.kind === 'websocket' || renumbered.kind === 'http' || renumbered.kind === 'raw') && renumbered.part ? { ...renumbered, part: { ...renumbered.part, of: this.idOf(renumbered.part.of) } } : renumbered;
  }

  tlsFailure(failure: TlsFailure): TlsFailure {
    return { ...failure, flowId: this.idOf(failure.flowId) };
  }

  /** A log line naming flows by the loop's ids names them by the run's, where known (none is given one here). */
  message(text: string): string {
    return text.replace(/\bfl-\d+\b/g, (local) => this.#ids.get(local) ?? local);
  }
}
