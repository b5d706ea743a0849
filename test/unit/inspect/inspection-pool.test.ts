// The inspection worker's edges: a backlog past its bound is passed over and said; a worker that
// is gone answers every flow with the reason instead of hanging the run.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { InspectionPool } from '../../../src/inspect/inspection-pool.js';
import { PassthroughPolicy } from '../../../src/proxy/passthrough.js';
import { limits } from '../../../src/limits.js';
import { makeFlow } from '../../helpers/flows.js';
import { positives2 } from '../../helpers/corpus-round2.js';

const photo = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'fixtures', 'photos', 'camera.jpg'));

t.test('a flow that would push the backlog past its bound is not inspected, and says so', async (t) => {
  const pool = new InspectionPool(undefined, 1024);
  t.teardown(() => pool.close());
  const small = await pool.inspect(makeFlow({ requestBody: 'a=1' }));
  t.same(small.problems, []);
  const big = await pool.inspect(makeFlow({ requestBody: photo }));
  t.equal(big.drafts.length, 0);
  t.match(big.problems[0], /not inspected: inspection is \d+ MiB behind the traffic/);
});

t.test('a worker that is gone answers with the reason, at once', async (t) => {
  const pool = new InspectionPool();
  const found = await pool.inspect(makeFlow({ requestBody: photo, requestHeaders: [['content-type', 'image/jpeg']] }));
  t.ok(found.drafts.some((d) => d.category === 'photo'), 'alive: the photo is found in the worker');
  await pool.close();
  const after = await pool.inspect(makeFlow({ requestBody: photo }));
  t.equal(after.drafts.length, 0);
  t.match(after.problems[0], /inspection worker exited/);
});

t.test('flows handed in during one turn cross together and each gets its own result', async (t) => {
  const pool = new InspectionPool();
  t.teardown(() => pool.close());
  // Every third flow carries the photo; the rest carry nothing worth a finding.
  const flows = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? makeFlow({ requestBody: photo, requestHeaders: [['content-type', 'image/jpeg']] }) : makeFlow({ requestBody: `n=${i}` })));
  const results = await Promise.all(flows.map((flow) => pool.inspect(flow)));
  t.same(results.map((r) => r.drafts.some((d) => d.category === 'photo')), flows.map((_, i) => i % 3 === 0));
  t.ok(results.every((r) => r.problems.length === 0));
  // And the next turn's flows make a batch of their own.
  const later = await pool.inspect(makeFlow({ requestBody: photo, requestHeaders: [['content-type', 'image/jpeg']] }));
  t.ok(later.drafts.some((d) => d.category === 'photo'));
});

t.test("SQLite's reader is loaded by the first flow that holds a database, and that flow is found", async (t) => {
  const pool = new InspectionPool();
  t.teardown(() => pool.close());
  const plain = await pool.inspect(makeFlow({ requestBody: 'a=1' }));
  t.same(plain.problems, [], 'flows without a database do not wait for it');
  for (const name of ['a SQLite SMS store (mmssms.db)', 'a SQLite call log (calllog.db) inside a ZIP']) {
    const positive = positives2.find((p) => p.name === name)!;
    const result = await pool.inspect(positive.flow);
    t.ok(result.drafts.some((d) => d.category === positive.category), `${name}: found on first sight`);
    t.notOk(result.problems.some((p) => /not loaded/.test(p)), `${name}: no "reader not loaded" note`);
  }
});

t.test('pinned hosts learned in one run are capped', async (t) => {
  const policy = new PassthroughPolicy();
  for (let i = 0; i < limits.learnedPassthroughHosts; i++) policy.recordRejection(`h${i}.example.com`, { kind: 'handshake-error', reason: 'alert' });
  t.equal(policy.learned().length, limits.learnedPassthroughHosts);
  t.equal(policy.recordRejection('one-more.example.com', { kind: 'handshake-error', reason: 'alert' }), undefined, 'past the cap nothing more is learned');
  t.equal(policy.decide('one-more.example.com'), undefined, 'so it is still decrypted');
  t.equal(policy.decide('h0.example.com'), 'learned');
});
