// The sink registry: sinks attach when added, close once in closeOrder (files before the summary
// and the report read them, the screen last) whatever order they were added in, and a sink whose
// close throws is said on the log and in the notes while the others still close.

import t from 'tap';
import { EventBus } from '../../../src/flow/events.js';
import { SinkRegistry } from '../../../src/sinks/sink-registry.js';
import type { ClosePhase, RunEnding, Sink, SinkStats } from '../../../src/sinks/sink.js';
import { makeFlow } from '../../helpers/flows.js';

function ending(): RunEnding {
  const problems: string[] = [];
  return { endedAt: '2026-01-01T00:00:00.000Z', notes: [], problems, facts: {}, exitCode: () => (problems.length > 0 ? 2 : 0) };
}

class Recording implements Sink {
  readonly flows: string[] = [];
  constructor(readonly name: string, readonly closes: ClosePhase, readonly closed: string[], readonly stats: SinkStats | Error = { written: 0, skipped: 0 }, readonly seen?: (ending: RunEnding) => void) {}
  attach(bus: EventBus): void {
    bus.listen('flow:end', this.name, (flow) => this.flows.push(flow.id));
  }
  async close(ending: RunEnding): Promise<SinkStats> {
    this.closed.push(this.name);
    this.seen?.(ending);
    if (this.stats instanceof Error) throw this.stats;
    return this.stats;
  }
}

t.test('close order is the phase order, then the order added; each sink attached when added', async (t) => {
  const bus = new EventBus();
  const registry = new SinkRegistry(bus);
  const closed: string[] = [];
  const sinks = [
    new Recording('tui', 'display', closed), new Recording('report', 'report', closed), new Recording('summary', 'summary', closed),
    new Recording('run record', 'summary', closed), new Recording('files', 'files', closed), new Recording('fleet', 'publish', closed),
  ];
  registry.add(...sinks);
  const flow = makeFlow();
  bus.emit('flow:end', flow);
  for (const sink of sinks) t.same(sink.flows, [flow.id], `${sink.name} heard the flow`);
  const reports = await registry.closeAll(ending());
  t.same(closed, ['fleet', 'files', 'summary', 'run record', 'report', 'tui']);
  t.same(reports.map((r) => r.name), closed);
  t.throws(() => registry.add(new Recording('late', 'display', closed)), /added after the run stopped/);
});

t.test('what an earlier sink could not write reaches the later ones; facts go under the sink\'s name', async (t) => {
  const bus = new EventBus();
  const registry = new SinkRegistry(bus);
  const closed: string[] = [];
  let seenBySummary: { problems: string[]; notes: string[]; facts: Record<string, unknown>; exitCode: number } | undefined;
  registry.add(
    new Recording('summary', 'summary', closed, { written: 1, skipped: 0 }, (e) => { seenBySummary = { problems: [...e.problems], notes: [...e.notes], facts: { ...e.facts }, exitCode: e.exitCode() }; }),
    new Recording('files', 'files', closed, { written: 3, skipped: 2, problems: ['flows.jsonl: 2 line(s) could not be written (ENOSPC)'], notes: ['a note'] }),
    new Recording('fleet', 'publish', closed, { written: 5, skipped: 0, facts: { node: 'n1' } }),
  );
  const end = ending();
  await registry.closeAll(end);
  t.same(seenBySummary, { problems: ['flows.jsonl: 2 line(s) could not be written (ENOSPC)'], notes: ['a note'], facts: { fleet: { node: 'n1' } }, exitCode: 2 });
});

t.test('a sink whose close throws is said once and noted; the ones after it still close', async (t) => {
  const bus = new EventBus();
  const logs: string[] = [];
  bus.on('log', (entry) => logs.push(`${entry.level}: ${entry.message}`));
  const registry = new SinkRegistry(bus);
  const closed: string[] = [];
  registry.add(new Recording('files', 'files', closed, new Error('disk gone')), new Recording('summary', 'summary', closed), new Recording('console', 'display', closed));
  const end = ending();
  const reports = await registry.closeAll(end);
  t.same(closed, ['files', 'summary', 'console'], 'the others closed');
  t.match(reports[0], { name: 'files', error: /disk gone/ });
  t.match(logs, [/^error: sink files could not close: .*disk gone/]);
  t.equal(logs.length, 1);
  t.match(end.notes, [/sink files could not close/]);
  t.match(end.problems, [/files: .*disk gone/], 'a files sink that could not close leaves the evidence incomplete');
});

t.test('a display sink that cannot close is a note, not missing evidence', async (t) => {
  const registry = new SinkRegistry(new EventBus());
  const end = ending();
  registry.add(new Recording('tui', 'display', [], new Error('terminal gone')));
  await registry.closeAll(end);
  t.same(end.problems, []);
  t.match(end.notes, [/sink tui could not close: .*terminal gone/]);
});
