// `phonehome compare BASE_DIR RUN_DIR [--fail-on SEVERITY]`: what a run has that its baseline has
// not (and what is gone), as JSON Lines; exit 3 when a new finding reaches --fail-on.

import path from 'node:path';
import { parseSeverity, severities, severityRank, type Severity } from '../model/finding.js';
import { ConfigError } from '../util/errors.js';
import type { Output } from './capture-command.js';

export async function runCompare(baseDir: string, runDir: string, failOnText: string | undefined, io: Output): Promise<number> {
  const failOn = failOnText === undefined ? undefined : parseSeverity(failOnText);
  if (failOnText !== undefined && !failOn) throw new ConfigError(`--fail-on ${JSON.stringify(failOnText)}: use one of ${severities.join(', ')}`);
  const { compareRuns } = await import('../run/compare.js');
  const { loadRun } = await import('../run/run-view.js');
  const lines = compareRuns(await loadRun(path.resolve(baseDir)), await loadRun(path.resolve(runDir)));
  for (const line of lines) io.out(JSON.stringify(line));
  const worst = (lines.at(-1) as { worstNew: Severity | null }).worstNew;
  return failOn !== undefined && worst !== null && severityRank(worst) >= severityRank(failOn) ? 3 : 0;
}
