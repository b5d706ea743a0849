// TLS contexts for the servers we impersonate, by what their leaf looks like (its names and kind of
// key: leaf-shape.ts), issued on demand and kept in a bounded LRU. Issuing is synchronous and takes
// well under a millisecond (one shared leaf key per kind, native signing), so there is no window
// in which two connections for a new host could both issue: no race, no semaphore, and no file on
// disk, so no host name ever reaches a path.
//
// The device side accepts every TLS version from 1.0 to 1.3. Android 4.1–4.4 apps speak TLS 1.0 by
// default (HttpsURLConnection before API 20), and a proxy that refuses them sees nothing of what
// they would have sent. OpenSSL 3 refuses TLS < 1.2 below security level 0 (their handshakes sign
// with SHA-1), so the device side runs at @SECLEVEL=0 with Node's default suites plus the plain-RSA
// CBC suites old stacks offer first. The upstream side is verified as ever, and goes below TLS 1.2
// only for a device that does (upstream-contexts.ts): weakening what we accept from a device
// exposes nothing the device did not already send.
//
// The DHE suites among Node's defaults (finite-field Diffie-Hellman) work only with DH parameters,
// which Node leaves out unless asked: `dhparam: 'auto'` takes OpenSSL's well-known groups (RFC
// 7919) sized to the leaf's key. Until 2026-12-07 a device that offered DHE_RSA alone (a TLS stack
// built without elliptic curves that insists on forward secrecy) met a handshake failure through
// phonehome and a page directly.
//
// No newer than the server, though: once we know the version the server chose for the device's
// offer (the eager probe), the device side offers nothing newer, so the device agrees on the
// version it would have agreed on directly (`newestForDevice`). A device that refuses that version
// (a Java 8 client with TLS 1.0 disabled, meeting a TLS 1.0 server) refuses it here too, and its
// data goes nowhere, as directly; the flow records what it would have spoken, not what we could.
// The one exception is the lab's own: a server older than anything the device offered was reached
// only because of --upstream-tls-min, which bridges such servers on purpose.

import tls from 'node:tls';
import { offerableSuites } from '../upstream-cipher-suites.js';
import { limits } from '../../limits.js';
import { CertificateAuthority, type IssuedLeaf } from '../ca/certificate-authority.js';
import type { LeafShape } from './leaf-shape.js';
import { isOlderTls, type TlsVersionName, type TlsVersionRange } from '../layers/client-hello.js';

/**
 * Cipher suites for the device side: today's defaults first, then what old Android and iOS offer,
 * and what constrained and regional stacks may offer alone: TLS 1.3's AES-CCM suites (IoT stacks
 * built for AES-CCM hardware; OpenSSL leaves them out of TLS 1.3 unless asked) and Camellia (which
 * Node's defaults leave out). The device's order decides among them, as a server's default does, so
 * a device that offers today's suites first gets one of them. Until 2026-12-07 a device that
 * offered only these met a handshake failure through phonehome and a page directly.
 */
export const DEVICE_SIDE_CIPHERS = `${tls.DEFAULT_CIPHERS.replace(':!CAMELLIA', '')}:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256:AES128-SHA:AES256-SHA:DES-CBC3-SHA:CAMELLIA:@SECLEVEL=0`;

/**
 * The newest TLS version to offer a device: the one its server agreed on, unless that is older
 * than anything the device offered (the lab's --upstream-tls-min bridged it); TLS 1.3 when unknown.
 */
export function newestForDevice(server: TlsVersionName | undefined, device: TlsVersionRange | undefined): TlsVersionName {
  if (!server || (device && isOlderTls(server, device.oldest))) return 'TLSv1.3';
  return server;
}

/**
 * The suite to agree on with the device: the one its server agreed on with us, when the device
 * offered it (the server was offered the device's own suites: upstream-cipher-suites.ts). The
 * device then gets the suite it gets directly, not the first of its list we have; until
 * 2026-12-07 a device that listed `ECDHE-RSA-AES128-GCM-SHA256` before `CAMELLIA128-SHA`, whose
 * server takes only Camellia, agreed on the first with us. undefined leaves it to the device's
 * order (a look at the server made no connection, or the suite is not one the device offered).
 */
export function suiteForDevice(serverSuite: string | undefined, deviceSuites: readonly number[] | undefined): string | undefined {
  if (serverSuite === undefined || deviceSuites === undefined) return undefined;
  const offered = offerableSuites(deviceSuites);
  return offered.tls13.includes(serverSuite) || offered.upToTls12.includes(serverSuite) ? serverSuite : undefined;
}

/** A leaf, and its TLS contexts by the newest version they offer and the suite they put first (made when first asked for). */
interface HeldLeaf {
  readonly leaf: IssuedLeaf;
  readonly contexts: Map<string, tls.SecureContext>;
}

export class LeafStore {
  readonly #ca: CertificateAuthority;
  /** Keyed by the leaf's kind of key and names, space-separated in their order (the first is the subject). */
  readonly #leaves = new Map<string, HeldLeaf>();
  readonly #onIssued: ((shape: LeafShape, leaf: IssuedLeaf) => void) | undefined;
  /** Signs the leaves that stand in for unverifiable servers (made when first needed). */
  #untrustedCa: CertificateAuthority | undefined;
  #issued = 0;

  /** `onIssued`: told of every leaf issued here, so other proxy loops can adopt it (threads/). */
  constructor(ca: CertificateAuthority, onIssued?: (shape: LeafShape, leaf: IssuedLeaf) => void) {
    this.#ca = ca;
    this.#onIssued = onIssued;
  }

  /** Leaves issued since start (a cache miss each). */
  get issuedCount(): number {
    return this.#issued;
  }

  get cachedCount(): number {
    return this.#leaves.size;
  }

  /**
   * `shape.names`: validated host names and addresses, the first the subject (leaf-shape.ts).
   * `newest`: the newest TLS version to offer the device (the server's choice), TLS 1.3 when unknown.
   * `suite`: the one to agree on, which the device offered (suiteForDevice); else the device's order decides.
   */
  contextFor(shape: LeafShape, newest: TlsVersionName = 'TLSv1.3', suite?: string): tls.SecureContext {
    const key = keyOf(shape);
    let held = this.#leaves.get(key);
    if (held) {
      // Re-insert: Map keeps insertion order, so the oldest entry is the least recently used.
      this.#leaves.delete(key);
      this.#leaves.set(key, held);
    } else {
      const leaf = this.#issue(shape);
      this.#issued++;
      held = this.#hold(key, leaf);
      this.#onIssued?.(shape, leaf);
    }
    const variant = suite ? `${newest} ${suite}` : newest;
    let context = held.contexts.get(variant);
    if (!context) {
      // The suite first and our order honoured: the device offered it, so it is the one agreed on.
      const ciphers = suite ? { ciphers: `${suite}:${DEVICE_SIDE_CIPHERS}`, honorCipherOrder: true } : { ciphers: DEVICE_SIDE_CIPHERS };
      // The leaf goes alone, as a server whose certificate a root signed sends it: the device
      // holds our CA, and a root is never needed on the wire. Until 2026-12-07 the CA went with
      // it, about a kilobyte more in every handshake: an Mbed TLS device (ESP32 firmware) that
      // asks for 1024-byte records cannot read a Certificate message split across records, and
      // was refused by us where its server's own leaf fit one
      // (test/conformance/clients-mbedtls.test.ts).
      context = tls.createSecureContext({ key: held.leaf.keyPem, cert: held.leaf.certPem, minVersion: 'TLSv1', maxVersion: newest, ...ciphers, dhparam: 'auto' });
      held.contexts.set(variant, context);
    }
    return context;
  }

  /**
   * A leaf another proxy loop issued for `shape` (same CA; its process's leaf key comes with it):
   * cached without signing, so a new host costs the loops one signature, not one each. A leaf
   * already held is kept.
   */
  adopt(shape: LeafShape, leaf: IssuedLeaf): void {
    const key = keyOf(shape);
    if (!this.#leaves.has(key)) this.#hold(key, leaf);
  }

  #issue(shape: LeafShape): IssuedLeaf {
    const period = shape.period ? { notBefore: new Date(shape.period.notBefore), notAfter: new Date(shape.period.notAfter) } : undefined;
    const ca = shape.untrusted ? (this.#untrustedCa ??= CertificateAuthority.untrusted()) : this.#ca;
    return ca.issueLeaf(shape.names, shape.keyType, new Date(), period);
  }

  #hold(key: string, leaf: IssuedLeaf): HeldLeaf {
    const held: HeldLeaf = { leaf, contexts: new Map() };
    this.#leaves.set(key, held);
    if (this.#leaves.size > limits.leafCacheEntries) {
      const oldest = this.#leaves.keys().next().value;
      if (oldest !== undefined) this.#leaves.delete(oldest);
    }
    return held;
  }
}

function keyOf(shape: LeafShape): string {
  const flaw = `${shape.untrusted ? 'untrusted ' : ''}${shape.period ? `${shape.period.notBefore}/${shape.period.notAfter} ` : ''}`;
  return `${flaw}${shape.keyType} ${shape.names.join(' ')}`;
}
