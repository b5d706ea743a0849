// IP → autonomous system (number and organisation) from @ip-location-db/asn (DB-IP and Route
// Views, CC BY 4.0): its "start,end,asn,org" numeric CSVs, about 410,000 IPv4 and 140,000 IPv6
// ranges, searched on disk (see sorted-range-file.ts for why not in memory).

import { createRequire } from 'node:module';
import path from 'node:path';
import { IpRangeTable } from './ip-range-table.js';

export interface AsnInfo { readonly asn: number; readonly org: string }

/** "asn,org" with the org quoted CSV-style when it holds a comma or a quote. */
export function parseAsnFields(rest: string): AsnInfo | undefined {
  const comma = rest.indexOf(',');
  const asn = Number(rest.slice(0, comma < 0 ? rest.length : comma));
  // AS 0 marks address space no network announces.
  if (!Number.isInteger(asn) || asn <= 0) return undefined;
  let org = comma < 0 ? '' : rest.slice(comma + 1).trim();
  if (org.startsWith('"') && org.endsWith('"') && org.length >= 2) org = org.slice(1, -1).replace(/""/g, '"');
  return { asn, org };
}

export class AsnRanges {
  readonly #table: IpRangeTable;

  private constructor(table: IpRangeTable) {
    this.#table = table;
  }

  static load(): AsnRanges {
    const dir = path.dirname(createRequire(import.meta.url).resolve('@ip-location-db/asn/package.json'));
    return new AsnRanges(new IpRangeTable(path.join(dir, 'asn-ipv4-num.csv'), path.join(dir, 'asn-ipv6-num.csv')));
  }

  lookup(ip: string): AsnInfo | undefined {
    const line = this.#table.find(ip);
    return line === undefined ? undefined : parseAsnFields(line.rest);
  }
}
