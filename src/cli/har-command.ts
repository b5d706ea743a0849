// `phonehome har RUN_DIR [--out FILE]`: flows.har of a run, built when asked from flows.jsonl (the
// run's one durable record; a stop builds it only for a small run: src/run/har-on-stop.ts). The
// head is the one the stop would have written (src/run/har-facts.ts), so the file is the same.

import path from 'node:path';
import type { Output } from './capture-command.js';

export async function runHar(runDir: string, out: string | undefined, io: Output): Promise<number> {
  const { buildRunHar } = await import('../run/run-har.js');
  const built = await buildRunHar(path.resolve(runDir), out === undefined ? undefined : path.resolve(out));
  const live = built.liveWriter === undefined ? '' : `; a capture (pid ${built.liveWriter}) is still writing this run, so it holds the flows so far`;
  io.err(`phonehome: ${built.file}: ${built.entries} flow(s)${built.skipped > 0 ? `, ${built.skipped} line(s) cut by a stop left out` : ''}${live}`);
  return 0;
}
