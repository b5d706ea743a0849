// A real capture: each flow's line is handed to the OS in the flow:end listener itself
// (flow-log-sink.ts), so a listener after it already finds the line in flows.jsonl — 0 ms after
// the flow's end; a small run still gets flows.har on stop.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { httpsViaProxy, startOrigin, within } from '../helpers/lab.js';
import { startCaptureRun } from '../helpers/capture-run.js';

t.test('every flow\'s line is in flows.jsonl by the time the next flow:end listener runs', async (t) => {
  const origin = await startOrigin({ tls: true, handler: (req, res) => { req.resume(); req.on('end', () => res.end('ok')); } });
  t.teardown(() => origin.close());
  const { session, out } = await startCaptureRun({}, { detectors: [] });
  const log = path.join(out, 'flows.jsonl');
  const requests = 5;
  // Listening after the files sink (attached at the start): what it sees, the OS already has.
  const seen: Array<{ url: string; inFile: boolean }> = [];
  let allEnded!: () => void;
  const ended = new Promise<void>((resolve) => { allEnded = resolve; });
  session.bus.on('flow:end', (flow) => {
    if (flow.kind !== 'http') return;
    const url = flow.request!.url;
    seen.push({ url, inFile: fs.readFileSync(log, 'utf8').includes(`"url":"${url}"`) });
    if (seen.length === requests) allEnded();
  });
  for (let i = 0; i < requests; i++) {
    const response = await httpsViaProxy({ proxyPort: session.port, host: 'api.example.test', port: origin.port, path: `/n/${i}`, trust: session.ca.certPem });
    t.equal(response.status, 200, `request ${i} answered`);
  }
  await within(ended, 10_000, `${requests} flow:end events`);
  t.same(seen.filter((s) => !s.inFile), [], 'every line already in the file');
  await session.stop();
  const entries = JSON.parse(fs.readFileSync(path.join(out, 'flows.har'), 'utf8')).log.entries as Array<{ request: { url: string } }>;
  t.equal(entries.filter((e) => e.request.url.includes('/n/')).length, requests, 'a small run: flows.har on stop');
});
