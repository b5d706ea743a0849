// Garbage collection on request, for the few moments a large body was just let go of (and once
// at start-up). V8 frees an ArrayBuffer that lived long enough to be promoted (a 32 MB body
// captured over a second) only at its next major collection, which it starts by its own measure of
// pressure — and until then the proxy held two or three such bodies at once, which was its peak
// memory (eight 128 MB uploads in a row without it: 356-365 MB against 167-175). `--expose-gc` set
// at run time makes `gc` available to new contexts; where a V8 does not allow that, collection is
// left to V8 as before.

import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { incrementalMarking } from './incremental-marking.js';

function findCollector(): () => void {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc === 'function') return gc as () => void;
  } catch {
    // not available: V8 collects on its own schedule
  }
  return () => undefined;
}

export const collectGarbage: () => void = findCollector();

/**
 * After a large body was let go of (16 MB or more; the inspection worker: a batch of 4 MB): V8's
 * incremental marking for external memory where native/incremental-gc is built, a full collection
 * where it is not. Either frees the body within tens of milliseconds. The full collection stopped
 * the thread for 20-30 ms after every such body, in the proxy and in the worker alike
 * (`--trace-gc`: "testing"); marking runs on V8's helper threads, and the thread pauses only to
 * finish. Of the two kinds of marking the ordinary one (src/util/incremental-marking.ts): the
 * memory-reducing kind, used until 2026-12-06, compacted the whole heap after every body.
 */
export const collectAfterLargeBody: () => void = incrementalMarking()?.freeExternalMemory ?? collectGarbage;
