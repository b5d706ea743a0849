// Archives as layers: each file inside a ZIP (stored or deflate, read by fflate) or a tar (ustar,
// GNU long names, PAX paths; a tar.gz is first a gzip layer) becomes a layer named by its path,
// `zip:DCIM/Camera/IMG_0001.jpg`, with the file name set so the photo detector sees it.
//
// Bombs: only entries whose declared size fits what is left of the message's budget are
// inflated, and fflate inflates into a buffer of the declared size, so a lying header cannot make
// it write more. Entries per archive are capped; nesting is bounded by the decode depth.

import path from 'node:path';
import type * as Fflate from 'fflate';
import { lazyRequire } from '../../util/lazy-require.js';

const fflate = lazyRequire<typeof Fflate>('fflate');
import type { View } from '../detect/detector.js';
import type { DecodeBudget } from './budget.js';
import { childLayer, type Decoder } from './layer.js';
import { sniff } from './magic.js';

/** Files read from one archive; the rest are counted in a note. */
export const MAX_ARCHIVE_ENTRIES = 1_000;

function entryLayer(view: View, bytes: Buffer, kind: 'zip' | 'tar', name: string): View {
  return childLayer(view, bytes, `${kind}:${name}`, { fileName: path.posix.basename(name) });
}

function zipLayers(view: View, budget: DecodeBudget): View[] {
  let left = budget.outputCap(view.bytes.length);
  let skipped = 0;
  let entries = 0;
  const files = fflate().unzipSync(view.bytes, {
    filter: (file) => {
      if (file.name.endsWith('/') || file.originalSize === 0) return false;
      if (entries >= MAX_ARCHIVE_ENTRIES || file.originalSize > left || (file.compression !== 0 && file.compression !== 8)) {
        skipped++;
        return false;
      }
      entries++;
      left -= file.originalSize;
      return true;
    },
  });
  if (skipped > 0) budget.note(`zip at ${view.path.join(' > ')}: ${skipped} entr${skipped === 1 ? 'y' : 'ies'} not read (over the budget, the entry limit, or an unsupported method)`);
  return Object.entries(files).map(([name, data]) => entryLayer(view, Buffer.from(data.buffer, data.byteOffset, data.byteLength), 'zip', name));
}

/** A tar header block: "ustar" magic or a valid checksum over the 512 bytes. */
function isTarHeader(block: Buffer): boolean {
  if (block.length < 512 || block[0] === 0) return false;
  const stored = parseInt(block.toString('latin1', 148, 156).replace(/\0.*$/, '').trim(), 8);
  if (!Number.isFinite(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === stored;
}

function cString(block: Buffer, start: number, length: number): string {
  const raw = block.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.toString('utf8', 0, end < 0 ? raw.length : end);
}

/** The files of a tar: regular entries only, with GNU (`L`) and PAX (`x`) long names. */
export function tarEntries(bytes: Buffer, maxEntries = MAX_ARCHIVE_ENTRIES): { files: Array<{ name: string; data: Buffer }>; skipped: number } {
  const files: Array<{ name: string; data: Buffer }> = [];
  let skipped = 0;
  let at = 0;
  let longName: string | undefined;
  while (at + 512 <= bytes.length) {
    const header = bytes.subarray(at, at + 512);
    if (header[0] === 0) break; // the two zero blocks at the end
    if (!isTarHeader(header)) break;
    const size = parseInt(header.toString('latin1', 124, 136).replace(/\0.*$/, '').trim() || '0', 8);
    const type = String.fromCharCode(header[156]!);
    const dataStart = at + 512;
    const data = bytes.subarray(dataStart, Math.min(bytes.length, dataStart + size));
    const prefix = header.toString('latin1', 257, 262) === 'ustar' ? cString(header, 345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${cString(header, 0, 100)}` : cString(header, 0, 100));
    longName = undefined;
    if (type === 'L') longName = cString(data, 0, data.length);
    else if (type === 'x') longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))?.[1];
    else if ((type === '0' || type === '\0' || type === '7') && size > 0) {
      if (files.length < maxEntries) files.push({ name, data });
      else skipped++;
    }
    at = dataStart + Math.ceil(size / 512) * 512;
  }
  return { files, skipped };
}

export const archiveDecoder: Decoder = {
  name: 'archive',
  decode(view, budget) {
    if (view.structured !== undefined || view.bytes.length < 22) return [];
    if (sniff(view.bytes) === 'application/zip') return zipLayers(view, budget);
    if (view.bytes.length >= 1024 && isTarHeader(view.bytes.subarray(0, 512))) {
      const { files, skipped } = tarEntries(view.bytes);
      if (skipped > 0) budget.note(`tar at ${view.path.join(' > ')}: ${skipped} entries over the limit of ${MAX_ARCHIVE_ENTRIES} not read`);
      return files.map((f) => entryLayer(view, f.data, 'tar', f.name));
    }
    return [];
  },
};
