// Small flows are inspected on the proxy's thread within a small budget; anything that outgrows it
// goes to the worker, and either way the findings are the worker's (inline-inspection.ts). The
// pools here get a time limit no machine outlasts, so which path a flow takes never depends on
// how busy the machine is, except where the test says otherwise.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import t from 'tap';
import { InspectionPool, defaultMaxBacklogBytes } from '../../../src/inspect/inspection-pool.js';
import { inlineInspectionLimits, inspectInline } from '../../../src/inspect/inline-inspection.js';
import { inspectFlow } from '../../../src/inspect/inspector.js';
import { defaultDetectors } from '../../../src/inspect/detect/registry.js';
import { loadSqlite } from '../../../src/inspect/decode/sqlite.js';
import { flowPayloadBytes } from '../../../src/model/flow-codec.js';
import { positives, negatives } from '../../helpers/corpus.js';
import { makeFlow } from '../../helpers/flows.js';

const photo = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'fixtures', 'photos', 'camera.jpg'));
const untimed = { ...inlineInspectionLimits, timeMs: 600_000 };
const pool = (inline = untimed): InspectionPool => new InspectionPool(undefined, defaultMaxBacklogBytes, inline);

/** A JSON body whose identifier sits behind `padBytes` of padding, gzip'd: a few KB on the wire. */
function gzippedIdentifier(padBytes: number) {
  const body = zlib.gzipSync(Buffer.from(JSON.stringify({ pad: ' '.repeat(padBytes), imei: '490154203237518' })));
  return makeFlow({ requestBody: body, requestHeaders: [['content-type', 'application/json'], ['content-encoding', 'gzip']] });
}

// First, while this thread has no SQLite reader (the proxy's thread never loads it).
t.test('a small flow holding a database goes to the worker, which loads the SQLite reader for it', async (t) => {
  const positive = positives.find((p) => p.name === 'a SQLite SMS store (mmssms.db)')!;
  t.ok(flowPayloadBytes(positive.flow) <= inlineInspectionLimits.maxPayloadBytes, 'small');
  t.equal(inspectInline(positive.flow, defaultDetectors, untimed), undefined, 'no answer from the quick look');
  const inspections = pool();
  t.teardown(() => inspections.close());
  const result = await inspections.inspect(positive.flow);
  t.ok(result.drafts.some((d) => d.category === positive.category), 'found by the worker');
  t.same(result.problems, []);
  t.equal(inspections.inspectedHere, 0);
});

t.test('a small flow is answered on this thread, a large one is not', async (t) => {
  const inspections = pool();
  t.teardown(() => inspections.close());
  const found = await inspections.inspect(makeFlow({ method: 'GET', url: 'https://api.example.com/v1/ping?imei=490154203237518' }));
  t.ok(found.drafts.some((d) => d.category === 'identifier'), 'the IMEI in the query string is found');
  t.equal(inspections.inspectedHere, 1, 'without the worker');
  const large = await inspections.inspect(makeFlow({ requestBody: photo, requestHeaders: [['content-type', 'image/jpeg']] }));
  t.ok(large.drafts.some((d) => d.category === 'photo'));
  t.equal(inspections.inspectedHere, 1, 'the photo went to the worker');
});

t.test('a small body that decodes past the small budget goes to the worker, which finds what is behind it', async (t) => {
  const flow = gzippedIdentifier(inlineInspectionLimits.decodedBytes * 2);
  t.ok(flowPayloadBytes(flow) < inlineInspectionLimits.maxPayloadBytes, `${flowPayloadBytes(flow)} bytes on the wire: small`);
  t.equal(inspectInline(flow, defaultDetectors, untimed), undefined, 'no answer from the quick look');
  const full = inspectFlow(flow, defaultDetectors);
  t.ok(full.drafts.some((d) => d.category === 'identifier'), 'the full budget finds the IMEI');
  t.same(full.problems, []);
  const inspections = pool();
  t.teardown(() => inspections.close());
  t.same(await inspections.inspect(flow), full, 'the pool answers what the worker found');
  t.equal(inspections.inspectedHere, 0);
  // The look-alike within the small budget: answered here, the same finding.
  const within = gzippedIdentifier(1000);
  t.same(inspectInline(within, defaultDetectors, untimed), inspectFlow(within, defaultDetectors));
  t.ok(inspectInline(within, defaultDetectors, untimed)!.drafts.some((d) => d.category === 'identifier'));
});

t.test('a quick look that runs out of time gives no answer, and the worker finds the same', async (t) => {
  const flow = makeFlow({ method: 'GET', url: 'https://api.example.com/v1/ping?imei=490154203237518' });
  const noTime = { ...inlineInspectionLimits, timeMs: -1 };
  t.equal(inspectInline(flow, defaultDetectors, noTime), undefined);
  const inspections = pool(noTime);
  t.teardown(() => inspections.close());
  t.same(await inspections.inspect(flow), inspectFlow(flow, defaultDetectors));
  t.equal(inspections.inspectedHere, 0);
});

t.test('every corpus flow gets the same findings and problems through the pool as from inspectFlow itself, on either path', async (t) => {
  await loadSqlite(); // the worker loads it for the flows that hold a database; inspectFlow here needs it too
  const inspections = pool();
  t.teardown(() => inspections.close());
  const flows = [...positives, ...negatives].map((p) => p.flow);
  const results = await Promise.all(flows.map((flow) => inspections.inspect(flow)));
  for (const [i, flow] of flows.entries()) t.same(results[i], inspectFlow(flow, defaultDetectors), `${i}: ${flow.request?.url ?? flow.kind}`);
  t.ok(inspections.inspectedHere > 0, `${inspections.inspectedHere} of ${flows.length} inspected here`);
  t.ok(inspections.inspectedHere < flows.length, 'the rest crossed to the worker');
});
