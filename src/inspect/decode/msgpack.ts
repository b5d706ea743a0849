// MessagePack: the one module that imports @msgpack/msgpack. Gate: a declared msgpack type, or a
// first byte that opens a map or an array; decoded with length caps (bomb limits) and consumed
// exactly to the end. Binary values become layers of their own.

import type * as Msgpack from '@msgpack/msgpack';
import { lazyRequire } from '../../util/lazy-require.js';

const msgpack = lazyRequire<typeof Msgpack>('@msgpack/msgpack');
import type { View } from '../detect/detector.js';
import { childLayer, type Decoder } from './layer.js';
import { sniff } from './magic.js';

const LIMITS = { maxStrLength: 16 * 1024 * 1024, maxBinLength: 64 * 1024 * 1024, maxArrayLength: 100_000, maxMapLength: 100_000, maxExtLength: 1024 * 1024 };

function opensContainer(first: number): boolean {
  return (first >= 0x80 && first <= 0x9f) || (first >= 0xdc && first <= 0xdf);
}

export function parseMsgpack(bytes: Buffer): unknown {
  try {
    // decode() throws on trailing bytes: exact consumption is part of the gate.
    const value = msgpack().decode(bytes, LIMITS);
    if (value === null || typeof value !== 'object') return undefined;
    const size = value instanceof Uint8Array ? 0 : Array.isArray(value) ? value.length : Object.keys(value).length;
    return size > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

export const msgpackDecoder: Decoder = {
  name: 'msgpack',
  decode(view) {
    if (view.structured !== undefined || view.bytes.length < 3) return [];
    const declared = /^application\/(x-)?msgpack$/.test(view.contentType ?? '');
    if (!declared && (!opensContainer(view.bytes[0]!) || sniff(view.bytes) || view.origin === 'stream')) return [];
    const value = parseMsgpack(view.bytes);
    if (value === undefined) return [];
    const blobs: Array<{ path: string; bytes: Buffer }> = [];
    const plain = (v: unknown, at: string): unknown => {
      if (v instanceof Uint8Array) {
        if (v.length >= 64) blobs.push({ path: at, bytes: Buffer.from(v.buffer, v.byteOffset, v.byteLength) });
        return `(${v.length} bytes)`;
      }
      if (Array.isArray(v)) return v.map((x, i) => plain(x, `${at}[${i}]`));
      if (v && typeof v === 'object' && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x, `${at}.${k}`)]));
      return v instanceof Date ? v.toISOString() : v;
    };
    const layer = childLayer(view, view.bytes, 'msgpack', { structured: plain(value, '$'), contentType: 'application/msgpack' });
    return [layer, ...blobs.map((b): View => childLayer(layer, b.bytes, `msgpack:${b.path}`))];
  },
};
