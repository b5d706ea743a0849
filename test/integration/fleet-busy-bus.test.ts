// A worker or collector that sets up its consumer while nats-server cannot answer (frozen with
// SIGSTOP, as a loaded or restarting server is) waits for it instead of exiting with "timeout";
// a failure that will not pass still ends it at once.

import t from 'tap';
import { Empty, NoRespondersError, RequestError, TimeoutError } from '@nats-io/transport-node';
import { JetStreamApiError } from '@nats-io/jetstream';
import { connectBus } from '../../src/fleet/bus-connection.js';
import { isPassingBusError, untilBusAnswers } from '../../src/fleet/bus-retry.js';
import { ConfigError } from '../../src/util/errors.js';
import { within } from '../helpers/lab.js';
import { natsServerPath, startNats } from '../helpers/nats.js';

t.test('which failures pass by themselves', async (t) => {
  const rows: Array<[string, unknown, boolean]> = [
    ['a request that timed out', new TimeoutError(), true],
    ['no responder (JetStream not back yet after a restart)', new NoRespondersError('$JS.API.INFO'), true],
    ['a request error caused by no responders', new RequestError('no responders', { cause: new NoRespondersError('$JS.API.INFO') }), true],
    ['a request error caused by a timeout', new RequestError('request failed', { cause: new TimeoutError() }), true],
    // look-alikes: they say "timeout" or come from the bus, but waiting will not change them
    ['an Error whose text is "timeout"', new Error('timeout'), false],
    ['a JetStream API refusal', new JetStreamApiError({ code: 400, err_code: 10013, description: 'consumer name already in use' }), false],
    ['a configuration error', new ConfigError('--nats-creds x: no such file'), false],
    ['not an error at all', 'timeout', false],
  ];
  for (const [what, error, passing] of rows) t.equal(isPassingBusError(error), passing, what);
});

t.test('a request to a frozen server is tried again until the server answers, said once', { skip: natsServerPath ? false : 'nats-server is not installed (apt-get install nats-server)' }, async (t) => {
  const nats = await startNats();
  t.teardown(async () => { nats.resume(); await nats.stop(); });
  const bus = await connectBus({ url: nats.url, name: 'test-worker' });
  // Let the server go on before draining: a drain waits for the server's answer.
  t.teardown(() => { nats.resume(); return bus.close(); });
  const said: string[] = [];
  let attempts = 0;
  await nats.pause();
  const answer = untilBusAnswers('the work queue\'s consumer', () => {
    attempts++;
    return bus.nc.request('$JS.API.INFO', Empty, { timeout: 200 });
  }, (line) => {
    said.push(line);
    // The first failure is said: let the server go on, as a busy one eventually does.
    if (said.length === 1) nats.resume();
  });
  const reply = await within(answer, 30_000, 'an answer once the server goes on');
  t.match(reply.json<{ type: string }>(), { type: 'io.nats.jetstream.api.v1.account_info_response' }, 'JetStream answered');
  t.ok(attempts >= 2, `tried ${attempts} times`);
  t.match(said[0], /^fleet: the work queue's consumer: .*timeout.*; trying again until the bus answers$/i);
  t.match(said.at(-1), new RegExp(`^fleet: the work queue's consumer: done after ${attempts} attempts$`));
  t.equal(said.length, 2, 'one line when it began waiting, one when it was over');

  const refused = untilBusAnswers('a stream', () => Promise.reject(new JetStreamApiError({ code: 404, err_code: 10059, description: 'stream not found' })), () => undefined);
  await t.rejects(refused, /stream not found/, 'a refusal is not waited out');
});
