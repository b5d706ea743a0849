// A HAR file of any size read as flows, entry by entry: the file is read a chunk at a time, each
// element of `log.entries` is found by HarEntryScanner, parsed alone and turned into a flow by
// harEntryToFlow, so memory holds one entry at a time (a 2 GB HAR is read in a few tens of MB; an
// entry of 300 MB needs about twice that). Flows come in file order with the ids readHarFile gives.

import fs from 'node:fs';
import type { Flow } from '../model/flow.js';
import { PhonehomeError } from '../util/errors.js';
import { harEntryToFlow } from './har-reader.js';
import { HarEntryScanner, MAX_ENTRY_BYTES, type ScannedEntry } from './har-entry-scanner.js';

/** Large reads: fewer turns of the event loop; an entry within one chunk is parsed from a view of it. */
const CHUNK_BYTES = 1024 * 1024;

export interface HarStreamEnd {
  /** Entries handed on as flows. */
  readonly flows: number;
  /** Bytes read. */
  readonly bytes: number;
  /** The document did not close: read up to its last whole entry. */
  readonly truncated: boolean;
  /** The file ended inside an entry, which was left out. */
  readonly droppedTail: boolean;
  /** One line each (without the `phonehome:` prefix) for what was not read and where. */
  readonly notes: readonly string[];
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The k-th scanned entry as a JSON object, or why not. It is taken out of the list here, so that
 * nothing holds its text once it is parsed: the text of a 300 MB entry can then be collected while
 * its body is decoded.
 */
function parseEntry(scanned: ScannedEntry[], k: number): { entry: Record<string, unknown> | Error; offset: number } {
  const { text, offset } = scanned[k]!;
  scanned[k] = undefined as unknown as ScannedEntry;
  try {
    const value: unknown = JSON.parse(text);
    return { entry: typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : new Error('not an object'), offset };
  } catch (error) {
    return { entry: error as Error, offset };
  }
}

/**
 * The flows of a HAR file, in order. A file that is not a HAR throws a PhonehomeError (one line);
 * one cut short, with unreadable entries or with bytes after its end is read as far as it goes and
 * `onEnd` gets lines saying where it stopped and what was left out.
 */
export async function* harFileFlows(file: string, source = file, onEnd?: (end: HarStreamEnd) => void): AsyncGenerator<Flow> {
  const scanner = new HarEntryScanner();
  const stream = fs.createReadStream(file, { highWaterMark: CHUNK_BYTES });
  let index = 0;
  let unreadable = 0;
  let firstUnreadable = '';
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const entries = scanner.push(chunk);
      // Handed on one by one, each let go of before the next is parsed.
      for (let k = 0; k < entries.length; k++) {
        const { entry, offset } = parseEntry(entries, k);
        if (entry instanceof Error) {
          if (unreadable++ === 0) firstUnreadable = `the first at byte ${offset}: ${entry.message}`;
          continue;
        }
        yield harEntryToFlow(entry, index++);
      }
      const notHar = scanner.end().notAnObject;
      if (notHar !== undefined) throw new PhonehomeError('PH_ERR_HAR', `${source} is not a HAR file (it begins with ${JSON.stringify(notHar)}, not "{")`);
    }
  } finally {
    stream.destroy();
  }
  const end = scanner.end();
  if (end.bytes === 0) throw new PhonehomeError('PH_ERR_HAR', `${source} is not a HAR file (it is empty)`);
  if (!end.sawEntries) {
    throw new PhonehomeError('PH_ERR_HAR', end.whole
      ? `${source} is not a HAR file (no log.entries array)`
      : `${source} is not a HAR file (no log.entries array before it stops at byte ${end.bytes})`);
  }
  const notes: string[] = [];
  const truncated = !end.whole;
  if (truncated) {
    notes.push(`${source} is cut short: read its ${plural(index, 'whole entry', 'whole entries')}${end.droppedTail ? ', dropped the incomplete last one' : ''} (the file stops at byte ${end.bytes}${end.droppedAt !== undefined ? `, in an entry that began at byte ${end.droppedAt}` : ''})`);
  }
  if (end.oversized.length > 0) notes.push(`${source}: left out ${plural(end.oversized.length, 'entry', 'entries')} larger than ${Math.floor(MAX_ENTRY_BYTES / 1048576)} MiB, which a JavaScript string cannot hold (the first at byte ${end.oversized[0]})`);
  if (unreadable > 0) notes.push(`${source}: left out ${plural(unreadable, 'entry', 'entries')}, not JSON (${firstUnreadable})`);
  if (end.trailingAt !== undefined) notes.push(`${source}: the HAR document ends before byte ${end.trailingAt}; what follows was not read`);
  onEnd?.({ flows: index, bytes: end.bytes, truncated, droppedTail: end.droppedTail, notes });
}
