// flows.har, built from the flow log on stop, by recover and by decrypt: the HAR's head, every whole
// entry copied byte for byte, the tail, then renamed into place, so flows.har is always a whole
// document and memory holds one read and one write buffer, however large an entry.

import fs from 'node:fs';
import { ObjectLineScanner } from './object-line-scanner.js';

export interface HarLogFacts {
  readonly version: string;
  readonly startedAt: string;
  readonly insecureUpstream: boolean;
  readonly options: Record<string, unknown>;
}

/** flows.jsonl is copied into flows.har through a buffer of this size. */
const READ_BYTES = 1024 * 1024;
const ENTRY_SEPARATOR = Buffer.from(',\n');

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
