// V8's incremental marking of this thread's old generation, started on request through
// native/incremental-gc (Node offers only `gc()`, a full collection that stops the thread). Two
// kinds, for two reasons to collect:
// - reduceMemory: garbage built up slowly in the old generation (src/util/old-generation-pacer.ts):
//   V8's collection for moderate memory pressure, which also compacts the heap's pages and gives
//   back what it can.
// - freeExternalMemory: a large body (an ArrayBuffer, outside the heap) was just let go of
//   (src/util/collect-garbage.ts): V8's collection for external memory, an ordinary one. Used for
//   the memory-reducing kind until 2026-12-06, which cost uploads 0.5-1 ms more CPU per MB for the
//   same bodies freed (README: Performance).

import { createRequire } from 'node:module';

interface IncrementalGcAddon {
  startMemoryReducingMarking(): void;
  startExternalMemoryMarking(): void;
}

export interface IncrementalMarking {
  readonly reduceMemory: () => void;
  readonly freeExternalMemory: () => void;
}

let marking: IncrementalMarking | null | undefined;

/** The addon's two ways to start marking, or undefined where it is not built (or built for another Node). */
export function incrementalMarking(): IncrementalMarking | undefined {
  if (marking === undefined) {
    try {
      // src/util and dist/util are both two folders below the installation.
      const addon = createRequire(import.meta.url)('../../native/incremental-gc/build/Release/incremental_gc.node') as IncrementalGcAddon;
      marking = { reduceMemory: () => addon.startMemoryReducingMarking(), freeExternalMemory: () => addon.startExternalMemoryMarking() };
    } catch {
      marking = null;
    }
  }
  return marking ?? undefined;
}
