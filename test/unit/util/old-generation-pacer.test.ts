// The old generation's pacer: when it asks for a collection (a table of samples), and that asking
// makes V8 collect garbage it would otherwise have kept (a plain node process with a 64 MB floor
// under its old generation, as the launcher sets 32 MB, running the built module).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import t from 'tap';
import { OldGenerationPacing } from '../../../src/util/old-generation-pacer.js';
import { incrementalMarking } from '../../../src/util/incremental-marking.js';

const MB = 1024 * 1024;

t.test('a collection is asked for once the old generation holds more than a step above its lowest sample', async (t) => {
  const cases: Array<{ name: string; samples: number[]; starts: boolean[] }> = [
    { name: 'flat', samples: [15, 15, 15, 15], starts: [false, false, false, false] },
    { name: 'slow growth up to exactly one step', samples: [15, 16, 17, 18, 19], starts: [false, false, false, false, false] },
    { name: 'past one step', samples: [15, 17, 19.5], starts: [false, false, true] },
    // V8's own collection between samples: the lowest level follows it down.
    { name: 'a fall resets the reference', samples: [15, 18, 14, 17, 18.5], starts: [false, false, false, false, true] },
    { name: 'high first sample, then a fall: measured from the fall', samples: [25, 16, 19, 20.5], starts: [false, false, false, true] },
    // After asking, the next sample is the new reference: growth that stayed (live data) does not
    // ask again until it grows another step.
    { name: 'live growth asks once per step', samples: [10, 15, 15, 16, 19, 19.5], starts: [false, true, false, false, false, true] },
    { name: 'after a start, a collection that freed it', samples: [10, 15, 11, 12, 15.5], starts: [false, true, false, false, true] },
  ];
  for (const { name, samples, starts } of cases) {
    const pacing = new OldGenerationPacing(4 * MB);
    t.same(samples.map((mb) => pacing.observe(mb * MB)), starts, name);
  }
});

// What the child reports: major collections seen, and the old generation's size before and after.
interface Outcome { majors: number; started: number; beforeMb: number; afterMb: number }

const builtModule = new URL('../../../dist/util/old-generation-pacer.js', import.meta.url);

/**
 * In a fresh node with a 64 MB floor under the old generation: 24 MB of objects outlive two nursery
 * collections, then are dropped, while the pacer looks every 10 ms (or no pacer); then the process
 * makes short-lived garbage for 3,000 turns of the event loop, as traffic would, or until a major
 * collection is seen. `inWorker`: all of it in a worker thread of that process (its own heap, the
 * addon loaded there too), as the inspection worker runs it.
 */
function run(withPacer: boolean, inWorker = false): Outcome {
  const scenario = `
    import v8 from 'node:v8';
    import { parentPort } from 'node:worker_threads';
    import { PerformanceObserver, constants } from 'node:perf_hooks';
    import { startOldGenerationPacer, oldGenerationUsedBytes } from ${JSON.stringify(builtModule.href)};
    let majors = 0;
    new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++; }).observe({ entryTypes: ['gc'] });
    const pacer = ${withPacer ? 'startOldGenerationPacer({ intervalMs: 10 })' : 'undefined'};
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    // The pacer's first look sees the heap before the growth.
    await new Promise((resolve) => setTimeout(resolve, 30));
    let kept = [];
    for (let i = 0; i < 300000; i++) kept.push({ i, name: 'record ' + i });
    globalThis.gc({ type: 'minor' }); globalThis.gc({ type: 'minor' });
    const beforeMb = oldGenerationUsedBytes() / 1048576;
    kept = undefined;
    for (let turns = 0; turns < 3000 && majors === 0; turns++) {
      const junk = []; for (let i = 0; i < 200; i++) junk.push({ i });
      await turn();
      // A look of the pacer needs its timer's turn too.
      if (turns % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await turn();
    pacer?.stop();
    const outcome = JSON.stringify({ majors, started: pacer?.started ?? 0, beforeMb, afterMb: oldGenerationUsedBytes() / 1048576 });
    if (parentPort) parentPort.postMessage(outcome); else process.stdout.write(outcome);
  `;
  // The worker's module is the scenario itself (a data: URL); the process only prints what it says.
  const code = inWorker
    ? `import { Worker } from 'node:worker_threads';
       new Worker(new URL('data:text/javascript,' + ${JSON.stringify(encodeURIComponent(scenario))})).on('message', (outcome) => process.stdout.write(outcome));`
    : scenario;
  return JSON.parse(execFileSync(process.execPath, ['--initial-old-space-size=64', '--expose-gc', '--input-type=module', '-e', code], { encoding: 'utf8' })) as Outcome;
}

// The proxy thread's heap, and a worker thread's (the inspection worker paces its own): the same checks.
const places = [
  { name: 'the pacer makes V8 collect an old generation it would have kept until its limit', inWorker: false },
  { name: 'in a worker thread too (the inspection worker paces its own heap)', inWorker: true },
];
for (const { name, inWorker } of places) {
  t.test(name, { skip: incrementalMarking() ? false : 'the incremental-gc addon is not built here' }, async (t) => {
    if (!fs.existsSync(builtModule)) return t.fail('dist/ is not built (npm test builds it first)');
    const without = run(false, inWorker);
    t.comment(`without the pacer: ${JSON.stringify(without)}`);
    t.equal(without.majors, 0, 'V8 alone does not collect the dropped 24 MB');
    t.ok(without.afterMb > without.beforeMb - 4, 'and keeps it');
    const paced = run(true, inWorker);
    t.comment(`with the pacer: ${JSON.stringify(paced)}`);
    t.ok(paced.started >= 1, 'the pacer started a collection');
    t.ok(paced.majors >= 1, 'a major collection ran');
    t.ok(paced.afterMb < paced.beforeMb - 12, `the dropped objects are freed (${paced.beforeMb.toFixed(1)} -> ${paced.afterMb.toFixed(1)} MB)`);
  });
}
