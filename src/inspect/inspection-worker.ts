// The inspection worker thread: decoding and detection are CPU work, and on the proxy's thread a
// 32 MB body would stall every connection for a few hundred milliseconds. Here they run beside it.

import { parentPort, workerData } from 'node:worker_threads';
import type { Flow } from '../flow/flow.js';
import { loadCanaries } from './canary/canary-file.js';
import { createCanaryDetector } from './canary/canary-detector.js';
import { defaultDetectors } from './detect/registry.js';
import { rehydrateFlow } from './flow-transfer.js';
import { inspectFlow } from './inspector.js';

const canariesFile = (workerData as { canariesFile?: string } | undefined)?.canariesFile;
const detectors = canariesFile ? [...defaultDetectors, createCanaryDetector(loadCanaries(canariesFile))] : defaultDetectors;

parentPort?.on('message', (message: { seq: number; flow: Flow }) => {
  let result;
  try {
    result = inspectFlow(rehydrateFlow(message.flow), detectors);
  } catch (error) {
    result = { drafts: [], problems: [`inspection failed: ${(error as Error).message}`] };
  }
  parentPort?.postMessage({ seq: message.seq, result });
});
