// Loaded into a capture by `profile-capture.mjs --alloc` (node --require): counts the bytes the main
// thread's JavaScript allocates on V8's heap between two SIGUSR2 signals, and prints them to stderr
// as `alloc-meter: N bytes`. CPU time per request swings ±40 % on a shared machine; the bytes a
// request allocates do not, and they are what the young generation's collections cost.
// Allocated = the heap's growth between collections: before each one, minus after the last.
// With PHONEHOME_ALLOC_PROFILE=FILE it also samples where those bytes are allocated (V8's sampling
// heap profiler, objects already collected included) and writes the profile to FILE at the second
// signal. PHONEHOME_ALLOC_PROFILE_PROMOTED=1 leaves out the objects a young-generation collection
// freed, and collects the nursery twice before the profile is written: what is left outlived it
// (promoted: alive at the end, or garbage waiting in the old generation for a full collection).
'use strict';
const v8 = require('node:v8');
const fs = require('node:fs');
const inspector = require('node:inspector');
const { isMainThread } = require('node:worker_threads');

/** V8's `gc` (for two young-generation collections at the window's end), or undefined where V8 refuses it. */
function exposedGc() {
  try {
    v8.setFlagsFromString('--expose-gc');
    return require('node:vm').runInNewContext('gc');
  } catch {
    return undefined;
  }
}

/** The sampling heap profiler over the window, when asked for: resolves once FILE is written. */
function allocationSampler(file) {
  const session = new inspector.Session();
  session.connect();
  // One sample per 8 KB on average: enough for a window of thousands of requests, cheap to keep.
  const promotedOnly = process.env.PHONEHOME_ALLOC_PROFILE_PROMOTED === '1';
  const gc = promotedOnly ? exposedGc() : undefined;
  session.post('HeapProfiler.startSampling', { samplingInterval: 8192, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !promotedOnly });
  return () => new Promise((resolve) => {
    // The profile keeps every sampled object not yet collected, and the nursery holds up to 4 MB
    // allocated since its last collection, garbage included: under light load, about a third of
    // such a profile. Two young collections first (a survivor is promoted at its second) leave
    // only what outlived the nursery. Without them, the flow's objects looked promoted. What a
    // full collection inside the window freed young is still counted (V8 reports it as freed by
    // the major collector): under light load, look at --trace-gc-nvp's `promoted=` beside it.
    if (gc) for (let i = 0; i < 2; i++) gc({ type: 'minor' });
    session.post('HeapProfiler.stopSampling', (error, result) => {
      if (error) process.stderr.write(`alloc-meter: no allocation profile: ${error.message}\n`);
      else fs.writeFileSync(file, JSON.stringify(result.profile));
      session.disconnect();
      resolve();
    });
  });
}

if (isMainThread) {
  let profiler;
  let stopSampling;
  let startUsed = 0;
  process.on('SIGUSR2', async () => {
    if (!profiler) {
      startUsed = v8.getHeapStatistics().used_heap_size;
      profiler = new v8.GCProfiler();
      profiler.start();
      if (process.env.PHONEHOME_ALLOC_PROFILE) stopSampling = allocationSampler(process.env.PHONEHOME_ALLOC_PROFILE);
      return;
    }
    const endUsed = v8.getHeapStatistics().used_heap_size;
    const { statistics } = profiler.stop();
    profiler = undefined;
    let allocated = 0;
    let after = startUsed;
    for (const gc of statistics) {
      allocated += gc.beforeGC.heapStatistics.usedHeapSize - after;
      after = gc.afterGC.heapStatistics.usedHeapSize;
    }
    allocated += endUsed - after;
    await stopSampling?.();
    stopSampling = undefined;
    process.stderr.write(`alloc-meter: ${allocated} bytes, ${statistics.length} collections\n`);
  });
}
