// What the leaf certificate we show a device looks like: its names and its kind of key. A device
// checks our leaf the way it would check the server's certificate, so the leaf copies both from
// the server's certificate (mitmproxy calls this upstream certificate sniffing), with the name the
// device asked for first:
//
// - a device that sent no SNI and reached an address (an Apache HttpClient app on old Android, an
//   IoT stack; transparent, WireGuard and SOCKS-by-address modes) still checks a host name: the
//   one in its URL, which only the server's certificate can tell us;
// - a browser reuses an HTTP/2 connection for the other names the certificate covers, as directly;
// - a device that speaks only ECDSA (an IoT TLS stack built with its ECDSA suites alone) meets an
//   ECDSA leaf where its server has an ECDSA certificate: an RSA one has nothing it can verify.
//   The curve is the server's too (P-256, P-384 or P-521; another one gives P-256): in TLS 1.3 a
//   signature names its curve, and a device that offers only ecdsa_secp384r1_sha384 (as its
//   P-384 server needs) cannot take a P-256 leaf's (until 2026-12-06 every ECDSA leaf was P-256).
//   Every other device gets the kind of key it would have got.
//
// Pure: the server's certificate comes in as Node gives it (`subjectaltname`, the subject's CN,
// `asn1Curve` for an elliptic-curve key).

import net from 'node:net';
import { validateHost } from '../access/target.js';
import { limits } from '../../limits.js';
import type { LeafKeyType } from './certificate-authority.js';

/** What is read of the server's certificate: fields of Node's PeerCertificate. */
export interface ServerCertificate {
  readonly subjectaltname?: string;
  readonly subject?: { readonly CN?: string | readonly string[] };
  /** Set for an elliptic-curve key. */
  readonly asn1Curve?: string;
}

/** A leaf's names (the first one is its subject's) and its kind of key. */
export interface LeafShape {
  readonly names: readonly string[];
  readonly keyType: LeafKeyType;
  /** The server's validity period (ISO times), copied where the server's certificate is out of date. */
  readonly period?: { readonly notBefore: string; readonly notAfter: string };
  /** Signed by a CA no device trusts, where no trusted CA signed the server's certificate. */
  readonly untrusted?: true;
}

/** Node's verification codes for a certificate outside its validity period. */
const OUT_OF_DATE = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/**
 * The leaf for a server whose certificate did not verify (`code`, as Node names why), as invalid in
 * the same way, so the device decides as it would have directly: a device that checks refuses it,
 * one that does not accepts it.
 * - out of date: the usual leaf, with the server's validity period;
 * - a name the certificate lacks: the server's names only, without the one the device asked for
 *   (no names at all: a name no device asks for);
 * - anything else (self-signed, an unknown or broken chain, revoked): the usual leaf, signed by a
 *   CA no device trusts.
 * `usual`: the leaf leafShape gives; `server`: the server's names and key; `period`: its validity.
 */
export function mirroredInvalidShape(code: string, usual: LeafShape, server: LeafShape, period: { notBefore: string; notAfter: string }): LeafShape {
  if (OUT_OF_DATE.has(code)) return { ...usual, period };
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return { names: server.names.length > 0 ? [...server.names] : ['phonehome.invalid'], keyType: server.keyType };
  return { ...usual, untrusted: true };
}

/** The names and the kind of key of a server's certificate. */
export function shapeOfServerCertificate(certificate: ServerCertificate): LeafShape {
  return { names: namesOfServerCertificate(certificate), keyType: keyTypeOfCurve(certificate.asn1Curve) };
}

/** The kind of leaf key for a server key on `curve` (none: RSA); a curve we do not issue on gives P-256. */
function keyTypeOfCurve(curve: string | undefined): LeafKeyType {
  if (curve === undefined) return 'rsa';
  return curve === 'secp384r1' ? 'ec-p384' : curve === 'secp521r1' ? 'ec-p521' : 'ec';
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
export function namesOfServerCertificate(certificate: ServerCertificate): string[] {
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
 * The leaf for one device connection: the server's kind of key (RSA when its handshake was not
 * seen), and names, first the one its subject shows:
 * - `asked`: the name the device asked for (its SNI, else the name it gave its proxy), when it gave one;
 * - `address`: where it connected, when it gave no name;
 * - `server`: the server's certificate, when its handshake was seen.
 *
 * A device that gave a name gets it plus the server's names. One that gave only an address gets
 * the server's names alone, the address among them only when the certificate names it: nobody
 * checked a host name for it (upstream-identity.ts checks the chain only then), so the device
 * checks the server's own names, as it would directly.
 */
export function leafShape(asked: string | undefined, address: string, server: LeafShape | undefined): LeafShape {
  const keyType = server?.keyType ?? 'rsa';
  const names = server?.names ?? [];
  if (asked !== undefined) return { names: names.length > 0 ? [asked, ...names.filter((name) => name !== asked)] : [asked], keyType };
  return { names: names.length > 0 ? [...names] : [address], keyType };
}
