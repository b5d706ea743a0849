// summary.json's coverage.opaque: the tunnel ciphertext opaque.pcapng kept and what it counted
// instead (--opaque-limit, a full disk), with earlier sessions of the run added (--append).

import t from 'tap';
import { SummaryCollector } from '../../../src/sinks/summary.js';

const context = { version: 't', startedAt: '2026-12-02T18:00:00.000Z', options: {}, insecureUpstream: false, passthroughConfigured: [] };
const opaqueOf = (summary: SummaryCollector): unknown => (summary.snapshot(context, { endedAt: '2026-12-02T18:01:00.000Z', learnedPassthrough: [] }) as { coverage: { opaque: unknown } }).coverage.opaque;

t.test('not recorded: null, not zeros', async (t) => {
  t.equal(opaqueOf(new SummaryCollector()), null);
});

t.test('this session\'s counts', async (t) => {
  const summary = new SummaryCollector();
  summary.setOpaqueRecorded({ recordedBytes: 1000, notRecordedBytes: 20, sessions: 2 });
  t.same(opaqueOf(summary), { recordedBytes: 1000, notRecordedBytes: 20, sessions: 2 });
});

t.test('--append: earlier sessions are added; a previous summary without it, or with nonsense, adds nothing', async (t) => {
  const summary = new SummaryCollector();
  summary.continueFrom({ coverage: { opaque: { recordedBytes: 500, notRecordedBytes: 0, sessions: 1 } } });
  t.same(opaqueOf(summary), { recordedBytes: 500, notRecordedBytes: 0, sessions: 1 }, 'kept even when this session records nothing');
  summary.setOpaqueRecorded({ recordedBytes: 1000, notRecordedBytes: 20, sessions: 2 });
  t.same(opaqueOf(summary), { recordedBytes: 1500, notRecordedBytes: 20, sessions: 3 });
  for (const previous of [null, {}, { coverage: { opaque: null } }, { coverage: { opaque: { recordedBytes: -1, notRecordedBytes: 0, sessions: 1 } } }, { coverage: { opaque: { recordedBytes: '5', notRecordedBytes: 0, sessions: 1 } } }]) {
    const fresh = new SummaryCollector();
    fresh.continueFrom(previous);
    t.equal(opaqueOf(fresh), null, JSON.stringify(previous));
  }
});
