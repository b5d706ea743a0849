// flows.jsonl, the run's write-ahead log of flows and its one durable record: one HAR 1.2 entry per
// line, so a flow completed before a crash is never lost. flows.har is built from it when asked (on
// stop for a small run, by `phonehome har`: src/run/har-on-stop.ts): the log is the record, the HAR
// its view.
// The promise: a flow's line is handed to the OS (one write(2); a line with bodies over 48K
// characters, several in a row) in the flow:end listener itself, before the event loop does
// anything else — 0 ms after the end, by construction. Deferring it to
// batch lines was measured (3,000 small requests, 10 at a time, on the shared 2-core box): lines of
// one turn (setImmediate) or one callback (a microtask) went out ~4.5 per write, but 6-14 % of
// flows then waited over 10 ms (p99 45-50 ms: the rest of a busy poll phase, GC, other processes),
// breaking the 10 ms promise for a saving of a few microseconds of system call per flow.
// Bodies (and WebSocket and gRPC messages) over 16 KiB, and any past the 32 KiB a line inlines, are
// made into text 16 KiB at a time, never as one large string, and reach the file a mebibyte at a
// time (src/sinks/gathered-writes.ts).

import crypto from 'node:crypto';
import fs from 'node:fs';
import type { HarEntryOptions } from '../flow/har.js';
import { flowToHarLine } from '../flow/har-line.js';
import { DestinationLookup } from '../enrich/destination-lookup.js';
import { EntityLookup } from '../enrich/entity/entity-lookup.js';
import { flowHost, type Flow } from '../model/flow.js';
import { isJsonVerbatim } from '../util/json-verbatim.js';
import { AppendOnlyFile, type AppendOnlyFileEvents, type AppendOnlyFileStats, type LinePiece } from './append-only-file.js';

/**
 * The size of a slice. Small enough that its text (base64: 4/3 of it; text full of control
 * characters: up to 6x as JSON escapes) stays below V8's large-object size (128 KiB) and dies young:
 * with 1 MiB slices, a 32 MB body's 32 texts all went to the old generation within one write and a
 * capture's RSS rose 65-140 MB for a moment at the end of each large flow.
 */
const SLICE_BYTES = 16 * 1024;
/**
 * Bodies larger than this are written in slices, so no body's text is ever larger than a slice's.
 * Inlined up to 1 MiB before: each 560 KB photo of the lab day made a 750 KB base64 text, and the
 * line holding it another. V8 keeps objects that large in its large-object space, and the nursery's
 * collection that making the line set off found the base64 text still in use and moved it to the
 * old generation, where it waited for the next full collection (~100 s apart): the capture's RSS
 * swung by ~8 MB with them.
 */
export const INLINE_BYTES = SLICE_BYTES;
/**
 * Bytes of bodies inlined into one line at most: an exchange's two small bodies, as ever. A part
 * of a WebSocket holds up to 8 MiB in up to 1,000 messages, each of them maybe under INLINE_BYTES:
 * inlined, the part's line was one string of up to 11 MB (1,000 messages of 8 KiB), made and
 * written whole on the proxy thread. Past the budget, small bodies are written a slice at a time as
 * large ones are.
 */
const LINE_INLINE_BYTES = 2 * INLINE_BYTES;

export class FlowLogSink {
  readonly #file: AppendOnlyFile;
  readonly #omitBodies: boolean;
  /** Unguessable, so no payload can forge a body placeholder. */
  readonly #token = `@@phonehome-body-${crypto.randomBytes(12).toString('hex')}-`;

  /** The large bodies of the line being made, written in slices where their placeholders stand. */
  #largeBodies: Array<{ bytes: Buffer; base64: boolean }> = [];
  /** What the line being made may still inline (LINE_INLINE_BYTES). */
  #inlineLeft = LINE_INLINE_BYTES;
  /** Made once: the same for every line (a profile of small requests counted the closures). */
  readonly #entryOptions: HarEntryOptions;

  constructor(file: string, events: AppendOnlyFileEvents, options: { redact: boolean; backlogLimitBytes: number; retryMs: number }) {
    this.#file = new AppendOnlyFile(file, events, options);
    this.#omitBodies = options.redact;
    this.#entryOptions = {
      omitBodies: this.#omitBodies,
      locate: (ip) => DestinationLookup.locate(ip),
      company: (flow) => EntityLookup.of(flowHost(flow)),
      bodyText: (bytes, base64) => {
        if (bytes.length <= INLINE_BYTES && bytes.length <= this.#inlineLeft) {
          this.#inlineLeft -= bytes.length;
          return base64 ? bytes.toString('base64') : bytes.toString('utf8');
        }
        this.#largeBodies.push({ bytes, base64 });
        return `${this.#token}${this.#largeBodies.length - 1}`;
      },
    };
  }

  get stats(): AppendOnlyFileStats {
    return this.#file.stats;
  }

  write(flow: Flow): void {
    const bodies: Array<{ bytes: Buffer; base64: boolean }> = [];
    this.#largeBodies = bodies;
    this.#inlineLeft = LINE_INLINE_BYTES;
    let json = flowToHarLine(flow, this.#entryOptions);
    const pieces: LinePiece[] = [];
    for (let i = 0; i < bodies.length; i++) {
      const marker = `${this.#token}${i}`;
      const at = json.indexOf(marker);
      pieces.push(json.slice(0, at), ...bodySlices(bodies[i]!));
      json = json.slice(at + marker.length);
    }
    pieces.push(json);
    this.#file.append(pieces);
  }

  close(): AppendOnlyFileStats {
    return this.#file.close();
  }
}

/**
 * One body as JSON string content, a slice at a time; each slice's text is made only when it is
 * written, so a large body never exists as text all at once. A text slice that needs no escaping
 * is written as its own bytes, with no text made at all.
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
      : { chars: slice.length, text: () => (isJsonVerbatim(slice) ? slice : JSON.stringify(slice.toString('utf8')).slice(1, -1)) });
    offset = end;
  }
  return slices;
}
