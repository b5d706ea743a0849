// A proxy loop's flows on their way to the primary (--threads), bounded. A primary that falls
// behind (the machine is saturated) would otherwise let every body the loops recorded pile up in
// their channels. Past the bound, the flows that follow are handed over without their bodies,
// marked `inspected:partial` like a body past --body-limit: every flow is still recorded, and a
// loop's memory is bounded by this, not by how far behind the primary is.

import { flowPayloadBytes, mapCaptures } from '../../model/flow-codec.js';
import type { Flow } from '../../model/flow.js';
import type { FromLoop } from './loop-messages.js';

/** Body bytes of flows a loop lets wait in its channel to the primary. */
export const flowBacklogBytes = 64 * 1024 * 1024;

const noBytes = Buffer.alloc(0);

export class FlowHandOver {
  readonly #send: (message: FromLoop, sent?: () => void) => void;
  readonly #limitBytes: number;
  #inFlightBytes = 0;
  /** Flows handed over without their bodies so far. */
  cut = 0;

  constructor(send: (message: FromLoop, sent?: () => void) => void, limitBytes = flowBacklogBytes) {
    this.#send = send;
    this.#limitBytes = limitBytes;
  }

  handOver(flow: Flow): void {
    const bytes = flowPayloadBytes(flow);
    // A tunnel's flow:end is followed by its tunnel:end (raw-layer.ts): the primary emits both from this one message.
    const tunnel = flow.kind === 'tunnel';
    if (bytes > 0 && this.#inFlightBytes + bytes > this.#limitBytes) {
      this.cut++;
      const bare = mapCaptures(flow, (body) => ({ bytes: noBytes, totalBytes: body.totalBytes, truncated: true }), (message) => ({ ...message, data: noBytes }));
      const tags = bare.tags.includes('inspected:partial') ? bare.tags : [...bare.tags, 'inspected:partial'];
      this.#send({ t: 'flow', flow: { ...bare, tags } as Flow, tunnel });
      return;
    }
    this.#inFlightBytes += bytes;
    this.#send({ t: 'flow', flow, tunnel }, () => { this.#inFlightBytes -= bytes; });
  }
}
