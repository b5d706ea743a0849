// summary.json's coverage.decryptedLater: the opaque sessions `decrypt` opened, their flows and the
// bytes read from them, without counting again in the totals the bytes their tunnels already hold.

import t from 'tap';
import { SummaryCollector } from '../../../src/sinks/summary.js';
import { makeFlow } from '../../helpers/flows.js';

const context = { version: 'test', startedAt: '2026-12-02T10:00:00.000Z', options: {}, insecureUpstream: false, passthroughConfigured: [] };

t.test('sessions, flows and bytes opened afterwards; totals and destinations keep the tunnel', async (t) => {
  const summary = new SummaryCollector();
  const tunnel = makeFlow({ id: 'fl-000001', kind: 'tunnel', scheme: 'tls', client: { ip: '10.0.0.2', port: 40_000 }, bytesUp: 5_000, bytesDown: 900, tags: ['passthrough:learned'] });
  summary.addFlow(tunnel);
  const before = summary.snapshot(context, { endedAt: context.startedAt, learnedPassthrough: [] }) as { coverage: { totals: unknown }; destinations: unknown };
  const later = (id: string, port: number, bytesUp: number) => makeFlow({ id, client: { ip: '10.0.0.2', port }, bytesUp, bytesDown: 10, tags: ['decrypted-later'] });
  // Two requests on one kept-alive connection, then a second connection.
  for (const flow of [later('fl-000002', 40_000, 1_000), later('fl-000003', 40_000, 2_000), later('fl-000004', 40_001, 500)]) summary.addFlow(flow);
  // A live decrypted flow is not opened later.
  summary.addFlow(makeFlow({ id: 'fl-000005', client: { ip: '10.0.0.2', port: 40_002 }, bytesUp: 7, tags: ['decrypted'] }));
  const after = summary.snapshot(context, { endedAt: context.startedAt, learnedPassthrough: [] }) as { coverage: { totals: { bytesUp: number; flows: Record<string, number> }; decryptedLater: unknown }; flows: { seen: number; decrypted: number } };
  t.same(after.coverage.decryptedLater, { sessions: 2, flows: 3, bytesUp: 3_500, bytesDown: 30 });
  t.equal(after.coverage.totals.bytesUp, 5_007, 'the tunnel and the live flow, not the opened bytes again');
  t.same(after.coverage.totals.flows, { 'passthrough-learned': 1, decrypted: 1 });
  t.equal(after.flows.seen, 5);
  t.equal(after.flows.decrypted, 4, 'opened flows are decrypted flows');
  t.notSame(before.coverage.totals, after.coverage.totals);
  const empty = new SummaryCollector().snapshot(context, { endedAt: context.startedAt, learnedPassthrough: [] }) as { coverage: { decryptedLater: unknown } };
  t.same(empty.coverage.decryptedLater, { sessions: 0, flows: 0, bytesUp: 0, bytesDown: 0 });
});
