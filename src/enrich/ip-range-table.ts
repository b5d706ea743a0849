// An address → range lookup over a pair of sorted range files on disk, one for IPv4 and one for
// IPv6, as ip-location-db publishes its tables ("-ipv4-num.csv", "-ipv6-num.csv").

import net from 'node:net';
import { SortedRangeFile, type RangeLine } from './sorted-range-file.js';

/** An address as the unsigned decimal integer the range files use; undefined when it is not an address. */
export function addressAsDecimal(ip: string): { family: 4 | 6; value: string } | undefined {
  const family = net.isIP(ip);
  if (family === 4) return { family, value: String(ipv4AsNumber(ip)) };
  if (family !== 6) return undefined;
  // An IPv6 address may end in a dotted quad (::ffff:1.2.3.4, 64:ff9b::1.2.3.4): two groups.
  let text = ip.toLowerCase();
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (quad !== undefined) {
    const n = ipv4AsNumber(quad);
    text = `${text.slice(0, -quad.length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail = ''] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = text.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  const value = groups.reduce((n, group) => (n << 16n) + BigInt(parseInt(group, 16)), 0n);
  return { family, value: value.toString() };
}

function ipv4AsNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export class IpRangeTable {
  readonly #v4: SortedRangeFile;
  readonly #v6: SortedRangeFile;

  constructor(v4File: string, v6File: string) {
    this.#v4 = SortedRangeFile.open(v4File);
    this.#v6 = SortedRangeFile.open(v6File);
  }

  /** The line of the range holding `ip`, or undefined (not listed, or not an address). */
  find(ip: string): RangeLine | undefined {
    const address = addressAsDecimal(ip);
    if (address === undefined) return undefined;
    return (address.family === 4 ? this.#v4 : this.#v6).find(address.value);
  }
}
