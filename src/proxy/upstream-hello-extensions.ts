// The signature schemes and groups we offer a server on a device's behalf: the device's own, in
// its order, as far as OpenSSL speaks them (the suites: upstream-cipher-suites.ts).
//
// - signature_algorithms says how the server may sign its handshake, and so which certificate a
//   server with several shows. With OpenSSL's list the server saw schemes the device never
//   offers (curl's hello has no SHA-1 scheme; ours through phonehome had three).
// - supported_groups says which key exchanges the client takes, the first one with a key share:
//   a device that puts P-256 first (IoT stacks with P-256 hardware) had its server offered
//   X25519 first, OpenSSL's choice.
// Schemes and groups outside the tables (GOST, brainpool schemes, post-quantum hybrids OpenSSL 3.0
// lacks) are left out, and OpenSSL drops those its security level refuses (SHA-1, unless the
// device offers TLS older than 1.2: upstream-contexts.ts). A device with none in a table keeps
// our default for that list. Pure.

import type { ServerKeyKind } from './layers/server-key-kind.js';
import { namesInOrder } from './upstream-cipher-suites.js';

/** By IANA number, OpenSSL's name of each signature scheme we may offer (RFC 8446 §4.2.3; SHA-1 and SHA-224 for TLS 1.2). */
const SCHEMES: ReadonlyMap<number, string> = new Map([
  [0x0403, 'ecdsa_secp256r1_sha256'], [0x0503, 'ecdsa_secp384r1_sha384'], [0x0603, 'ecdsa_secp521r1_sha512'],
  [0x0804, 'rsa_pss_rsae_sha256'], [0x0805, 'rsa_pss_rsae_sha384'], [0x0806, 'rsa_pss_rsae_sha512'],
  [0x0809, 'rsa_pss_pss_sha256'], [0x080a, 'rsa_pss_pss_sha384'], [0x080b, 'rsa_pss_pss_sha512'],
  [0x0807, 'ed25519'], [0x0808, 'ed448'],
  [0x0401, 'rsa_pkcs1_sha256'], [0x0501, 'rsa_pkcs1_sha384'], [0x0601, 'rsa_pkcs1_sha512'],
  // OpenSSL has no TLS 1.3-style name for the ECDSA and DSA ones of TLS 1.2. (DSA schemes change
  // nothing we negotiate, no DSS suite being offered, but a server sees the list the device sent.)
  [0x0301, 'rsa_pkcs1_sha224'], [0x0303, 'ECDSA+SHA224'], [0x0201, 'rsa_pkcs1_sha1'], [0x0203, 'ECDSA+SHA1'],
  [0x0402, 'DSA+SHA256'], [0x0502, 'DSA+SHA384'], [0x0602, 'DSA+SHA512'], [0x0302, 'DSA+SHA224'], [0x0202, 'DSA+SHA1'],
]);

/** By IANA number, OpenSSL's name of each group we may offer (RFC 8446 §4.2.7, RFC 7919, RFC 7027). */
const GROUPS: ReadonlyMap<number, string> = new Map([
  [0x001d, 'X25519'], [0x0017, 'P-256'], [0x0018, 'P-384'], [0x0019, 'P-521'], [0x001e, 'X448'],
  [0x0100, 'ffdhe2048'], [0x0101, 'ffdhe3072'], [0x0102, 'ffdhe4096'], [0x0103, 'ffdhe6144'], [0x0104, 'ffdhe8192'],
  [0x001a, 'brainpoolP256r1'], [0x001b, 'brainpoolP384r1'], [0x001c, 'brainpoolP512r1'],
]);

/** The device's signature schemes as an OpenSSL list (`tls` option `sigalgs`), in its order; undefined when none is in the table. */
export function signatureSchemesOffering(deviceSchemes: readonly number[]): string | undefined {
  return namesIn(SCHEMES, deviceSchemes);
}

/**
 * What a server reads from a TLS 1.2 ClientHello without signature_algorithms (RFC 5246
 * §7.4.1.4.1): that the client takes SHA-1 signatures only, by the key its suite names. BusyBox's
 * own TLS (its `wget`'s and `ssl_client`'s, on routers and cameras) sends no such extension, and
 * a server whose OpenSSL 3 refuses SHA-1 signatures refuses it (`no suitable signature algorithm`).
 * OpenSSL always sends the extension: with its default list we offered SHA-256 and better, and
 * such a device reached through us a server that refuses it direct. This list, sent instead, says
 * what the device's silence says (one key, for a device that verifies only one kind). As OpenSSL
 * names it; it takes SHA-1 only at security level 0, which such a hello's versions already set
 * (upstream-contexts.ts: a hello without supported_versions is read as TLS 1.0 to 1.2).
 */
export function signatureSchemesImplied(serverKey: ServerKeyKind | undefined): string {
  return serverKey === 'rsa' ? 'RSA+SHA1' : serverKey === 'ecdsa' ? 'ECDSA+SHA1' : 'RSA+SHA1:ECDSA+SHA1';
}

/** The device's groups as an OpenSSL list (`tls` option `ecdhCurve`), in its order; undefined when none is in the table. */
export function groupsOffering(deviceGroups: readonly number[]): string | undefined {
  return namesIn(GROUPS, deviceGroups);
}

function namesIn(table: ReadonlyMap<number, string>, numbers: readonly number[]): string | undefined {
  const names = namesInOrder(table, numbers);
  return names.length > 0 ? names.join(':') : undefined;
}
