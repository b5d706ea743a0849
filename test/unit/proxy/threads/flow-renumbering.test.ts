import t from 'tap';
import { continueFlowNumbersAfter, newFlowId, type Flow } from '../../../../src/model/flow.js';
import { FlowRenumbering, renumberedIdsPerLoop } from '../../../../src/proxy/threads/flow-renumbering.js';

const flow = (id: string, connection?: string): Flow => ({
  id, kind: 'tunnel', scheme: 'tls', startedAt: '2026-12-03T00:00:00.000Z', endedAt: '2026-12-03T00:00:00.000Z', durationMs: 0,
  client: { ip: '127.0.0.1', port: 1 }, target: { host: 'a.test', port: 443 }, bytesUp: 0, bytesDown: 0, tags: [], ...(connection ? { connection } : {}),
});

t.test("two loops' fl-000001 become two ids of the run's one counter; a loop's id keeps its number wherever it is named", async (t) => {
  continueFlowNumbersAfter(100);
  const one = new FlowRenumbering(1);
  const two = new FlowRenumbering(2);
  const a = one.flow(flow('fl-000001'));
  const b = two.flow(flow('fl-000001'));
  t.not(a.id, b.id);
  t.match(a.id, /^fl-\d{6}$/);
  t.ok(Number(a.id.slice(3)) > 100 && Number(b.id.slice(3)) > 100, 'after the ids already given (--append)');
  // A DNS flow numbered in the primary takes the next number of the same counter.
  const dns = newFlowId();
  t.not(dns, a.id);
  t.not(dns, b.id);
  // Exchanges name their connection; the connection's own flow ends later under the same id.
  const exchange = one.flow(flow('fl-000003', 'fl-000002'));
  const connection = one.flow(flow('fl-000002'));
  t.equal(exchange.connection, connection.id);
  t.equal(one.tlsFailure({ flowId: 'fl-000002', time: '', client: { ip: '127.0.0.1', port: 1 }, host: 'a.test', port: 443, reason: 'x', learnedPassthrough: true }).flowId, connection.id);
  t.equal(one.message(`tunnel fl-000002: not recorded; fl-000999 unknown`), `tunnel ${connection.id}: not recorded; fl-000999 unknown`, 'a log line names the run\'s id, and gives none away');
});

t.test('a plain proxy connection (proxy-N) is told apart per loop; other ids are left alone', async (t) => {
  t.equal(new FlowRenumbering(1).idOf('proxy-7'), 'proxy-1.7');
  t.equal(new FlowRenumbering(2).idOf('proxy-7'), 'proxy-2.7');
  t.equal(new FlowRenumbering(2).idOf('other'), 'other');
});

t.test('ids are remembered up to the bound, the most recently named kept', async (t) => {
  const loop = new FlowRenumbering(1);
  const kept = loop.idOf('fl-000001');
  const forgotten = loop.idOf('fl-000002');
  for (let i = 3; i <= renumberedIdsPerLoop + 1; i++) {
    loop.idOf(`fl-${String(i).padStart(6, '0')}`);
    if (i % 1000 === 0) loop.idOf('fl-000001'); // a connection still in use
  }
  t.equal(loop.idOf('fl-000001'), kept, 'named recently: still the same id');
  t.not(loop.idOf('fl-000002'), forgotten, 'the oldest not named since: forgotten, a new id');
});
