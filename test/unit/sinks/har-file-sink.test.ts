import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { BodyCapture } from '../../../src/flow/body-capture.js';
import { readHar } from '../../../src/flow/har-reader.js';
import type { Flow } from '../../../src/model/flow.js';
import { HarFileSink } from '../../../src/sinks/har-file-sink.js';
import { tempDir } from '../../helpers/lab.js';

function body(bytes: Buffer) {
  const capture = new BodyCapture(bytes.length);
  capture.push(bytes);
  return capture.result();
}

function flowWith(id: string, requestBody: Buffer, responseBody: Buffer): Flow {
  return {
    id, kind: 'http', startedAt: '2026-11-27T18:30:11.000Z', endedAt: '2026-11-27T18:30:12.000Z', durationMs: 1000,
    client: { ip: '192.168.1.23', port: 1 }, target: { host: 'a.example', port: 443 }, scheme: 'https',
    request: { method: 'POST', url: 'https://a.example/', httpVersion: 'HTTP/1.1', headers: [['x-token', '@@phonehome-body-0']], body: body(requestBody) },
    response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [], body: body(responseBody) },
    bytesUp: requestBody.length, bytesDown: responseBody.length, tags: [],
  };
}

t.test('large bodies are streamed in slices and come back byte for byte', async (t) => {
  const file = path.join(tempDir(), 'flows.har');
  const sink = new HarFileSink(file, { version: 't', startedAt: '2026-11-27T18:30:11.000Z', insecureUpstream: false, options: {} }, { redact: false });
  // Multi-byte UTF-8 whose characters straddle the 1 MiB slice boundaries, and JSON-hostile text.
  const text = Buffer.from(`${'é€😀"\\\n'.repeat(400_000)}end`);
  const binary = crypto.randomBytes(3 * 1024 * 1024 + 7);
  sink.write(flowWith('fl-1', text, binary));
  sink.write(flowWith('fl-2', Buffer.from('small "quoted" body'), Buffer.alloc(0)));
  await sink.close();
  t.notOk(fs.existsSync(`${file}.partial`));
  const flows = readHar(fs.readFileSync(file, 'utf8'));
  t.equal(flows.length, 2);
  t.ok(flows[0]!.request!.body.bytes.equals(text), 'UTF-8 body intact');
  t.ok(flows[0]!.response!.body.bytes.equals(binary), 'binary body intact');
  t.equal(flows[1]!.request!.body.bytes.toString(), 'small "quoted" body');
  t.equal(flows[0]!.request!.headers[0]![1], '@@phonehome-body-0', 'a header that looks like a placeholder is left alone');
});
