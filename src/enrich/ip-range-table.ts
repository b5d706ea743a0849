// An address → range lookup over a pair of sorted range files on disk, one for IPv4 and one for
// IPv6, as ip-location-db publishes its tables ("-ipv4-num.csv", "-ipv6-num.csv").

import net from 'node:net';
import { SortedRangeFile, type RangeLine } from './sorted-range-file.js';
import { ipv4Bytes, ipv6Bytes } from '../util/ip.js';

/** An address as the unsigned decimal integer the range files use; undefined when it is not an address. */
export function addressAsDecimal(ip: string): { family: 4 | 6; value: string } | undefined {
  const family = net.isIP(ip);
  if (family === 4) return { family, value: String(ipv4Bytes(ip).readUInt32BE(0)) };
  if (family !== 6) return undefined;
  return { family, value: BigInt(`0x${ipv6Bytes(ip).toString('hex')}`).toString() };
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
