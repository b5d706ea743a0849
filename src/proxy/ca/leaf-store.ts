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
// CBC suites old stacks offer first. The upstream side keeps Node's defaults (TLS >= 1.2,
// verified): weakening what we accept from a device exposes nothing the device did not already send.

import tls from 'node:tls';
import { limits } from '../../limits.js';
import type { CertificateAuthority, IssuedLeaf } from '../ca/certificate-authority.js';
import type { LeafShape } from './leaf-shape.js';

/** Cipher suites for the device side: today's defaults first, then what old Android and iOS offer. */
export const DEVICE_SIDE_CIPHERS = `${tls.DEFAULT_CIPHERS}:AES128-SHA:AES256-SHA:DES-CBC3-SHA:@SECLEVEL=0`;

export class LeafStore {
  readonly #ca: CertificateAuthority;
  /** Keyed by the leaf's kind of key and names, space-separated in their order (the first is the subject). */
  readonly #contexts = new Map<string, tls.SecureContext>();
  readonly #onIssued: ((shape: LeafShape, leaf: IssuedLeaf) => void) | undefined;
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
    return this.#contexts.size;
  }

  /** `shape.names`: validated host names and addresses, the first the subject (leaf-shape.ts). */
  contextFor(shape: LeafShape): tls.SecureContext {
    const key = keyOf(shape);
    const cached = this.#contexts.get(key);
    if (cached) {
      // Re-insert: Map keeps insertion order, so the oldest entry is the least recently used.
      this.#contexts.delete(key);
      this.#contexts.set(key, cached);
      return cached;
    }
    const leaf = this.#ca.issueLeaf(shape.names, shape.keyType);
    this.#issued++;
    const context = this.#cache(key, leaf);
    this.#onIssued?.(shape, leaf);
    return context;
  }

  /**
   * A leaf another proxy loop issued for `shape` (same CA; its process's leaf key comes with it):
   * cached without signing, so a new host costs the loops one signature, not one each. A leaf
   * already held is kept.
   */
  adopt(shape: LeafShape, leaf: IssuedLeaf): void {
    const key = keyOf(shape);
    if (!this.#contexts.has(key)) this.#cache(key, leaf);
  }

  #cache(key: string, leaf: IssuedLeaf): tls.SecureContext {
    const context = tls.createSecureContext({
      key: leaf.keyPem, cert: leaf.certPem + this.#ca.certPem, minVersion: 'TLSv1', maxVersion: 'TLSv1.3', ciphers: DEVICE_SIDE_CIPHERS,
    });
    this.#contexts.set(key, context);
    if (this.#contexts.size > limits.leafCacheEntries) {
      const oldest = this.#contexts.keys().next().value;
      if (oldest !== undefined) this.#contexts.delete(oldest);
    }
    return context;
  }
}

function keyOf(shape: LeafShape): string {
  return `${shape.keyType} ${shape.names.join(' ')}`;
}
