// The TLS contexts of our connections to servers: the roots we trust (Node's bundled Mozilla roots
// plus --upstream-ca), the oldest TLS version we speak, and the lab's client certificate for a host
// (--client-cert).
//
// The oldest version is the lab's (--upstream-tls-min, TLS 1.2 by default), or older when the
// device itself offered older (its ClientHello, client-hello.ts): an Android 4.4 app reaches its
// vendor's TLS 1.0 server directly, so it reaches it through us too. A device that offers only
// TLS 1.2 and up does not get that lowering: it would not have reached such a server either.
// Nothing the device did not already accept is weakened, and certificates are checked as ever.
//
// Extra roots go into a SecureContext built once, not into `ca`: https.Agent turns `ca` into its
// pool key on every request (all ~140 root PEMs concatenated: it was 56% of the CPU under small
// requests) and parses it again for every new upstream connection. An explicit CA list replaces
// Node's default store, so the bundled roots are listed too.

import tls from 'node:tls';
import type { TlsVersionName } from './layers/client-hello.js';

/** The oldest TLS version we speak to servers (--upstream-tls-min); 1.2 unless a lab says otherwise. */
export type UpstreamTlsMin = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2';

/** A client certificate to show a server that asks for one (--client-cert HOST=CERT.pem[,KEY.pem]). */
export interface ClientCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

const AGE: Record<TlsVersionName, number> = { TLSv1: 0, 'TLSv1.1': 1, 'TLSv1.2': 2, 'TLSv1.3': 3 };

export class UpstreamContexts {
  readonly #roots: { ca?: string[] };
  readonly #labFloor: UpstreamTlsMin;
  readonly #certificates: ReadonlyMap<string, ClientCertificate>;
  /** By floor, then `host` ('' for no client certificate); undefined is Node's default context. */
  readonly #built = new Map<string, tls.SecureContext | undefined>();

  /** `certificates` by lower-case host. A certificate and key that do not belong together throw here, at start. */
  constructor(upstreamCaPems: readonly string[], labFloor: UpstreamTlsMin | undefined, certificates: ReadonlyMap<string, ClientCertificate> | undefined) {
    this.#roots = upstreamCaPems.length > 0 ? { ca: [...tls.rootCertificates, ...upstreamCaPems] } : {};
    this.#labFloor = labFloor ?? 'TLSv1.2';
    this.#certificates = certificates ?? new Map();
    this.for(undefined, this.#labFloor);
    for (const host of this.#certificates.keys()) this.for(host, this.#labFloor);
  }

  /** The floor for a device that offered `deviceOldest` (the lab's when unknown). */
  floorFor(deviceOldest: TlsVersionName | undefined): UpstreamTlsMin {
    return deviceOldest !== undefined && AGE[deviceOldest] < AGE[this.#labFloor] ? (deviceOldest as UpstreamTlsMin) : this.#labFloor;
  }

  /** The context for a server: with its client certificate when the lab gave one; undefined for Node's default. */
  for(host: string | undefined, floor: UpstreamTlsMin = this.#labFloor): tls.SecureContext | undefined {
    const lower = host?.toLowerCase();
    const certified = lower !== undefined && this.#certificates.has(lower) ? lower : '';
    const key = `${floor} ${certified}`;
    if (this.#built.has(key)) return this.#built.get(key);
    const certificate = certified ? this.#certificates.get(certified) : undefined;
    const options: tls.SecureContextOptions = { ...this.#roots, ...floorOptions(floor), ...(certificate ? { cert: certificate.certPem, key: certificate.keyPem } : {}) };
    const context = Object.keys(options).length > 0 ? tls.createSecureContext(options) : undefined;
    this.#built.set(key, context);
    return context;
  }

  hasCertificate(host: string): boolean {
    return this.#certificates.has(host.toLowerCase());
  }
}

/** tls options for a floor; none for Node's default (TLS 1.2, security level 1). */
function floorOptions(floor: UpstreamTlsMin): { minVersion?: tls.SecureVersion; ciphers?: string } {
  if (floor === 'TLSv1.2') return {};
  // OpenSSL 3 refuses TLS < 1.2 above security level 0 (SHA-1 handshake signatures); the suites
  // are what old servers have (the device side offers the same, leaf-store.ts).
  return { minVersion: floor, ciphers: `${tls.DEFAULT_CIPHERS}:AES128-SHA:AES256-SHA:@SECLEVEL=0` };
}
