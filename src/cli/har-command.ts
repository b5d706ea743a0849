// `phonehome har RUN_DIR [--out FILE]`: flows.har of a run, built when asked from flows.jsonl (the
// run's one durable record; a stop builds it only for a small run: src/run/har-on-stop.ts). The
// head is the one the stop would have written (src/run/har-facts.ts), so the file is the same.

import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../util/errors.js';
import type { Output } from './capture-command.js';

export async function runHar(runDir: string, out: string | undefined, io: Output): Promise<number> {
  const [{ buildHar }, { harFactsOf }, { FLOW_LOG, HAR_FILE }, { readRunRecord }, { liveWriterOf }] = await Promise.all([
    import('../run/har-builder.js'), import('../run/har-facts.js'), import('../run/layout.js'), import('../run/run-record.js'), import('../run/live-run-writer.js'),
  ]);
  const dir = path.resolve(runDir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ConfigError(`${runDir} is not a folder`);
  const log = path.join(dir, FLOW_LOG);
  if (!fs.existsSync(log)) throw new ConfigError(`${runDir} holds no ${FLOW_LOG}: not a phonehome run folder (or one from before ${FLOW_LOG})`);
  const file = out === undefined ? path.join(dir, HAR_FILE) : path.resolve(out);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new ConfigError(`--out ${out}: a folder; give a file name`);
  const writer = liveWriterOf(dir);
  const built = await buildHar(log, file, harFactsOf(readRunRecord(dir)));
  const live = writer === undefined ? '' : `; a capture (pid ${writer}) is still writing this run, so it holds the flows so far`;
  io.err(`phonehome: ${file}: ${built.entries} flow(s)${built.skipped > 0 ? `, ${built.skipped} line(s) cut by a stop left out` : ''}${live}`);
  return 0;
}
