import t from 'tap';
import type { Flow } from '../../../../src/model/flow.js';
import { FlowHandOver } from '../../../../src/proxy/threads/loop-backlog.js';
import type { FromLoop } from '../../../../src/proxy/threads/loop-messages.js';

const upload = (id: string, size: number): Flow => ({
  id, kind: 'http', scheme: 'https', startedAt: '2026-12-03T00:00:00.000Z', endedAt: '2026-12-03T00:00:00.000Z', durationMs: 1,
  client: { ip: '127.0.0.1', port: 1 }, target: { host: 'a.test', port: 443 }, bytesUp: size, bytesDown: 0, tags: ['decrypted'],
  request: { method: 'POST', url: 'https://a.test/', httpVersion: '1.1', headers: [], body: { bytes: Buffer.alloc(size, 1), totalBytes: size, truncated: false } },
});

t.test('flows wait in the channel with their bodies up to the bound; past it they go without bodies, marked, and none is dropped', async (t) => {
  const sent: Array<{ message: FromLoop; written?: () => void }> = [];
  const handOver = new FlowHandOver((message, written) => sent.push({ message, ...(written ? { written } : {}) }), 1000);
  handOver.handOver(upload('fl-000001', 600));
  handOver.handOver(upload('fl-000002', 400)); // exactly at the bound
  handOver.handOver(upload('fl-000003', 1)); // one byte past it
  const flows = sent.map((s) => (s.message as { flow: Flow }).flow);
  t.same(flows.map((f) => f.request?.body.bytes.length), [600, 400, 0]);
  t.same(flows[2]!.request?.body, { bytes: Buffer.alloc(0), totalBytes: 1, truncated: true });
  t.ok(flows[2]!.tags.includes('inspected:partial'));
  t.notOk(flows[1]!.tags.includes('inspected:partial'));
  t.equal(handOver.cut, 1);
  // Once the channel has written the first, its bytes are free again.
  sent[0]!.written!();
  handOver.handOver(upload('fl-000004', 600));
  t.equal((sent[3]!.message as { flow: Flow }).flow.request?.body.bytes.length, 600);
  // A flow without a body is never cut.
  handOver.handOver({ ...upload('fl-000005', 0) });
  t.equal(handOver.cut, 1);
});
