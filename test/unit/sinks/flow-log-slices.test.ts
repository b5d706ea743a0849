// Large bodies reach flows.jsonl a slice at a time (flow-log-sink.ts); the line must be the same
// bytes as the whole entry written at once, wherever a slice boundary falls: base64 groups of
// three bytes, a multi-byte character, a control character escaped as \u00XX.

import t from 'tap';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { FlowLogSink, INLINE_BYTES } from '../../../src/sinks/flow-log-sink.js';
import { ONE_WRITE_CHARS } from '../../../src/sinks/append-only-file.js';
import { flowToHarEntry } from '../../../src/flow/har.js';
import { DestinationLookup } from '../../../src/enrich/destination-lookup.js';
import { EntityLookup } from '../../../src/enrich/entity/entity-lookup.js';
import { flowHost, type Flow, type MessageRecord } from '../../../src/model/flow.js';
import { body, makeFlow } from '../../helpers/flows.js';
import { tempDir } from '../../helpers/lab.js';

/** A UTF-8 text of `bytes` bytes made of `unit` repeated, cut to whole characters. */
function textOf(unit: string, bytes: number): Buffer {
  const whole = Buffer.from(unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit))));
  return Buffer.from(whole.toString('utf8', 0, bytes).replace(/\uFFFD$/, ''));
}

const bodies: Array<[string, Buffer]> = [
  ['random bytes (base64), not a multiple of three', crypto.randomBytes(3 * 1024 * 1024 + 1)],
  ['ASCII text', textOf('Z', 2 * 1024 * 1024 + 7)],
  ['three-byte characters across every slice boundary', textOf('€', 2 * 1024 * 1024 + 2)],
  ['four-byte characters mixed with ASCII', textOf('a😀bc', 2 * 1024 * 1024)],
  ['control characters, escaped six to one', textOf('\u0007\u0000\u001f"\\', 2 * 1024 * 1024)],
  ['plain text with one quote in its last slice (the others written as their bytes)', Buffer.concat([textOf('p', 2 * 1024 * 1024), Buffer.from('"end"')])],
  ['plain text with one backslash in a middle slice', Buffer.concat([textOf('q', 1024 * 1024 + 3), Buffer.from('\\'), textOf('r', 1024 * 1024)])],
  ['exactly the inline size', textOf('y', INLINE_BYTES)],
  ['one byte past the inline size', textOf('y', INLINE_BYTES + 1)],
  ['random bytes one past the inline size (base64)', crypto.randomBytes(INLINE_BYTES + 1)],
  ['a line just past one write (written piece by piece)', textOf('w', ONE_WRITE_CHARS)],
];

t.before(async () => { await Promise.all([DestinationLookup.shared(), EntityLookup.shared()]); });

for (const [what, bytes] of bodies) {
  t.test(`${what}: the line is the whole entry's bytes`, async (t) => {
    const file = path.join(tempDir(), 'flows.jsonl');
    const sink = new FlowLogSink(file, { failed: () => undefined, recovered: () => undefined }, { redact: false, backlogLimitBytes: 1 << 20, retryMs: 1000 });
    const flow = makeFlow({ requestBody: bytes, response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [], body: body(bytes) } });
    sink.write(flow);
    sink.close();
    const whole = JSON.stringify(flowToHarEntry(flow, { omitBodies: false, locate: (ip) => DestinationLookup.locate(ip), company: (f) => EntityLookup.of(flowHost(f)) })) + '\n';
    const written = fs.readFileSync(file, 'utf8');
    t.equal(written.length, whole.length, 'same length');
    t.ok(written === whole, 'same characters');
    const entry = JSON.parse(written) as { request: { postData: { text: string; encoding?: string } } };
    const back = Buffer.from(entry.request.postData.text, entry.request.postData.encoding === 'base64' ? 'base64' : 'utf8');
    t.ok(back.equals(bytes), 'the body reads back byte for byte');
  });
}

/**
 * Bytes in use in V8's large-object spaces: objects over 128 KiB. A young one that is still in use
 * when the nursery is collected (the line being made, mid-write) moves to the old one, and is freed
 * only by a full collection.
 */
function largeObjectBytes(): number {
  let bytes = 0;
  for (const space of v8.getHeapSpaceStatistics()) if (space.space_name === 'large_object_space' || space.space_name === 'new_large_object_space') bytes += space.space_used_size;
  return bytes;
}

t.test('a photo upload\'s line makes no text large enough for the large-object space (it would wait there for a full collection)', async (t) => {
  const file = path.join(tempDir(), 'flows.jsonl');
  const sink = new FlowLogSink(file, { failed: () => undefined, recovered: () => undefined }, { redact: false, backlogLimitBytes: 1 << 20, retryMs: 1000 });
  const photos = [crypto.randomBytes(560 * 1024), crypto.randomBytes(300 * 1024)];
  const flows = photos.map((photo) => makeFlow({ method: 'POST', requestBody: photo }));
  sink.write(makeFlow({ requestBody: 'warm the code path' }));
  const before = largeObjectBytes();
  for (const flow of flows) sink.write(flow);
  const grown = largeObjectBytes() - before;
  sink.close();
  // Inlined whole, the two photos' base64 texts and their joined lines were over 2 MB here.
  t.ok(grown < 128 * 1024, `large-object space grew ${grown} bytes`);
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  t.equal(lines.length, 3, 'one line per flow');
  for (const [i, photo] of photos.entries()) {
    const entry = JSON.parse(lines[i + 1]!) as { request: { postData: { text: string; encoding?: string } } };
    t.equal(entry.request.postData.encoding, 'base64');
    t.ok(Buffer.from(entry.request.postData.text, 'base64').equals(photo), `photo ${i + 1} reads back byte for byte`);
  }
});

/** A message of a WebSocket or gRPC flow, as the recorder keeps it. */
function message(protocol: 'websocket' | 'grpc', fromClient: boolean, binary: boolean, data: Buffer): MessageRecord {
  return { protocol, time: '2026-11-27T18:30:11.100Z', fromClient, binary, data, totalBytes: data.length };
}

const messageFlows: Array<[string, Flow]> = [
  ['a WebSocket part of large binary, text and non-UTF-8 text messages', makeFlow({
    kind: 'websocket', scheme: 'wss',
    messages: [
      message('websocket', true, true, crypto.randomBytes(1024 * 1024)),
      message('websocket', false, false, textOf('€a', 700 * 1024)),
      message('websocket', true, false, Buffer.from('small text')),
      // Text by its opcode, not UTF-8 (the reader does not check): written as Node decodes it,
      // never cut into slices (a run of continuation bytes has no place to cut).
      message('websocket', false, false, Buffer.alloc(INLINE_BYTES * 2, 0x80)),
      message('websocket', true, true, crypto.randomBytes(INLINE_BYTES + 1)),
    ],
  })],
  ['a WebSocket part of 600 messages of 8 KiB (each small, together 4.8 MB), binary and text', makeFlow({
    kind: 'websocket', scheme: 'wss',
    messages: Array.from({ length: 600 }, (_, i) => (i % 3 === 0 ? message('websocket', i % 2 === 0, false, textOf('{"n":"é"}', 8 * 1024)) : message('websocket', i % 2 === 0, true, crypto.randomBytes(8 * 1024)))),
  })],
  ['a gRPC call of large messages', makeFlow({
    grpc: { flavour: 'grpc', status: 0 }, response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/2', headers: [], body: body(Buffer.alloc(0)) },
    messages: [message('grpc', true, true, crypto.randomBytes(900 * 1024)), message('grpc', false, true, crypto.randomBytes(64 * 1024))],
  })],
];

/** The longest text handed to fs.writeSync while `run` runs (a line written whole is one). */
function longestTextWritten(run: () => void): number {
  const { writeSync } = fs;
  let longest = 0;
  fs.writeSync = ((...args: Parameters<typeof writeSync>) => {
    if (typeof args[1] === 'string') longest = Math.max(longest, args[1].length);
    return writeSync(...args);
  }) as typeof writeSync;
  try {
    run();
  } finally {
    fs.writeSync = writeSync;
  }
  return longest;
}

for (const [what, flow] of messageFlows) {
  t.test(`${what}: written a slice at a time, the line is the whole entry's bytes`, async (t) => {
    const file = path.join(tempDir(), 'flows.jsonl');
    const sink = new FlowLogSink(file, { failed: () => undefined, recovered: () => undefined }, { redact: false, backlogLimitBytes: 1 << 20, retryMs: 1000 });
    sink.write(makeFlow({ requestBody: 'warm the code path' }));
    const before = largeObjectBytes();
    const longest = longestTextWritten(() => sink.write(flow));
    const grown = largeObjectBytes() - before;
    sink.close();
    // Each message's text whole, and the line joined, were megabytes of large objects before; a
    // part of small messages was one text of megabytes, inlined and written at once.
    t.ok(grown < 128 * 1024, `large-object space grew ${grown} bytes`);
    t.ok(longest < ONE_WRITE_CHARS, `no text written whole past ${ONE_WRITE_CHARS} characters (longest: ${longest})`);
    const whole = JSON.stringify(flowToHarEntry(flow, { omitBodies: false, locate: (ip) => DestinationLookup.locate(ip), company: (f) => EntityLookup.of(flowHost(f)) })) + '\n';
    const written = fs.readFileSync(file, 'utf8').split('\n')[1]! + '\n';
    t.equal(written.length, whole.length, 'same length');
    t.ok(written === whole, 'same characters');
  });
}
