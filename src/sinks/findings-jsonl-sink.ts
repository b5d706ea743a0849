// findings.jsonl: one finding per line, appended and handed to the OS as each is made, so a crash
// or a kill loses none; on a full disk they wait in memory and are written when space returns.

import type { Finding } from '../model/finding.js';
import { redactFinding } from '../util/redact.js';
import { AppendOnlyFile, type AppendOnlyFileEvents, type AppendOnlyFileStats } from './append-only-file.js';
import { withFields } from '../util/with-fields.js';

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
    if (this.#insecureUpstream) out = withFields(out, { insecureUpstream: true as const });
    this.#file.append([JSON.stringify(out)]);
  }

  close(): AppendOnlyFileStats {
    return this.#file.close();
  }
}
