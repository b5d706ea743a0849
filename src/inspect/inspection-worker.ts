// The inspection worker thread: decoding and detection are CPU work, and on the proxy's thread a
// 32 MB body would stall every connection for a few hundred milliseconds. Here they run beside it.

import { parentPort, workerData } from 'node:worker_threads';
import { decodeFlow, flowPayloadBytes } from '../model/flow-codec.js';
import { withCanaries } from './canary/canary-detector.js';
import { defaultDetectors } from './detect/registry.js';
import { inspectFlow, type InspectionResult } from './inspector.js';
import type { InspectionAnswers, InspectionBatch, InspectionWorkerStarted } from './inspection-pool.js';
import { loadSqlite, takeSqliteWanted } from './decode/sqlite.js';
import { collectAfterLargeBody } from '../util/collect-garbage.js';
import { limits } from '../limits.js';
import { startOldGenerationPacer } from '../util/old-generation-pacer.js';

// This thread's old generation fills with garbage slowly too (a flow's decoded layers that outlived
// two nursery collections): started without the proxy thread's floor, V8 still let it grow from
// about 8 MB live to 11.5 MB over a 30-minute lab day without collecting it. The proxy thread's
// pacer bounds that garbage here too; it never stops the thread for the whole collection, so no
// flow waits on it. (What it saves did not show in RSS on its own: a lab day with this pacer and
// the proxy thread's old 4 MiB step ended no lower than the one beside it without; those that did
// come out lower had both, util/old-generation-pacer.ts.) The pool learns whether it runs.
const pacer = startOldGenerationPacer();
parentPort?.postMessage({ pacing: pacer !== undefined } satisfies InspectionWorkerStarted);

const canariesFile = (workerData as { canariesFile?: string } | undefined)?.canariesFile;
const detectors = withCanaries(defaultDetectors, canariesFile);

/**
 * SQLite's WebAssembly is loaded the first time a flow holds a database (most runs never see one,
 * and it is the largest thing in this thread); that flow is then inspected again with it.
 */
async function inspectOne(envelope: unknown): Promise<InspectionResult> {
  try {
    const flow = decodeFlow(envelope);
    const result = inspectFlow(flow, detectors);
    if (!takeSqliteWanted()) return result;
    const loaded = await loadSqlite().then(() => true, () => false);
    return loaded ? inspectFlow(flow, detectors) : result;
  } catch (error) {
    return { drafts: [], problems: [`inspection failed: ${(error as Error).message}`] };
  }
}

// This thread allocates little of its own, so V8 may not collect for a long time, and every large
// body it was handed stays alive until it does (the proxy's peak memory held two or three of them).
// After a batch that carried large bodies, it has V8 collect (collectAfterLargeBody).
const COLLECT_AFTER_BYTES = limits.collectGarbageAfterBatchBytes;

// A batch is answered in one message, in the order it came.
parentPort?.on('message', async (batch: InspectionBatch) => {
  const results: Array<InspectionAnswers['results'][number]> = [];
  for (const { seq, envelope } of batch.flows) results.push({ seq, result: await inspectOne(envelope) });
  const answers: InspectionAnswers = { results };
  parentPort?.postMessage(answers);
  if (batch.flows.reduce((n, { envelope }) => n + flowPayloadBytes(envelope.flow), 0) >= COLLECT_AFTER_BYTES) collectAfterLargeBody();
});
