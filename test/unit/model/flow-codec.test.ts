// The flow envelope across a thread (structured clone, as the inspection worker gets it): version 2
// round-trips every kind with its Buffers back; version 1 envelopes (one shape, every payload
// optional) are still read; any other version, and a flow its kind does not fit, is refused with one
// line that names the flow and the field.

import t from 'tap';
import { checkFlowShape, decodeFlow, encodeFlow, flowCodecVersion, flowShapes } from '../../../src/model/flow-codec.js';
import type { Flow, FlowKind } from '../../../src/model/flow.js';
import { body, makeFlow } from '../../helpers/flows.js';
import { dnsFlow } from '../../helpers/dns-flows.js';

const request = { method: 'GET', url: 'https://api.example.com/socket', httpVersion: 'HTTP/1.1', headers: [['Upgrade', 'websocket']] as Array<[string, string]>, body: body('') };
const message = { protocol: 'websocket' as const, time: '2026-11-27T18:30:11.100Z', fromClient: true, binary: true, data: Buffer.from([0, 1, 255]), totalBytes: 3 };

/** One flow of every kind, each with the payloads its kind carries. */
const everyKind: Record<FlowKind, Flow> = {
  http: makeFlow({ requestBody: 'email=jane@example.com', response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [], body: body(Buffer.from([0xff, 0xd8])) }, grpc: { flavour: 'grpc', status: 0 } }),
  websocket: makeFlow({ kind: 'websocket', scheme: 'wss', request, messages: [message] }),
  tunnel: makeFlow({ kind: 'tunnel', scheme: 'tls', request: undefined, tags: ['passthrough:learned'] }),
  raw: makeFlow({ kind: 'raw', scheme: 'tcp', request: undefined, stream: { up: body('EHLO phone\r\n'), down: body(Buffer.from([0x32, 0x32, 0x30, 0x00])) } }),
  'tls-failed': makeFlow({ kind: 'tls-failed', scheme: 'tls', request: undefined, error: 'the client refused our certificate' }),
  rejected: makeFlow({ kind: 'rejected', scheme: 'http', request: { method: 'GET', url: 'http://blocked.example/', httpVersion: 'HTTP/1.1', headers: [], body: body('') }, error: 'access: not allowed' }),
  dns: dnsFlow('api.example.com'),
};

/** What the other side of a thread gets: every Buffer a plain Uint8Array. */
const acrossAThread = (value: unknown): unknown => structuredClone(value);

t.test('version 2: every kind round-trips across a thread, its bytes as Buffers again', async (t) => {
  t.equal(flowCodecVersion, 2);
  for (const [kind, flow] of Object.entries(everyKind)) {
    const envelope = encodeFlow(flow);
    t.equal(envelope.v, 2, `${kind}: written as version 2`);
    const crossed = acrossAThread(envelope) as { flow: { request?: { body: { bytes: unknown } } } };
    if (flow.request) t.notOk(Buffer.isBuffer(crossed.flow.request!.body.bytes), `${kind}: structured clone made the body a plain Uint8Array`);
    const decoded = decodeFlow(crossed);
    t.same(decoded, flow, `${kind}: the same flow`);
    t.equal(decoded.kind, kind);
  }
  const raw = decodeFlow(acrossAThread(encodeFlow(everyKind.raw)));
  t.ok(raw.kind === 'raw' && Buffer.isBuffer(raw.stream!.down.bytes) && raw.stream!.down.bytes.equals(Buffer.from([0x32, 0x32, 0x30, 0x00])), 'a raw stream is Buffers again');
  const ws = decodeFlow(acrossAThread(encodeFlow(everyKind.websocket)));
  t.ok(ws.kind === 'websocket' && Buffer.isBuffer(ws.messages[0]!.data), 'a message is a Buffer again');
  const http = decodeFlow(acrossAThread(encodeFlow(everyKind.http)));
  t.ok(Buffer.isBuffer(http.response!.body.bytes) && http.response!.body.bytes.equals(Buffer.from([0xff, 0xd8])), 'a response body is a Buffer again');
});

t.test('version 1 envelopes (before the union) are read as the union', async (t) => {
  for (const [kind, flow] of Object.entries(everyKind)) {
    const decoded = decodeFlow(acrossAThread({ v: 1, flow }));
    t.same(decoded, flow, `${kind}: a v1 flow of every kind`);
  }
  // A v1 raw flow could lack its stream (a redacted file, an unreadable capture session): still a raw flow.
  const { stream: _stream, ...bare } = everyKind.raw as Extract<Flow, { kind: 'raw' }>;
  t.equal(decodeFlow({ v: 1, flow: bare }).kind, 'raw');
  t.throws(() => decodeFlow({ v: 1, flow: { ...everyKind.dns, dns: undefined } }), /^flow fl-dns-\d+: a 'dns' flow must carry dns, and this one has none$/, 'a v1 dns flow without its question');
});

t.test('other versions are refused, not misread', async (t) => {
  for (const v of [3, 0, '2', null, undefined]) {
    t.throws(() => decodeFlow({ v, flow: everyKind.http }), { message: `flow envelope version ${JSON.stringify(v)} is not one of 1, 2` }, `version ${String(v)}`);
  }
  t.throws(() => decodeFlow(null), /flow envelope version undefined is not one of 1, 2/, 'no envelope');
  t.throws(() => decodeFlow({ v: 2 }), /^flow envelope holds no flow \(undefined\)$/, 'an envelope without a flow');
  t.throws(() => decodeFlow({ v: 2, flow: 'fl-1' }), /holds no flow \(string\)/);
});

t.test("a flow without its kind's required field is refused, with the flow and the field named", async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['a dns flow without dns', { ...everyKind.dns, id: 'fl-000009', dns: undefined }, /^flow fl-000009: a 'dns' flow must carry dns, and this one has none$/],
    ['a dns flow with dns null', { ...everyKind.dns, id: 'fl-000009', dns: null }, /a 'dns' flow must carry dns/],
    ['an http flow without its request', { ...everyKind.http, request: undefined }, /^flow fl-000001: a 'http' flow must carry request, and this one has none$/],
    ['a websocket without messages', { ...everyKind.websocket, messages: undefined }, /a 'websocket' flow must carry messages/],
    ['a websocket without its request', { ...everyKind.websocket, request: undefined }, /a 'websocket' flow must carry request/],
  ];
  for (const [name, flow, error] of cases) {
    t.throws(() => decodeFlow({ v: 2, flow }), { message: error }, `v2: ${name}`);
    t.throws(() => decodeFlow({ v: 1, flow }), { message: error }, `v1: ${name}`);
  }
});

t.test('a payload its kind never carries, or a kind we do not know, is refused', async (t) => {
  t.throws(() => checkFlowShape({ ...everyKind.tunnel, request: everyKind.http.request }), { message: "flow fl-000001: a 'tunnel' flow never carries request, and this one does" });
  t.throws(() => checkFlowShape({ ...everyKind.dns, stream: { up: body(''), down: body('') } }), /a 'dns' flow never carries stream/);
  t.throws(() => checkFlowShape({ ...everyKind.websocket, grpc: { flavour: 'grpc' } }), /a 'websocket' flow never carries grpc/);
  t.throws(() => checkFlowShape({ ...everyKind.rejected, messages: [message] }), /a 'rejected' flow never carries messages/);
  for (const kind of ['grpc', 'HTTP', '', 42, undefined, 'toString', '__proto__']) {
    t.throws(() => checkFlowShape({ ...everyKind.http, kind }), { message: `flow fl-000001: unknown kind ${JSON.stringify(kind)}` }, `kind ${String(kind)}`);
  }
  t.throws(() => checkFlowShape({ kind: 'x'.repeat(1000) }), { message: `flow (no id): unknown kind "${'x'.repeat(63)}` }, 'a long kind is cut in the line');
});

t.test('look-alikes pass: optional payloads may be absent, and every kind is in the table', async (t) => {
  t.same(Object.keys(flowShapes).sort(), Object.keys(everyKind).sort());
  const noResponse = makeFlow();
  t.equal(checkFlowShape(noResponse), noResponse, 'an http flow with no response (none came)');
  const refusedConnection = makeFlow({ kind: 'rejected', scheme: 'tls', request: undefined });
  t.equal(checkFlowShape(refusedConnection).kind, 'rejected', 'a refused connection has no request');
  t.equal(checkFlowShape({ ...everyKind.websocket, messages: [] }).kind, 'websocket', 'a WebSocket with no messages yet has an empty list');
});
