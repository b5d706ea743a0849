// A WebSocket or gRPC call still open is written in parts: by count, by age and by bytes, each
// part a flow of its own that reads back from the HAR, renumbers across loops, and is inspected
// without reading the request twice; a raw stream's parts renumber and show the same way. Fed by
// hand (no sockets); the live paths are in test/integration/stream-parts.test.ts and
// raw-stream-parts.test.ts.

import t from 'tap';
import { flowToHarEntry } from '../../../src/flow/har.js';
import { readHar } from '../../../src/flow/har-reader.js';
import { viewsOf } from '../../../src/inspect/views.js';
import type { Flow, HttpFlow, WebSocketFlow } from '../../../src/model/flow.js';
import { ExchangeRecorder, type ExchangeContext, type PartWriting } from '../../../src/proxy/recorder/exchange-recorder.js';
import { FlowRenumbering } from '../../../src/proxy/threads/flow-renumbering.js';
import { SummaryCollector } from '../../../src/sinks/summary.js';
import { flowRow } from '../../../src/sinks/tui/tui-model.js';

const context: ExchangeContext = { flowId: 'fl-000042', connection: 'fl-000041', client: { ip: '192.168.1.23', port: 50000 }, mode: 'http', target: { host: 'push.example.com', port: 443 }, sni: 'push.example.com', alpn: 'http/1.1', tls: true, tags: ['decrypted'], bodyLimitBytes: 1 << 20 };
const upgrade = { method: 'GET', url: 'wss://push.example.com/channel?imei=490154203237518', httpVersion: 'HTTP/1.1', headers: [['Upgrade', 'websocket'], ['X-Device-IMEI', '490154203237518']] as Array<[string, string]> };

interface Recorded { readonly parts: WebSocketFlow[]; readonly last: () => Flow | undefined; readonly recorder: ExchangeRecorder }

function webSocket(parts: Omit<PartWriting, 'onPart'> | undefined, overrides: Partial<ExchangeContext> = {}, onPart?: (flow: WebSocketFlow) => void): Recorded {
  const written: WebSocketFlow[] = [];
  let last: Flow | undefined;
  const recorder = new ExchangeRecorder({ ...context, ...overrides }, upgrade, (f) => { last = f; }, parts && { ...parts, onPart: (f) => { written.push(f as WebSocketFlow); onPart?.(f as WebSocketFlow); } });
  recorder.webSocketOpen({ ip: '42.62.48.10', port: 443 });
  return { parts: written, last: () => last, recorder };
}

const text = (n: number): Buffer => Buffer.from(`{"n":${n}}`);

t.test('by count: every N messages a part, the rest in the last part written at close', async (t) => {
  const ws = webSocket({ maxMessages: 3, intervalMs: 60_000 });
  for (let i = 0; i < 7; i++) ws.recorder.webSocketMessage(i % 2 === 0, text(i), false);
  t.equal(ws.parts.length, 2, 'two parts written while the connection was open');
  ws.recorder.done();
  const all = [...ws.parts, ws.last() as WebSocketFlow];
  t.same(all.map((f) => f.part), [
    { of: 'fl-000042', index: 1, firstMessage: 0, last: false },
    { of: 'fl-000042', index: 2, firstMessage: 3, last: false },
    { of: 'fl-000042', index: 3, firstMessage: 6, last: true },
  ]);
  t.same(all.map((f) => f.messages.map((m) => m.data.toString())), [['{"n":0}', '{"n":1}', '{"n":2}'], ['{"n":3}', '{"n":4}', '{"n":5}'], ['{"n":6}']]);
  t.equal(all[0]!.id, 'fl-000042', 'the first part is the flow that was announced');
  t.equal(new Set(all.map((f) => f.id)).size, 3, 'each part has an id of its own');
  t.ok(all.every((f) => f.connection === 'fl-000041' && f.kind === 'websocket' && f.request.url === upgrade.url && f.response?.status === 101), 'each part is a whole WebSocket record');
  const sent = (f: WebSocketFlow): number => f.messages.filter((m) => m.fromClient).reduce((n, m) => n + m.totalBytes, 0);
  t.same(all.map((f) => f.bytesUp), all.map(sent), "a part counts its own messages' bytes, so the parts add up");
  t.ok(Date.parse(all[1]!.startedAt) >= Date.parse(all[0]!.endedAt), 'a part starts where the one before ended');
});

t.test('a connection that never reaches a part is written whole, as before', async (t) => {
  const ws = webSocket({ maxMessages: 3, intervalMs: 60_000 });
  ws.recorder.webSocketMessage(true, text(1), false);
  ws.recorder.done();
  t.equal(ws.parts.length, 0);
  t.equal((ws.last() as WebSocketFlow).part, undefined);
  t.equal((ws.last() as WebSocketFlow).messages.length, 1);
});

t.test('by age: a quiet channel is written when its oldest held message reaches the interval', async (t) => {
  let partWritten!: () => void;
  const written = new Promise<void>((resolve) => { partWritten = resolve; });
  const ws = webSocket({ maxMessages: 1_000, intervalMs: 5 }, {}, () => partWritten());
  ws.recorder.webSocketMessage(false, text(1), false);
  ws.recorder.webSocketMessage(true, text(2), false);
  // The part timer does not hold the process open (a live connection's socket does): here nothing else would.
  const socketStandIn = setInterval(() => undefined, 60_000);
  await written;
  clearInterval(socketStandIn);
  t.equal(ws.parts.length, 1);
  t.same(ws.parts[0]!.messages.map((m) => m.data.toString()), ['{"n":1}', '{"n":2}']);
  ws.recorder.done('upstream closed 1006');
  const last = ws.last() as WebSocketFlow;
  t.same(last.part, { of: 'fl-000042', index: 2, firstMessage: 2, last: true }, 'the close is recorded as the last part, even with no message in it');
  t.equal(last.messages.length, 0);
  t.equal(last.error, 'upstream closed 1006');
});

t.test('by bytes: a part is written when its held bytes reach twice the body limit, so nothing is dropped', async (t) => {
  const ws = webSocket({ maxMessages: 1_000, intervalMs: 60_000 }, { bodyLimitBytes: 100 });
  for (let i = 0; i < 6; i++) ws.recorder.webSocketMessage(true, Buffer.alloc(80, i), true);
  ws.recorder.done();
  const all = [...ws.parts, ws.last() as WebSocketFlow];
  t.same(all.map((f) => f.messages.length), [2, 2, 2], 'a 200-byte part takes two messages of 80 bytes; the third starts the next part whole');
  t.ok(all.every((f) => !f.tags.some((tag) => tag.startsWith('messages:dropped') || tag === 'inspected:partial')));
  const without = webSocket(undefined, { bodyLimitBytes: 100 });
  for (let i = 0; i < 6; i++) without.recorder.webSocketMessage(true, Buffer.alloc(80, i), true);
  without.recorder.done();
  t.ok(without.last()!.tags.includes('messages:dropped-3'), 'written whole (the offline path), the same traffic loses messages to the budget');
});

t.test('by bytes held: a part is written once its messages hold maxBytes, well before the budget; a message larger than that is kept whole', async (t) => {
  const ws = webSocket({ maxMessages: 1_000, intervalMs: 60_000, maxBytes: 150 }, { bodyLimitBytes: 1_000 });
  for (const size of [80, 80, 80, 500, 10, 80, 80]) ws.recorder.webSocketMessage(true, Buffer.alloc(size, size), true);
  const written = ws.parts.length;
  ws.recorder.done();
  const all = [...ws.parts, ws.last() as WebSocketFlow];
  t.equal(written, 3, 'three parts written while open');
  t.same(all.map((f) => f.messages.map((m) => m.data.length)), [[80, 80], [80, 500], [10, 80, 80], []], 'each part ends with the message that took it to 150 bytes; the 500-byte one whole');
  t.same(all.map((f) => f.part?.firstMessage), [0, 2, 4, 7]);
  t.ok(all.every((f) => !f.tags.some((tag) => tag.startsWith('messages:dropped') || tag === 'inspected:partial')), 'nothing cut or dropped');
});

t.test('a large message is kept as a copy in shared memory (its part reaches the inspection worker without another); a small one as an ordinary copy', async (t) => {
  const ws = webSocket(undefined);
  const large = Buffer.alloc(100 * 1024, 0x61);
  const small = Buffer.from('{"sms":"hi"}');
  ws.recorder.webSocketMessage(true, large, true);
  ws.recorder.webSocketMessage(false, small, false);
  large.fill(0);
  small.fill(0);
  ws.recorder.done();
  const [kept, keptSmall] = (ws.last() as WebSocketFlow).messages;
  t.ok(kept!.data.buffer instanceof SharedArrayBuffer, 'the large message: shared');
  t.ok(kept!.data.equals(Buffer.alloc(100 * 1024, 0x61)), 'and a copy: what ws reuses afterwards does not change it');
  t.notOk(keptSmall!.data.buffer instanceof SharedArrayBuffer, 'the small one: an ordinary buffer');
  t.equal(keptSmall!.data.toString(), '{"sms":"hi"}', 'a copy too');
});

t.test('a cut message marks its own part partial, not the parts after it', async (t) => {
  const ws = webSocket({ maxMessages: 2, intervalMs: 60_000 }, { bodyLimitBytes: 100 });
  ws.recorder.webSocketMessage(true, Buffer.alloc(300, 1), true);
  ws.recorder.webSocketMessage(true, text(1), false);
  ws.recorder.webSocketMessage(true, text(2), false);
  ws.recorder.done();
  t.same(ws.parts[0]!.messages.map((m) => [m.data.length, m.totalBytes]), [[200, 300]], 'a message larger than a whole part is cut to it, and fills it');
  t.same([ws.parts[0]!.tags.includes('inspected:partial'), ws.last()!.tags.includes('inspected:partial')], [true, false]);
});

/** One gRPC message as it travels: a flag byte, a 32-bit length, the message. */
function grpcFrame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

t.test('a gRPC call is written in parts too: its bodies counted per part, its status in the last', async (t) => {
  let last: Flow | undefined;
  const parts: HttpFlow[] = [];
  const call = { method: 'POST', url: 'https://push.example.com/push.Channel/Listen', httpVersion: 'HTTP/2.0', headers: [['content-type', 'application/grpc'], ['x-device-imei', '490154203237518']] as Array<[string, string]> };
  const recorder = new ExchangeRecorder({ ...context, alpn: 'h2' }, call, (f) => { last = f; }, { maxMessages: 2, intervalMs: 60_000, onPart: (f) => parts.push(f as HttpFlow) });
  const request = grpcFrame(Buffer.from('listen'));
  recorder.data(true, request);
  recorder.response({ status: 200, statusText: '', httpVersion: 'HTTP/2.0', headers: [[':status', '200'], ['content-type', 'application/grpc']] }, { ip: '42.62.48.10', port: 443 });
  const pushes = ['a', 'bb', 'ccc', 'dddd'].map((m) => grpcFrame(Buffer.from(m)));
  for (const push of pushes) recorder.data(false, push);
  recorder.trailers(false, [['grpc-status', '0']]);
  recorder.done();
  const all = [...parts, last as HttpFlow];
  t.same(all.map((f) => [f.part?.index, f.part?.firstMessage, f.part?.last]), [[1, 0, false], [2, 2, false], [3, 4, true]]);
  t.same(all.map((f) => (f.messages ?? []).map((m) => m.data.toString())), [['listen', 'a'], ['bb', 'ccc'], ['dddd']]);
  t.same(all.map((f) => [f.bytesUp, f.bytesDown]), [[request.length, pushes[0]!.length], [0, pushes[1]!.length + pushes[2]!.length], [0, pushes[3]!.length]], 'the framed bytes that passed, per part');
  t.same(all.map((f) => f.grpc?.status), [undefined, undefined, 0], 'grpc-status comes with the last part');
  t.same(viewsOf(all[1]!).map((v) => v.path[0]), ['grpc:message[2]', 'grpc:message[3]'], 'a later part: its messages, numbered over the call, and not the request again');
  t.ok(all.every((f) => !f.tags.includes('grpc:incomplete-message')));
});

t.test('an HTTP exchange with a body is never written in parts', async (t) => {
  let flow: Flow | undefined;
  const parts: Flow[] = [];
  const recorder = new ExchangeRecorder(context, { ...upgrade, method: 'POST', headers: [['content-type', 'application/json']] }, (f) => { flow = f; }, { maxMessages: 1, intervalMs: 60_000, onPart: (f) => parts.push(f) });
  recorder.data(true, Buffer.from('{"a":1}'));
  recorder.data(true, Buffer.from('{"b":2}'));
  recorder.done();
  t.equal(parts.length, 0);
  t.equal(flow?.kind === 'http' ? flow.part : 'not http', undefined);
  t.equal(flow?.kind === 'http' ? flow.request.body.bytes.toString() : '', '{"a":1}{"b":2}');
});

t.test("inspection: a later part's layers are its messages, numbered over the whole connection", async (t) => {
  const ws = webSocket({ maxMessages: 2, intervalMs: 60_000 });
  for (let i = 0; i < 5; i++) ws.recorder.webSocketMessage(true, text(i), false);
  ws.recorder.done();
  const [first, second] = ws.parts;
  t.same(viewsOf(first!).map((v) => v.path[0]), ['body', 'request-headers', 'websocket:message[0]', 'websocket:message[1]'], 'the first part carries the upgrade request and its headers');
  t.same(viewsOf(second!).map((v) => v.path[0]), ['websocket:message[2]', 'websocket:message[3]'], 'later parts do not read the request again (no second finding for its IMEI)');
  t.same(viewsOf(ws.last()!).map((v) => v.path[0]), ['websocket:message[4]']);
});

t.test('the HAR keeps which part an entry is; a file that says nonsense gets no part', async (t) => {
  const ws = webSocket({ maxMessages: 2, intervalMs: 60_000 });
  for (let i = 0; i < 3; i++) ws.recorder.webSocketMessage(true, text(i), false);
  ws.recorder.done();
  const entries = [...ws.parts, ws.last()!].map((f) => flowToHarEntry(f, { omitBodies: false }));
  const back = readHar(JSON.stringify({ log: { version: '1.2', creator: { name: 't', version: '1' }, entries } }));
  t.same(back.map((f) => (f.kind === 'websocket' ? f.part : 'not a websocket')), [{ of: 'fl-000042', index: 1, firstMessage: 0, last: false }, { of: 'fl-000042', index: 2, firstMessage: 2, last: true }]);
  t.same(back.map((f) => [f.bytesUp, f.bytesDown]), [...ws.parts, ws.last()!].map((f) => [f.bytesUp, f.bytesDown]), "each part's message bytes read back (a rebuilt summary counts them)");
  for (const bad of [{ of: '', index: 1, firstMessage: 0, last: true }, { of: 'fl-1', index: 0, firstMessage: 0, last: true }, { of: 'fl-1', index: 1, firstMessage: -1, last: true }, { of: 'fl-1', index: 1.5, firstMessage: 0, last: true }, { of: 'fl-1', index: 1, firstMessage: 0, last: 'yes' }, 'part 1']) {
    const entry = { ...entries[0], _phonehome: { ...(entries[0]!._phonehome as object), part: bad } };
    const [flow] = readHar(JSON.stringify({ log: { version: '1.2', creator: { name: 't', version: '1' }, entries: [entry] } }));
    t.equal(flow?.kind === 'websocket' ? flow.part : 'not a websocket', undefined, `refused: ${JSON.stringify(bad)}`);
  }
});

t.test('across proxy loops, every part points at its first part by the run-wide id', async (t) => {
  const ws = webSocket({ maxMessages: 1, intervalMs: 60_000 });
  ws.recorder.webSocketMessage(true, text(0), false);
  ws.recorder.webSocketMessage(true, text(1), false);
  ws.recorder.done();
  const loop = new FlowRenumbering(2);
  const [first, second, last] = [...ws.parts, ws.last()!].map((f) => loop.flow(f) as WebSocketFlow);
  t.not(first!.id, 'fl-000042', 'renumbered');
  t.equal(second!.part?.of, first!.id);
  t.equal(last!.part?.of, first!.id);
});

t.test('summary.json counts the connection once and every part\'s bytes', async (t) => {
  const ws = webSocket({ maxMessages: 2, intervalMs: 60_000 });
  for (let i = 0; i < 5; i++) ws.recorder.webSocketMessage(i % 2 === 0, text(i), false);
  ws.recorder.done();
  const all = [...ws.parts, ws.last()!];
  const summary = new SummaryCollector();
  for (const flow of all) summary.addFlow(flow);
  const snapshot = summary.snapshot({ version: 'test', startedAt: all[0]!.startedAt, options: {}, insecureUpstream: false, passthroughConfigured: [] }, { endedAt: all[2]!.endedAt, learnedPassthrough: [] }) as {
    flows: { seen: number; websocket: number }; coverage: { totals: { bytesUp: number; bytesDown: number; flows: Record<string, number> } }; destinations: Array<{ host: string; flows: number; bytesUp: number }>;
  };
  t.same([snapshot.flows.seen, snapshot.flows.websocket], [1, 1]);
  t.same(snapshot.coverage.totals.flows, { decrypted: 1 });
  const bytesUp = all.reduce((n, f) => n + f.bytesUp, 0);
  t.equal(snapshot.coverage.totals.bytesUp, bytesUp, 'the bytes of all three parts');
  t.match(snapshot.destinations, [{ host: 'push.example.com', flows: 1, bytesUp }]);
});

t.test('the terminal UI says which part a flow is', async (t) => {
  const ws = webSocket({ maxMessages: 2, intervalMs: 60_000 });
  for (let i = 0; i < 3; i++) ws.recorder.webSocketMessage(true, text(i), false);
  ws.recorder.done();
  t.ok(flowRow(ws.parts[0]!).detail.includes('── 2 WebSocket message(s) (part 1 of fl-000042, still open; messages from #0)'));
  t.ok(flowRow(ws.last()!).detail.includes('── 1 WebSocket message(s) (part 2 of fl-000042, the last; messages from #2)'));
});

t.test('a raw stream\'s parts: renumbered across loops to the run-wide first id, and the terminal UI says where each starts', async (t) => {
  const base = { startedAt: '2026-12-08T04:00:00.000Z', endedAt: '2026-12-08T04:01:00.000Z', durationMs: 60_000, client: context.client, target: { host: 'imap.example.com', port: 993 }, tags: ['decrypted', 'stream:raw'], kind: 'raw' as const, scheme: 'tls' as const };
  const stream = (up: string, down: string) => ({ up: { bytes: Buffer.from(up), totalBytes: up.length, truncated: false }, down: { bytes: Buffer.from(down), totalBytes: down.length, truncated: false } });
  const first: Flow = { ...base, id: 'fl-000007', bytesUp: 9, bytesDown: 12, stream: stream('a1 NOOP\r\n', 'a1 OK done\r\n'), part: { of: 'fl-000007', index: 1, firstMessage: 0, last: false, bytesBefore: { up: 0, down: 0 } } };
  const last: Flow = { ...base, id: 'fl-000009', bytesUp: 11, bytesDown: 0, stream: stream('a2 LOGOUT\r\n', ''), part: { of: 'fl-000007', index: 2, firstMessage: 0, last: true, bytesBefore: { up: 9, down: 12 } } };
  const loop = new FlowRenumbering(2);
  const [one, two] = [first, last].map((f) => loop.flow(f));
  t.equal(two!.kind === 'raw' ? two!.part?.of : undefined, one!.id, 'the last part points at the first by its new id');
  t.ok(flowRow(last).detail.includes('── part 2 of stream fl-000007, the last; from byte 9 up and 12 down'));
  t.ok(flowRow(first).detail.includes('── part 1 of stream fl-000007, still open; from byte 0 up and 0 down'));
});
