// flows.jsonl, the run's write-ahead log of flows: one HAR 1.2 entry per line, handed to the OS as
// each flow ends, so a flow completed before a crash is never lost. flows.har is built from it on
// stop (and by `phonehome recover` after a crash): the log is the record, the HAR its view.
// Large bodies go to the file in 1 MiB slices, never as one giant string.

import crypto from 'node:crypto';
import fs from 'node:fs';
import readline from 'node:readline';
import { flowToHarEntry } from '../flow/har.js';
import { DestinationLookup } from '../enrich/destination-lookup.js';
import { EntityLookup } from '../enrich/entity/entity-lookup.js';
import { flowHost, type Flow } from '../model/flow.js';
import { ObjectLineScanner } from './object-line-scanner.js';
import { AppendOnlyFile, type AppendOnlyFileEvents, type AppendOnlyFileStats, type LinePiece } from './append-only-file.js';

export interface HarLogFacts {
  readonly version: string;
  readonly startedAt: string;
  readonly insecureUpstream: boolean;
  readonly options: Record<string, unknown>;
}

/** Bodies larger than this are written in slices of this size. */
const SLICE_BYTES = 1024 * 1024;
/** flows.jsonl is copied into flows.har through a buffer of this size. */
const READ_BYTES = 1024 * 1024;
const ENTRY_SEPARATOR = Buffer.from(',\n');

export class FlowLogSink {
  readonly #file: AppendOnlyFile;
  readonly #omitBodies: boolean;
  /** Unguessable, so no payload can forge a body placeholder. */
  readonly #token = `@@phonehome-body-${crypto.randomBytes(12).toString('hex')}-`;

  constructor(file: string, events: AppendOnlyFileEvents, options: { redact: boolean; backlogLimitBytes: number; retryMs: number }) {
    this.#file = new AppendOnlyFile(file, events, options);
    this.#omitBodies = options.redact;
  }

  get stats(): AppendOnlyFileStats {
    return this.#file.stats;
  }

  write(flow: Flow): void {
    const bodies: Array<{ bytes: Buffer; base64: boolean }> = [];
    const entry = flowToHarEntry(flow, {
      omitBodies: this.#omitBodies,
      locate: (ip) => DestinationLookup.locate(ip),
      company: (flow) => EntityLookup.of(flowHost(flow)),
      bodyText: (bytes, base64) => {
        if (bytes.length <= SLICE_BYTES) return base64 ? bytes.toString('base64') : bytes.toString('utf8');
        bodies.push({ bytes, base64 });
        return `${this.#token}${bodies.length - 1}`;
      },
    });
    let json = JSON.stringify(entry);
    const pieces: LinePiece[] = [];
    for (let i = 0; i < bodies.length; i++) {
      const marker = `${this.#token}${i}`;
      const at = json.indexOf(marker);
      pieces.push(json.slice(0, at), ...bodySlices(bodies[i]!));
      json = json.slice(at + marker.length);
    }
    pieces.push(json);
    this.#file.append(pieces);
  }

  close(): AppendOnlyFileStats {
    return this.#file.close();
  }
}

/**
 * One body as JSON string content, a slice at a time; each slice's text is made only when it is
 * written, so a large body never exists as text all at once.
 */
function bodySlices(body: { bytes: Buffer; base64: boolean }): LinePiece[] {
  const { bytes } = body;
  // Base64 slices must be whole groups of 3 bytes; UTF-8 slices must not split a character.
  const step = body.base64 ? SLICE_BYTES - (SLICE_BYTES % 3) : SLICE_BYTES;
  const slices: LinePiece[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    let end = Math.min(offset + step, bytes.length);
    if (!body.base64) while (end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
    const slice = bytes.subarray(offset, end);
    slices.push(body.base64
      ? { chars: Math.ceil(slice.length / 3) * 4, text: () => slice.toString('base64') }
      : { chars: slice.length, text: () => JSON.stringify(slice.toString('utf8')).slice(1, -1) });
    offset = end;
  }
  return slices;
}

/** A file written through a 1 MiB buffer, whose end can be cut back (a line that turned out cut). */
class BufferedOutput {
  readonly #file: fs.promises.FileHandle;
  readonly #buffer = Buffer.allocUnsafe(READ_BYTES);
  #buffered = 0;
  /** Bytes already in the file. */
  #flushed = 0;

  constructor(file: fs.promises.FileHandle) {
    this.#file = file;
  }

  /** Where the next byte goes. */
  get position(): number {
    return this.#flushed + this.#buffered;
  }

  async put(bytes: Uint8Array): Promise<void> {
    if (this.#buffered + bytes.length > this.#buffer.length) await this.flush();
    if (bytes.length > this.#buffer.length) {
      await this.#write(bytes);
      return;
    }
    this.#buffer.set(bytes, this.#buffered);
    this.#buffered += bytes.length;
  }

  async flush(): Promise<void> {
    await this.#write(this.#buffer.subarray(0, this.#buffered));
    this.#buffered = 0;
  }

  /** Cuts everything from `position` on. */
  async truncate(position: number): Promise<void> {
    if (position >= this.#flushed) {
      this.#buffered = position - this.#flushed;
      return;
    }
    this.#buffered = 0;
    await this.#file.truncate(position);
    this.#flushed = position;
  }

  close(): Promise<void> {
    return this.#file.close();
  }

  async #write(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) {
      const { bytesWritten } = await this.#file.write(bytes, at, bytes.length - at, this.#flushed);
      at += bytesWritten;
      this.#flushed += bytesWritten;
    }
  }
}

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

/**
 * Writes flows.har from the flow log: the HAR's head, every whole entry, the tail, then renamed into
 * place, so flows.har is always a whole document. Memory holds one read buffer, however large an entry.
 */
export async function buildHar(logFile: string, harFile: string, facts: HarLogFacts, extraComment?: string): Promise<{ entries: number; skipped: number }> {
  const partial = `${harFile}.partial`;
  const comments = [
    ...(facts.insecureUpstream ? ['WARNING: upstream certificate verification was OFF (--insecure-upstream) for this capture'] : []),
    ...(extraComment ? [extraComment] : []),
  ];
  const head = {
    version: '1.2',
    creator: { name: 'phonehome', version: facts.version },
    pages: [],
    ...(comments.length > 0 ? { comment: comments.join('; ') } : {}),
    _phonehome: { startedAt: facts.startedAt, insecureUpstream: facts.insecureUpstream, options: facts.options },
  };
  let entries = 0;
  let skipped = 0;
  const out = new BufferedOutput(await fs.promises.open(partial, 'w', 0o644));
  try {
    // Everything up to the closing `}}` of the log, then the entries array.
    await out.put(Buffer.from(`${JSON.stringify({ log: head }).slice(0, -2)},"entries":[\n`));
    // Each line's bytes go out as they are read, checked as they pass; a line that turns out cut is
    // taken back out (truncated to where it began). Memory: one read and one write buffer.
    let line: ObjectLineScanner | undefined;
    let lineStart = 0;
    const endLine = async (): Promise<void> => {
      if (!line) return;
      if (line.whole) {
        entries++;
      } else {
        skipped++;
        await out.truncate(lineStart);
      }
      line = undefined;
    };
    const input = fs.existsSync(logFile) ? await fs.promises.open(logFile, 'r') : undefined;
    try {
      const buffer = Buffer.allocUnsafe(READ_BYTES);
      for (;;) {
        const { bytesRead } = input ? await input.read(buffer, 0, buffer.length, null) : { bytesRead: 0 };
        if (bytesRead === 0) break;
        const view = buffer.subarray(0, bytesRead);
        let at = 0;
        while (at < bytesRead) {
          const newline = view.indexOf(10, at);
          const end = newline < 0 ? bytesRead : newline;
          if (end > at) {
            if (!line) {
              line = new ObjectLineScanner();
              lineStart = out.position;
              if (entries > 0) await out.put(ENTRY_SEPARATOR);
            }
            line.push(view, at, end);
            await out.put(view.subarray(at, end));
          }
          if (newline >= 0) await endLine();
          at = end + 1;
        }
      }
      await endLine();
    } finally {
      await input?.close();
    }
    await out.put(Buffer.from('\n]}}\n'));
    await out.flush();
  } finally {
    await out.close();
  }
  fs.renameSync(partial, harFile);
  return { entries, skipped };
}
