// Who may use the proxy. By default loopback and private ranges only: phonehome must never be an
// open proxy on a public address. `--allow-client CIDR` adds ranges.

import net from 'node:net';
import { ConfigError } from '../../util/errors.js';
import { unmapIpv4 } from '../../util/ip.js';

export const defaultAllowedClients = [
  '127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10',
  '::1/128', 'fc00::/7', 'fe80::/10',
] as const;

export class ClientAccess {
  readonly #list = new net.BlockList();
  readonly ranges: readonly string[];

  constructor(ranges: readonly string[]) {
    this.ranges = ranges;
    for (const range of ranges) {
      const [address, prefixText] = range.split('/');
      const family = net.isIPv4(address ?? '') ? 'ipv4' : net.isIPv6(address ?? '') ? 'ipv6' : undefined;
      const maxPrefix = family === 'ipv4' ? 32 : 128;
      const prefix = prefixText === undefined ? maxPrefix : Number(prefixText);
      if (!family || !/^\d{1,3}$/.test(prefixText ?? String(maxPrefix)) || prefix > maxPrefix) {
        throw new ConfigError(`--allow-client ${JSON.stringify(range)} is not a CIDR range; use e.g. 192.168.1.0/24 or 2001:db8::/32`);
      }
      this.#list.addSubnet(address!, prefix, family);
    }
  }

  allows(remoteAddress: string | undefined): boolean {
    if (!remoteAddress) return false;
    const address = unmapIpv4(remoteAddress);
    return this.#list.check(address, net.isIPv6(address) ? 'ipv6' : 'ipv4');
  }
}

/** Client address without the IPv4-mapped prefix, for records. */
export function normalizeClientIp(remoteAddress: string | undefined): string {
  return remoteAddress ? unmapIpv4(remoteAddress) : 'unknown';
}
