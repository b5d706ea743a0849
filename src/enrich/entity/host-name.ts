// A host as the entity tables key it: lowercase ASCII (IDNs in punycode), no trailing dot, no port,
// and never an IP address (an address names no company; DestinationLookup places those).

import net from 'node:net';
import { domainToASCII } from 'node:url';

const MAX_HOST_LENGTH = 253;

/** The host's table key, or undefined when it is no domain name (empty, an address, malformed). */
export function entityHostKey(host: string): string | undefined {
  let name = host.trim();
  if (name.length === 0 || name.length > MAX_HOST_LENGTH + 7) return undefined;
  if (name.startsWith('[')) return undefined; // [IPv6] or [IPv6]:port
  if (net.isIP(name) !== 0) return undefined;
  const port = /:\d{1,5}$/.exec(name);
  if (port) name = name.slice(0, port.index);
  if (name.endsWith('.')) name = name.slice(0, -1);
  // domainToASCII lowercases, maps IDNs to punycode and answers '' for what no URL could hold.
  const ascii = /^[\x21-\x7e]*$/.test(name) ? name.toLowerCase() : domainToASCII(name);
  if (ascii.length === 0 || ascii.length > MAX_HOST_LENGTH) return undefined;
  if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(ascii)) return undefined;
  if (net.isIP(ascii) !== 0) return undefined;
  return ascii;
}

/** The host and each parent domain, longest first, on label boundaries: a.b.c, b.c, c. */
export function* domainSuffixes(key: string): Generator<string> {
  let at = 0;
  while (at >= 0) {
    yield key.slice(at);
    const dot = key.indexOf('.', at);
    at = dot < 0 ? -1 : dot + 1;
  }
}
