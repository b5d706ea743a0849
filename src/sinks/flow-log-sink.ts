// flows.jsonl, the run's write-ahead log of flows and its one durable record: one HAR 1.2 entry per
// line (flow-line.ts), each handed to the OS as soon as its flow ends (here) or within the worker's
// next turn (the worker's lines: README, flows.jsonl), so a crash loses at most the lines of its
// last moments' flows. flows.har is built from it when asked (on stop for a small run, by
// `phonehome har`: src/run/har-on-stop.ts): the log is the record, the HAR its view.
// This sink writes each line on the thread that calls it, in one write(2), before it returns. A
// capture with the inspection worker has the worker write them instead (run-files-sink.ts: one
// clone of the flow serves both, and the proxy thread neither builds nor writes the line); this
// sink then writes only what the worker could not take (a worker that died).

import { DestinationLookup } from '../enrich/destination-lookup.js';
import { EntityLookup } from '../enrich/entity/entity-lookup.js';
import { flowHost, type Flow } from '../model/flow.js';
import { AppendOnlyFile, type AppendOnlyFileEvents, type AppendOnlyFileStats } from './append-only-file.js';
import { FlowLine, type FlowPlace } from './flow-line.js';

/** The destination's country, network and company, from the offline tables of this thread. */
export function placeOf(flow: Flow): FlowPlace | undefined {
  if (!flow.destination) return undefined;
  const company = EntityLookup.of(flowHost(flow));
  return { where: DestinationLookup.locate(flow.destination.ip), ...(company ? { company: { entity: company.entity, purpose: company.purpose } } : {}) };
}

export class FlowLogSink {
  readonly #file: AppendOnlyFile;
  readonly #line: FlowLine;

  constructor(file: string, events: AppendOnlyFileEvents, options: { redact: boolean; backlogLimitBytes: number; retryMs: number }) {
    this.#file = new AppendOnlyFile(file, events, options);
    this.#line = new FlowLine(options.redact);
  }

  get path(): string {
    return this.#file.path;
  }

  get stats(): AppendOnlyFileStats {
    return this.#file.stats;
  }

  write(flow: Flow): void {
    this.#file.append(this.#line.pieces(flow, placeOf(flow)));
  }

  close(): AppendOnlyFileStats {
    return this.#file.close();
  }
}
