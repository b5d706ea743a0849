// Run folders written before Flow became a union (test/fixtures/run-v1: one flow of every kind, as
// flows.jsonl, flows.har, and flows.jsonl written with --redact) are read as the union: each entry
// the member of its kind with that kind's payloads, the same from the log and from the HAR, and each
// one a flow the codec (v2) carries to the inspection worker.

import t from 'tap';
import path from 'node:path';
import fs from 'node:fs';
import { harEntryToFlow, readHar } from '../../../src/flow/har-reader.js';
import { harFileFlows } from '../../../src/flow/har-file-stream.js';
import { readFlowLog } from '../../../src/run/flow-log-reader.js';
import { checkFlowShape, decodeFlow, encodeFlow } from '../../../src/model/flow-codec.js';
import type { Flow } from '../../../src/model/flow.js';

const fixture = path.join(import.meta.dirname, '..', '..', 'fixtures', 'run-v1');

async function fromLog(file: string): Promise<Flow[]> {
  const flows: Flow[] = [];
  const skipped = { count: 0 };
  let index = 0;
  for await (const entry of readFlowLog(path.join(fixture, file), skipped)) flows.push(harEntryToFlow(entry, index++));
  if (skipped.count > 0) throw new Error(`${skipped.count} lines of ${file} skipped`);
  return flows;
}

async function fromHar(): Promise<Flow[]> {
  const flows: Flow[] = [];
  for await (const flow of harFileFlows(path.join(fixture, 'flows.har'))) flows.push(flow);
  return flows;
}

const kinds = ['http', 'http', 'http', 'websocket', 'tunnel', 'raw', 'tls-failed', 'rejected', 'rejected', 'dns'];

t.test('flows.jsonl of every kind: each flow is its kind, with that kind\'s payloads', async (t) => {
  const flows = await fromLog('flows.jsonl');
  t.same(flows.map((f) => f.kind), kinds);
  for (const flow of flows) {
    t.equal(checkFlowShape(flow), flow, `${flow.id} (${flow.kind}) fits its kind`);
    t.same(decodeFlow(structuredClone(encodeFlow(flow))), flow, `${flow.id} crosses to a worker whole`);
  }
  const [login, grpc, refused, socket, tunnel, smtp, pinned, blocked, loopback, dns] = flows;
  // Narrowing by kind: the compiler knows each field is there once the kind is checked.
  if (login?.kind !== 'http' || grpc?.kind !== 'http' || refused?.kind !== 'http') throw new Error('not http');
  t.equal(login.request.body.bytes.toString(), '{"email":"jane@example.com"}');
  t.equal(login.response?.status, 200);
  t.same(login.app, { id: 'com.example.app', confidence: 'high', evidence: 'X-Requested-With' });
  t.same(login.tls, { client: { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' } });
  t.equal(login.connection, 'fl-000000');
  t.same(grpc.grpc, { flavour: 'grpc', status: 0 });
  t.same(grpc.messages?.map((m) => [m.protocol, [...m.data]]), [['grpc', [0x0a, 0x01, 0x78]]]);
  t.equal(refused.response?.status, 0, 'a request no response came for: the HAR\'s stand-in, as before');
  t.equal(refused.error, 'upstream: connect ECONNREFUSED');
  if (socket?.kind !== 'websocket') throw new Error('not a websocket');
  t.same(socket.messages.map((m) => m.data.toString()), ['{"sms":"hi"}']);
  t.equal(socket.scheme, 'wss');
  t.equal(socket.grpc, undefined, 'a WebSocket carries no gRPC call');
  if (tunnel?.kind !== 'tunnel' || smtp?.kind !== 'raw' || pinned?.kind !== 'tls-failed') throw new Error('not tunnel, raw, tls-failed');
  t.same([tunnel.scheme, tunnel.sni, tunnel.bytesUp, tunnel.bytesDown, tunnel.request, tunnel.stream], ['tls', 'pinned.example.com', 517, 4200, undefined, undefined]);
  t.same([smtp.scheme, smtp.stream?.up.bytes.toString(), smtp.stream?.down.bytes.toString()], ['tcp', 'EHLO phone\r\n', '220 smtp.example.com ESMTP\r\n']);
  t.same([pinned.scheme, pinned.error, pinned.tags], ['tls', 'the client refused our certificate (alert 48)', ['tls:alert-48', 'tls:certificate-rejected']]);
  if (blocked?.kind !== 'rejected' || loopback?.kind !== 'rejected') throw new Error('not rejected');
  t.same([blocked.request?.method, blocked.request?.url, blocked.error], ['GET', 'http://blocked.example.com/', 'access: not allowed'], 'a refused request keeps what it asked for');
  t.same([loopback.request, loopback.scheme, loopback.target], [undefined, 'tls', { host: '127.0.0.1', port: 22 }], 'a refused connection has no request');
  if (dns?.kind !== 'dns') throw new Error('not dns');
  t.same([dns.scheme, dns.dns.name, dns.dns.type, dns.dns.rcode, dns.dns.answers.map((a) => a.data)], ['dns', 'api.example.com', 'A', 'NOERROR', ['93.184.216.34']]);
});

t.test('flows.har built from that log reads back to the same flows (streamed and whole)', async (t) => {
  const log = await fromLog('flows.jsonl');
  t.same(await fromHar(), log, 'streamed, one entry at a time');
  t.same(readHar(fs.readFileSync(path.join(fixture, 'flows.har'), 'utf8')), log, 'read whole');
});

t.test('a redacted log (no bodies): the same kinds, a raw flow without its stream', async (t) => {
  const flows = await fromLog('flows-redacted.jsonl');
  t.same(flows.map((f) => f.kind), kinds);
  for (const flow of flows) t.equal(checkFlowShape(flow), flow, `${flow.id} (${flow.kind}) fits its kind`);
  const smtp = flows[5]!;
  t.equal(smtp.kind, 'raw');
  t.equal(smtp.stream, undefined, 'nothing of the stream was written');
  t.same([smtp.bytesUp, smtp.bytesDown], [12, 28], 'its sizes were');
  t.equal(flows[0]!.request?.body.bytes.length, 0, 'no body');
});

t.test('entries of other kinds\' shapes are read as the kind\'s member (a stream only on a raw flow)', async (t) => {
  const entry = (kind: string, extra: Record<string, unknown> = {}) => ({ startedDateTime: '2026-11-27T18:30:11.000Z', time: 1, request: { method: 'CONNECT', url: 'https://x.example:443', httpVersion: 'HTTP/1.1', headers: [] }, response: { status: 0, statusText: '', httpVersion: '', headers: [], content: { size: 0, mimeType: '' } }, _phonehome: { flowId: 'fl-000001', kind, stream: { up: { text: 'hi' }, down: { text: 'yo' } }, ...extra } });
  for (const kind of ['tunnel', 'tls-failed', 'rejected']) {
    const flow = harEntryToFlow(entry(kind), 0);
    t.same([flow.kind, flow.stream], [kind, undefined], `a ${kind} entry with a stream someone wrote is read without it`);
    t.equal(checkFlowShape(flow), flow);
  }
  const raw = harEntryToFlow(entry('raw'), 0);
  t.same([raw.kind, raw.stream?.up.bytes.toString(), raw.stream?.down.bytes.toString()], ['raw', 'hi', 'yo']);
  const guessed = harEntryToFlow(entry('something-else'), 0);
  t.equal(guessed.kind, 'raw', 'an unknown kind with a stream is a raw stream, as before');
  const rejectedWithMessages = harEntryToFlow({ ...entry('rejected'), request: { method: 'GET', url: 'http://x.example/', httpVersion: 'HTTP/1.1', headers: [] }, _webSocketMessages: [{ type: 'send', time: 1, opcode: 1, data: 'hi' }] }, 0);
  t.same([rejectedWithMessages.kind, rejectedWithMessages.messages], ['rejected', undefined], 'a refused request carries no messages');
  const dnsWithout = harEntryToFlow({ ...entry('dns'), _phonehome: { flowId: 'fl-000002', kind: 'dns', dns: { name: 42 } } }, 0);
  t.not(dnsWithout.kind, 'dns', 'a dns entry without a readable question is not a dns flow');
  t.equal(checkFlowShape(dnsWithout), dnsWithout);
});
