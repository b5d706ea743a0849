// The TLS contexts of our connections to servers: the roots we trust (Node's bundled Mozilla roots
// plus --upstream-ca), the TLS versions we speak, and the lab's client certificate for a host
// (--client-cert).
//
// The versions follow the device's ClientHello (client-hello.ts):
// - The oldest is the device's: an Android 4.4 app reaches its vendor's TLS 1.0 server directly,
//   so it reaches it through us too, and a server older than the device refuses us as it would
//   have refused the device (a TLS 1.3-only app and a TLS 1.2 server; until 2026-12-07 we spoke
//   TLS 1.2 to it and bridged them). Nothing the device did not already accept is weakened, and
//   certificates are checked as ever. Only a lab that sets --upstream-tls-min lowers it to that,
//   to reach its old servers on purpose. (TLS 1.2 is the oldest we speak when there is no device
//   hello to follow.)
// - The newest is the device's: a server sees the version it would have agreed on with the
//   device (TLS 1.2 for an Android 9 app, not our TLS 1.3), and one that speaks only newer
//   versions than the device refuses us as it would have refused the device.
//
// The cipher suites, signature schemes and groups are the device's own, in its order, where
// OpenSSL speaks them (upstream-cipher-suites.ts, upstream-hello-extensions.ts): a server chooses
// from what it would have chosen from.
//
// A device that can verify only one kind of server key (RSA or ECDSA: server-key-kind.ts) has its
// server asked for that kind alone: our cipher suites and signature schemes are narrowed to it. A
// server with a certificate of each kind then shows us the one it would have shown the device,
// and our leaf is of that kind too (ca/leaf-shape.ts).
//
// So there is a context per distinct device hello (a handful per device: its system's TLS stack,
// a browser's, an app's own), bounded (limits.upstreamTlsContexts), the least recently used
// forgotten first. One costs about 0.2 ms to build, or 20 ms with --upstream-ca (the roots are
// parsed again for each).
//
// Extra roots go into a SecureContext built once, not into `ca`: https.Agent turns `ca` into its
// pool key on every request (all ~140 root PEMs concatenated: it was 56% of the CPU under small
// requests) and parses it again for every new upstream connection. An explicit CA list replaces
// Node's default store, so the bundled roots are listed too.

import tls from 'node:tls';
import { isOlderTls, type TlsVersionName, type TlsVersionRange } from './layers/client-hello.js';
import type { ServerKeyKind } from './layers/server-key-kind.js';
import { limits } from '../limits.js';
import { offerableSuites } from './upstream-cipher-suites.js';
import { groupsOffering, signatureSchemesImplied, signatureSchemesOffering } from './upstream-hello-extensions.js';

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
  /** Whether the lab set the floor (--upstream-tls-min): then a server older than the device is bridged. */
  readonly #floorAskedFor: boolean;
  readonly #certificates: ReadonlyMap<string, ClientCertificate>;
  /** By versions, the one kind of server key asked for ('' for either), the suites, schemes and groups, then `host` ('' for no client certificate); undefined is Node's default context. Least recently used first. */
  readonly #built = new Map<string, tls.SecureContext | undefined>();

  /** `certificates` by lower-case host. A certificate and key that do not belong together throw here, at start. */
  constructor(upstreamCaPems: readonly string[], labFloor: UpstreamTlsMin | undefined, certificates: ReadonlyMap<string, ClientCertificate> | undefined) {
    this.#roots = upstreamCaPems.length > 0 ? { ca: [...tls.rootCertificates, ...upstreamCaPems] } : {};
    this.#labFloor = labFloor ?? 'TLSv1.2';
    this.#floorAskedFor = labFloor !== undefined;
    this.#certificates = certificates ?? new Map();
    const versions = this.versionsFor(undefined);
    this.for(undefined, { versions });
    for (const host of this.#certificates.keys()) this.for(host, { versions });
  }

  /** What we speak to the server of a device that offered `offered` (the lab's floor and TLS 1.3 when unknown). */
  versionsFor(offered: TlsVersionRange | undefined): UpstreamVersions {
    if (offered === undefined) return { oldest: this.#labFloor, newest: 'TLSv1.3' };
    // The device's own oldest, lowered to the lab's floor only when the lab asked for one.
    const oldest = this.#floorAskedFor && isOlderTls(this.#labFloor, offered.oldest) ? this.#labFloor : offered.oldest;
    return { oldest, newest: offered.newest };
  }

  /**
   * The context for a server: with its client certificate when the lab gave one, and the ClientHello
   * `hello` asks for (the device's versions, suites, signature schemes, groups and one kind of
   * server key); undefined for Node's default. Built once per distinct hello, the least recently
   * used forgotten past a bound.
   */
  for(host: string | undefined, hello: UpstreamHello = { versions: this.versionsFor(undefined) }): tls.SecureContext | undefined {
    const lower = host?.toLowerCase();
    const certified = lower !== undefined && this.#certificates.has(lower) ? lower : '';
    const mirrored = hello.deviceSuites ? ciphersOffering(hello.deviceSuites, hello.versions, hello.serverKey) : undefined;
    const ciphers = mirrored ?? ourCiphers(hello.versions, hello.serverKey);
    const deviceSigalgs = hello.deviceSchemes ? signatureSchemesOffering(hello.deviceSchemes) : saysNoSchemes(hello) ? signatureSchemesImplied(hello.serverKey) : undefined;
    const sigalgs = deviceSigalgs ?? (hello.serverKey ? SIGNATURE_SCHEMES[hello.serverKey] : undefined);
    const groups = hello.deviceGroups ? groupsOffering(hello.deviceGroups) : undefined;
    const key = `${versionsKey(hello.versions)} ${hello.serverKey ?? ''} ${ciphers ?? ''} ${sigalgs ?? ''} ${groups ?? ''} ${certified}`;
    if (this.#built.has(key)) {
      const context = this.#built.get(key);
      this.#built.delete(key);
      this.#built.set(key, context);
      return context;
    }
    const certificate = certified ? this.#certificates.get(certified) : undefined;
    const fixed: tls.SecureContextOptions = { ...this.#roots, ...versionOptions(hello.versions), ...(certificate ? { cert: certificate.certPem, key: certificate.keyPem } : {}) };
    const device = { ...(ciphers !== undefined ? { ciphers } : {}), ...(sigalgs !== undefined ? { sigalgs } : {}), ...(groups !== undefined ? { ecdhCurve: groups } : {}) };
    let context: tls.SecureContext | undefined;
    try {
      context = Object.keys(fixed).length > 0 || Object.keys(device).length > 0 ? tls.createSecureContext({ ...fixed, ...device }) : undefined;
    } catch (error) {
      // Lists of the device's that OpenSSL takes nothing from at these versions: our own, as before.
      if (mirrored === undefined && deviceSigalgs === undefined && groups === undefined) throw error;
      return this.for(host, { versions: hello.versions, ...(hello.serverKey ? { serverKey: hello.serverKey } : {}) });
    }
    this.#built.set(key, context);
    if (this.#built.size > limits.upstreamTlsContexts) this.#built.delete(this.#built.keys().next().value!);
    return context;
  }

  hasCertificate(host: string): boolean {
    return this.#certificates.has(host.toLowerCase());
  }
}

/** What our ClientHello to one server follows of the device's. */
export interface UpstreamHello {
  readonly versions: UpstreamVersions;
  /** The only kind of server key the device can verify, when it cannot verify both. */
  readonly serverKey?: ServerKeyKind;
  /** The device's cipher suites by IANA number, in its order (GREASE left out: client-hello.ts). */
  readonly deviceSuites?: readonly number[];
  /** Its signature schemes and groups, the same way. */
  readonly deviceSchemes?: readonly number[];
  readonly deviceGroups?: readonly number[];
}

/** The versions we speak to one server, oldest to newest. */
export interface UpstreamVersions {
  readonly oldest: TlsVersionName;
  readonly newest: TlsVersionName;
}

/**
 * A device hello of TLS 1.2 without signature_algorithms (TLS 1.0 and 1.1 have no such extension,
 * and OpenSSL sends none for them).
 */
function saysNoSchemes(hello: UpstreamHello): boolean {
  return hello.deviceSuites !== undefined && hello.deviceSchemes === undefined && hello.versions.newest === 'TLSv1.2';
}

/** One text per range: part of the keys of contexts and probes. */
export function versionsKey(versions: UpstreamVersions): string {
  return `${versions.oldest}-${versions.newest}`;
}

/** tls options for a range of versions; none for Node's default (TLS 1.2 to 1.3). */
function versionOptions(versions: UpstreamVersions): { minVersion?: tls.SecureVersion; maxVersion?: tls.SecureVersion } {
  const newest = versions.newest === 'TLSv1.3' ? {} : { maxVersion: versions.newest };
  return versions.oldest === 'TLSv1.2' ? newest : { minVersion: versions.oldest, ...newest };
}

/**
 * Our own suites, for a device whose list we do not have (or none of it is in the table): Node's
 * default, with what old servers have for an older floor, narrowed to one kind of server key when
 * the device can verify only that kind; undefined for Node's default as it is.
 */
function ourCiphers(versions: UpstreamVersions, serverKey: ServerKeyKind | undefined): string | undefined {
  const older = olderThanTls12(versions);
  if (!older && !serverKey) return undefined;
  return `${older ? OLD_SERVER_CIPHERS : tls.DEFAULT_CIPHERS}${serverKey ? ONLY_KIND[serverKey] : ''}`;
}

/**
 * The device's suites (upstream-cipher-suites.ts), as a `ciphers` option; where it has none of the
 * table for TLS 1.3 or for older versions, ours stand in for that part. undefined when it has none
 * at all.
 */
function ciphersOffering(deviceSuites: readonly number[], versions: UpstreamVersions, serverKey: ServerKeyKind | undefined): string | undefined {
  const device = offerableSuites(deviceSuites);
  if (device.tls13.length === 0 && device.upToTls12.length === 0) return undefined;
  const ours = (ourCiphers(versions, undefined) ?? tls.DEFAULT_CIPHERS).split(':');
  const tls13 = device.tls13.length > 0 ? device.tls13 : ours.filter((name) => name.startsWith('TLS_'));
  const upToTls12 = device.upToTls12.length > 0 ? device.upToTls12 : ours.filter((name) => !name.startsWith('TLS_') && !name.startsWith('@'));
  const level = olderThanTls12(versions) ? [SECURITY_LEVEL_0] : [];
  return `${[...tls13, ...upToTls12, ...level].join(':')}${serverKey ? ONLY_KIND[serverKey] : ''}`;
}

function olderThanTls12(versions: UpstreamVersions): boolean {
  return isOlderTls(versions.oldest, 'TLSv1.2');
}

// OpenSSL 3 refuses TLS < 1.2 above security level 0 (SHA-1 handshake signatures); the suites are
// what old servers have (the device side offers the same, leaf-store.ts).
const SECURITY_LEVEL_0 = '@SECLEVEL=0';
const OLD_SERVER_CIPHERS = `${tls.DEFAULT_CIPHERS}:AES128-SHA:AES256-SHA:${SECURITY_LEVEL_0}`;

/**
 * Our offer narrowed to one kind of server key: up to TLS 1.2 the suites whose server signs with
 * it (OpenSSL's `!aECDSA` or `!aRSA` leaves the rest out for good), in TLS 1.3 the signature
 * schemes (RSA signs in PSS there; PKCS#1 is for TLS 1.2 and its SHA-1 for older servers, which
 * only the security level 0 of an older floor lets through). The device's own schemes, when it
 * sent any we offer, stand in for these.
 */
const ONLY_KIND: Readonly<Record<ServerKeyKind, string>> = { rsa: ':!aECDSA', ecdsa: ':!aRSA' };
const SIGNATURE_SCHEMES: Readonly<Record<ServerKeyKind, string>> = {
  rsa: 'rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pss_rsae_sha512:rsa_pss_pss_sha256:rsa_pss_pss_sha384:rsa_pss_pss_sha512:rsa_pkcs1_sha256:rsa_pkcs1_sha384:rsa_pkcs1_sha512:RSA+SHA1',
  ecdsa: 'ecdsa_secp256r1_sha256:ecdsa_secp384r1_sha384:ecdsa_secp521r1_sha512:ECDSA+SHA1',
};
