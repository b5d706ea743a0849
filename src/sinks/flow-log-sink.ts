// flows.jsonl, the run's write-ahead log of flows and its one durable record: one HAR 1.2 entry per
// line, so a flow completed before a crash is never lost. flows.har is built from it when asked
// (on stop for a small run, by `phonehome har`: src/run/har-on-stop.ts): the log is the record,
// the HAR its view.
// The promise: a flow's line is handed to the OS (write(2)) in the event-loop turn the flow ended
// in. The lines of the flows that end in one turn are made at its end (setImmediate), off the
// request that ended them, and go out together in one write (a profile of small requests showed
// a write per flow); a burst of BATCH_FLOWS flows goes out at once, so memory stays bounded when
// a caller ends flows without yielding (analyze, decrypt). The slowest hand-off of the run is
// kept (`handoff`), so the bound is measured, not assumed.
// Large bodies go to the file in 1 MiB slices, never as one giant string.

import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { flowToHarEntry } from '../flow/har.js';
import { DestinationLookup } from '../enrich/destination-lookup.js';
import { EntityLookup } from '../enrich/entity/entity-lookup.js';
import { flowHost, type Flow } from '../model/flow.js';
import { describeError } from '../util/errors.js';
import { AppendOnlyFile, type AppendOnlyFileEvents, type AppendOnlyFileStats, type LinePiece } from './append-only-file.js';

/** Bodies larger than this are written in slices of this size. */
const SLICE_BYTES = 1024 * 1024;
/** Flows waiting for their turn's end are written at once when this many have gathered. */
const BATCH_FLOWS = 64;

/** How long flows waited between their end and their line's write. */
export interface HandoffStats {
  /** Writes of one or more lines. */
  readonly batches: number;
  /** The longest wait of any flow, in milliseconds. */
  readonly maxMs: number;
}

export class FlowLogSink {
  readonly #file: AppendOnlyFile;
  readonly #omitBodies: boolean;
  /** Unguessable, so no payload can forge a body placeholder. */
  readonly #token = `@@phonehome-body-${crypto.randomBytes(12).toString('hex')}-`;
  readonly #events: AppendOnlyFileEvents;
  #queue: Flow[] = [];
  /** When the oldest waiting flow was handed over. */
  #oldestAt = 0;
  #turnEnd: NodeJS.Immediate | undefined;
  readonly #writeQueued = (): void => this.flush();
  #batches = 0;
  #maxHandoffMs = 0;
  /** Flows that could not be made a line (counted with the file's dropped lines). */
  #unwritable = 0;

  constructor(file: string, events: AppendOnlyFileEvents, options: { redact: boolean; backlogLimitBytes: number; retryMs: number }) {
    this.#file = new AppendOnlyFile(file, events, options);
    this.#omitBodies = options.redact;
    this.#events = events;
  }

  get stats(): AppendOnlyFileStats {
    const stats = this.#file.stats;
    return { ...stats, dropped: stats.dropped + this.#unwritable, pending: stats.pending + this.#queue.length };
  }

  get handoff(): HandoffStats {
    return { batches: this.#batches, maxMs: this.#maxHandoffMs };
  }

  /** Takes a flow that ended; its line is written at the end of this event-loop turn. */
  write(flow: Flow): void {
    if (this.#queue.length === 0) this.#oldestAt = performance.now();
    this.#queue.push(flow);
    if (this.#queue.length >= BATCH_FLOWS) this.flush();
    else this.#turnEnd ??= setImmediate(this.#writeQueued);
  }

  /** Writes the lines of every flow taken so far. */
  flush(): void {
    if (this.#turnEnd) clearImmediate(this.#turnEnd);
    this.#turnEnd = undefined;
    if (this.#queue.length === 0) return;
    const flows = this.#queue;
    this.#queue = [];
    const lines: LinePiece[][] = [];
    for (const flow of flows) {
      try {
        lines.push(this.#lineOf(flow));
      } catch (error) {
        // One odd flow must not take its batch with it; said once, counted always.
        if (this.#unwritable++ === 0) this.#events.failed(`${this.#file.path}: flow ${flow.id} could not be written as a line (${describeError(error)}); such flows are left out and counted`);
      }
    }
    this.#file.appendLines(lines);
    this.#batches++;
    this.#maxHandoffMs = Math.max(this.#maxHandoffMs, performance.now() - this.#oldestAt);
  }

  #lineOf(flow: Flow): LinePiece[] {
    const bodies: Array<{ bytes: Buffer; base64: boolean }> = [];
    const entry = flowToHarEntry(flow, {
      omitBodies: this.#omitBodies,
      locate: (ip) => DestinationLookup.locate(ip),
      company: (flow) => EntityLookup.of(flowHost(flow)),
      bodyText: (bytes, base64) => {
        if (bytes.length <= SLICE_BYTES) return base64 ? bytes.toString('base64') : bytes.toString('utf8');
        bodies.push({ bytes, base64 });
        return `${this.#token}${bodies.length - 1}`;
      },
    });
    let json = JSON.stringify(entry);
    const pieces: LinePiece[] = [];
    for (let i = 0; i < bodies.length; i++) {
      const marker = `${this.#token}${i}`;
      const at = json.indexOf(marker);
      pieces.push(json.slice(0, at), ...bodySlices(bodies[i]!));
      json = json.slice(at + marker.length);
    }
    pieces.push(json);
    return pieces;
  }

  close(): AppendOnlyFileStats {
    this.flush();
    this.#file.close();
    return this.stats;
  }
}

/**
 * One body as JSON string content, a slice at a time; each slice's text is made only when it is
 * written, so a large body never exists as text all at once.
 */
function bodySlices(body: { bytes: Buffer; base64: boolean }): LinePiece[] {
  const { bytes } = body;
  // Base64 slices must be whole groups of 3 bytes; UTF-8 slices must not split a character.
  const step = body.base64 ? SLICE_BYTES - (SLICE_BYTES % 3) : SLICE_BYTES;
  const slices: LinePiece[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    let end = Math.min(offset + step, bytes.length);
    if (!body.base64) while (end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
    const slice = bytes.subarray(offset, end);
    slices.push(body.base64
      ? { chars: Math.ceil(slice.length / 3) * 4, text: () => slice.toString('base64') }
      : { chars: slice.length, text: () => JSON.stringify(slice.toString('utf8')).slice(1, -1) });
    offset = end;
  }
  return slices;
}
