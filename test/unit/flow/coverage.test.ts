// The coverage ledger: each kind of flow classified, with the bytes the detectors got and did not.

import t from 'tap';
import { coverageOf } from '../../../src/flow/coverage.js';
import { SummaryCollector } from '../../../src/sinks/summary.js';
import { TuiModel, flowRow } from '../../../src/sinks/tui/tui-model.js';
import type { Flow } from '../../../src/model/flow.js';
import { makeFlow } from '../../helpers/flows.js';

const cut = (bytes: number, total: number) => ({ bytes: Buffer.alloc(bytes), totalBytes: total, truncated: total > bytes });
const flows: Record<string, Flow> = {
  decrypted: makeFlow({ requestBody: 'a'.repeat(100), bytesUp: 100, bytesDown: 0 }),
  plain: makeFlow({ scheme: 'http', requestBody: 'x'.repeat(10), bytesUp: 10 }),
  partial: makeFlow({ request: { method: 'PUT', url: 'https://api.example.com/big', httpVersion: 'HTTP/2.0', headers: [], body: cut(1_000, 5_000) }, bytesUp: 5_000, tags: ['decrypted', 'inspected:partial'] }),
  grpc: makeFlow({ requestBody: '', bytesUp: 30, messages: [{ protocol: 'grpc', time: '', fromClient: true, binary: true, data: Buffer.alloc(25), totalBytes: 25 }] }),
  raw: makeFlow({ kind: 'raw', scheme: 'tcp', request: undefined, stream: { up: cut(4, 4), down: cut(7, 7) }, bytesUp: 4, bytesDown: 7, target: { host: 'mail.example.com', port: 25 } }),
  learned: makeFlow({ kind: 'tunnel', scheme: 'tls', request: undefined, bytesUp: 2_000, bytesDown: 9_000, tags: ['passthrough:learned'], target: { host: 'bank.example.com', port: 443 } }),
  configured: makeFlow({ kind: 'tunnel', scheme: 'tls', request: undefined, bytesUp: 300, bytesDown: 0, tags: ['passthrough:configured'], target: { host: 'apple.example.com', port: 443 } }),
  failed: makeFlow({ kind: 'tls-failed', scheme: 'tls', request: undefined, bytesUp: 0, bytesDown: 0, tags: ['tls:certificate-rejected'], target: { host: 'bank.example.com', port: 443 } }),
  rejected: makeFlow({ kind: 'rejected', request: undefined, tags: ['client:bad-target'] }),
};

t.test('each flow has a class and its inspected bytes', async (t) => {
  const rows: Array<[string, string, boolean, number]> = [
    ['decrypted', 'decrypted', false, 100],
    ['plain', 'plain', false, 10],
    ['partial', 'partial', false, 1_000],
    ['grpc', 'decrypted', false, 25],
    ['raw', 'raw', false, 4],
    ['learned', 'passthrough-learned', true, 0],
    ['configured', 'passthrough-configured', true, 0],
    ['failed', 'tls-failed', true, 0],
    ['rejected', 'rejected', true, 0],
  ];
  for (const [name, cls, unseen, inspected] of rows) {
    const coverage = coverageOf(flows[name]!);
    t.equal(coverage.class, cls, name);
    t.equal(coverage.unseen, unseen, `${name} unseen`);
    t.equal(coverage.bytesUpInspected, inspected, `${name} bytes up inspected`);
  }
});

t.test('summary.json has the ledger: totals and the hosts where something went unseen', async (t) => {
  const summary = new SummaryCollector();
  for (const flow of Object.values(flows)) summary.addFlow(flow);
  const ledger = summary.snapshot({ version: 't', startedAt: '2026-11-27T18:30:00.000Z', options: {}, insecureUpstream: false, passthroughConfigured: [] }, { endedAt: '2026-11-27T18:31:00.000Z', learnedPassthrough: [] })['coverage'] as { totals: Record<string, unknown>; unseenByHost: Record<string, Record<string, unknown>> };
  const up = 100 + 10 + 5_000 + 30 + 4 + 2_000 + 300;
  const seen = 100 + 10 + 1_000 + 25 + 4;
  t.match(ledger.totals, { bytesUp: up, bytesUpInspected: seen, shareUpInspected: Math.round((seen / up) * 10_000) / 10_000 });
  t.same(Object.keys(ledger.unseenByHost), ['api.example.com', 'bank.example.com', 'apple.example.com'], 'largest unseen upload first');
  t.match(ledger.unseenByHost['bank.example.com'], { flows: { 'passthrough-learned': 1, 'tls-failed': 1 }, bytesUp: 2_000, bytesUpInspected: 0, shareUpInspected: 0 });
  t.notOk('mail.example.com' in ledger.unseenByHost, 'a raw stream captured whole is not unseen');
  t.equal(summary.shareUpInspected, Math.round((seen / up) * 10_000) / 10_000);
});

t.test('the UI says how much was inspected and marks unseen flows', async (t) => {
  const model = new TuiModel({ capacity: 100, proxyAddresses: ['192.168.1.5:8080'], insecureUpstream: false, redact: (f) => f });
  model.addFlow(flowRow(flows['decrypted']!), '192.168.1.23');
  model.addFlow(flowRow(flows['learned']!), '192.168.1.23');
  const frame = model.render(140, 30);
  t.match(frame.header[1]!.text, /↑2\.1k \(4% inspected\)/);
  t.match(frame.flows.map((l) => l.text).join('\n'), /TUNNEL .*bank\.example\.com.*⊘ unseen/);
  t.match(flowRow(flows['learned']!).detail[0], /coverage: passthrough-learned/);
});
