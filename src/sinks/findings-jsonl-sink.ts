// findings.jsonl: one finding per line, appended and handed to the OS as each is made
// (writeSync), so a crash or a kill loses none.

import fs from 'node:fs';
import type { Finding } from '../model/finding.js';
import { redactFinding } from '../util/redact.js';

export class FindingsJsonlSink {
  readonly #fd: number;
  readonly #redact: boolean;
  readonly #insecureUpstream: boolean;

  constructor(file: string, options: { redact: boolean; insecureUpstream: boolean }) {
    this.#fd = fs.openSync(file, 'a', 0o644);
    this.#redact = options.redact;
    this.#insecureUpstream = options.insecureUpstream;
  }

  write(finding: Finding): void {
    let out: Finding & { insecureUpstream?: true } = this.#redact ? redactFinding(finding) : finding;
    // Upstream verification off is stated on every line, so no finding is read without it.
    if (this.#insecureUpstream) out = { ...out, insecureUpstream: true };
    fs.writeSync(this.#fd, `${JSON.stringify(out)}\n`);
  }

  close(): void {
    fs.closeSync(this.#fd);
  }
}
