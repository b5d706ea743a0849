// The inspection worker thread: decoding and detection are CPU work, and on the proxy's thread a
// 32 MB body would stall every connection for a few hundred milliseconds. Here they run beside it.
// With a flow log open (inspection-pool.ts), it also writes each flow's line of flows.jsonl: the
// lines of a batch go out first, in one write, and batches that arrive while a flow is inspected
// are taken between that flow and the next, their lines written before any more inspection.

import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { decodeFlow, flowPayloadBytes } from '../model/flow-codec.js';
import { loadCanaries } from './canary/canary-file.js';
import { createCanaryDetector } from './canary/canary-detector.js';
import { defaultDetectors } from './detect/registry.js';
import { inspectFlow, type InspectionResult } from './inspector.js';
import type { FromInspectionWorker, InspectionJob, ToInspectionWorker } from './inspection-pool.js';
import { loadSqlite, takeSqliteWanted } from './decode/sqlite.js';
import { collectGarbage } from '../util/collect-garbage.js';
import { AppendOnlyFile, type LinePiece } from '../sinks/append-only-file.js';
import { FlowLine } from '../sinks/flow-line.js';
import type { Flow } from '../model/flow.js';
import { limits } from '../limits.js';

const canariesFile = (workerData as { canariesFile?: string } | undefined)?.canariesFile;
const detectors = canariesFile ? [...defaultDetectors, createCanaryDetector(loadCanaries(canariesFile))] : defaultDetectors;

/**
 * SQLite's WebAssembly is loaded the first time a flow holds a database (most runs never see one,
 * and it is the largest thing in this thread); that flow is then inspected again with it.
 */
async function inspectOne(flow: Flow | Error): Promise<InspectionResult> {
  try {
    if (flow instanceof Error) throw flow;
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
// After a batch that carried large bodies, it collects at once: a few milliseconds on this small heap.
const COLLECT_AFTER_BYTES = limits.collectGarbageAfterBatchBytes;

const port = parentPort as MessagePort | null;
const say = (message: FromInspectionWorker): void => port?.postMessage(message);

let flowLog: { file: AppendOnlyFile; line: FlowLine } | undefined;

/** A batch whose lines are written, waiting for (or in) inspection: answered in one message, in order. */
interface Batch { readonly jobs: Array<{ seq: number; flow: Flow | Error }>; readonly bytes: number }
const waiting: Batch[] = [];
let inspecting = false;

function take(message: ToInspectionWorker): void {
  if ('jobs' in message) accept(message.jobs);
  else if ('openFlowLog' in message) {
    const { file, redact, backlogLimitBytes, retryMs } = message.openFlowLog;
    const events = {
      failed: (text: string) => say({ flowLogEvent: { kind: 'failed', message: text } }),
      recovered: (text: string) => say({ flowLogEvent: { kind: 'recovered', message: text } }),
    };
    try {
      flowLog = { file: new AppendOnlyFile(file, events, { backlogLimitBytes, retryMs }), line: new FlowLine(redact) };
    } catch (error) {
      events.failed(`${file}: ${(error as Error).message}`);
    }
  } else if ('closeFlowLog' in message) {
    say({ flowLogClosed: flowLog?.file.close() ?? { lines: 0, dropped: 0, pending: 0, error: 'the flow log could not be opened' } });
    flowLog = undefined;
  }
}

/** Writes the batch's lines at once, then queues its flows for inspection. */
function accept(jobs: readonly InspectionJob[]): void {
  const batch: Batch = { jobs: [], bytes: 0 };
  const lines: LinePiece[][] = [];
  let bytes = 0;
  for (const job of jobs) {
    let flow: Flow | Error;
    try {
      flow = decodeFlow(job.envelope);
    } catch (error) {
      flow = error as Error;
    }
    if (job.line && flowLog) {
      if (flow instanceof Error) say({ flowLogEvent: { kind: 'failed', message: `${flowLog.file.path}: a flow's line could not be written: ${flow.message}` } });
      else lines.push(flowLog.line.pieces(flow, job.line.place));
    }
    if (job.seq !== undefined) {
      batch.jobs.push({ seq: job.seq, flow });
      if (!(flow instanceof Error)) bytes += flowPayloadBytes(flow);
    }
  }
  flowLog?.file.appendLines(lines);
  if (batch.jobs.length > 0) waiting.push({ jobs: batch.jobs, bytes });
}

/** Batches that came while this thread was busy: their lines go out now, before more inspection. */
function takeArrived(): void {
  if (!port) return;
  for (let next = receiveMessageOnPort(port); next; next = receiveMessageOnPort(port)) take(next.message as ToInspectionWorker);
}

async function inspectWaiting(): Promise<void> {
  if (inspecting) return;
  inspecting = true;
  try {
    for (let batch = waiting.shift(); batch; batch = waiting.shift()) {
      const results: Array<{ seq: number; result: InspectionResult }> = [];
      for (const { seq, flow } of batch.jobs) {
        results.push({ seq, result: await inspectOne(flow) });
        takeArrived();
      }
      say({ results });
      if (batch.bytes >= COLLECT_AFTER_BYTES) collectGarbage();
    }
  } finally {
    inspecting = false;
  }
}

port?.on('message', (message: ToInspectionWorker) => {
  take(message);
  void inspectWaiting();
});
