// The finding pipeline asks V8 to collect once flows carrying 16 MiB of bodies and messages were
// let go of, counted over flows: the parts of a stream (8 MiB each) and medium bodies live in
// shared memory, which V8 does not count as memory outside its heap, so nothing else tells it.

import t from 'tap';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { FindingPipeline } from '../../../src/app/finding-pipeline.js';
import { EventBus } from '../../../src/flow/events.js';
import { body, makeFlow } from '../../helpers/flows.js';
import { within } from '../../helpers/lab.js';

t.test('three flows of 6 MiB each, each under the 16 MiB a single flow needs: the collection for external memory follows the third', async (t) => {
  const bus = new EventBus();
  new FindingPipeline(bus, { detectors: [] });
  let asked!: () => void;
  const collected = new Promise<void>((resolve) => { asked = resolve; });
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { kind, flags } = (entry as PerformanceEntry & { detail: { kind: number; flags: number } }).detail;
      // The collection asked for: V8's ordinary one for memory outside its heap (native/incremental-gc),
      // or a forced full one where the addon is not built. V8's own collections carry neither flag.
      const flagged = (flags & (constants.NODE_PERFORMANCE_GC_FLAGS_ALL_EXTERNAL_MEMORY | constants.NODE_PERFORMANCE_GC_FLAGS_FORCED)) !== 0;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR && flagged) asked();
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  t.teardown(() => observer.disconnect());
  for (let i = 0; i < 3; i++) {
    const shared = Buffer.from(new SharedArrayBuffer(6 * 1024 * 1024));
    bus.emit('flow:end', makeFlow({ method: 'POST', requestBody: shared, response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [], body: body(Buffer.alloc(0)) } }));
  }
  await within(collected, 10_000, 'the collection asked for after 18 MiB let go of');
  t.pass('collected');
});
