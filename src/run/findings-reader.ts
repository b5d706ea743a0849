// Reading findings.jsonl back (report, compare, recover, the fleet collector).

import fs from 'node:fs';
import readline from 'node:readline';
import type { Finding } from '../model/finding.js';

/**
 * The findings of a findings.jsonl, a line at a time. A line cut by a crash (or anything that is
 * not a finding object) is counted in `cut` and left out; a missing file has none.
 */
export async function* readFindingsJsonl(file: string, cut: { count: number }): AsyncGenerator<Finding> {
  if (!fs.existsSync(file)) return;
  for await (const line of readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity })) {
    if (!line.trim()) continue;
    let finding: Finding;
    try {
      finding = JSON.parse(line) as Finding;
    } catch {
      cut.count++;
      continue;
    }
    if (finding && typeof finding === 'object' && typeof finding.category === 'string') yield finding;
    else cut.count++;
  }
}
