// The coverage ledger for DNS: questions we answered are their own class (their names were
// inspected), encrypted DNS to public resolvers counts as names not seen, QUIC dropped and Alt-Svc
// h3 removed are counted; recover and --append keep all of it.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { coverageOf } from '../../../src/flow/coverage.js';
import { encryptedDnsOf } from '../../../src/flow/encrypted-dns.js';
import { SummaryCollector } from '../../../src/sinks/summary.js';
import { recoverRun, replayRun } from '../../../src/run/recover.js';
import { flowToHarEntry } from '../../../src/flow/har.js';
import type { Flow } from '../../../src/model/flow.js';
import { dnsFlow } from '../../helpers/dns-flows.js';
import { makeFlow } from '../../helpers/flows.js';
import { tempDir } from '../../helpers/lab.js';

const tunnel = (host: string, port: number, ip: string, extra: Partial<Flow> = {}) => makeFlow({ kind: 'tunnel', scheme: 'tls', request: undefined, target: { host, port }, destination: { ip, port }, bytesUp: 500, bytesDown: 1_500, tags: ['passthrough:learned'], ...extra });
const context = { version: 't', startedAt: '2026-11-27T18:30:00.000Z', options: {}, insecureUpstream: false, passthroughConfigured: [] };
const snapshotOf = (summary: SummaryCollector) => summary.snapshot(context, { endedAt: '2026-11-27T18:31:00.000Z', learnedPassthrough: [] }) as { flows: Record<string, number>; destinations: Array<{ host: string }>; coverage: { totals: { flows: Record<string, number>; bytesUp: number; bytesUpInspected: number }; dns: Record<string, unknown>; quic: Record<string, unknown> } };

t.test('a DNS question is its own class, read whole; not plain HTTP', async (t) => {
  const coverage = coverageOf(dnsFlow('api.example.com'));
  t.equal(coverage.class, 'dns');
  t.equal(coverage.unseen, false);
  t.equal(coverage.bytesUpInspected, coverage.bytesUp);
  t.equal(coverage.encryptedDns, undefined);
});

t.test('encrypted DNS: DoT on 853, DoH to known resolvers by name or anycast address', async (t) => {
  const rows: Array<[string, Flow, string | undefined]> = [
    ['DoT tunnel to a private resolver', tunnel('dns.example.net', 853, '203.0.113.5'), 'dot'],
    ['DoT refused handshake', makeFlow({ kind: 'tls-failed', scheme: 'tls', request: undefined, target: { host: '1.1.1.1', port: 853 } }), 'dot'],
    ['DoT decrypted into a raw stream', makeFlow({ kind: 'raw', scheme: 'tls', request: undefined, target: { host: 'dns.google', port: 853 } }), 'dot'],
    ['DoH by name (Android Private DNS)', tunnel('dns.google', 443, '8.8.4.4'), 'doh'],
    ['DoH to a Cloudflare browser name', tunnel('mozilla.cloudflare-dns.com', 443, '104.16.249.249'), 'doh'],
    ['DoH by its SNI, through a redirect', tunnel('104.16.248.249', 443, '104.16.248.249', { mode: 'transparent', sni: 'chrome.cloudflare-dns.com' }), 'doh'],
    ['DoH to an address with no name', tunnel('1.1.1.1', 443, '1.1.1.1', { mode: 'wireguard' }), 'doh'],
    ['DoH to Quad9 by IPv6', tunnel('2620:fe::fe', 443, '2620:fe::fe'), 'doh'],
    ['NextDNS with a profile name', tunnel('abc123.dns.nextdns.io', 443, '45.90.28.0'), 'doh'],
    ['decrypted DoH (still counted as DoH)', makeFlow({ url: 'https://dns.google/dns-query', target: { host: 'dns.google', port: 443 } }), 'doh'],
    // look-alikes
    ['plain DNS to 8.8.8.8 answered by us', dnsFlow('example.com', { destination: { ip: '8.8.8.8', port: 53 } }), undefined],
    ['HTTPS to a web site', tunnel('bank.example.com', 443, '198.51.100.7'), undefined],
    ['Quad9\'s web site', tunnel('www.quad9.net', 443, '9.9.9.10'), undefined],
    ['Google on port 80 at 8.8.8.8', makeFlow({ scheme: 'http', target: { host: '8.8.8.8', port: 80 }, destination: { ip: '8.8.8.8', port: 80 } }), undefined],
    ['a name that only ends like a resolver', tunnel('notdns.google', 443, '142.250.1.1'), undefined],
  ];
  for (const [what, flow, expected] of rows) t.equal(encryptedDnsOf(flow), expected, what);
});

t.test('summary.json: dns, encrypted DNS, QUIC and Alt-Svc in the ledger', async (t) => {
  const summary = new SummaryCollector();
  summary.addFlow(dnsFlow('api.example.com'));
  summary.addFlow(dnsFlow('api.example.com', { type: 'AAAA' }));
  summary.addFlow(dnsFlow('cdn.example.net', { type: 'HTTPS', dns: { stripped: 2 } }));
  summary.addFlow(dnsFlow('nothing.example.org', { dns: { rcode: 'NXDOMAIN' } }));
  summary.addFlow(tunnel('dns.google', 443, '8.8.8.8'));
  summary.addFlow(tunnel('1.1.1.1', 853, '1.1.1.1'));
  summary.addFlow(makeFlow({ url: 'https://cloudflare-dns.com/dns-query', target: { host: 'cloudflare-dns.com', port: 443 }, bytesUp: 60 }));
  summary.addFlow(makeFlow({ tags: ['decrypted', 'alt-svc:h3-removed'], bytesUp: 10 }));
  summary.addFlow(makeFlow({ tags: ['decrypted', 'alt-svc:h3-removed'], bytesUp: 10 }));
  let snapshot = snapshotOf(summary);
  t.same(snapshot.coverage.dns, { queries: 4, names: 3, stripped: 2, encrypted: { flows: 2, hosts: ['1.1.1.1', 'dns.google'], bytes: 4_000, decrypted: 1 } });
  t.same(snapshot.coverage.quic, { dropped: null, altSvcH3Removed: 2 }, 'nothing counted QUIC: null, not 0');
  t.equal(snapshot.flows['dns'], 4);
  t.equal(snapshot.flows['plainHttp'], 0, 'DNS is not plain HTTP');
  t.equal(snapshot.coverage.totals.flows['dns'], 4);
  t.notOk(snapshot.destinations.some((d) => d.host.endsWith('example.org')), 'a name looked up is not a destination');
  summary.setQuicDropped(17);
  snapshot = snapshotOf(summary);
  t.same(snapshot.coverage.quic, { dropped: 17, altSvcH3Removed: 2 });
});

t.test('recover and --append keep the DNS ledger, and the QUIC count of earlier sessions', async (t) => {
  const dir = tempDir('dns-recover');
  const flows = [dnsFlow('api.example.com'), dnsFlow('x.example.com', { dns: { stripped: 1 } }), tunnel('dns.google', 853, '8.8.8.8'), makeFlow({ tags: ['decrypted', 'alt-svc:h3-removed'] })];
  fs.writeFileSync(path.join(dir, 'flows.jsonl'), flows.map((f) => `${JSON.stringify(flowToHarEntry(f, { omitBodies: false }))}\n`).join(''));
  fs.writeFileSync(path.join(dir, 'findings.jsonl'), '');
  // A killed run: no summary.json; recover rebuilds it from the flow log.
  await recoverRun(dir);
  const recovered = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as { coverage: { dns: Record<string, unknown>; quic: Record<string, unknown> } };
  t.match(recovered.coverage.dns, { queries: 2, names: 2, stripped: 1, encrypted: { flows: 1, hosts: ['dns.google'] } });
  t.same(recovered.coverage.quic, { dropped: null, altSvcH3Removed: 1 }, 'the firewall counter died with the run');
  // A finished run's summary says 40 were dropped; --append replays it and goes on counting.
  fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ ...recovered, coverage: { ...recovered.coverage, quic: { dropped: 40, altSvcH3Removed: 1 } } }));
  const appended = new SummaryCollector();
  await replayRun(dir, appended);
  appended.addFlow(dnsFlow('api.example.com'));
  appended.setQuicDropped(2);
  t.match(snapshotOf(appended).coverage, { dns: { queries: 3, names: 2 }, quic: { dropped: 42, altSvcH3Removed: 1 } });
  // Recovering a finished run again keeps the count its summary held.
  await recoverRun(dir);
  t.match(JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')), { coverage: { quic: { dropped: 40 } } });
});

t.test('the UI counts DNS questions and encrypted DNS not seen, and shows a question', async (t) => {
  const { TuiModel, flowRow } = await import('../../../src/sinks/tui/tui-model.js');
  const model = new TuiModel({ capacity: 100, proxyAddresses: ['10.64.0.1:8080'], insecureUpstream: false, redact: (f) => f });
  const question = dnsFlow('api.example.com', { type: 'AAAA', dns: { answers: [{ name: 'api.example.com', type: 'AAAA', ttl: 60, data: '2001:db8::1' }], stripped: 1 } });
  model.addFlow(flowRow(question), '10.64.0.2');
  model.addFlow(flowRow(dnsFlow('cdn.example.net')), '10.64.0.2');
  t.notMatch(model.render(140, 30).header[1]!.text, /encrypted/, 'nothing encrypted yet');
  model.addFlow(flowRow(tunnel('dns.google', 853, '8.8.8.8')), '10.64.0.2');
  const frame = model.render(140, 30);
  t.match(frame.header[1]!.text, /DNS 2 \(1 encrypted, unseen\)/);
  t.match(frame.flows.map((l) => l.text).join('\n'), /DNS .*api\.example\.com/);
  const row = flowRow(question);
  t.match(row, { method: 'DNS', host: 'api.example.com', path: 'AAAA', status: 'NOERROR' });
  t.match(row.detail.join('\n'), /coverage: dns[\s\S]*── DNS AAAA api\.example\.com: NOERROR from 9\.9\.9\.9:53, 1 HTTPS\/SVCB record\(s\) stripped\napi\.example\.com {2}60 {2}AAAA {2}2001:db8::1/);
  t.match(flowRow(tunnel('dns.google', 853, '8.8.8.8')).detail.join('\n'), /encrypted DNS \(DNS over TLS\): the names it carried were not seen/);
});

t.test('TLS from a capture file that no key opened is its own class and says so, not a passthrough', async (t) => {
  const { FindingFactory } = await import('../../../src/inspect/finding-factory.js');
  const noKeys = tunnel('203.0.113.9', 443, '203.0.113.9', { tags: ['opaque:no-keys'] });
  t.equal(coverageOf(noKeys).class, 'no-keys');
  t.equal(coverageOf(tunnel('pinned.example', 443, '203.0.113.9')).class, 'passthrough-learned', 'a learned passthrough is still one');
  const factory = new FindingFactory();
  t.match(factory.opaqueTunnel(noKeys).summary, /was not decrypted \(the capture file and --keylog had no keys for it\)/);
  t.match(factory.opaqueTunnel(tunnel('pinned.example', 443, '203.0.113.9')).summary, /passed through undecrypted \(pinned app\)/);
});
