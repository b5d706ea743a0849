// The inspection worker runs with a small young generation (its idle memory), and still inspects
// a large body whole; its old generation is paced as the proxy thread's is.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { InspectionPool } from '../../../src/inspect/inspection-pool.js';
import { limits } from '../../../src/limits.js';
import { incrementalMarking } from '../../../src/util/incremental-marking.js';
import { makeFlow } from '../../helpers/flows.js';

const photo = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'fixtures', 'photos', 'camera.jpg'));

t.test('the worker\'s young generation is capped; a large body is still inspected', async (t) => {
  const pool = new InspectionPool();
  t.teardown(() => pool.close());
  // A body many times the nursery: bodies live outside the heap, decoded layers pass through it.
  const padding = Buffer.alloc(limits.inspectionWorkerYoungGenerationMb * 4 * 1024 * 1024, 0x20);
  const found = await pool.inspect(makeFlow({ requestBody: Buffer.concat([photo, padding]), requestHeaders: [['content-type', 'image/jpeg']] }));
  t.same(found.problems, []);
  t.ok(found.drafts.some((d) => d.category === 'photo'), 'the photo is found');
  t.equal(pool.resourceLimits?.maxYoungGenerationSizeMb, limits.inspectionWorkerYoungGenerationMb, 'V8 applied the cap');
});

t.test("the worker paces its old generation, where the addon is built", async (t) => {
  const pool = new InspectionPool();
  t.teardown(() => pool.close());
  // The worker says so in its first message; a worker without a pacer would never say it.
  t.equal(await pool.workerPacing, incrementalMarking() !== undefined);
});
