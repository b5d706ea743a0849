// TLS contexts for the hosts we impersonate, issued on demand and kept in a bounded LRU.
// Issuing is synchronous and takes about a millisecond (one shared leaf key, native signing), so
// there is no window in which two connections for a new host could both issue: no race, no
// semaphore, and no file on disk, so no host name ever reaches a path.

import tls from 'node:tls';
import { limits } from '../../limits.js';
import type { CertificateAuthority } from '../ca/certificate-authority.js';

export class LeafStore {
  readonly #ca: CertificateAuthority;
  readonly #contexts = new Map<string, tls.SecureContext>();
  #issued = 0;

  constructor(ca: CertificateAuthority) {
    this.#ca = ca;
  }

  /** Leaves issued since start (a cache miss each). */
  get issuedCount(): number {
    return this.#issued;
  }

  get cachedCount(): number {
    return this.#contexts.size;
  }

  /** `host` must already be validated (proxy/access/target.ts). */
  contextFor(host: string): tls.SecureContext {
    const cached = this.#contexts.get(host);
    if (cached) {
      // Re-insert: Map keeps insertion order, so the oldest entry is the least recently used.
      this.#contexts.delete(host);
      this.#contexts.set(host, cached);
      return cached;
    }
    const leaf = this.#ca.issueLeaf(host);
    const context = tls.createSecureContext({ key: leaf.keyPem, cert: leaf.certPem + this.#ca.certPem });
    this.#issued++;
    this.#contexts.set(host, context);
    if (this.#contexts.size > limits.leafCacheEntries) {
      const oldest = this.#contexts.keys().next().value;
      if (oldest !== undefined) this.#contexts.delete(oldest);
    }
    return context;
  }
}
