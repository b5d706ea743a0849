// The inspection worker thread: decoding and detection are CPU work, and on the proxy's thread a
// 32 MB body would stall every connection for a few hundred milliseconds. Here they run beside it.

import { parentPort, workerData } from 'node:worker_threads';
import { decodeFlow } from '../model/flow-codec.js';
import { loadCanaries } from './canary/canary-file.js';
import { createCanaryDetector } from './canary/canary-detector.js';
import { defaultDetectors } from './detect/registry.js';
import { inspectFlow } from './inspector.js';
import { loadSqlite } from './decode/sqlite.js';

const canariesFile = (workerData as { canariesFile?: string } | undefined)?.canariesFile;
const detectors = canariesFile ? [...defaultDetectors, createCanaryDetector(loadCanaries(canariesFile))] : defaultDetectors;

// SQLite's WebAssembly loads once; flows that arrive meanwhile wait for it, in order.
const sqliteReady = loadSqlite().catch(() => undefined);

parentPort?.on('message', async (message: { seq: number; envelope: unknown }) => {
  await sqliteReady;
  let result;
  try {
    result = inspectFlow(decodeFlow(message.envelope), detectors);
  } catch (error) {
    result = { drafts: [], problems: [`inspection failed: ${(error as Error).message}`] };
  }
  parentPort?.postMessage({ seq: message.seq, result });
});
