// Which hosts are tunnelled without decryption: configured patterns (`--passthrough`) plus hosts
// learned in this run from clients that refused our certificate (pinning). Sans-IO: the engine
// reports events, this decides.

import { limits } from '../limits.js';
import type { LearnedHost } from '../model/learned-host.js';
import { ConfigError } from '../util/errors.js';
import { pinningVerdict } from './pinning-verdict.js';

/**
 * Why a host is tunnelled: `--passthrough`; `learned` from a client that refused our certificate;
 * `client-certificate`: the server asks for a client certificate only the device holds;
 * `invalid-certificate`: the server's certificate does not verify, and the device refused a leaf
 * as invalid (it meets the server's own from then on, and decides on that as directly).
 */
export type PassthroughReason = 'configured' | 'learned' | 'client-certificate' | 'invalid-certificate';

/** `*` matches any run of characters, dots included; everything else literally, case-insensitive. */
export function compileHostPattern(pattern: string): RegExp {
  if (!/^[A-Za-z0-9*._:[\]-]+$/.test(pattern)) {
    throw new ConfigError(`--passthrough ${JSON.stringify(pattern)}: use a host name with optional * wildcards, e.g. *.apple.com`);
  }
  const body = pattern.toLowerCase().split('*').map((part) => part.replace(/[.[\]]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`);
}

export class PassthroughPolicy {
  readonly patterns: readonly string[];
  readonly #compiled: RegExp[];
  readonly #learned = new Map<string, LearnedHost>();
  /** "device ip|host" pairs where the device sent data after our handshake: it trusts our CA there. */
  readonly #trusted = new Set<string>();
  /** Told of every host learned here, so other proxy loops can adopt it (threads/). */
  onLearned: ((entry: LearnedHost) => void) | undefined;

  constructor(patterns: readonly string[] = []) {
    this.patterns = patterns;
    this.#compiled = patterns.map(compileHostPattern);
  }

  decide(host: string): PassthroughReason | undefined {
    const lower = host.toLowerCase();
    const learned = this.#learned.get(lower);
    if (learned) return learned.kind ?? 'learned';
    if (this.#compiled.some((re) => re.test(lower))) return 'configured';
    return undefined;
  }

  /**
   * A client refused our leaf for `host` (pinning-verdict.ts decides when that is so). Returns
   * the learned entry when the host is newly passed through.
   */
  learnPinned(host: string, reason: string, now = new Date()): LearnedHost | undefined {
    return this.#learn({ host: host.toLowerCase(), time: now.toISOString(), reason }, true);
  }

  /** A host another proxy loop learned: passed through here too from now on (not said again). */
  adopt(entry: LearnedHost): void {
    this.#learn({ ...entry, host: entry.host.toLowerCase() }, false);
  }

  /** The same, from how the connection ended: learned only when the verdict says pinned. */
  recordRejection(host: string, rejection: { kind: 'handshake-error'; reason: string } | { kind: 'closed-without-request'; msAfterHandshake: number }, now = new Date()): LearnedHost | undefined {
    if (rejection.kind === 'handshake-error') return this.learnPinned(host, rejection.reason, now);
    const verdict = pinningVerdict({ stage: 'after-handshake', clientSpoke: false, msAfterHandshake: rejection.msAfterHandshake });
    return verdict.pinned ? this.learnPinned(host, verdict.reason, now) : undefined;
  }

  /** The server wants a client certificate we do not hold (mutual TLS): only the device can go on. */
  recordClientCertificate(host: string, reason: string, now = new Date()): LearnedHost | undefined {
    return this.#learn({ host: host.toLowerCase(), time: now.toISOString(), reason, kind: 'client-certificate' }, true);
  }

  /**
   * The device refused a leaf as invalid as its server's certificate (ca/leaf-shape.ts), on a
   * connection of the TLS layer's or of STARTTLS's: not pinning, but its connections pass through
   * from now on, to meet the server's own certificate. `code` names the certificate's flaw as Node
   * does, `why` how the device refused (the pinning verdict's reason). Returns what the refusal's
   * flow says: its reason and tags, `upstream:certificate:CODE` among them as on any flow whose
   * server did not verify, so the notice names --upstream-ca (app/notices.ts).
   */
  refusedInvalidCertificate(host: string, code: string, why: string, now = new Date()): { reason: string; tags: string[] } {
    const reason = `the device refused a certificate as invalid as its server's (${code}), as it would have refused the server's: ${why}`;
    const learned = this.#learn({ host: host.toLowerCase(), time: now.toISOString(), reason, kind: 'invalid-certificate' }, true) !== undefined;
    return { reason, tags: [`upstream:certificate:${code}`, 'tls:refused-invalid-certificate', ...(learned ? ['passthrough:invalid-certificate'] : [])] };
  }

  /**
   * Every way a host becomes passed through: once per host, up to the cap; `tell` when it was
   * learned here (the other proxy loops are told), not when adopted from one of them.
   */
  #learn(entry: LearnedHost, tell: boolean): LearnedHost | undefined {
    if (this.#learned.has(entry.host) || this.#learned.size >= limits.learnedPassthroughHosts) return undefined;
    this.#learned.set(entry.host, entry);
    if (tell) this.onLearned?.(entry);
    return entry;
  }

  /** The device at `clientIp` sent data to `host` over a connection we decrypted. */
  recordTrust(clientIp: string, host: string): void {
    const key = `${clientIp}|${host.toLowerCase()}`;
    if (this.#trusted.has(key)) return;
    if (this.#trusted.size >= limits.trustedPairs) this.#trusted.delete(this.#trusted.values().next().value!);
    this.#trusted.add(key);
  }

  trusts(clientIp: string, host: string): boolean {
    return this.#trusted.has(`${clientIp}|${host.toLowerCase()}`);
  }

  learned(): LearnedHost[] {
    return [...this.#learned.values()];
  }

  forget(host?: string): void {
    if (host === undefined) this.#learned.clear();
    else this.#learned.delete(host.toLowerCase());
  }
}
