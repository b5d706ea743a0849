// compare's (and the report's baseline) view of a finished run folder: its findings and the
// destinations its summary.json lists. A run without summary.json was killed and is refused with
// the command that mends it.

import fs from 'node:fs';
import path from 'node:path';
import type { Finding } from '../model/finding.js';
import { ConfigError } from '../util/errors.js';
import { readFindingsJsonl } from './findings-reader.js';
import { FINDINGS_FILE, SUMMARY_FILE } from './layout.js';

export interface RunView {
  readonly dir: string;
  readonly findings: readonly Finding[];
  /** Destination hosts with their country and bytes sent, from summary.json. */
  readonly destinations: ReadonlyMap<string, { country: string | null; bytesUp: number }>;
}

export async function loadRun(dir: string): Promise<RunView> {
  const findingsFile = path.join(dir, FINDINGS_FILE);
  const summaryFile = path.join(dir, SUMMARY_FILE);
  if (!fs.existsSync(dir)) throw new ConfigError(`${dir}: no such folder`);
  if (!fs.existsSync(summaryFile)) throw new ConfigError(`${dir} has no ${SUMMARY_FILE} (a run that was killed? phonehome recover ${dir} first)`);
  const findings: Finding[] = [];
  // A line cut by a crash is not a finding.
  for await (const finding of readFindingsJsonl(findingsFile, { count: 0 })) findings.push(finding);
  let summary: { destinations?: Array<{ host: string; country: string | null; bytesUp: number }> };
  try {
    summary = JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as typeof summary;
  } catch (error) {
    throw new ConfigError(`${summaryFile} is not JSON: ${(error as Error).message}`);
  }
  const destinations = new Map((summary.destinations ?? []).filter((d) => typeof d.host === 'string' && d.host !== '').map((d) => [d.host, { country: d.country ?? null, bytesUp: d.bytesUp ?? 0 }]));
  return { dir, findings, destinations };
}
