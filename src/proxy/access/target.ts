// Parses and validates where a client wants to go, before the value goes anywhere
// (a socket, a certificate, a file name, a log line). Pure: tested without sockets.

import net from 'node:net';

export interface Target {
  /** A lower-case DNS name, a dotted IPv4 address, or an IPv6 address without brackets. */
  readonly host: string;
  readonly port: number;
  readonly hostKind: 'dns' | 'ipv4' | 'ipv6';
}

export type TargetResult = { ok: true; target: Target } | { ok: false; reason: string };

const DNS_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** Validates a host name or address; returns its canonical form or a reason. */
export function validateHost(raw: string): { ok: true; host: string; hostKind: Target['hostKind'] } | { ok: false; reason: string } {
  if (raw.length === 0) return { ok: false, reason: 'empty host' };
  if (raw.startsWith('[') && raw.endsWith(']')) {
    const inner = raw.slice(1, -1);
    if (net.isIPv6(inner)) return { ok: true, host: inner.toLowerCase(), hostKind: 'ipv6' };
    return { ok: false, reason: 'bad IPv6 address' };
  }
  if (net.isIPv4(raw)) return { ok: true, host: raw, hostKind: 'ipv4' };
  const host = raw.toLowerCase().replace(/\.$/, '');
  if (host.length > 253) return { ok: false, reason: 'host name longer than 253 characters' };
  const labels = host.split('.');
  for (const label of labels) {
    if (!DNS_LABEL.test(label)) return { ok: false, reason: 'host name has a character or label that DNS does not allow' };
  }
  // A name made only of digits and dots that is not a valid IPv4 address (999.1.1.1, 1.2.3) is refused:
  // resolvers and URL parsers disagree on such names.
  if (labels.every((label) => /^\d+$/.test(label))) return { ok: false, reason: 'numeric host that is not an IPv4 address' };
  return { ok: true, host, hostKind: 'dns' };
}

export function validatePort(raw: string): number | undefined {
  if (!/^\d{1,5}$/.test(raw)) return undefined;
  const port = Number(raw);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** Parses `host:port`, `[v6]:port` (CONNECT targets), or `host` with a default port (Host headers). */
export function parseTarget(authority: string, defaultPort?: number): TargetResult {
  let hostPart: string;
  let portPart: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) return { ok: false, reason: 'unclosed [ in target' };
    hostPart = authority.slice(0, close + 1);
    const rest = authority.slice(close + 1);
    if (rest.length > 0) {
      if (!rest.startsWith(':')) return { ok: false, reason: 'junk after ] in target' };
      portPart = rest.slice(1);
    }
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon >= 0) {
      hostPart = authority.slice(0, colon);
      portPart = authority.slice(colon + 1);
      if (hostPart.includes(':')) return { ok: false, reason: 'IPv6 target without brackets' };
    } else {
      hostPart = authority;
    }
  }
  let port: number | undefined;
  if (portPart === undefined) port = defaultPort;
  else port = validatePort(portPart);
  if (port === undefined) return { ok: false, reason: portPart === undefined ? 'target has no port' : `bad port ${JSON.stringify(portPart.slice(0, 12))}` };
  const host = validateHost(hostPart);
  if (!host.ok) return host;
  return { ok: true, target: { host: host.host, port, hostKind: host.hostKind } };
}

/** `host:port` with brackets for IPv6, as used in URLs and Host headers. */
export function formatAuthority(target: { host: string; port: number }, defaultPort?: number): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return target.port === defaultPort ? host : `${host}:${target.port}`;
}
