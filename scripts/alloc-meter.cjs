// Loaded into a capture by `profile-capture.mjs --alloc` (node --require): counts the bytes the main
// thread's JavaScript allocates on V8's heap between two SIGUSR2 signals, and prints them to stderr
// as `alloc-meter: N bytes`. CPU time per request swings ±40 % on a shared machine; the bytes a
// request allocates do not, and they are what the young generation's collections cost.
// Allocated = the heap's growth between collections: before each one, minus after the last.
'use strict';
const v8 = require('node:v8');
const { isMainThread } = require('node:worker_threads');

if (isMainThread) {
  let profiler;
  let startUsed = 0;
  process.on('SIGUSR2', () => {
    if (!profiler) {
      startUsed = v8.getHeapStatistics().used_heap_size;
      profiler = new v8.GCProfiler();
      profiler.start();
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
    process.stderr.write(`alloc-meter: ${allocated} bytes, ${statistics.length} collections\n`);
  });
}
