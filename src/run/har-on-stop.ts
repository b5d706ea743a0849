// flows.jsonl is the run's one durable record; flows.har is a second copy of the same entries, so
// writing it for every run doubles the disk a run takes (2.58 GB twice over 5 minutes of load).
// On stop (and after recover or decrypt) it is built only for a small run — a log up to
// limits.harOnStopMaxLogBytes — where it costs little and tools that want a HAR find one;
// a larger run's HAR is built when asked (`phonehome har RUN_DIR`).

import fs from 'node:fs';
import path from 'node:path';
import { limits } from '../limits.js';
import { buildHar, type HarLogFacts } from './har-builder.js';
import { FLOW_LOG, HAR_FILE } from './layout.js';

export type HarOnStop =
  | { readonly built: true; readonly entries: number; readonly skipped: number }
  | { readonly built: false; readonly logBytes: number; readonly note: string };

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0; // no log yet: an empty HAR, as before
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(bytes < 10 * 1048576 ? 1 : 0)} MiB`;
}

/**
 * Builds DIR/flows.har from DIR/flows.jsonl when the log is at most `maxLogBytes`; otherwise
 * leaves it out and says why in a sentence for summary.json's notes. A flows.har left by an
 * earlier session (--append) or an earlier `phonehome har` would now lack flows, so it is removed
 * rather than left behind as a HAR that looks whole and is not.
 */
export async function buildHarWhenSmall(dir: string, facts: HarLogFacts, options: { maxLogBytes?: number; comment?: string } = {}): Promise<HarOnStop> {
  const log = path.join(dir, FLOW_LOG);
  const har = path.join(dir, HAR_FILE);
  const maxLogBytes = options.maxLogBytes ?? limits.harOnStopMaxLogBytes;
  const logBytes = sizeOf(log);
  if (logBytes <= maxLogBytes) return { built: true, ...(await buildHar(log, har, facts, options.comment)) };
  let removed = false;
  try {
    fs.unlinkSync(har);
    removed = true;
  } catch {
    // none there
  }
  const note = `${HAR_FILE} not built: ${FLOW_LOG} (${mib(logBytes)}) is over the ${mib(maxLogBytes)} built on stop and holds every flow${removed ? `; the older ${HAR_FILE}, which lacked this session's flows, was removed` : ''}; phonehome har ${dir} builds it`;
  return { built: false, logBytes, note };
}
