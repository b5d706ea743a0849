// What travels on the bus: flow records without bodies, whole flows for workers, object-store
// references, findings; subjects and names checked before they reach NATS.

import t from 'tap';
import { decodeFinding, decodeFlowMessage, decodeWorkItem, encodeFinding, encodeFlowMessage, encodeWorkReference, flowRecord } from '../../../src/fleet/fleet-wire.js';
import { findingSubject, nodeOfSubject, parseBusUrl, validateNodeName, workSubject } from '../../../src/fleet/fleet-names.js';
import { workerFindingId } from '../../../src/fleet/fleet-worker.js';
import { makeFlow } from '../../helpers/flows.js';
import { makeFinding } from '../../helpers/runs.js';

t.test('a whole flow round-trips with its bytes; a record keeps sizes but no bodies', async (t) => {
  const flow = makeFlow({ requestBody: Buffer.from([0, 1, 2, 255]), bytesUp: 4 });
  const whole = decodeFlowMessage(encodeFlowMessage('lab-1', flow));
  t.equal(whole.node, 'lab-1');
  t.ok(Buffer.isBuffer(whole.flow.request!.body.bytes), 'bytes come back as a Buffer');
  t.same([...whole.flow.request!.body.bytes], [0, 1, 2, 255]);
  const record = decodeFlowMessage(encodeFlowMessage('lab-1', flowRecord(flow))).flow;
  t.equal(record.request!.body.bytes.length, 0, 'no body in a record');
  t.equal(record.request!.body.totalBytes, 4, 'its size is kept');
  t.equal(record.request!.url, flow.request!.url);
  const item = decodeWorkItem(encodeWorkReference('lab-1', 'fl-000042', 'lab-1.fl-000042'));
  t.same(item, { node: 'lab-1', flowId: 'fl-000042', objectName: 'lab-1.fl-000042' });
  t.throws(() => decodeWorkItem(Buffer.from([0x81, 0xa1, 0x76, 0x02])), /fleet message version 2 is not 1/, 'an unknown version is refused, not misread');
  const finding = makeFinding(3, { node: 'lab-1' });
  t.same(decodeFinding(encodeFinding(finding)), finding);
  t.throws(() => decodeFinding(Buffer.from('{"v":2}')), /not a finding of format v1/);
});

t.test('subjects, node names, URLs and worker finding ids', async (t) => {
  t.equal(findingSubject('lab-1'), 'phonehome.lab-1.finding');
  t.equal(workSubject('lab-1'), 'phonehome-work.lab-1');
  t.equal(nodeOfSubject('phonehome.lab-1.flow'), 'lab-1');
  for (const bad of ['', 'a.b', 'a b', 'a*', 'a>', 'x'.repeat(65)]) t.throws(() => validateNodeName(bad), /use 1 to 64 letters/, JSON.stringify(bad));
  t.equal(validateNodeName('room_2-phone'), 'room_2-phone');
  t.same(parseBusUrl('nats://u%40x:p%3Ass@10.0.0.5:4333'), { servers: '10.0.0.5:4333', user: 'u@x', pass: 'p:ss', tls: false });
  t.same(parseBusUrl('tls://nats.lab.example'), { servers: 'nats.lab.example:4222', tls: true });
  t.throws(() => parseBusUrl('http://x'), /use nats:\/\/HOST:PORT/);
  t.throws(() => parseBusUrl('nonsense'), /is not a NATS URL/);
  t.equal(workerFindingId('fl-000042', 0), 'f-000042.1', 'the same id on every redelivery');
});
