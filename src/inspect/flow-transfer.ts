// Flows cross to the inspection worker by structured clone, which turns every Buffer into a plain
// Uint8Array. This puts the Buffer views back (no copy) on the other side.

import type { CapturedBody } from '../flow/body-capture.js';
import type { Flow } from '../flow/flow.js';

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function body(captured: CapturedBody): CapturedBody {
  return { ...captured, bytes: asBuffer(captured.bytes) };
}

export function rehydrateFlow(flow: Flow): Flow {
  return {
    ...flow,
    ...(flow.request ? { request: { ...flow.request, body: body(flow.request.body) } } : {}),
    ...(flow.response ? { response: { ...flow.response, body: body(flow.response.body) } } : {}),
    ...(flow.webSocketMessages ? { webSocketMessages: flow.webSocketMessages.map((m) => ({ ...m, data: asBuffer(m.data) })) } : {}),
    ...(flow.stream ? { stream: { up: body(flow.stream.up), down: body(flow.stream.down) } } : {}),
  };
}

/** Bytes a flow carries into inspection (for the backlog bound). */
export function flowPayloadBytes(flow: Flow): number {
  return (flow.request?.body.bytes.length ?? 0) + (flow.response?.body.bytes.length ?? 0)
    + (flow.webSocketMessages?.reduce((n, m) => n + m.data.length, 0) ?? 0)
    + (flow.stream ? flow.stream.up.bytes.length + flow.stream.down.bytes.length : 0);
}
