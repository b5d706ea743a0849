// The versioned envelope a Flow travels in between threads (the inspection worker) and, later,
// between machines. Structured clone turns every Buffer into a plain Uint8Array, so decoding puts
// the Buffer views back (no copy). A reader refuses an envelope of a version it does not know
// instead of misreading it, and a flow whose kind lacks a field that kind must carry (or carries
// one it never has) with one line that says which.
//
// Version 2: Flow is a union on `kind` (flow.ts). Version 1 had one shape with every payload
// optional; its flows are the same fields, so a v1 envelope is read by the same check.

import type { CapturedBody, Flow, FlowKind, FlowPayloadField, MessageRecord } from './flow.js';
import { withFields } from '../util/with-fields.js';

export const flowCodecVersion = 2;

/** Envelope versions decodeFlow reads: the current one and the one before the union. */
const readableVersions: readonly unknown[] = [1, flowCodecVersion];

export interface FlowEnvelope {
  readonly v: typeof flowCodecVersion;
  readonly flow: Flow;
}

/** Per kind: the payload fields it must carry, and the ones it may. Kept in step with flow.ts's members. */
export const flowShapes: { readonly [K in FlowKind]: { readonly required: readonly FlowPayloadField[]; readonly optional: readonly FlowPayloadField[] } } = {
  http: { required: ['request'], optional: ['response', 'messages', 'grpc'] },
  websocket: { required: ['request', 'messages'], optional: ['response'] },
  tunnel: { required: [], optional: [] },
  raw: { required: [], optional: ['stream'] },
  'tls-failed': { required: [], optional: [] },
  rejected: { required: [], optional: ['request', 'response'] },
  dns: { required: ['dns'], optional: [] },
};

const payloadFields: readonly FlowPayloadField[] = ['request', 'response', 'messages', 'grpc', 'stream', 'dns'];

export function encodeFlow(flow: Flow): FlowEnvelope {
  return { v: flowCodecVersion, flow };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function body(captured: CapturedBody): CapturedBody {
  return withFields(captured, { bytes: asBuffer(captured.bytes) });
}

function message(record: MessageRecord): MessageRecord {
  return withFields(record, { data: asBuffer(record.data) });
}

/**
 * `fields` as a Flow, when its kind is one we know and its payload fields are the ones that kind
 * carries; else a one-line error naming the flow and the field.
 */
export function checkFlowShape(fields: unknown): Flow {
  if (fields === null || typeof fields !== 'object') throw new Error(`flow envelope holds no flow (${fields === null ? 'null' : typeof fields})`);
  const record = fields as Record<string, unknown>;
  const id = typeof record['id'] === 'string' ? record['id'].slice(0, 64) : '(no id)';
  const kind = record['kind'];
  const shape = typeof kind === 'string' && Object.hasOwn(flowShapes, kind) ? flowShapes[kind as FlowKind] : undefined;
  if (!shape) throw new Error(`flow ${id}: unknown kind ${JSON.stringify(kind)?.slice(0, 64)}`);
  for (const field of shape.required) {
    if (record[field] === undefined || record[field] === null) throw new Error(`flow ${id}: a '${String(kind)}' flow must carry ${field}, and this one has none`);
  }
  for (const field of payloadFields) {
    if (record[field] !== undefined && !shape.required.includes(field) && !shape.optional.includes(field)) {
      throw new Error(`flow ${id}: a '${String(kind)}' flow never carries ${field}, and this one does`);
    }
  }
  return fields as Flow;
}

/** The flow inside an envelope that crossed a thread or a wire; throws on an unknown version or a flow its kind does not fit. */
export function decodeFlow(envelope: unknown): Flow {
  const v = (envelope as { v?: unknown } | null)?.v;
  if (!readableVersions.includes(v)) throw new Error(`flow envelope version ${JSON.stringify(v)} is not one of ${readableVersions.join(', ')}`);
  return withBuffers(checkFlowShape((envelope as { flow?: unknown }).flow));
}

/**
 * The same flow with each captured body and message payload passed through `body` and `message`.
 * Only fields the flow already has are replaced, each by one of its own type, so the copy is of
 * the same kind: the one cast below says so to the compiler.
 */
export function mapCaptures(flow: Flow, mapBody: (captured: CapturedBody) => CapturedBody, mapMessage: (record: MessageRecord) => MessageRecord): Flow {
  const replaced: { request?: unknown; response?: unknown; messages?: unknown; stream?: unknown } = {};
  if (flow.request) replaced.request = withFields(flow.request, { body: mapBody(flow.request.body) });
  if (flow.response) replaced.response = withFields(flow.response, { body: mapBody(flow.response.body) });
  if (flow.messages) replaced.messages = flow.messages.map(mapMessage);
  if (flow.stream) replaced.stream = { up: mapBody(flow.stream.up), down: mapBody(flow.stream.down) };
  return withFields(flow, replaced) as Flow;
}

function withBuffers(flow: Flow): Flow {
  return mapCaptures(flow, body, message);
}

/** Bytes a flow carries into inspection (for backlog bounds). */
export function flowPayloadBytes(flow: Flow): number {
  return (flow.request?.body.bytes.length ?? 0) + (flow.response?.body.bytes.length ?? 0)
    + (flow.messages?.reduce((n, m) => n + m.data.length, 0) ?? 0)
    + (flow.stream ? flow.stream.up.bytes.length + flow.stream.down.bytes.length : 0);
}
