// flows.har: entries are streamed to `flows.har.partial` as flows end (memory stays bounded however
// long the run), and the file is closed and renamed to flows.har on stop, so flows.har is always a
// whole HAR document. After a crash, the .partial file holds every entry written so far.

import crypto from 'node:crypto';
import fs from 'node:fs';
import { once } from 'node:events';
import { flowToHarEntry } from '../flow/har.js';
import { DestinationLookup } from '../enrich/destination-lookup.js';
import type { Flow } from '../model/flow.js';

export interface HarLogFacts {
  readonly version: string;
  readonly startedAt: string;
  readonly insecureUpstream: boolean;
  readonly options: Record<string, unknown>;
}

/** Bodies larger than this are streamed into the file in slices of this size. */
const SLICE_BYTES = 1024 * 1024;

export class HarFileSink {
  readonly #file: string;
  readonly #partial: string;
  readonly #stream: fs.WriteStream;
  readonly #omitBodies: boolean;
  /** Unguessable, so no payload can forge a body placeholder. */
  readonly #token = `@@phonehome-body-${crypto.randomBytes(12).toString('hex')}-`;
  /** Entries are written one after the other, each waiting for the file to drain. */
  #queue: Promise<void> = Promise.resolve();
  #entries = 0;
  #failed: unknown;

  constructor(file: string, facts: HarLogFacts, options: { redact: boolean }) {
    this.#file = file;
    this.#partial = `${file}.partial`;
    this.#omitBodies = options.redact;
    this.#stream = fs.createWriteStream(this.#partial, { flags: 'w', mode: 0o644 });
    this.#stream.on('error', (error) => { this.#failed ??= error; });
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
    if (this.#failed) throw this.#failed;
    const first = this.#entries === 0;
    this.#entries++;
    this.#queue = this.#queue.then(() => this.#writeEntry(flow, first)).catch((error: unknown) => { this.#failed ??= error; });
  }

  async #writeEntry(flow: Flow, first: boolean): Promise<void> {
    const bodies: Array<{ bytes: Buffer; base64: boolean }> = [];
    const entry = flowToHarEntry(flow, {
      omitBodies: this.#omitBodies,
      locate: (ip) => DestinationLookup.locate(ip),
      bodyText: (bytes, base64) => {
        if (bytes.length <= SLICE_BYTES) return base64 ? bytes.toString('base64') : bytes.toString('utf8');
        bodies.push({ bytes, base64 });
        return `${this.#token}${bodies.length - 1}`;
      },
    });
    let json = `${first ? '' : ',\n'}${JSON.stringify(entry)}`;
    for (let i = 0; i < bodies.length; i++) {
      const marker = `${this.#token}${i}`;
      const at = json.indexOf(marker);
      await this.#put(json.slice(0, at));
      await this.#putBody(bodies[i]!);
      json = json.slice(at + marker.length);
    }
    await this.#put(json);
  }

  /** Writes one body as JSON string content, a slice at a time. */
  async #putBody(body: { bytes: Buffer; base64: boolean }): Promise<void> {
    const { bytes } = body;
    // Base64 slices must be whole groups of 3 bytes; UTF-8 slices must not split a character.
    const step = body.base64 ? SLICE_BYTES - (SLICE_BYTES % 3) : SLICE_BYTES;
    let offset = 0;
    while (offset < bytes.length) {
      let end = Math.min(offset + step, bytes.length);
      if (!body.base64) while (end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
      const slice = bytes.subarray(offset, end);
      await this.#put(body.base64 ? slice.toString('base64') : JSON.stringify(slice.toString('utf8')).slice(1, -1));
      offset = end;
    }
  }

  async #put(text: string): Promise<void> {
    if (text.length > 0 && !this.#stream.write(text)) await once(this.#stream, 'drain');
  }

  async close(): Promise<void> {
    await this.#queue;
    this.#stream.end('\n]}}\n');
    await once(this.#stream, 'finish');
    if (this.#failed) throw this.#failed;
    fs.renameSync(this.#partial, this.#file);
  }
}
