// What travels on the bus, versioned like the flow codec it wraps. Flows as MessagePack (their
// bodies are bytes), findings as the JSON of the contract. A work item holds the whole flow, or,
// when that is larger than a message may be, the name of the object that holds it.

import { decode, encode } from '@msgpack/msgpack';
import { decodeFlow, encodeFlow, mapCaptures } from '../model/flow-codec.js';
import type { CapturedBody, Flow } from '../model/flow.js';
import type { Finding } from '../model/finding.js';

export const fleetWireVersion = 1;

const empty = (body: CapturedBody): CapturedBody => ({ bytes: Buffer.alloc(0), totalBytes: body.totalBytes, truncated: body.totalBytes > 0 });

/** A flow's record for the record stream: everything but the bodies and message payloads. */
export function flowRecord(flow: Flow): Flow {
  return mapCaptures(flow, empty, (m) => ({ ...m, data: Buffer.alloc(0) }));
}

export function encodeFlowMessage(node: string, flow: Flow): Uint8Array {
  return encode({ v: fleetWireVersion, node, envelope: encodeFlow(flow) }, { ignoreUndefined: true });
}

export function decodeFlowMessage(bytes: Uint8Array): { node: string; flow: Flow } {
  const message = decode(bytes) as { v?: unknown; node?: unknown; envelope?: unknown };
  if (message?.v !== fleetWireVersion) throw new Error(`fleet message version ${JSON.stringify(message?.v)} is not ${fleetWireVersion}`);
  return { node: String(message.node ?? ''), flow: decodeFlow(message.envelope) };
}

/** A work item: the flow inline, or a reference to it in the object store. */
export type WorkItem = { readonly node: string; readonly flow: Flow } | { readonly node: string; readonly flowId: string; readonly objectName: string };

export function encodeWorkReference(node: string, flowId: string, objectName: string): Uint8Array {
  return encode({ v: fleetWireVersion, node, flowId, objectName });
}

export function decodeWorkItem(bytes: Uint8Array): WorkItem {
  const message = decode(bytes) as { v?: unknown; node?: unknown; objectName?: unknown; flowId?: unknown; envelope?: unknown };
  if (message?.v !== fleetWireVersion) throw new Error(`fleet message version ${JSON.stringify(message?.v)} is not ${fleetWireVersion}`);
  if (typeof message.objectName === 'string') return { node: String(message.node ?? ''), flowId: String(message.flowId ?? ''), objectName: message.objectName };
  return { node: String(message.node ?? ''), flow: decodeFlow(message.envelope) };
}

export function encodeFinding(finding: Finding): Uint8Array {
  return Buffer.from(JSON.stringify(finding));
}

export function decodeFinding(bytes: Uint8Array): Finding {
  const finding = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as Finding;
  if (finding?.v !== 1 || typeof finding.id !== 'string') throw new Error('not a finding of format v1');
  return finding;
}
