// The bus isolates every listener: a throw never reaches the emitter (the proxy emits from a
// socket's close path), the other listeners still get the event, the failure is said once on the
// log and then only counted, per listener name.

import t from 'tap';
import { EventBus, type LogEntry } from '../../../src/flow/events.js';
import { makeFlow } from '../../helpers/flows.js';

t.test('a listener that throws on every flow: the emitter carries on, the others get every event, said once, counted', async (t) => {
  const bus = new EventBus();
  const logs: LogEntry[] = [];
  bus.on('log', (entry) => logs.push(entry));
  const before: string[] = [];
  const after: string[] = [];
  bus.on('flow:end', (flow) => before.push(flow.id));
  bus.listen('flow:end', 'broken sink', () => {
    throw new Error('disk on fire');
  });
  bus.on('flow:end', (flow) => after.push(flow.id));
  const flows = [makeFlow(), makeFlow(), makeFlow(), makeFlow(), makeFlow()];
  for (const flow of flows) t.doesNotThrow(() => bus.emit('flow:end', flow));
  t.same(before, flows.map((f) => f.id), 'the listener before it got every flow');
  t.same(after, flows.map((f) => f.id), 'the listener after it got every flow');
  const said = logs.filter((entry) => entry.message.includes('broken sink'));
  t.equal(said.length, 1, 'said once');
  t.equal(said[0]?.level, 'error');
  t.match(said[0]?.message, /broken sink failed on flow:end: .*disk on fire/);
  t.match(bus.listenerFailures(), [{ name: 'broken sink', event: 'flow:end', count: 5, firstError: /disk on fire/ }]);
  t.equal(bus.listenerFailures().length, 1);
});

t.test('counted per name: two failing listeners are said once each; a sound one is not named', async (t) => {
  const bus = new EventBus();
  const logs: string[] = [];
  bus.on('log', (entry) => logs.push(entry.message));
  bus.listen('finding', 'first', () => { throw new Error('one'); });
  bus.listen('finding', 'second', () => { throw new TypeError('two'); });
  bus.listen('finding', 'sound', () => undefined);
  const finding = { id: 'f-1' } as never;
  for (let i = 0; i < 3; i++) bus.emit('finding', finding);
  t.same(bus.listenerFailures().map((f) => [f.name, f.count]), [['first', 3], ['second', 3]]);
  t.equal(logs.length, 2);
  t.notOk(logs.some((line) => line.includes('sound')));
});

t.test('a log listener that throws: no endless loop, still said to the other log listeners once', async (t) => {
  const bus = new EventBus();
  const heard: string[] = [];
  bus.listen('log', 'noisy log sink', () => { throw new Error('cannot print'); });
  bus.on('log', (entry) => heard.push(entry.message));
  bus.log('info', 'one');
  bus.log('info', 'two');
  t.same(heard.filter((m) => m.includes('noisy log sink')).length, 1);
  t.same(heard.filter((m) => m === 'one' || m === 'two'), ['one', 'two'], 'the other log listener heard everything');
  // Its own report counts too: two messages and the report of the first failure.
  t.equal(bus.listenerFailures()[0]?.count, 3);
});

t.test('once() listeners and unnamed listeners are isolated too; an async listener\'s rejection is counted, not unhandled', async (t) => {
  const bus = new EventBus();
  const logs: string[] = [];
  bus.on('log', (entry) => logs.push(entry.message));
  bus.once('flow:start', () => { throw new Error('once only'); });
  bus.on('tls:failed', async () => { throw new Error('later'); });
  t.doesNotThrow(() => bus.emit('flow:start', { id: '1', time: '', client: { ip: '127.0.0.1', port: 1 }, target: { host: 'a.test', port: 443 }, how: 'connect' }));
  t.equal(bus.listenerCount('flow:start'), 0, 'the once listener is gone');
  const failure = { flowId: '1', time: '', client: { ip: '127.0.0.1', port: 1 }, host: 'a.test', port: 443, reason: 'x', learnedPassthrough: false };
  bus.emit('tls:failed', failure);
  await new Promise<void>((resolve) => setImmediate(resolve));
  t.match(logs, [/a flow:start listener failed on flow:start: .*once only/, /a tls:failed listener failed on tls:failed: .*later/]);
});

t.test('emit says whether anyone listened, like EventEmitter', async (t) => {
  const bus = new EventBus();
  t.equal(bus.emit('finding', {} as never), false);
  bus.on('finding', () => undefined);
  t.equal(bus.emit('finding', {} as never), true);
});
