import t from 'tap';
import { BodyCapture } from '../../../src/flow/body-capture.js';
import { flowToHarEntry, encodeBody } from '../../../src/flow/har.js';
import { readHar } from '../../../src/flow/har-reader.js';
import type { Flow } from '../../../src/model/flow.js';

function body(bytes: Buffer, limit = 1 << 20) {
  const capture = new BodyCapture(limit);
  capture.push(bytes);
  return capture.result();
}

function makeFlow(overrides: Partial<Flow> = {}): Flow {
  return {
    id: 'fl-000001', kind: 'http', startedAt: '2026-11-27T18:30:11.000Z', endedAt: '2026-11-27T18:30:11.512Z', durationMs: 512,
    client: { ip: '192.168.1.23', port: 50123 }, target: { host: 'api.example.com', port: 443 }, sni: 'api.example.com', scheme: 'https',
    destination: { ip: '42.62.48.10', port: 443 },
    request: { method: 'PUT', url: 'https://api.example.com/gallery/upload?u=1', httpVersion: 'HTTP/1.1', headers: [['Content-Type', 'image/jpeg']], body: body(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10])) },
    response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [['content-type', 'application/json']], body: body(Buffer.from('{"ok":true}')) },
    bytesUp: 6, bytesDown: 11, tags: ['decrypted'], ...overrides,
  } as Flow;
}

t.test('body capture keeps the first bytes and says when it cut', async (t) => {
  const capture = new BodyCapture(5);
  capture.push(Buffer.from('abc'));
  capture.push(Buffer.from('defgh'));
  const result = capture.result();
  t.equal(result.bytes.toString(), 'abcde');
  t.equal(result.totalBytes, 8);
  t.ok(result.truncated);
  const whole = new BodyCapture(10);
  whole.push(Buffer.from('abc'));
  t.notOk(whole.result().truncated);
});

t.test('non-UTF-8 request bodies are base64 with encoding on postData', async (t) => {
  const entry = flowToHarEntry(makeFlow(), { omitBodies: false });
  const postData = entry.request['postData'] as { text: string; encoding?: string; mimeType: string };
  t.equal(postData.encoding, 'base64');
  t.equal(Buffer.from(postData.text, 'base64').toString('hex'), 'ffd8ffe00010');
  t.equal(entry.serverIPAddress, '42.62.48.10');
  t.same(entry.request['queryString'], [{ name: 'u', value: '1' }]);
  t.same(encodeBody(Buffer.from('héllo')), { text: 'héllo' });
});

t.test('a flow survives HAR and back with its bodies, addresses and tags', async (t) => {
  const flow = makeFlow();
  const har = JSON.stringify({ log: { version: '1.2', creator: { name: 't', version: '1' }, entries: [flowToHarEntry(flow, { omitBodies: false })] } });
  const [back] = readHar(har);
  t.equal(back?.id, flow.id);
  t.same(back?.request?.body.bytes, flow.request?.body.bytes);
  t.equal(back?.response?.body.bytes.toString(), '{"ok":true}');
  t.same(back?.destination, { ip: '42.62.48.10', port: 443 });
  t.same(back?.client, flow.client);
  t.same(back?.tags, ['decrypted']);
});

t.test('raw streams and WebSocket messages survive the round trip', async (t) => {
  const raw = makeFlow({ kind: 'raw', scheme: 'tcp', request: undefined, response: undefined, target: { host: 'smtp.example.com', port: 587 }, stream: { up: body(Buffer.from('EHLO phone\r\n')), down: body(Buffer.from('220 hi\r\n')) } });
  const ws = makeFlow({ kind: 'websocket', scheme: 'wss', messages: [{ protocol: 'websocket', time: '2026-11-27T18:30:11.100Z', fromClient: true, binary: false, data: Buffer.from('{"sms":"hi"}'), totalBytes: 12 }, { protocol: 'websocket', time: '2026-11-27T18:30:11.200Z', fromClient: false, binary: true, data: Buffer.from([1, 2, 3]), totalBytes: 3 }] });
  const har = JSON.stringify({ log: { entries: [flowToHarEntry(raw, { omitBodies: false }), flowToHarEntry(ws, { omitBodies: false })] } });
  const [rawBack, wsBack] = readHar(har);
  t.equal(rawBack?.kind, 'raw');
  t.equal(rawBack?.stream?.up.bytes.toString(), 'EHLO phone\r\n');
  t.equal(rawBack?.stream?.down.bytes.toString(), '220 hi\r\n');
  t.equal(rawBack?.scheme, 'tcp');
  t.equal(wsBack?.kind, 'websocket');
  t.equal(wsBack?.messages?.[0]?.data.toString(), '{"sms":"hi"}');
  t.same([...(wsBack?.messages?.[1]?.data ?? [])], [1, 2, 3]);
  t.equal(wsBack?.messages?.[1]?.fromClient, false);
});

t.test('a UDP exchange relayed over SOCKS5 is a udp:// entry, and reads back as one', async (t) => {
  const udp = makeFlow({ kind: 'raw', scheme: 'udp', request: undefined, response: undefined, target: { host: '203.0.113.9', port: 123 }, stream: { up: body(Buffer.alloc(48, 0x23)), down: body(Buffer.alloc(48, 0x24)) } });
  const entry = flowToHarEntry(udp, { omitBodies: false });
  t.equal(entry.request.url, 'udp://203.0.113.9:123/');
  const [back] = readHar(JSON.stringify({ log: { entries: [entry] } }));
  t.match(back, { kind: 'raw', scheme: 'udp', target: { host: '203.0.113.9', port: 123 } });
  t.equal(back?.kind === 'raw' ? back.stream?.down.bytes.length : 0, 48);
});

t.test('--redact leaves bodies out of the HAR', async (t) => {
  const entry = flowToHarEntry(makeFlow(), { omitBodies: true });
  t.equal((entry.request['postData'] as { text: string }).text, '');
  t.equal(entry._phonehome['bodiesOmitted'], 'redact');
});

t.test('reads HAR files of other tools: form params, base64 response, no _phonehome', async (t) => {
  const har = JSON.stringify({ log: { entries: [{
    startedDateTime: '2026-01-01T00:00:00Z', time: 10,
    request: { method: 'POST', url: 'http://h.example/p', headers: [{ name: 'Host', value: 'h.example' }], postData: { mimeType: 'application/x-www-form-urlencoded', params: [{ name: 'a', value: '1 2' }, { name: 'b', value: 'x&y' }] } },
    response: { status: 200, content: { size: 3, text: 'AQID', encoding: 'base64' } },
  }] } });
  const [flow] = readHar(har);
  t.equal(flow?.request?.body.bytes.toString(), 'a=1+2&b=x%26y');
  t.same([...(flow?.response?.body.bytes ?? [])], [1, 2, 3]);
  t.equal(flow?.target.host, 'h.example');
  t.equal(flow?.target.port, 80);
});

t.test('a file that is not HAR gets a clear error', async (t) => {
  t.throws(() => readHar('not json', 'x.har'), /x.har is not JSON/);
  t.throws(() => readHar('{"log":{}}', 'x.har'), /no log.entries/);
});

t.test("the app, the parent connection and the destination's company survive HAR and back", async (t) => {
  const app = { id: 'com.miui.gallery', confidence: 'high' as const, evidence: 'X-Requested-With' };
  const flow = makeFlow({ id: 'fl-000007', connection: 'fl-000005', app });
  const entry = flowToHarEntry(flow, {
    omitBodies: false,
    locate: () => ({ country: 'CN', asn: 4808, org: 'China Unicom' }),
    company: (f) => (f.target.host === 'api.example.com' ? { entity: 'Xiaomi', purpose: 'vendor cloud' } : undefined),
  });
  t.equal(entry.connection, 'fl-000005', 'HAR connection is the client connection, shared by its exchanges');
  const phonehome = entry['_phonehome'] as Record<string, unknown>;
  t.same(phonehome['app'], app);
  t.match(phonehome['destination'], { country: 'CN', entity: 'Xiaomi', purpose: 'vendor cloud' });
  const [back] = readHar(JSON.stringify({ log: { version: '1.2', entries: [entry] } }));
  t.same(back?.app, app);
  t.equal(back?.connection, 'fl-000005');
  const old = flowToHarEntry(makeFlow(), { omitBodies: false });
  t.equal(old.connection, 'fl-000001', 'a flow without a connection id names itself, as before');
  t.equal(readHar(JSON.stringify({ log: { version: '1.2', entries: [old] } }))[0]?.connection, undefined, 'read back: no connection of its own');
  const forged = { ...entry, _phonehome: { ...phonehome, app: { id: 'x'.repeat(300), confidence: 'certain', evidence: 1 } } };
  t.equal(readHar(JSON.stringify({ log: { version: '1.2', entries: [forged] } }))[0]?.app, undefined, 'a malformed app in a file is not believed');
});
