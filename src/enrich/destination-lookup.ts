// Where an address is: country (ISO 3166-1 alpha-2) and network (ASN, organisation), from offline
// databases shipped as npm packages — nothing is looked up online. The tables are searched on
// disk (sorted-range-file.ts), off the forwarding path; lookups are cached.
//
// Data: @ip-location-db/geo-whois-asn-country (NRO, CC BY 4.0);
// @ip-location-db/asn (DB-IP and Route Views, CC BY 4.0).

import { createRequire } from 'node:module';
import path from 'node:path';
import { specialAddressLabel } from './address-class.js';
import { AsnRanges, type AsnInfo } from './asn-ranges.js';
import { IpRangeTable } from './ip-range-table.js';
import { unmapIpv4 } from '../util/ip.js';

export interface DestinationInfo {
  readonly country: string | null;
  readonly asn: number | null;
  readonly org: string | null;
}

const CACHE_ENTRIES = 10_000;

export class DestinationLookup {
  readonly #countries: IpRangeTable;
  readonly #asns: AsnRanges;
  readonly #cache = new Map<string, DestinationInfo>();

  private constructor(countries: IpRangeTable, asns: AsnRanges) {
    this.#countries = countries;
    this.#asns = asns;
  }

  static #loading: Promise<DestinationLookup> | undefined;

  /** Country and network of an address, or nulls while the databases are still loading. */
  static locate(ip: string | undefined): DestinationInfo {
    // Only the demo places addresses: a capture's lookups skip this at the cost of a size check.
    const placed = ip === undefined || DestinationLookup.#placed.size === 0 ? undefined : DestinationLookup.#placed.get(unmapIpv4(ip));
    if (placed) return placed;
    return DestinationLookup.#ready?.lookup(ip) ?? { country: null, asn: null, org: null };
  }

  static #placed: ReadonlyMap<string, DestinationInfo> = new Map();

  /**
   * Addresses whose place is given rather than looked up: the demo's loopback servers, which
   * play servers in other countries (and say so in their network name). Never set by a capture.
   */
  static place(addresses: ReadonlyMap<string, DestinationInfo>): void {
    DestinationLookup.#placed = addresses;
  }

  /** The process-wide instance, made on first use (it opens four files). */
  static shared(): Promise<DestinationLookup> {
    DestinationLookup.#loading ??= (async () => {
      const dir = path.dirname(createRequire(import.meta.url).resolve('@ip-location-db/geo-whois-asn-country/package.json'));
      const countries = new IpRangeTable(path.join(dir, 'geo-whois-asn-country-ipv4-num.csv'), path.join(dir, 'geo-whois-asn-country-ipv6-num.csv'));
      DestinationLookup.#ready = new DestinationLookup(countries, AsnRanges.load());
      return DestinationLookup.#ready;
    })();
    return DestinationLookup.#loading;
  }

  /** The shared instance when it has finished loading. */
  static #ready: DestinationLookup | undefined;

  lookup(address: string | undefined): DestinationInfo {
    if (!address) return { country: null, asn: null, org: null };
    const ip = unmapIpv4(address);
    const cached = this.#cache.get(ip);
    if (cached) return cached;
    let info: DestinationInfo;
    const special = specialAddressLabel(ip);
    if (special) {
      info = { country: null, asn: null, org: special };
    } else {
      // The tables were checked when opened; a read that fails later leaves the place unknown
      // rather than failing the flow being written.
      let country: string | null = null;
      let asn: AsnInfo | undefined;
      try {
        country = this.#countries.find(ip)?.rest || null;
        asn = this.#asns.lookup(ip);
      } catch {
        country = null;
      }
      info = { country, asn: asn?.asn ?? null, org: asn?.org ?? null };
    }
    if (this.#cache.size >= CACHE_ENTRIES) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(ip, info);
    return info;
  }
}
