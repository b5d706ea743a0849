// The versioned envelope a Flow travels in between threads (the inspection worker) and, later,
// between machines. Structured clone turns every Buffer into a plain Uint8Array, so decoding puts
// the Buffer views back (no copy). A reader refuses an envelope of a version it does not know
// instead of misreading it.

import type { CapturedBody, Flow, MessageRecord } from './flow.js';

export const flowCodecVersion = 1;

export interface FlowEnvelope {
  readonly v: typeof flowCodecVersion;
  readonly flow: Flow;
}

export function encodeFlow(flow: Flow): FlowEnvelope {
  return { v: flowCodecVersion, flow };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function body(captured: CapturedBody): CapturedBody {
  return { ...captured, bytes: asBuffer(captured.bytes) };
}

function message(record: MessageRecord): MessageRecord {
  return { ...record, data: asBuffer(record.data) };
}

/** The flow inside an envelope that crossed a thread or a wire; throws on an unknown version. */
export function decodeFlow(envelope: unknown): Flow {
  const v = (envelope as { v?: unknown } | null)?.v;
  if (v !== flowCodecVersion) throw new Error(`flow envelope version ${JSON.stringify(v)} is not ${flowCodecVersion}`);
  const flow = (envelope as FlowEnvelope).flow;
  return {
    ...flow,
    ...(flow.request ? { request: { ...flow.request, body: body(flow.request.body) } } : {}),
    ...(flow.response ? { response: { ...flow.response, body: body(flow.response.body) } } : {}),
    ...(flow.messages ? { messages: flow.messages.map(message) } : {}),
    ...(flow.stream ? { stream: { up: body(flow.stream.up), down: body(flow.stream.down) } } : {}),
  };
}

/** Bytes a flow carries into inspection (for backlog bounds). */
export function flowPayloadBytes(flow: Flow): number {
  return (flow.request?.body.bytes.length ?? 0) + (flow.response?.body.bytes.length ?? 0)
    + (flow.messages?.reduce((n, m) => n + m.data.length, 0) ?? 0)
    + (flow.stream ? flow.stream.up.bytes.length + flow.stream.down.bytes.length : 0);
}
