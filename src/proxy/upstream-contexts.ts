// The TLS contexts of our connections to servers: the roots we trust (Node's bundled Mozilla roots
// plus --upstream-ca), the TLS versions we speak, and the lab's client certificate for a host
// (--client-cert).
//
// The versions follow the device's ClientHello (client-hello.ts):
// - The oldest is the lab's (--upstream-tls-min, TLS 1.2 by default), or older when the device
//   itself offered older: an Android 4.4 app reaches its vendor's TLS 1.0 server directly, so it
//   reaches it through us too. A device that offers only TLS 1.2 and up does not get that
//   lowering: it would not have reached such a server either. Nothing the device did not already
//   accept is weakened, and certificates are checked as ever.
// - The newest is the device's: a server sees the version it would have agreed on with the
//   device (TLS 1.2 for an Android 9 app, not our TLS 1.3), and one that speaks only newer
//   versions than the device refuses us as it would have refused the device.
//
// A device that can verify only one kind of server key (RSA or ECDSA: server-key-kind.ts) has its
// server asked for that kind alone: our cipher suites and signature schemes are narrowed to it. A
// server with a certificate of each kind then shows us the one it would have shown the device,
// and our leaf is of that kind too (ca/leaf-shape.ts). A device that can verify both gets our
// usual offer, and its server chooses as before.
//
// Extra roots go into a SecureContext built once, not into `ca`: https.Agent turns `ca` into its
// pool key on every request (all ~140 root PEMs concatenated: it was 56% of the CPU under small
// requests) and parses it again for every new upstream connection. An explicit CA list replaces
// Node's default store, so the bundled roots are listed too.

import tls from 'node:tls';
import { isOlderTls, type TlsVersionName, type TlsVersionRange } from './layers/client-hello.js';
import type { ServerKeyKind } from './layers/server-key-kind.js';

/** The oldest TLS version we speak to servers (--upstream-tls-min); 1.2 unless a lab says otherwise. */
export type UpstreamTlsMin = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2';

/** A client certificate to show a server that asks for one (--client-cert HOST=CERT.pem[,KEY.pem]). */
export interface ClientCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

export class UpstreamContexts {
  readonly #roots: { ca?: string[] };
  readonly #labFloor: UpstreamTlsMin;
  readonly #certificates: ReadonlyMap<string, ClientCertificate>;
  /** By versions, the one kind of server key asked for ('' for either), then `host` ('' for no client certificate); undefined is Node's default context. */
  readonly #built = new Map<string, tls.SecureContext | undefined>();

  /** `certificates` by lower-case host. A certificate and key that do not belong together throw here, at start. */
  constructor(upstreamCaPems: readonly string[], labFloor: UpstreamTlsMin | undefined, certificates: ReadonlyMap<string, ClientCertificate> | undefined) {
    this.#roots = upstreamCaPems.length > 0 ? { ca: [...tls.rootCertificates, ...upstreamCaPems] } : {};
    this.#labFloor = labFloor ?? 'TLSv1.2';
    this.#certificates = certificates ?? new Map();
    const versions = this.versionsFor(undefined);
    this.for(undefined, versions);
    for (const host of this.#certificates.keys()) this.for(host, versions);
  }

  /** What we speak to the server of a device that offered `offered` (the lab's floor and TLS 1.3 when unknown). */
  versionsFor(offered: TlsVersionRange | undefined): UpstreamVersions {
    const oldest = offered !== undefined && isOlderTls(offered.oldest, this.#labFloor) ? (offered.oldest as UpstreamTlsMin) : this.#labFloor;
    // Never below the floor: a device's newest is at least its oldest, and the floor is at most that.
    return { oldest, newest: offered?.newest ?? 'TLSv1.3' };
  }

  /**
   * The context for a server: with its client certificate when the lab gave one, asking for
   * `serverKey` alone when the device can verify only that kind; undefined for Node's default.
   */
  for(host: string | undefined, versions: UpstreamVersions = this.versionsFor(undefined), serverKey?: ServerKeyKind): tls.SecureContext | undefined {
    const lower = host?.toLowerCase();
    const certified = lower !== undefined && this.#certificates.has(lower) ? lower : '';
    const key = `${versionsKey(versions)} ${serverKey ?? ''} ${certified}`;
    if (this.#built.has(key)) return this.#built.get(key);
    const certificate = certified ? this.#certificates.get(certified) : undefined;
    const options: tls.SecureContextOptions = {
      ...this.#roots, ...versionOptions(versions), ...(serverKey ? serverKeyOptions(serverKey, versions) : {}), ...(certificate ? { cert: certificate.certPem, key: certificate.keyPem } : {}),
    };
    const context = Object.keys(options).length > 0 ? tls.createSecureContext(options) : undefined;
    this.#built.set(key, context);
    return context;
  }

  hasCertificate(host: string): boolean {
    return this.#certificates.has(host.toLowerCase());
  }
}

/** The versions we speak to one server, oldest to newest. */
export interface UpstreamVersions {
  readonly oldest: UpstreamTlsMin;
  readonly newest: TlsVersionName;
}

/** One text per range: part of the keys of contexts and probes. */
export function versionsKey(versions: UpstreamVersions): string {
  return `${versions.oldest}-${versions.newest}`;
}

/** tls options for a range of versions; none for Node's default (TLS 1.2 to 1.3, security level 1). */
function versionOptions(versions: UpstreamVersions): { minVersion?: tls.SecureVersion; maxVersion?: tls.SecureVersion; ciphers?: string } {
  const newest = versions.newest === 'TLSv1.3' ? {} : { maxVersion: versions.newest };
  if (versions.oldest === 'TLSv1.2') return newest;
  // OpenSSL 3 refuses TLS < 1.2 above security level 0 (SHA-1 handshake signatures); the suites
  // are what old servers have (the device side offers the same, leaf-store.ts).
  return { minVersion: versions.oldest, ...newest, ciphers: OLD_SERVER_CIPHERS };
}

const OLD_SERVER_CIPHERS = `${tls.DEFAULT_CIPHERS}:AES128-SHA:AES256-SHA:@SECLEVEL=0`;

/**
 * Our offer narrowed to one kind of server key: up to TLS 1.2 the suites whose server signs with
 * it (OpenSSL's `!aECDSA` or `!aRSA` leaves the rest out for good), in TLS 1.3 the signature
 * schemes (RSA signs in PSS there; PKCS#1 is for TLS 1.2 and its SHA-1 for older servers, which
 * only the security level 0 of an older floor lets through).
 */
function serverKeyOptions(kind: ServerKeyKind, versions: UpstreamVersions): { ciphers: string; sigalgs: string } {
  const suites = versions.oldest === 'TLSv1.2' ? tls.DEFAULT_CIPHERS : OLD_SERVER_CIPHERS;
  return kind === 'rsa'
    ? { ciphers: `${suites}:!aECDSA`, sigalgs: 'rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pss_rsae_sha512:rsa_pss_pss_sha256:rsa_pss_pss_sha384:rsa_pss_pss_sha512:rsa_pkcs1_sha256:rsa_pkcs1_sha384:rsa_pkcs1_sha512:RSA+SHA1' }
    : { ciphers: `${suites}:!aRSA`, sigalgs: 'ecdsa_secp256r1_sha256:ecdsa_secp384r1_sha384:ecdsa_secp521r1_sha512:ECDSA+SHA1' };
}
