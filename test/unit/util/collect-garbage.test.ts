import t from 'tap';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { collectAfterLargeBody, collectGarbage } from '../../../src/util/collect-garbage.js';
import { incrementalMarking } from '../../../src/util/incremental-marking.js';
import { within } from '../../helpers/lab.js';

t.test('collectGarbage collects: an object nothing refers to is gone right after', async (t) => {
  let body: Uint8Array | undefined = new Uint8Array(8 * 1024 * 1024);
  const ref = new WeakRef(body);
  body = undefined;
  // A WeakRef's target survives until the current job ends, so collect in a later one.
  await new Promise((resolve) => setImmediate(resolve));
  collectGarbage();
  t.equal(ref.deref(), undefined);
});

t.test('collectAfterLargeBody frees a large body that outlived a collection, by marking it incrementally (V8\'s ordinary collection for memory outside its heap), not by stopping the thread for a full collection nor by compacting the heap to reduce memory', { skip: !incrementalMarking() && 'native/incremental-gc is not built here' }, async (t) => {
  let body: SharedArrayBuffer | undefined = new SharedArrayBuffer(32 * 1024 * 1024);
  // Old, as a captured body is by the time its flow ends: it lived through a full collection.
  collectGarbage();
  const ref = new WeakRef(body);
  let collected!: (major: { forced: boolean; forExternalMemory: boolean }) => void;
  const major = new Promise<{ forced: boolean; forExternalMemory: boolean }>((resolve) => { collected = resolve; });
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = (entry as PerformanceEntry & { detail: { kind: number; flags: number } }).detail;
      if (detail.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      collected({ forced: (detail.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0, forExternalMemory: (detail.flags & constants.NODE_PERFORMANCE_GC_FLAGS_ALL_EXTERNAL_MEMORY) !== 0 });
    }
  });
  // A WeakRef's target survives until the current job ends: dropped and collected in later ones.
  await new Promise((resolve) => setImmediate(resolve));
  body = undefined;
  await new Promise((resolve) => setImmediate(resolve));
  observer.observe({ entryTypes: ['gc'] });
  t.teardown(() => observer.disconnect());
  collectAfterLargeBody();
  const { forced, forExternalMemory } = await within(major, 10_000, 'a major collection');
  t.notOk(forced, 'not forced (a full collection on request is)');
  // V8 marks the collection it starts for memory outside its heap so; the memory-reducing one
  // (memory pressure) carries no flag.
  t.ok(forExternalMemory, 'the collection for external memory');
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(ref.deref(), undefined, 'the body is gone');
});
