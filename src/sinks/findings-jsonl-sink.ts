// findings.jsonl: one finding per line, appended and handed to the OS as each is made, so a crash
// or a kill loses none; on a full disk they wait in memory and are written when space returns.

import fs from 'node:fs';
import readline from 'node:readline';
import type { Finding } from '../model/finding.js';
import { redactFinding } from '../util/redact.js';
import { AppendOnlyFile, type AppendOnlyFileEvents, type AppendOnlyFileStats } from './append-only-file.js';

export class FindingsJsonlSink {
  readonly #file: AppendOnlyFile;
  readonly #redact: boolean;
  readonly #insecureUpstream: boolean;

  constructor(file: string, events: AppendOnlyFileEvents, options: { redact: boolean; insecureUpstream: boolean; backlogLimitBytes: number; retryMs: number }) {
    this.#file = new AppendOnlyFile(file, events, options);
    this.#redact = options.redact;
    this.#insecureUpstream = options.insecureUpstream;
  }

  get stats(): AppendOnlyFileStats {
    return this.#file.stats;
  }

  write(finding: Finding): void {
    let out: Finding & { insecureUpstream?: true } = this.#redact ? redactFinding(finding) : finding;
    // Upstream verification off is stated on every line, so no finding is read without it.
    if (this.#insecureUpstream) out = { ...out, insecureUpstream: true };
    this.#file.append([JSON.stringify(out)]);
  }

  close(): AppendOnlyFileStats {
    return this.#file.close();
  }
}

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
