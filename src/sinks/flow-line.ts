// One flow's line of flows.jsonl (a HAR 1.2 entry as JSON), as pieces for AppendOnlyFile: built on
// the proxy thread (FlowLogSink) or in the inspection worker, which receives every flow anyway
// (inspection-worker.ts). Both give the same bytes for the same flow. The destination's country,
// network and company are looked up by the caller and handed in (`FlowPlace`): the worker then needs
// neither the offline tables nor their memory.
// Large bodies go to the file in 1 MiB slices, never as one giant string.

import crypto from 'node:crypto';
import { flowToHarEntry } from '../flow/har.js';
import type { Flow } from '../model/flow.js';
import type { LinePiece } from './append-only-file.js';

/** Bodies larger than this are written in slices of this size. */
const SLICE_BYTES = 1024 * 1024;

/** Where a flow's destination is, as the flow line records it (looked up on the proxy thread). */
export interface FlowPlace {
  readonly where: { readonly country: string | null; readonly asn: number | null; readonly org: string | null };
  readonly company?: { readonly entity: string; readonly purpose: string };
}

const nowhere: FlowPlace = { where: { country: null, asn: null, org: null } };

export class FlowLine {
  readonly #omitBodies: boolean;
  /** Unguessable, so no payload can forge a body placeholder. */
  readonly #token = `@@phonehome-body-${crypto.randomBytes(12).toString('hex')}-`;

  /** `omitBodies`: --redact, bodies are left out. */
  constructor(omitBodies: boolean) {
    this.#omitBodies = omitBodies;
  }

  /** The flow's line without its newline; `place` is used only when the flow has a destination. */
  pieces(flow: Flow, place: FlowPlace | undefined): LinePiece[] {
    const bodies: Array<{ bytes: Buffer; base64: boolean }> = [];
    const entry = flowToHarEntry(flow, {
      omitBodies: this.#omitBodies,
      locate: () => (place ?? nowhere).where,
      company: () => place?.company,
      bodyText: (bytes, base64) => {
        if (bytes.length <= SLICE_BYTES) return base64 ? bytes.toString('base64') : bytes.toString('utf8');
        bodies.push({ bytes, base64 });
        return `${this.#token}${bodies.length - 1}`;
      },
    });
    let json = JSON.stringify(entry);
    if (bodies.length === 0) return [json];
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
