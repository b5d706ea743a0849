// The version-neutral recorder, fed events by hand (no sockets): HTTP/2 and gRPC, gRPC-Web over
// HTTP/1.1 (binary and text), compressed messages, and the limits that keep a flow bounded.

import zlib from 'node:zlib';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { flowToHarEntry } from '../../../src/flow/har.js';
import { readHar } from '../../../src/flow/har-reader.js';
import { defaultDetectors } from '../../../src/inspect/detect/registry.js';
import { inspectFlow } from '../../../src/inspect/inspector.js';
import type { Flow } from '../../../src/model/flow.js';
import { ExchangeRecorder, type ExchangeContext } from '../../../src/proxy/recorder/exchange-recorder.js';

const photo = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'fixtures', 'photos', 'camera.jpg'));

function frame(message: Buffer, flag = 0): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

function bytesField(number: number, value: Buffer): Buffer {
  const varint = (n: number): number[] => { const out: number[] = []; while (n > 0x7f) { out.push((n & 0x7f) | 0x80); n >>>= 7; } out.push(n); return out; };
  return Buffer.concat([Buffer.from(varint((number << 3) | 2)), Buffer.from(varint(value.length)), value]);
}

const context: ExchangeContext = { flowId: 'fl-000009', client: { ip: '192.168.1.23', port: 50000 }, mode: 'http', target: { host: 'grpc.example.com', port: 443 }, sni: 'grpc.example.com', alpn: 'h2', tls: true, tags: ['decrypted'], bodyLimitBytes: 1 << 20 };

function record(requestHeaders: Array<[string, string]>, feed: (r: ExchangeRecorder) => void, overrides: Partial<ExchangeContext> = {}): Flow {
  let flow: Flow | undefined;
  const recorder = new ExchangeRecorder({ ...context, ...overrides }, { method: 'POST', url: 'https://grpc.example.com/svc/Call', httpVersion: 'HTTP/2.0', headers: requestHeaders }, (f) => { flow = f; });
  feed(recorder);
  return flow!;
}

t.test('a gRPC call over HTTP/2: messages, status from trailers, bodies only counted', async (t) => {
  const wire = Buffer.concat([frame(Buffer.from('one')), frame(Buffer.from('two'))]);
  const flow = record([[':method', 'POST'], ['content-type', 'application/grpc+proto']], (r) => {
    r.data(true, wire.subarray(0, 4));
    r.data(true, wire.subarray(4));
    r.response({ status: 200, statusText: '', httpVersion: 'HTTP/2.0', headers: [[':status', '200'], ['content-type', 'application/grpc']] }, { ip: '42.62.48.10', port: 443 });
    r.data(false, frame(Buffer.from('reply')));
    r.trailers(false, [['grpc-status', '3'], ['grpc-message', 'bad%20argument']]);
    r.done();
  });
  t.same(flow.grpc, { flavour: 'grpc', status: 3, message: 'bad argument' });
  t.same(flow.messages?.map((m) => [m.protocol, m.fromClient, m.data.toString()]), [['grpc', true, 'one'], ['grpc', true, 'two'], ['grpc', false, 'reply']]);
  t.equal(flow.request?.body.bytes.length, 0, 'the framed body is not kept twice');
  t.equal(flow.request?.body.totalBytes, wire.length);
  t.equal(flow.bytesUp, wire.length);
  t.equal(flow.alpn, 'h2');
  t.same(flow.response?.trailers, [['grpc-status', '3'], ['grpc-message', 'bad%20argument']]);
  const back = readHar(JSON.stringify({ log: { version: '1.2', creator: { name: 't', version: '1' }, entries: [flowToHarEntry(flow, { omitBodies: false })] } }))[0];
  t.same(back?.grpc, flow.grpc, 'the HAR keeps the call\'s status');
  t.same(back?.messages?.map((m) => m.data.toString()), ['one', 'two', 'reply'], 'and its messages');
  t.same(back?.response?.trailers, flow.response?.trailers);
});

t.test('a gRPC call read whole is not "inspected partly": its framed bodies are counted, its messages kept', async (t) => {
  const flow = record([['content-type', 'application/grpc']], (r) => {
    r.data(true, frame(Buffer.from('ask')));
    r.response({ status: 200, statusText: '', httpVersion: 'HTTP/2.0', headers: [[':status', '200'], ['content-type', 'application/grpc']] }, {});
    r.data(false, frame(Buffer.from('answer')));
    r.trailers(false, [['grpc-status', '0']]);
    r.done();
  });
  t.notOk(flow.tags.includes('inspected:partial'), `tags ${flow.tags.join(' ')}`);
  t.same([flow.request?.body.truncated, flow.response?.body.truncated], [false, false]);
  t.same([flow.request?.body.totalBytes, flow.response?.body.totalBytes], [8, 11]);
  const entry = flowToHarEntry(flow, { omitBodies: false });
  t.notOk(JSON.stringify(entry).includes('truncated at the body limit'), 'the HAR does not call the body cut');
  const html = record([['content-type', 'application/grpc']], (r) => {
    r.response({ status: 502, statusText: 'Bad Gateway', httpVersion: 'HTTP/2.0', headers: [[':status', '502'], ['content-type', 'text/html']] }, {});
    r.data(false, Buffer.alloc(3_000, 0x41));
    r.done();
  }, { bodyLimitBytes: 1_000 });
  t.ok(html.tags.includes('inspected:partial'), 'an answer that is not gRPC is a body like any other, cut at the limit');
});

t.test('a trailers-only gRPC answer (an error straight away) still has its status', async (t) => {
  const flow = record([['content-type', 'application/grpc']], (r) => {
    r.response({ status: 200, statusText: '', httpVersion: 'HTTP/2.0', headers: [['content-type', 'application/grpc'], ['grpc-status', '14'], ['grpc-message', 'unavailable']] }, {});
    r.done();
  });
  t.match(flow.grpc, { status: 14, message: 'unavailable' });
});

t.test('a compressed gRPC message with a photo in a bytes field is found through its encoding', async (t) => {
  const message = Buffer.concat([bytesField(1, Buffer.from('IMG_0001.jpg')), bytesField(3, photo)]);
  const flow = record([['content-type', 'application/grpc'], ['grpc-encoding', 'gzip']], (r) => {
    r.data(true, frame(zlib.gzipSync(message), 1));
    r.done();
  });
  t.same(flow.messages?.map((m) => [m.compressed, m.encoding]), [[true, 'gzip']]);
  const photoFinding = inspectFlow(flow, defaultDetectors).drafts.find((d) => d.category === 'photo');
  t.ok(photoFinding);
  t.same(photoFinding?.evidence.path.slice(0, 2), ['grpc:message[0]', 'content-encoding:gzip']);
  t.ok(photoFinding?.evidence.path.includes('protobuf:3'));
});

t.test('gRPC-Web over HTTP/1.1: binary and text bodies, trailers in the last frame', async (t) => {
  const response = Buffer.concat([frame(Buffer.from('answer')), frame(Buffer.from('grpc-status: 0\r\ngrpc-message: fine\r\n'), 0x80)]);
  for (const [type, encode] of [['application/grpc-web+proto', (b: Buffer) => b], ['application/grpc-web-text', (b: Buffer) => Buffer.from(b.toString('base64'))]] as const) {
    const flow = record([['content-type', type]], (r) => {
      r.data(true, encode(frame(Buffer.from('question'))));
      r.response({ status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [['content-type', type]] }, {});
      const wire = encode(response);
      for (let at = 0; at < wire.length; at += 7) r.data(false, wire.subarray(at, at + 7));
      r.done();
    }, { alpn: 'http/1.1' });
    t.match(flow.grpc, { flavour: type.includes('text') ? 'grpc-web-text' : 'grpc-web', status: 0, message: 'fine' }, type);
    t.same(flow.messages?.map((m) => m.data.toString()), ['question', 'answer'], type);
    t.same(flow.response?.trailers, [['grpc-status', '0'], ['grpc-message', 'fine']]);
  }
});

t.test('limits: messages past the per-flow budget are counted, cut messages are partial', async (t) => {
  const flow = record([['content-type', 'application/grpc']], (r) => {
    r.data(true, frame(Buffer.alloc(3_000, 1)));
    r.data(true, frame(Buffer.alloc(10, 2)));
    r.done('the stream was cancelled before it completed');
  }, { bodyLimitBytes: 1_000 });
  t.equal(flow.messages?.[0]?.data.length, 1_000, 'one message is kept up to the body limit');
  t.equal(flow.messages?.[0]?.totalBytes, 3_000);
  t.ok(flow.tags.includes('inspected:partial'));
  t.equal(flow.messages?.length, 2);
  t.equal(flow.error, 'the stream was cancelled before it completed');
  const unfinished = record([['content-type', 'application/grpc']], (r) => {
    r.data(true, frame(Buffer.alloc(100)).subarray(0, 50));
    r.done();
  });
  t.ok(unfinished.tags.includes('grpc:incomplete-message'));
});

t.test('an upgrade request is a WebSocket flow even when the server never answers', async (t) => {
  let flow: Flow | undefined;
  const recorder = new ExchangeRecorder({ ...context, alpn: 'http/1.1' }, { method: 'GET', url: 'wss://grpc.example.com/ws', httpVersion: 'HTTP/1.1', headers: [['Upgrade', 'websocket'], ['Proxy-Authorization', 'Basic c2VjcmV0']] }, (f) => { flow = f; });
  recorder.done('upstream refused');
  t.equal(flow?.kind, 'websocket');
  t.equal(flow?.scheme, 'wss');
  t.same(flow?.request?.headers[1], ['Proxy-Authorization', '(removed by phonehome)'], 'the proxy password never reaches a record');
});
