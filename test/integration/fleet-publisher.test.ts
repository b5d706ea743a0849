// A capture node that stops right after a NATS outage: what it queued while the bus was away is
// sent once the bus is back, within the stop's deadline, not dropped at once.

import t from 'tap';
import { connectBus } from '../../src/fleet/bus-connection.js';
import { FleetPublisher } from '../../src/fleet/fleet-publisher.js';
import { RECORD_STREAM } from '../../src/fleet/fleet-names.js';
import { makeFinding } from '../helpers/runs.js';
import { until } from '../helpers/lab.js';
import { natsServerPath, startNats } from '../helpers/nats.js';

t.test('records queued during an outage are sent by a stop that comes just after it', { skip: natsServerPath ? false : 'nats-server is not installed (apt-get install nats-server)' }, async (t) => {
  const nats = await startNats();
  t.teardown(() => nats.stop());
  const bus = await connectBus({ url: nats.url, name: 'test-node', waitOnFirstConnect: true });
  const logs: string[] = [];
  const publisher = new FleetPublisher(bus, 'lab-1', { maxQueueBytes: 1 << 20, log: (m) => logs.push(m) });

  const restarted = nats.restart();
  await until(() => !publisher.connected, 10_000, 'the node seeing the outage');
  for (let i = 1; i <= 3; i++) publisher.publishFinding(makeFinding(i, { node: 'lab-1' }));
  await restarted;
  // Stopped before the client has reconnected (it retries every 250 ms).
  t.notOk(publisher.connected, 'still reconnecting when the stop begins');
  await publisher.close(10_000);
  t.equal(publisher.counts.dropped, 0, 'nothing dropped');
  t.equal(publisher.counts.findingsPublished, 3);

  const reader = await connectBus({ url: nats.url, name: 'test-reader' });
  t.teardown(() => reader.close());
  const info = await reader.jsm.streams.info(RECORD_STREAM);
  t.equal(info.state.messages, 3, 'the three findings are on the stream');
});
