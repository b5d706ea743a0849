// Addresses that belong to no country: loopback, private ranges, link-local, CGNAT, unique local.
// A finding sent to one of them says so instead of naming a country.

import net from 'node:net';
import { unmapIpv4 } from '../util/ip.js';

const SPECIAL = new net.BlockList();
const LABELS: Array<[string, number, 'ipv4' | 'ipv6', string]> = [
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['10.0.0.0', 8, 'ipv4', 'private network'],
  ['172.16.0.0', 12, 'ipv4', 'private network'],
  ['192.168.0.0', 16, 'ipv4', 'private network'],
  ['100.64.0.0', 10, 'ipv4', 'carrier-grade NAT'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['0.0.0.0', 8, 'ipv4', 'this network'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['fc00::', 7, 'ipv6', 'private network'],
  ['fe80::', 10, 'ipv6', 'link-local'],
];
const BY_LABEL = new Map<string, net.BlockList>();
for (const [address, prefix, family, label] of LABELS) {
  SPECIAL.addSubnet(address, prefix, family);
  const list = BY_LABEL.get(label) ?? new net.BlockList();
  list.addSubnet(address, prefix, family);
  BY_LABEL.set(label, list);
}

/** 'loopback', 'private network'… for special-purpose addresses; undefined for public ones. */
export function specialAddressLabel(ip: string): string | undefined {
  const mapped = unmapIpv4(ip);
  const family = net.isIPv4(mapped) ? 'ipv4' : net.isIPv6(mapped) ? 'ipv6' : undefined;
  if (!family || !SPECIAL.check(mapped, family)) return undefined;
  for (const [label, list] of BY_LABEL) if (list.check(mapped, family)) return label;
  return undefined;
}
