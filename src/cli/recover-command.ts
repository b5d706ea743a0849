// `phonehome recover RUN_DIR`: rebuilds flows.har and summary.json of a run that was killed, from
// the lines it had written; lines cut by the stop are counted, not guessed at.

import path from 'node:path';
import type { Output } from './capture-command.js';

export async function runRecover(runDir: string, io: Output): Promise<number> {
  const { recoverRun } = await import('../run/recover.js');
  const dir = path.resolve(runDir);
  const recovered = await recoverRun(dir);
  const cut = recovered.cutFlowLines + recovered.cutFindingLines;
  io.err(`phonehome: recovered ${recovered.flows} flow(s) and ${recovered.findings} finding(s) in ${dir}${cut > 0 ? `; ${cut} line(s) cut by the stop left out` : ''}`);
  return 0;
}
