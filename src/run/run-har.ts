// A run's HAR built when asked — by `phonehome har`, or by `analyze RUN_DIR/flows.har` when the stop
// left it out (src/run/har-on-stop.ts) — from flows.jsonl, with the head the stop would have written.

import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../util/errors.js';
import { buildHar } from './har-builder.js';
import { harFactsOf } from './har-facts.js';
import { FLOW_LOG, HAR_FILE } from './layout.js';
import { liveWriterOf } from './live-run-writer.js';
import { readRunRecord } from './run-record.js';

export interface RunHar {
  readonly file: string;
  readonly entries: number;
  /** Lines cut by a stop, left out. */
  readonly skipped: number;
  /** A capture still writing the run: the HAR holds the flows so far. */
  readonly liveWriter?: number;
}

/** Writes the HAR of the run in `dir` to `out` (default DIR/flows.har); refuses in one line what is not a run. */
export async function buildRunHar(dir: string, out?: string): Promise<RunHar> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ConfigError(`${dir} is not a folder`);
  const log = path.join(dir, FLOW_LOG);
  if (!fs.existsSync(log)) throw new ConfigError(`${dir} holds no ${FLOW_LOG}: not a phonehome run folder (or one from before ${FLOW_LOG})`);
  const file = out ?? path.join(dir, HAR_FILE);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new ConfigError(`--out ${out}: a folder; give a file name`);
  const liveWriter = liveWriterOf(dir);
  const built = await buildHar(log, file, harFactsOf(readRunRecord(dir)));
  return { file, ...built, ...(liveWriter !== undefined ? { liveWriter } : {}) };
}

/** `analyze RUN_DIR/flows.har` of a run whose stop left the HAR out: the flows.jsonl beside it, else undefined. */
export function runLogBeside(harFile: string): string | undefined {
  if (path.basename(harFile) !== HAR_FILE || fs.existsSync(harFile)) return undefined;
  const log = path.join(path.dirname(harFile), FLOW_LOG);
  return fs.existsSync(log) ? log : undefined;
}
