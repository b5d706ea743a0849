// IP → autonomous system (number and organisation) from @ip-location-db/asn (DB-IP and Route
// Views, CC BY 4.0): its numeric CSVs are read through a small buffer into sorted typed arrays and
// searched by bisection. About 410,000 IPv4 and 140,000 IPv6 ranges.

import { createRequire } from 'node:module';
import path from 'node:path';
import { eachLine } from '../util/file-lines.js';

export interface AsnInfo { readonly asn: number; readonly org: string }

/** IPv4 ranges: bounds as 32-bit numbers. */
interface Ranges { starts: Uint32Array; ends: Uint32Array; asns: Uint32Array; orgIndex: Uint32Array; orgs: string[] }

/** IPv6 ranges with each 128-bit bound stored as two 64-bit halves in typed arrays. */
interface PackedV6 { startHi: BigUint64Array; startLo: BigUint64Array; endHi: BigUint64Array; endLo: BigUint64Array; asns: Uint32Array; orgIndex: Uint32Array; orgs: string[] }

/** Typed-array columns that double when full, trimmed to their length at the end. */
class GrowingColumn<A extends Uint32Array | BigUint64Array> {
  values: A;
  constructor(make: (n: number) => A) {
    this.values = make(1 << 16);
    this.#make = make;
  }
  readonly #make: (n: number) => A;
  ensure(length: number): void {
    if (length <= this.values.length) return;
    const bigger = this.#make(this.values.length * 2);
    bigger.set(this.values as never);
    this.values = bigger;
  }
  trimmed(length: number): A {
    return this.values.slice(0, length) as A;
  }
}

/**
 * Reads "start,end,asn,org" lines (lines without three commas are passed over); `bounds` stores
 * row `row`'s start and end, given as the byte offsets of their digits. An AS keeps its name from
 * line to line, so a name is decoded once per AS, not once per range.
 */
async function parseRanges(file: string, bounds: (row: number, bytes: Buffer, start: [number, number], end: [number, number]) => void): Promise<{ count: number; asns: Uint32Array; orgIndex: Uint32Array; orgs: string[] }> {
  const asns = new GrowingColumn((n) => new Uint32Array(n));
  const orgIndex = new GrowingColumn((n) => new Uint32Array(n));
  const orgs: string[] = [];
  const orgIds = new Map<string, number>();
  const orgOfAsn = new Map<number, number>();
  let count = 0;
  await eachLine(file, (bytes, at, eol) => {
    const a = bytes.indexOf(44, at);
    const b = a < 0 ? -1 : bytes.indexOf(44, a + 1);
    const c = b < 0 ? -1 : bytes.indexOf(44, b + 1);
    if (!(a > at && c > 0 && c < eol)) return;
    const asn = digits(bytes, b + 1, c);
    let id = orgOfAsn.get(asn);
    if (id === undefined) {
      let org = bytes.toString('utf8', c + 1, eol).trim();
      if (org.startsWith('"')) org = org.slice(1, -1).replace(/""/g, '"');
      id = orgIds.get(org);
      if (id === undefined) {
        id = orgs.length;
        orgs.push(org);
        orgIds.set(org, id);
      }
      orgOfAsn.set(asn, id);
    }
    asns.ensure(count + 1);
    orgIndex.ensure(count + 1);
    bounds(count, bytes, [at, a], [a + 1, b]);
    asns.values[count] = asn;
    orgIndex.values[count] = id;
    count++;
  });
  return { count, asns: asns.trimmed(count), orgIndex: orgIndex.trimmed(count), orgs };
}

async function parseV4(file: string): Promise<Ranges> {
  const starts = new GrowingColumn((n) => new Uint32Array(n));
  const ends = new GrowingColumn((n) => new Uint32Array(n));
  const rows = await parseRanges(file, (row, bytes, start, end) => {
    starts.ensure(row + 1);
    ends.ensure(row + 1);
    starts.values[row] = digits(bytes, start[0], start[1]);
    ends.values[row] = digits(bytes, end[0], end[1]);
  });
  return { starts: starts.trimmed(rows.count), ends: ends.trimmed(rows.count), asns: rows.asns, orgIndex: rows.orgIndex, orgs: rows.orgs };
}

const MASK64 = (1n << 64n) - 1n;

async function parseV6(file: string): Promise<PackedV6> {
  const columns = [0, 1, 2, 3].map(() => new GrowingColumn((n) => new BigUint64Array(n)));
  const [startHi, startLo, endHi, endLo] = columns as [GrowingColumn<BigUint64Array>, GrowingColumn<BigUint64Array>, GrowingColumn<BigUint64Array>, GrowingColumn<BigUint64Array>];
  const rows = await parseRanges(file, (row, bytes, start, end) => {
    for (const column of columns) column.ensure(row + 1);
    const first = BigInt(bytes.toString('latin1', start[0], start[1]));
    const last = BigInt(bytes.toString('latin1', end[0], end[1]));
    startHi.values[row] = first >> 64n;
    startLo.values[row] = first & MASK64;
    endHi.values[row] = last >> 64n;
    endLo.values[row] = last & MASK64;
  });
  return { startHi: startHi.trimmed(rows.count), startLo: startLo.trimmed(rows.count), endHi: endHi.trimmed(rows.count), endLo: endLo.trimmed(rows.count), asns: rows.asns, orgIndex: rows.orgIndex, orgs: rows.orgs };
}

/** A decimal number from ASCII digits, without making a string. */
function digits(bytes: Buffer, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + (bytes[i]! - 48);
  return value;
}

function search(ranges: Ranges, value: number): AsnInfo | undefined {
  let lo = 0;
  let hi = ranges.asns.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ranges.starts[mid]! <= value) {
      if (value <= ranges.ends[mid]!) return ranges.asns[mid] === 0 ? undefined : { asn: ranges.asns[mid]!, org: ranges.orgs[ranges.orgIndex[mid]!]! };
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return undefined;
}

function searchV6(ranges: PackedV6, value: bigint): AsnInfo | undefined {
  const hi = value >> 64n;
  const lo = value & MASK64;
  const le = (aHi: bigint, aLo: bigint, bHi: bigint, bLo: bigint): boolean => aHi < bHi || (aHi === bHi && aLo <= bLo);
  let low = 0;
  let high = ranges.asns.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (le(ranges.startHi[mid]!, ranges.startLo[mid]!, hi, lo)) {
      if (le(hi, lo, ranges.endHi[mid]!, ranges.endLo[mid]!)) return ranges.asns[mid] === 0 ? undefined : { asn: ranges.asns[mid]!, org: ranges.orgs[ranges.orgIndex[mid]!]! };
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return undefined;
}

function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function ipv6ToBigInt(ip: string): bigint {
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return groups.reduce((n, g) => (n << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
}

export class AsnRanges {
  readonly #v4: Ranges;
  readonly #v6: PackedV6;

  private constructor(v4: Ranges, v6: PackedV6) {
    this.#v4 = v4;
    this.#v6 = v6;
  }

  static async load(): Promise<AsnRanges> {
    const dir = path.dirname(createRequire(import.meta.url).resolve('@ip-location-db/asn/package.json'));
    return new AsnRanges(await parseV4(path.join(dir, 'asn-ipv4-num.csv')), await parseV6(path.join(dir, 'asn-ipv6-num.csv')));
  }

  lookup(ip: string): AsnInfo | undefined {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return search(this.#v4, ipv4ToNumber(ip));
    if (ip.includes(':')) return searchV6(this.#v6, ipv6ToBigInt(ip));
    return undefined;
  }
}
