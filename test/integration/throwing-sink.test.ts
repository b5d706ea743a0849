// A sink that throws on every flow and every finding, in a real capture session with a real
// client: the device's traffic is untouched, the other sinks (the files, a counting sink, the
// summary) get every event, the failure is said once and counted, and the summary notes it.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import type { EventBus, LogEntry } from '../../src/flow/events.js';
import type { Detector } from '../../src/inspect/detect/detector.js';
import type { Sink, SinkStats } from '../../src/sinks/sink.js';
import { httpsViaProxy, startOrigin, until } from '../helpers/lab.js';
import { startCaptureRun } from '../helpers/capture-run.js';

const plantedValueDetector: Detector = {
  id: 'test/planted',
  category: 'sms',
  gate: (view) => view.bytes.includes('PLANTED-SMS'),
  detect: (view) => [{
    category: 'sms', severity: 'high', direction: view.direction, detector: 'test/planted',
    summary: 'planted SMS text found', evidence: { path: view.path, bytes: view.bytes.length, excerpt: 'PLANTED-SMS' }, details: {},
  }],
};

class BrokenSink implements Sink {
  readonly name = 'broken sink';
  readonly closes = 'display';
  attach(bus: EventBus): void {
    bus.listen('flow:end', this.name, () => { throw new Error('cannot write anything'); });
    bus.listen('finding', this.name, () => { throw new Error('cannot write anything'); });
  }
  async close(): Promise<SinkStats> {
    return { written: 0, skipped: 0 };
  }
}

class CountingSink implements Sink {
  readonly name = 'counting sink';
  readonly closes = 'display';
  flows = 0;
  findings = 0;
  readonly logs: LogEntry[] = [];
  attach(bus: EventBus): void {
    bus.listen('flow:end', this.name, () => { this.flows++; });
    bus.listen('finding', this.name, () => { this.findings++; });
    bus.listen('log', this.name, (entry) => { this.logs.push(entry); });
  }
  async close(): Promise<SinkStats> {
    return { written: this.flows + this.findings, skipped: 0 };
  }
}

t.test('a sink throwing on every flow and finding: traffic and the other sinks carry on, said once, counted', async (t) => {
  const origin = await startOrigin({ tls: true, handler: (req, res) => { req.resume(); req.on('end', () => res.end('ok')); } });
  t.teardown(() => origin.close());
  const { session, out } = await startCaptureRun({}, { detectors: [plantedValueDetector] });
  // Broken first, so the counting sink after it proves the bus went on to the next listener.
  const counting = new CountingSink();
  session.sinks.add(new BrokenSink(), counting);

  const requests = 4;
  for (let i = 0; i < requests; i++) {
    const response = await httpsViaProxy({ proxyPort: session.port, host: 'api.example.test', port: origin.port, method: 'POST', body: `msg=PLANTED-SMS ${i}`, trust: session.ca.certPem });
    t.equal(response.status, 200, `request ${i} answered`);
    t.equal(response.body.toString(), 'ok');
  }
  await until(() => counting.flows === requests && counting.findings === requests, 10_000, 'every flow and finding reached the counting sink');
  const result = await session.stop();

  t.equal(result.exitCode, 0, 'a failing display sink does not fail the run');
  t.equal(result.findings, requests, 'the summary counted every finding');
  t.equal(fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8').trim().split('\n').length, requests, 'findings.jsonl has every finding');
  t.equal(JSON.parse(fs.readFileSync(path.join(out, 'flows.har'), 'utf8')).log.entries.length, requests, 'flows.har has every flow');
  const said = counting.logs.filter((entry) => entry.message.includes('broken sink'));
  t.equal(said.length, 1, 'said once');
  t.match(said[0], { level: 'error', message: /broken sink failed on flow:end: .*cannot write anything/ });
  t.match(session.bus.listenerFailures(), [{ name: 'broken sink', event: 'flow:end', count: requests * 2 }]);
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  t.match(summary.notes, [new RegExp(`broken sink failed ${requests * 2} time\\(s\\), first on flow:end: .*cannot write anything`)]);
});
