// IP → autonomous system (number and organisation) from @ip-location-db/asn (DB-IP and Route
// Views, CC BY 4.0): its numeric CSVs are parsed once into sorted typed arrays and searched by
// bisection. About 410,000 IPv4 and 140,000 IPv6 ranges.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface AsnInfo { readonly asn: number; readonly org: string }

interface Ranges<T extends number | bigint> { starts: T[] | Uint32Array; ends: T[] | Uint32Array; asns: Uint32Array; orgIndex: Uint32Array; orgs: string[] }

/**
 * Parses "start,end,asn,org" lines straight from the file's bytes: no 20 MB string and no array
 * of 400,000 line strings, which would raise the proxy's peak memory for good.
 */
function parseCsv<T extends number | bigint>(bytes: Buffer, toNumber: (s: string) => T, v4: boolean): Ranges<T> {
  let lines = 0;
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) lines++;
  const n = lines + 1;
  const starts = v4 ? new Uint32Array(n) : ([] as T[]);
  const ends = v4 ? new Uint32Array(n) : ([] as T[]);
  const asns = new Uint32Array(n);
  const orgIndex = new Uint32Array(n);
  const orgs: string[] = [];
  const orgIds = new Map<string, number>();
  const orgOfAsn = new Map<number, number>();
  let count = 0;
  let at = 0;
  while (at < bytes.length) {
    let eol = bytes.indexOf(10, at);
    if (eol < 0) eol = bytes.length;
    const a = bytes.indexOf(44, at);
    const b = a < 0 ? -1 : bytes.indexOf(44, a + 1);
    const c = b < 0 ? -1 : bytes.indexOf(44, b + 1);
    if (a > 0 && c > 0 && c < eol) {
      const asn = digits(bytes, b + 1, c);
      // An AS keeps its name from line to line: decode it once per AS, not once per range.
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
      if (v4) {
        (starts as Uint32Array)[count] = digits(bytes, at, a);
        (ends as Uint32Array)[count] = digits(bytes, a + 1, b);
      } else {
        (starts as T[]).push(toNumber(bytes.toString('latin1', at, a)));
        (ends as T[]).push(toNumber(bytes.toString('latin1', a + 1, b)));
      }
      // (IPv6 values are packed into 64-bit halves by AsnRanges below.)
      asns[count] = asn;
      orgIndex[count] = id;
      count++;
    }
    at = eol + 1;
  }
  return { starts: v4 ? (starts as Uint32Array).subarray(0, count) : starts, ends: v4 ? (ends as Uint32Array).subarray(0, count) : ends, asns: asns.subarray(0, count), orgIndex: orgIndex.subarray(0, count), orgs };
}

/** A decimal number from ASCII digits, without making a string. */
function digits(bytes: Buffer, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + (bytes[i]! - 48);
  return value;
}

function search<T extends number | bigint>(ranges: Ranges<T>, value: T): AsnInfo | undefined {
  let lo = 0;
  let hi = ranges.asns.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const start = ranges.starts[mid] as T;
    if (start <= value) {
      if (value <= (ranges.ends[mid] as T)) return ranges.asns[mid] === 0 ? undefined : { asn: ranges.asns[mid]!, org: ranges.orgs[ranges.orgIndex[mid]!]! };
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return undefined;
}

/** IPv6 ranges with each 128-bit bound stored as two 64-bit halves in typed arrays. */
interface PackedV6 { startHi: BigUint64Array; startLo: BigUint64Array; endHi: BigUint64Array; endLo: BigUint64Array; asns: Uint32Array; orgIndex: Uint32Array; orgs: string[] }

const MASK64 = (1n << 64n) - 1n;

function packV6(ranges: Ranges<bigint>): PackedV6 {
  const n = ranges.asns.length;
  const packed: PackedV6 = { startHi: new BigUint64Array(n), startLo: new BigUint64Array(n), endHi: new BigUint64Array(n), endLo: new BigUint64Array(n), asns: ranges.asns, orgIndex: ranges.orgIndex, orgs: ranges.orgs };
  for (let i = 0; i < n; i++) {
    const start = (ranges.starts as bigint[])[i]!;
    const end = (ranges.ends as bigint[])[i]!;
    packed.startHi[i] = start >> 64n;
    packed.startLo[i] = start & MASK64;
    packed.endHi[i] = end >> 64n;
    packed.endLo[i] = end & MASK64;
  }
  return packed;
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
  readonly #v4: Ranges<number>;
  readonly #v6: PackedV6;

  private constructor(v4: Ranges<number>, v6: PackedV6) {
    this.#v4 = v4;
    this.#v6 = v6;
  }

  static async load(): Promise<AsnRanges> {
    const dir = path.dirname(createRequire(import.meta.url).resolve('@ip-location-db/asn/package.json'));
    // One file at a time: both raw files at once would raise the peak memory for nothing.
    const v4 = parseCsv(await fs.promises.readFile(path.join(dir, 'asn-ipv4-num.csv')), Number, true);
    const v6 = packV6(parseCsv(await fs.promises.readFile(path.join(dir, 'asn-ipv6-num.csv')), BigInt, false));
    return new AsnRanges(v4, v6);
  }

  lookup(ip: string): AsnInfo | undefined {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return search(this.#v4, ipv4ToNumber(ip));
    if (ip.includes(':')) return searchV6(this.#v6, ipv6ToBigInt(ip));
    return undefined;
  }
}
