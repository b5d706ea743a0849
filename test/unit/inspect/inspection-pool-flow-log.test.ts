// The inspection worker writing the flow log: a flow given for inspection and for its line in the
// same turn crosses once and gets one line; lines come in the order given; once the worker is gone
// or the log closed, the pool refuses lines (the caller writes them) and says what may be missing.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { InspectionPool } from '../../../src/inspect/inspection-pool.js';
import { limits } from '../../../src/limits.js';
import { makeFlow } from '../../helpers/flows.js';
import { tempDir } from '../../helpers/lab.js';

const fileOptions = { redact: false, backlogLimitBytes: limits.sinkBacklogBytes, retryMs: limits.sinkRetryMs };
const idsIn = (file: string): string[] => fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { _phonehome: { flowId: string } })._phonehome.flowId);

t.test('inspected and logged in one crossing, lines in the order given, figures on close', async (t) => {
  const file = path.join(tempDir(), 'flows.jsonl');
  const pool = new InspectionPool();
  t.teardown(() => pool.close());
  const said: string[] = [];
  t.ok(pool.openFlowLog(file, { failed: (m) => said.push(m), recovered: (m) => said.push(m) }, fileOptions));
  t.notOk(pool.openFlowLog(file, { failed: () => undefined, recovered: () => undefined }, fileOptions), 'one flow log per pool');
  const flows = Array.from({ length: 5 }, (_, i) => makeFlow({ id: `fl-00000${i + 1}`, requestBody: `n=${i}` }));
  const results: Array<Promise<unknown>> = [];
  for (const [i, flow] of flows.entries()) {
    // Inspected and logged (either order), logged only, and a look-alike (another object, same id) logged twice.
    if (i % 2 === 0) results.push(pool.inspect(flow));
    t.ok(pool.writeLine(flow, undefined));
    if (i === 1) results.push(pool.inspect(flow));
  }
  t.ok(pool.writeLine({ ...flows[4]! }, undefined), 'a look-alike of the last flow is a flow of its own');
  await Promise.all(results);
  t.same(await pool.closeFlowLog(), { lines: 6, dropped: 0, pending: 0 });
  t.same(idsIn(file), ['fl-000001', 'fl-000002', 'fl-000003', 'fl-000004', 'fl-000005', 'fl-000005']);
  t.notOk(pool.writeLine(flows[0]!, undefined), 'closed: the caller writes it');
  t.same(said, []);
});

t.test('a worker that fails: lines refused from then on, the possible loss said', async (t) => {
  const file = path.join(tempDir(), 'flows.jsonl');
  const pool = new InspectionPool(path.join(tempDir(), 'no-such-canaries.json'));
  t.teardown(() => pool.close());
  let failed!: (message: string) => void;
  const said = new Promise<string>((resolve) => { failed = resolve; });
  pool.openFlowLog(file, { failed, recovered: () => undefined }, fileOptions);
  t.match(await said, /inspection worker .*flows\.jsonl lines of the last flows handed to it may be missing/);
  t.notOk(pool.writeLine(makeFlow({}), undefined), 'refused: the caller writes it');
});
