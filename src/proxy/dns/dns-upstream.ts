// Where DNS queries go: `--dns-upstream IP[:PORT]`, or the resolver this machine itself uses (the
// first server Node reads from /etc/resolv.conf), so a device sees the names the lab machine sees.

import dns from 'node:dns';
import net from 'node:net';
import { ConfigError } from '../../util/errors.js';

export interface DnsUpstream {
  readonly ip: string;
  readonly port: number;
}

const dnsPort = 53;

/** `IP`, `IP:PORT`, `V6` or `[V6]:PORT` → the upstream; anything else is a one-line ConfigError. */
export function parseDnsUpstream(text: string): DnsUpstream {
  const upstream = readUpstream(text.trim());
  if (!upstream) throw new ConfigError(`--dns-upstream ${JSON.stringify(text)}: use a resolver's IP address, optionally with :PORT (e.g. 192.168.1.1, 9.9.9.9:53 or [2620:fe::fe]:53)`);
  return upstream;
}

/**
 * The system resolver: the first of `dns.getServers()` (which Node reads from /etc/resolv.conf).
 * A machine without one is a configuration error that says what to give instead.
 */
export function systemResolver(servers: readonly string[] = dns.getServers()): DnsUpstream {
  for (const server of servers) {
    const upstream = readUpstream(server);
    if (upstream) return upstream;
  }
  throw new ConfigError('DNS: this machine has no resolver in /etc/resolv.conf; give --dns-upstream IP');
}

function readUpstream(text: string): DnsUpstream | undefined {
  let ip = text;
  let port = dnsPort;
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed) {
    ip = bracketed[1]!;
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else if (net.isIPv6(text)) {
    ip = text;
  } else {
    const withPort = /^([^:]+):(\d{1,5})$/.exec(text);
    if (withPort) {
      ip = withPort[1]!;
      port = Number(withPort[2]);
    }
  }
  if (net.isIP(ip) === 0 || port < 1 || port > 65_535) return undefined;
  return { ip, port };
}
