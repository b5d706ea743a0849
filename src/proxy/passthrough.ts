// Which hosts are tunnelled without decryption: configured patterns (`--passthrough`) plus hosts
// learned in this run from clients that refused our certificate (pinning). Sans-IO: the engine
// reports events, this decides.

import { limits } from '../limits.js';
import { ConfigError } from '../util/errors.js';

/**
 * Why a host is tunnelled: `--passthrough`; `learned` from a client that refused our certificate;
 * `client-certificate`: the server asks for a client certificate only the device holds.
 */
export type PassthroughReason = 'configured' | 'learned' | 'client-certificate';

export interface LearnedHost {
  readonly host: string;
  readonly time: string;
  readonly reason: string;
  /** Absent for a pinning client (files of earlier runs have none either). */
  readonly kind?: 'client-certificate';
}

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
   * A client refused our leaf for `host`. A handshake alert is proof enough; a tunnel that finished
   * the handshake and closed without a request counts only when it closed fast (an app's pin check
   * right after the handshake), not after idling (a browser's unused pre-connect).
   * Returns the learned entry when the host is newly passed through.
   */
  recordRejection(host: string, rejection: { kind: 'handshake-error'; reason: string } | { kind: 'closed-without-request'; msAfterHandshake: number }, now = new Date()): LearnedHost | undefined {
    const lower = host.toLowerCase();
    if (this.#learned.has(lower)) return undefined;
    if (rejection.kind === 'closed-without-request' && rejection.msAfterHandshake > limits.pinnedCloseWindowMs) return undefined;
    if (this.#learned.size >= limits.learnedPassthroughHosts) return undefined;
    const reason = rejection.kind === 'handshake-error'
      ? rejection.reason
      : `closed ${rejection.msAfterHandshake} ms after the handshake without sending a request`;
    const entry: LearnedHost = { host: lower, time: now.toISOString(), reason };
    this.#learned.set(lower, entry);
    return entry;
  }

  /** The server wants a client certificate we do not hold (mutual TLS): only the device can go on. */
  recordClientCertificate(host: string, reason: string, now = new Date()): LearnedHost | undefined {
    const lower = host.toLowerCase();
    if (this.#learned.has(lower) || this.#learned.size >= limits.learnedPassthroughHosts) return undefined;
    const entry: LearnedHost = { host: lower, time: now.toISOString(), reason, kind: 'client-certificate' };
    this.#learned.set(lower, entry);
    return entry;
  }

  learned(): LearnedHost[] {
    return [...this.#learned.values()];
  }

  forget(host?: string): void {
    if (host === undefined) this.#learned.clear();
    else this.#learned.delete(host.toLowerCase());
  }
}
