// A full garbage collection on request, for the few moments a large body was just let go of.
// V8 frees an ArrayBuffer that lived long enough to be promoted (a 32 MB body captured over a
// second) only at its next major collection, which it starts by its own measure of pressure —
// and until then the proxy held two or three such bodies at once, which was its peak memory.
// `--expose-gc` set at run time makes `gc` available to new contexts; where a V8 does not allow
// that, collection is left to V8 as before.

import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

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
