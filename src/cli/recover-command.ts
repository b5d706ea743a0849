// `phonehome recover RUN_DIR`: rebuilds summary.json (and flows.har when the run is small) of a run
// that was killed, from the lines it had written; lines cut by the stop are counted, not guessed at.

import path from 'node:path';
import type { Output } from './capture-command.js';

export async function runRecover(runDir: string, io: Output): Promise<number> {
  const { recoverRun } = await import('../run/recover.js');
  const dir = path.resolve(runDir);
  const recovered = await recoverRun(dir);
  const cut = recovered.cutFlowLines + recovered.cutFindingLines;
  io.err(`phonehome: recovered ${recovered.flows} flow(s) and ${recovered.findings} finding(s) in ${dir}${cut > 0 ? `; ${cut} line(s) cut by the stop left out` : ''}${recovered.harBuilt ? '' : `; flows.jsonl is large, so no flows.har: phonehome har ${dir} builds it`}`);
  return 0;
}
