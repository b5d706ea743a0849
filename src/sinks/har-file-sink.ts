// flows.har: entries are streamed to `flows.har.partial` as flows end (memory stays bounded however
// long the run), and the file is closed and renamed to flows.har on stop, so flows.har is always a
// whole HAR document. After a crash, the .partial file holds every entry written so far.

import fs from 'node:fs';
import { once } from 'node:events';
import { flowToHarEntry } from '../flow/har.js';
import type { Flow } from '../flow/flow.js';

export interface HarLogFacts {
  readonly version: string;
  readonly startedAt: string;
  readonly insecureUpstream: boolean;
  readonly options: Record<string, unknown>;
}

export class HarFileSink {
  readonly #file: string;
  readonly #partial: string;
  readonly #stream: fs.WriteStream;
  readonly #omitBodies: boolean;
  #entries = 0;

  constructor(file: string, facts: HarLogFacts, options: { redact: boolean }) {
    this.#file = file;
    this.#partial = `${file}.partial`;
    this.#omitBodies = options.redact;
    this.#stream = fs.createWriteStream(this.#partial, { flags: 'w', mode: 0o644 });
    const head = {
      version: '1.2',
      creator: { name: 'phonehome', version: facts.version },
      pages: [],
      ...(facts.insecureUpstream ? { comment: 'WARNING: upstream certificate verification was OFF (--insecure-upstream) for this capture' } : {}),
      _phonehome: { startedAt: facts.startedAt, insecureUpstream: facts.insecureUpstream, options: facts.options },
    };
    const headJson = JSON.stringify({ log: head });
    // Everything up to the closing `}}` of the log, then the entries array.
    this.#stream.write(`${headJson.slice(0, -2)},"entries":[\n`);
  }

  get entries(): number {
    return this.#entries;
  }

  write(flow: Flow): void {
    const entry = JSON.stringify(flowToHarEntry(flow, { omitBodies: this.#omitBodies }));
    this.#stream.write(`${this.#entries === 0 ? '' : ',\n'}${entry}`);
    this.#entries++;
  }

  async close(): Promise<void> {
    this.#stream.end('\n]}}\n');
    await once(this.#stream, 'finish');
    fs.renameSync(this.#partial, this.#file);
  }
}
