// A capture with the inspection worker (the default detectors): the worker writes flows.jsonl
// (inspection-pool.ts). Its lines are the bytes the proxy thread's FlowLogSink writes for the same
// flows, in the order the flows ended, and a flow's line is in the file before any finding of it
// is reported (the worker writes a batch's lines before it inspects the batch).

import t from 'tap';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { httpsViaProxy, startOrigin } from '../helpers/lab.js';
import { startCaptureRun } from '../helpers/capture-run.js';
import { FlowLogSink } from '../../src/sinks/flow-log-sink.js';
import type { Flow } from '../../src/model/flow.js';
import { limits } from '../../src/limits.js';

const photo = fs.readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'photos', 'camera.jpg'));
const quiet = { failed: () => undefined, recovered: () => undefined };

for (const redact of [false, true]) {
  t.test(`flows.jsonl written by the inspection worker${redact ? ' (--redact)' : ''}: the proxy thread's bytes, in order, each line before its findings`, async (t) => {
    const origin = await startOrigin({ tls: true, handler: (req, res) => { req.resume(); req.on('end', () => res.end(req.url === '/big' ? crypto.randomBytes(1_500_000) : 'ok')); } });
    t.teardown(() => origin.close());
    const { session, out, work } = await startCaptureRun(redact ? { redact: true } : {});
    const log = path.join(out, 'flows.jsonl');
    const ended: Flow[] = [];
    // Listening after the files sink: the proxy thread has handed the line over, not written it.
    const writtenAtEnd: boolean[] = [];
    session.bus.on('flow:end', (flow) => {
      ended.push(flow);
      writtenAtEnd.push(fs.readFileSync(log, 'utf8').includes(`"flowId":"${flow.id}"`));
    });
    const lineFirst: Array<{ flowId: string; inFile: boolean }> = [];
    session.bus.on('finding', (finding) => lineFirst.push({ flowId: finding.flowId, inFile: fs.readFileSync(log, 'utf8').includes(`"flowId":"${finding.flowId}"`) }));

    // Several at once (batches of more than one flow), one with a finding, one large body (sliced lines), text and binary.
    const requests = [
      { path: '/plain' },
      { path: '/upload', method: 'POST', body: photo, headers: { 'content-type': 'image/jpeg' } },
      { path: '/big' },
      { path: '/q?a=1&b=%20x', method: 'POST', body: crypto.randomBytes(3000) },
      { path: '/plain2' },
    ];
    const responses = await Promise.all(requests.map((r) => httpsViaProxy({ proxyPort: session.port, host: 'api.example.test', port: origin.port, trust: session.ca.certPem, ...r })));
    t.same(responses.map((r) => r.status), requests.map(() => 200));
    await session.stop();

    const reference = path.join(work, 'reference.jsonl');
    const sink = new FlowLogSink(reference, quiet, { redact, backlogLimitBytes: limits.sinkBacklogBytes, retryMs: limits.sinkRetryMs });
    for (const flow of ended) sink.write(flow);
    t.same(sink.close(), { lines: ended.length, dropped: 0, pending: 0 });
    const written = fs.readFileSync(log, 'utf8');
    t.equal(written.split('\n').length - 1, ended.length, 'one line per flow');
    t.ok(written === fs.readFileSync(reference, 'utf8'), 'byte for byte what the proxy thread writes, in the order the flows ended');
    t.ok(ended.filter((f) => f.kind === 'http').length >= requests.length);
    t.same(writtenAtEnd.filter((inFile) => inFile), [], 'no line is written on the proxy thread');
    if (!redact) {
      t.ok(lineFirst.length > 0, `findings reported (${lineFirst.length})`);
      t.same(lineFirst.filter((f) => !f.inFile), [], "every finding's flow already in flows.jsonl");
    } else {
      t.notOk(written.includes(photo.subarray(0, 300).toString('base64')), 'no body with --redact');
    }
  });
}
