// Content-Encoding (gzip, deflate as zlib or raw, br, zstd) and compressed blobs found by their
// magic at any depth (base64'd gzip in a header or a JSON field). Every call is capped: a bomb
// stops at the cap and is recorded; a truncated stream gives what it had.

import zlib from 'node:zlib';
import type * as Fzstd from 'fzstd';
import { lazyRequire } from '../../util/lazy-require.js';

const fzstd = lazyRequire<typeof Fzstd>('fzstd');
import { headerValue } from '../../model/flow.js';
import type { View } from '../detect/detector.js';
import type { DecodeBudget } from './budget.js';
import { childLayer, type Decoder } from './layer.js';
import { sniff } from './magic.js';

type Coding = 'gzip' | 'deflate' | 'br' | 'zstd';

function zlibOptions(cap: number): zlib.ZlibOptions {
  // Z_SYNC_FLUSH at the end: a truncated body (cut at --body-limit) yields its readable prefix.
  return { maxOutputLength: cap, finishFlush: zlib.constants.Z_SYNC_FLUSH };
}

function inflateEither(bytes: Buffer, cap: number): Buffer {
  try {
    return zlib.inflateSync(bytes, zlibOptions(cap));
  } catch (error) {
    // Servers and apps often send raw deflate labelled "deflate".
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw error;
    return zlib.inflateRawSync(bytes, zlibOptions(cap));
  }
}

function unzstd(bytes: Buffer, cap: number): Buffer {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const stream = new (fzstd().Decompress)((chunk) => {
    total += chunk.length;
    if (total > cap) throw Object.assign(new Error(`zstd output over ${cap} bytes`), { code: 'ERR_BUFFER_TOO_LARGE' });
    chunks.push(chunk);
  });
  // Fed in slices, so a lying frame header cannot make one huge allocation before the cap bites.
  const slice = 64 * 1024;
  try {
    for (let at = 0; at < bytes.length; at += slice) stream.push(bytes.subarray(at, at + slice), at + slice >= bytes.length);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || total === 0) throw error;
    // A truncated frame: keep what was decoded.
  }
  return Buffer.concat(chunks, total);
}

export function decompress(coding: Coding, bytes: Buffer, cap: number): Buffer {
  switch (coding) {
    case 'gzip': return zlib.gunzipSync(bytes, zlibOptions(cap));
    case 'deflate': return inflateEither(bytes, cap);
    case 'br': return zlib.brotliDecompressSync(bytes, { maxOutputLength: cap, finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
    case 'zstd': return unzstd(bytes, cap);
  }
}

function parseCodings(value: string | undefined): Coding[] {
  if (!value) return [];
  return value.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== 'identity' && c !== '')
    .map((c) => (c === 'x-gzip' ? 'gzip' : c)) as Coding[];
}

function tryDecompress(view: View, coding: Coding, bytes: Buffer, budget: DecodeBudget): Buffer | undefined {
  const cap = budget.outputCap(bytes.length);
  try {
    return decompress(coding, bytes, cap);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      budget.note(`${coding} at ${view.path.join(' > ')} expands beyond ${cap} bytes (decompression bomb?): not inspected`);
    } else {
      budget.note(`${coding} at ${view.path.join(' > ')} could not be decoded: ${(error as Error).message}`);
    }
    return undefined;
  }
}

export const contentEncodingDecoder: Decoder = {
  name: 'content-encoding',
  decode(view, budget) {
    if (view.depth !== 0 || !view.headers) return [];
    const codings = parseCodings(headerValue(view.headers, 'content-encoding'));
    if (codings.length === 0) return [];
    let bytes = view.bytes;
    // Codings are listed in the order they were applied: undo them last to first.
    for (const coding of codings.reverse()) {
      if (!['gzip', 'deflate', 'br', 'zstd'].includes(coding)) {
        budget.note(`unknown content-encoding ${coding}`);
        return [];
      }
      const out = tryDecompress(view, coding, bytes, budget);
      if (!out) return [];
      bytes = out;
    }
    const carried: { contentType?: string; fileName?: string } = {};
    if (view.contentType) carried.contentType = view.contentType;
    if (view.fileName) carried.fileName = view.fileName;
    return [childLayer(view, bytes, `content-encoding:${codings.join('+')}`, carried)];
  },
};

/** gzip, zlib and zstd recognised by their first bytes, wherever they turn up. */
export const compressedBlobDecoder: Decoder = {
  name: 'compressed-blob',
  decode(view, budget) {
    if (view.depth === 0 && view.headers && headerValue(view.headers, 'content-encoding')) return [];
    const type = sniff(view.bytes);
    const coding: Coding | undefined = type === 'application/gzip' ? 'gzip' : type === 'application/zstd' ? 'zstd' : type === 'application/zlib' ? 'deflate' : undefined;
    if (!coding || view.bytes.length < 8) return [];
    const out = tryDecompress(view, coding, view.bytes, budget);
    return out && out.length > 0 ? [childLayer(view, out, coding)] : [];
  },
};
