// summary.json's edges, one step either side (issue #23, planted bugs that survived): the devices
// and hosts listed per TLS version stop at exactly 1,000; notes appear only when there are some;
// QUIC packets dropped in earlier sessions are taken only when they are a count.

import t from 'tap';
import { SummaryCollector } from '../../../src/sinks/summary.js';
import { makeFlow } from '../../helpers/flows.js';

const context = { version: 't', startedAt: '2026-12-02T18:00:00.000Z', options: {}, insecureUpstream: false, passthroughConfigured: [] };
type Snapshot = { tls: { client: Record<string, { flows: number; hosts: string[]; devices: string[] }> }; notes?: string[] };
const snapshot = (summary: SummaryCollector, notes?: string[]): Snapshot =>
  summary.snapshot(context, { endedAt: '2026-12-02T18:01:00.000Z', learnedPassthrough: [], ...(notes ? { notes } : {}) }) as unknown as Snapshot;

/** `clients` devices, each reaching its own host over TLS 1.2. */
function tlsFrom(clients: number): Snapshot['tls']['client'][string] {
  const summary = new SummaryCollector();
  for (let i = 0; i < clients; i++) {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    summary.addFlow(makeFlow({ id: `fl-${i}`, client: { ip, port: 40000 }, target: { host: `h${i}.example`, port: 443 }, tls: { client: { version: 'TLSv1.2' } } }));
  }
  return snapshot(summary).tls.client['TLSv1.2']!;
}

t.test('per TLS version, exactly 1,000 devices and hosts are listed; the 1,001st is counted, not listed', async (t) => {
  const thousand = tlsFrom(1000);
  t.equal(thousand.flows, 1000);
  t.equal(thousand.devices.length, 1000);
  t.equal(thousand.hosts.length, 1000);
  const more = tlsFrom(1001);
  t.equal(more.flows, 1001);
  t.equal(more.devices.length, 1000);
  t.equal(more.hosts.length, 1000);
});

t.test('notes are written only when there are some', async (t) => {
  t.notOk('notes' in snapshot(new SummaryCollector()), 'none given');
  t.notOk('notes' in snapshot(new SummaryCollector(), []), 'an empty list');
  t.same(snapshot(new SummaryCollector(), ['disk full']).notes, ['disk full']);
});

t.test("--append: the earlier sessions' dropped QUIC packets are added only when they are a count", async (t) => {
  const droppedAfter = (previous: unknown): unknown => {
    const summary = new SummaryCollector();
    summary.continueFrom(previous);
    return (summary.snapshot(context, { endedAt: '2026-12-02T18:01:00.000Z', learnedPassthrough: [] }) as { coverage: { quic: { dropped: unknown } } }).coverage.quic.dropped;
  };
  t.equal(droppedAfter({ coverage: { quic: { dropped: 5 } } }), 5);
  t.equal(droppedAfter({ coverage: { quic: { dropped: 0 } } }), 0, 'zero is a count');
  for (const dropped of [-1, 1.5, '5', null, Number.MAX_SAFE_INTEGER + 2]) t.equal(droppedAfter({ coverage: { quic: { dropped } } }), null, JSON.stringify(dropped));
  t.equal(droppedAfter(null), null);
});
