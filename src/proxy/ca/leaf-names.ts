// The names a leaf certificate for the device carries. A device checks our leaf the way it would
// check the server's certificate, so the leaf names what the server's certificate names (mitmproxy
// calls this upstream certificate sniffing), with the name the device asked for first:
//
// - a device that sent no SNI and reached an address (an Apache HttpClient app on old Android, an
//   IoT stack; transparent, WireGuard and SOCKS-by-address modes) still checks a host name: the
//   one in its URL, which only the server's certificate can tell us;
// - a browser reuses an HTTP/2 connection for the other names the certificate covers, as directly.
//
// Pure: the server's certificate comes in as Node gives it (`subjectaltname`, the subject's CN).

import net from 'node:net';
import { validateHost } from '../access/target.js';
import { limits } from '../../limits.js';

/** What is read of the server's certificate: Node's PeerCertificate has both fields. */
export interface ServerCertificateNames {
  readonly subjectaltname?: string;
  readonly subject?: { readonly CN?: string | readonly string[] };
}

/** One entry of Node's subjectaltname: `TYPE:value`, the value JSON-quoted when it holds a comma or quote. */
const SAN_ENTRY = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/y;

/**
 * The DNS names (wildcards kept) and IP addresses a server's certificate is valid for, lower-case,
 * once each, at most `limits.leafMirroredNames`. The subject's CN counts only when the certificate
 * has no DNS or IP name (RFC 6125 §6.4.4, and what old clients still do). Entries that are neither
 * a host name nor an address (e-mail, URI, a name with characters DNS does not allow) are left out:
 * no device could match them anyway.
 */
export function namesOfServerCertificate(certificate: ServerCertificateNames): string[] {
  const names = new Set<string>();
  const sans = certificate.subjectaltname ?? '';
  SAN_ENTRY.lastIndex = 0;
  for (let match = SAN_ENTRY.exec(sans); match && match[0] !== '' && names.size < limits.leafMirroredNames; match = SAN_ENTRY.exec(sans)) {
    const [, type, raw] = match;
    const value = raw!.startsWith('"') ? undefined : raw; // quoted: it holds characters no host name has
    if (value === undefined) continue;
    if (type === 'DNS') {
      const name = hostName(value);
      if (name) names.add(name);
    } else if (type === 'IP Address' && net.isIP(value) !== 0) names.add(value.toLowerCase());
  }
  if (names.size === 0) {
    const cn = certificate.subject?.CN;
    const name = typeof cn === 'string' ? hostName(cn) ?? (net.isIP(cn) !== 0 ? cn.toLowerCase() : undefined) : undefined;
    if (name) names.add(name);
  }
  return [...names];
}

/** A DNS name, or a wildcard over one (`*.example.com`), as a certificate may name it. */
function hostName(value: string): string | undefined {
  const wildcard = value.startsWith('*.');
  const checked = validateHost(wildcard ? value.slice(2) : value);
  if (!checked.ok || checked.hostKind !== 'dns') return undefined;
  return wildcard ? `*.${checked.host}` : checked.host;
}

/**
 * The names of the leaf for one device connection, first the one its subject shows:
 * - `asked`: the name the device asked for (its SNI, else the name it gave its proxy), when it gave one;
 * - `address`: where it connected, when it gave no name;
 * - `server`: the names of the server's certificate, when its handshake was seen.
 *
 * A device that gave a name gets it plus the server's names. One that gave only an address gets
 * the server's names alone, the address among them only when the certificate names it: nobody
 * checked a host name for it (upstream.ts checks the chain only then), so the device checks the
 * server's own names, as it would directly.
 */
export function leafNames(asked: string | undefined, address: string, server: readonly string[] | undefined): string[] {
  if (asked !== undefined) return server && server.length > 0 ? [asked, ...server.filter((name) => name !== asked)] : [asked];
  return server && server.length > 0 ? [...server] : [address];
}
