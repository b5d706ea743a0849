// Reading flows.jsonl back (report, recover, decrypt, --append): every whole line is one HAR entry;
// a line cut by a crash or a full disk is counted and left out, never a reason to stop.

import fs from 'node:fs';
import readline from 'node:readline';

/** The entries of a flow log, parsed; lines that are not whole JSON objects (cut) are counted. */
export async function* readFlowLog(file: string, skipped: { count: number }): AsyncGenerator<Record<string, unknown>> {
  if (!fs.existsSync(file)) return;
  const lines = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.length === 0) continue;
    // A line cut by a crash or a full disk does not end its object; it is left out, and said.
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      entry = undefined;
    }
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      skipped.count++;
      continue;
    }
    yield entry as Record<string, unknown>;
  }
}
