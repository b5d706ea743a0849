// HTTP/2 sessions recorded from real clients (Node's http2, grpc-js) through a relay that writes
// down each side's chunks, read back by sessionToFlows: one flow per stream, concurrent streams,
// bodies, trailers, a reset, a gRPC call split into messages; and HPACK against RFC 7541's own
// examples and against what nghttp2 encoded.

import http2 from 'node:http2';
import type net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { HpackDecoder, huffmanDecode } from '../../../src/capture-file/hpack-decoder.js';
import { sessionToFlows } from '../../../src/capture-file/session-to-flows.js';
import type { RecordedSession } from '../../../src/capture-file/recorded-session.js';
import { headerValue } from '../../../src/model/flow.js';
import { within } from '../../helpers/lab.js';
import { cutSession, startSessionRecorder } from '../../helpers/session-recorder.js';

const MiB = 1024 * 1024;
const PRINTABLE = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');

t.test('HPACK: RFC 7541 C.4, requests with Huffman coding and a dynamic table', async (t) => {
  const decoder = new HpackDecoder();
  t.same(decoder.decode(Buffer.from('828684418cf1e3c2e5f23a6ba0ab90f4ff', 'hex')), [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']]);
  t.same(decoder.decode(Buffer.from('828684be5886a8eb10649cbf', 'hex')), [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']]);
  t.same(decoder.decode(Buffer.from('828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf', 'hex')), [[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']]);
  t.throws(() => new HpackDecoder().decode(Buffer.from('be', 'hex')), /index 62 out of range/, 'a dynamic index before anything was added');
  t.throws(() => huffmanDecode(Buffer.from([0xff, 0xff, 0xff, 0xff])), /EOS|padding|invalid/, 'EOS is refused');
  t.throws(() => huffmanDecode(Buffer.from([0x00])), /padding/, 'padding must be ones');
  t.throws(() => new HpackDecoder().decode(Buffer.from('41', 'hex')), /ends/, 'a block cut inside a literal');
});

t.test('HPACK: the Huffman code is a complete prefix code, and decodes every byte nghttp2 codes', async (t) => {
  const { huffmanCodes, huffmanCodeLengths } = await import('../../../src/capture-file/hpack-huffman-code.js');
  t.equal(huffmanCodes.length, 257);
  // Kraft's sum of a complete prefix code is exactly 1; in units of 2^-30 it is 2^30.
  t.equal(huffmanCodeLengths.reduce((sum, length) => sum + 2 ** (30 - length), 0), 2 ** 30, 'complete');
  t.ok(huffmanCodes.every((code, i) => code < 2 ** huffmanCodeLengths[i]!), 'every code fits its length');

  // Each byte a header value may hold, among 'a's (5 bits each) so nghttp2 finds the Huffman
  // form shorter and uses it (and no value starts or ends with white space, which it drops);
  // what the server read is what the flow must show.
  const symbols = [9, ...Array.from({ length: 0x7f - 0x20 }, (_, i) => 0x20 + i), ...Array.from({ length: 0x80 }, (_, i) => 0x80 + i)];
  const value = `${symbols.map((byte) => `aaaaaaaa${String.fromCharCode(byte)}`).join('')}a`;
  let received: string | undefined;
  const { session } = await recordH2((stream, headers) => {
    received = String(headers['x-bytes']);
    stream.respond({ ':status': 200, 'x-bytes': value });
    stream.end();
  }, async (client) => {
    await exchange(client, { ':path': '/bytes', 'x-bytes': value });
  });
  const clientBytes = Buffer.concat(session.chunks.filter((c) => c.fromClient).map((c) => c.data));
  t.notOk(clientBytes.includes(Buffer.from('aaaaaaaa')), 'the value went Huffman-coded');
  const [flow] = sessionToFlows(session, { bodyLimitBytes: MiB });
  t.equal(received, value, 'the server read the value');
  t.equal(headerValue(flow!.request!.headers, 'x-bytes'), received, `${symbols.length} byte values, as Node's own decoder read them`);
  t.equal(headerValue(flow!.response!.headers, 'x-bytes'), received);
});

interface Recorded {
  readonly session: RecordedSession;
}

async function recordH2(onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void, client: (session: http2.ClientHttp2Session) => Promise<void>, settings?: http2.Settings): Promise<Recorded> {
  const server = http2.createServer(settings ? { settings } : {});
  server.on('stream', onStream);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const recorder = await startSessionRecorder((server.address() as net.AddressInfo).port);
  try {
    const session = http2.connect(`http://127.0.0.1:${recorder.port}`);
    session.on('error', () => undefined);
    await client(session);
    await new Promise<void>((resolve) => session.close(resolve));
    return { session: await within(recorder.next(), 10_000, 'the recorded session') };
  } finally {
    await recorder.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function exchange(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer): Promise<{ status: number; body: Buffer; trailers?: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, body ? {} : { endStream: true });
    let status = 0;
    let trailers: http2.IncomingHttpHeaders | undefined;
    const parts: Buffer[] = [];
    stream.on('response', (h) => {
      status = Number(h[':status']);
    });
    stream.on('trailers', (h) => {
      trailers = h;
    });
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('end', () => resolve({ status, body: Buffer.concat(parts), ...(trailers ? { trailers } : {}) }));
    stream.on('error', reject);
    if (body) stream.end(body);
  });
}

t.test('HTTP/2: concurrent streams are one flow each, with bodies, trailers and a reset', async (t) => {
  const upload = Buffer.alloc(300 * 1024, 0x42);
  const { session } = await recordH2((stream, headers) => {
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('error', () => undefined);
    stream.on('end', () => {
      const path = String(headers[':path']);
      if (path === '/hang') return; // the client gives up on this one
      if (path === '/trailers') {
        stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'x-done': 'yes' }));
        stream.end('with trailers');
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'text/plain', 'x-all': PRINTABLE });
      stream.end(`${headers[':method']} ${path} ${Buffer.concat(parts).length}`);
    });
  }, async (client) => {
    const hang = client.request({ ':path': '/hang' }, { endStream: true });
    hang.on('error', () => undefined);
    const [a, b, c] = await Promise.all([
      exchange(client, { ':path': '/a', 'x-all': PRINTABLE }),
      exchange(client, { ':path': '/b', ':method': 'POST', 'content-type': 'application/octet-stream' }, upload),
      exchange(client, { ':path': '/trailers' }),
    ]);
    t.equal(a.body.toString(), 'GET /a 0');
    t.equal(b.body.toString(), `POST /b ${upload.length}`);
    t.equal(c.trailers?.['x-done'], 'yes');
    await new Promise<void>((resolve) => hang.close(http2.constants.NGHTTP2_CANCEL, resolve));
  });
  const flows = sessionToFlows(session, { bodyLimitBytes: MiB });
  const byPath = new Map(flows.map((f) => [new URL(f.request!.url).pathname, f]));
  t.same([...byPath.keys()].sort(), ['/a', '/b', '/hang', '/trailers']);
  t.equal(flows.length, 4);
  const a = byPath.get('/a')!;
  t.equal(a.request!.url, `http://127.0.0.1:${session.server.port}/a`);
  t.equal(a.request!.httpVersion, 'HTTP/2.0');
  t.equal(a.alpn, 'h2c');
  t.equal(headerValue(a.request!.headers, 'x-all'), PRINTABLE, 'every printable byte through nghttp2\'s Huffman coding');
  t.equal(headerValue(a.response!.headers, 'x-all'), PRINTABLE);
  t.equal(a.response!.status, 200);
  t.equal(a.response!.body.bytes.toString(), 'GET /a 0');
  const b = byPath.get('/b')!;
  t.equal(b.request!.body.totalBytes, upload.length);
  t.ok(b.request!.body.bytes.equals(upload));
  t.same(byPath.get('/trailers')!.response!.trailers, [['x-done', 'yes']]);
  const hang = byPath.get('/hang')!;
  t.equal(hang.error, 'the stream was cancelled before it completed');
  t.ok(hang.tags.includes('h2:rst-stream-8'));
  t.notOk(hang.response);
  for (const flow of [a, b]) t.notOk(flow.error);

  // The same bytes as a decrypted TLS session with ALPN h2: https URLs, the TLS facts on every stream.
  const overTls = sessionToFlows({ ...session, tls: { sni: 'h2.example.test', alpn: 'h2', version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', decrypted: true } }, { bodyLimitBytes: MiB, tags: ['decrypted-later'] });
  t.equal(overTls.length, 4);
  for (const flow of overTls) {
    t.equal(flow.scheme, 'https');
    t.match(flow.request!.url, new RegExp(`^https://127\\.0\\.0\\.1:${session.server.port}/`));
    t.equal(flow.alpn, 'h2');
    t.equal(flow.sni, 'h2.example.test');
    t.same(flow.tls, { client: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' } });
    t.ok(flow.tags.includes('decrypted-later') && flow.tags.includes('decrypted'));
  }
});

t.test('a gRPC call through grpc-js: its messages, status and trailers', async (t) => {
  const server = new grpc.Server();
  const identity = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
  const method = { path: '/phonehome.test.Echo/Say', requestStream: false, responseStream: false, requestSerialize: identity.serialize, requestDeserialize: identity.deserialize, responseSerialize: identity.serialize, responseDeserialize: identity.deserialize };
  server.addService({ Say: method }, {
    Say: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.concat([Buffer.from('echo:'), call.request])),
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  const recorder = await startSessionRecorder(port);
  let session: RecordedSession;
  try {
    const client = new grpc.Client(`127.0.0.1:${recorder.port}`, grpc.credentials.createInsecure());
    const reply = await new Promise<Buffer>((resolve, reject) => client.makeUnaryRequest(method.path, identity.serialize, identity.deserialize, Buffer.from('contact: Alice +41 79 555 12 34'), (error, value) => (error ? reject(error) : resolve(value!))));
    t.equal(reply.toString(), 'echo:contact: Alice +41 79 555 12 34');
    client.close();
    session = await within(recorder.next(), 10_000, 'the recorded session');
  } finally {
    await recorder.close();
    server.forceShutdown();
  }
  const flows = sessionToFlows(session, { bodyLimitBytes: MiB });
  t.equal(flows.length, 1);
  const call = flows[0]!;
  t.equal(call.request!.url, `http://127.0.0.1:${session.server.port}/phonehome.test.Echo/Say`);
  t.same(call.grpc, { flavour: 'grpc', status: 0, message: 'OK' });
  t.same(call.messages!.map((m) => [m.protocol, m.fromClient, m.data.toString()]), [['grpc', true, 'contact: Alice +41 79 555 12 34'], ['grpc', false, 'echo:contact: Alice +41 79 555 12 34']]);
  t.ok(call.messages!.every((m) => m.time >= session.startedAt && m.time <= session.endedAt), 'message times from the chunks');
  t.equal(headerValue(call.response!.trailers ?? [], 'grpc-status'), '0');
  t.equal(call.request!.body.bytes.length, 0, 'the framed body lives on as its messages, as live');
});

t.test('a WebSocket over HTTP/2 (extended CONNECT): its frames read back as messages', async (t) => {
  const mask = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  const masked = (text: string): Buffer => {
    const payload = Buffer.from(text).map((byte, i) => byte ^ mask[i % 4]!);
    return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, Buffer.from(payload)]);
  };
  const serverFrames = Buffer.concat([Buffer.from([0x81, 7]), Buffer.from('welcome'), Buffer.from([0x88, 2, 0x03, 0xe8])]);
  const { session } = await recordH2((stream) => {
    stream.respond({ ':status': 200, 'sec-websocket-protocol': 'chat' });
    stream.resume();
    stream.on('end', () => stream.end(serverFrames));
  }, async (client) => {
    await new Promise((resolve) => client.once('remoteSettings', resolve));
    const stream = client.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'http', ':path': '/chat', ':authority': 'ws.example.test', 'sec-websocket-version': '13' }, { endStream: false });
    await new Promise((resolve) => stream.once('response', resolve));
    stream.resume();
    stream.end(Buffer.concat([masked('sms:+33612345678 hello'), masked('mail ada@example.org')]));
    await new Promise((resolve) => stream.once('end', resolve));
  }, { enableConnectProtocol: true });
  const flows = sessionToFlows(session, { bodyLimitBytes: MiB });
  const flow = flows.find((f) => f.kind === 'websocket');
  t.ok(flow, 'a WebSocket flow');
  t.same(flow?.kind === 'websocket' ? flow.messages.map((m) => [m.fromClient, m.data.toString()]) : [], [
    [true, 'sms:+33612345678 hello'],
    [true, 'mail ada@example.org'],
    [false, 'welcome'],
  ], 'unmasked, in order');
  t.ok(flow?.tags.includes('websocket:close-server-1000'));
  t.equal(flow?.request?.body.totalBytes ?? 0, 0, 'the frames are messages, not a body');
});

t.test('HTTP/2 cut anywhere or damaged: no throw, whole streams kept', async (t) => {
  const { session } = await recordH2((stream, headers) => {
    stream.respond({ ':status': 200 });
    stream.end(`hello ${headers[':path']}`);
  }, async (client) => {
    await exchange(client, { ':path': '/one' });
    await exchange(client, { ':path': '/two' });
  });
  const whole = sessionToFlows(session, { bodyLimitBytes: MiB });
  t.equal(whole.filter((f) => !f.error).length, 2);
  const all = Buffer.concat(session.chunks.map((c) => c.data));
  let problems = 0;
  for (let cut = 0; cut <= all.length; cut += 7) {
    const { chunks } = cutSession(session, cut);
    try {
      const flows = sessionToFlows({ ...session, chunks }, { bodyLimitBytes: MiB });
      if (flows.some((f) => !f.kind)) problems++;
    } catch {
      problems++;
    }
  }
  t.equal(problems, 0, 'every cut gives flows and no throw');
  // A corrupted header block: the reading stops there, the rest is a raw remainder that says why.
  const corrupt = session.chunks.map((c, i) => (i === 0 && c.fromClient ? { ...c, data: Buffer.concat([c.data.subarray(0, 24), Buffer.from('000004010500000001ffffffff', 'hex')]) } : c));
  const flows = sessionToFlows({ ...session, chunks: corrupt }, { bodyLimitBytes: MiB });
  t.ok(flows.some((f) => f.kind === 'raw' && /HTTP\/2 frames/.test(f.error ?? '')), 'a raw remainder with the reason');
});
