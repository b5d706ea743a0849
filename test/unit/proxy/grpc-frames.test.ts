// gRPC framing read as it passes: messages come out when whole, however the bytes are split.

import t from 'tap';
import { Base64StreamDecoder, GrpcFrameReader, parseGrpcWebTrailers } from '../../../src/proxy/recorder/grpc-frames.js';

function frame(message: Buffer, flag = 0): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

t.test('messages come out whole whatever the chunking', async (t) => {
  const messages = [Buffer.from('first'), Buffer.alloc(70_000, 1), Buffer.alloc(0), Buffer.from('last')];
  const wire = Buffer.concat([frame(messages[0]!), frame(messages[1]!, 1), frame(messages[2]!), frame(messages[3]!)]);
  for (const size of [1, 3, 5, 7, 4096, wire.length]) {
    const reader = new GrpcFrameReader(1 << 20);
    const out = [];
    for (let at = 0; at < wire.length; at += size) out.push(...reader.push(wire.subarray(at, at + size)));
    t.same(out.map((f) => f.data.toString('hex')), messages.map((m) => m.toString('hex')), `chunks of ${size}`);
    t.same(out.map((f) => f.compressed), [false, true, false, false]);
    t.equal(reader.pending, false);
  }
});

t.test('a message from 4 KiB is kept in shared memory (its part reaches the inspection worker without a copy); a small one in one chunk is a view of it', async (t) => {
  const large = Buffer.alloc(70_000, 3);
  for (const size of [1000, 200_000]) {
    const wire = frame(large);
    const reader = new GrpcFrameReader(1 << 20);
    const out = [];
    for (let at = 0; at < wire.length; at += size) out.push(...reader.push(wire.subarray(at, at + size)));
    t.ok(out[0]!.data.buffer instanceof SharedArrayBuffer, `chunks of ${size}: shared`);
    wire.fill(0);
    t.ok(out[0]!.data.equals(large), `chunks of ${size}: a copy, not a view of what passed`);
  }
  const small = frame(Buffer.from('hello'));
  const [kept] = new GrpcFrameReader(1 << 20).push(small);
  t.notOk(kept!.data.buffer instanceof SharedArrayBuffer, 'a small message: an ordinary buffer');
  t.equal(kept!.data.buffer, small.buffer, 'in one chunk, a view of it (no copy)');
});

t.test('a message over the capture limit is counted, not held', async (t) => {
  const reader = new GrpcFrameReader(10);
  const [frameOut] = reader.push(frame(Buffer.alloc(1_000, 2)));
  t.equal(frameOut?.data.length, 10);
  t.equal(frameOut?.totalBytes, 1_000);
  const huge = Buffer.alloc(5);
  huge.writeUInt32BE(0xffffffff, 1);
  const lying = new GrpcFrameReader(10);
  t.same(lying.push(Buffer.concat([huge, Buffer.alloc(100)])), [], 'a 4 GiB length waits for bytes, allocating nothing');
  t.equal(lying.pending, true);
});

t.test('a reserved flag bit means this is not gRPC framing: reading stops', async (t) => {
  const reader = new GrpcFrameReader(100);
  t.same(reader.push(Buffer.from([0x02, 0, 0, 0, 1, 0x41])), []);
  t.equal(reader.broken, true);
});

t.test('gRPC-Web trailers frames and base64 text bodies', async (t) => {
  const reader = new GrpcFrameReader(100);
  const [trailers] = reader.push(frame(Buffer.from('grpc-status: 0\r\ngrpc-message: all%20good\r\n'), 0x80));
  t.equal(trailers?.trailers, true);
  t.same(parseGrpcWebTrailers(trailers!.data), [['grpc-status', '0'], ['grpc-message', 'all%20good']]);
  const text = frame(Buffer.from('hello')).toString('base64') + frame(Buffer.from('grpc-status:0'), 0x80).toString('base64');
  const decoder = new Base64StreamDecoder();
  const bytes = Buffer.concat([...text].map((c) => decoder.push(Buffer.from(c))));
  const frames = new GrpcFrameReader(100).push(bytes);
  t.same(frames.map((f) => f.data.toString()), ['hello', 'grpc-status:0'], 'two padded base64 segments, fed one character at a time');
});
