// Encrypted DNS: the names a device looked up over TLS (DoT, TCP 853) or HTTPS (DoH) to a public
// resolver never reach phonehome's DNS listener. Such flows are told apart here, so the coverage
// ledger can say how many names went by unseen. Pure: a finished Flow in, its kind of encrypted DNS out.
//
// DoT is any flow to port 853 (whatever became of it: a tunnel, a refused handshake, a raw stream).
// DoH rides on 443 like everything else, so only the big public resolvers are known, by name and
// by their anycast addresses (an app that dials 1.1.1.1:443 gives no name). A private or less
// known resolver looks like any HTTPS server: the ledger's count is a floor, not a census.

import { flowHost, type Flow } from '../model/flow.js';

export type EncryptedDns = 'dot' | 'doh';

/** DNS over TLS's port (RFC 7858). */
const DOT_PORT = 853;

/** Public DoH resolvers by name. An entry also covers the names under it (`*.cloudflare-dns.com`). */
const DOH_NAMES: readonly string[] = [
  'dns.google', 'dns.google.com', // Google Public DNS (Android's Private DNS default)
  'cloudflare-dns.com', 'one.one.one.one', // Cloudflare: mozilla., chrome., security., family., 1dot1dot1dot1. …
  'dns.quad9.net', 'dns9.quad9.net', 'dns10.quad9.net', 'dns11.quad9.net', // Quad9
  'doh.opendns.com', 'doh.familyshield.opendns.com', // Cisco OpenDNS
  'dns.nextdns.io', // NextDNS, with a per-user name under it
  'adguard-dns.com', // AdGuard: dns., unfiltered., family.
  'doh.cleanbrowsing.org', 'dns.mullvad.net', 'doh.mullvad.net', 'freedns.controld.com',
];

/** Their anycast addresses: DoH to an address, on 443 only (on 53 they are plain DNS resolvers). */
const DOH_ADDRESSES: ReadonlySet<string> = new Set([
  '8.8.8.8', '8.8.4.4', '2001:4860:4860::8888', '2001:4860:4860::8844', // Google
  '1.1.1.1', '1.0.0.1', '2606:4700:4700::1111', '2606:4700:4700::1001', // Cloudflare
  '9.9.9.9', '149.112.112.112', '2620:fe::fe', '2620:fe::9', // Quad9
  '208.67.222.222', '208.67.220.220', // OpenDNS
  '94.140.14.14', '94.140.15.15', // AdGuard
]);

function knownResolverName(name: string | undefined): boolean {
  if (!name) return false;
  const lower = name.toLowerCase().replace(/\.$/, '');
  return DOH_NAMES.some((entry) => lower === entry || lower.endsWith(`.${entry}`));
}

/** Whether a flow carried encrypted DNS, and which; undefined for everything else (and DNS we answered). */
export function encryptedDnsOf(flow: Flow): EncryptedDns | undefined {
  if (flow.kind === 'dns' || flow.kind === 'rejected') return undefined;
  const ports = [flow.target.port, flow.destination?.port];
  if (ports.includes(DOT_PORT)) return 'dot';
  if (!ports.includes(443)) return undefined;
  if ([flowHost(flow), flow.sni, flow.target.host, flow.dnsName].some(knownResolverName)) return 'doh';
  return DOH_ADDRESSES.has(flow.target.host) || DOH_ADDRESSES.has(flow.destination?.ip ?? '') ? 'doh' : undefined;
}
