// The name ↔ address map that the DNS answers of a run build. A device that connects to an address
// got it from an answer a moment before; remembering which name it asked for names a connection that
// carries no SNI and no Host (ECH, raw TCP, an app that dials an address). Pure: time is passed in.
//
// It learns from the run's `dns` flows, whichever way the question came (the DNS listener, the
// WireGuard tunnel's DNS, SOCKS5's UDP ASSOCIATE): a flow is what the device was told, and every
// answer passes through one.

import net from 'node:net';
import type { DnsAnswer, Flow } from '../../model/flow.js';
import { compressedIpv6 } from '../../util/ip.js';
import { limits } from '../../limits.js';

/**
 * How long a name stays attached to an address after its TTL ran out. TTLs of CDNs are short (often
 * 20–300 s), while devices keep using an address well past it: connection pools keep idle
 * connections for minutes (OkHttp: 5 min), happy-eyeballs and app-level caches reuse a resolved list,
 * and a stale answer is served when the network is flaky (RFC 8767). Naming such a connection from
 * the last answer the device got is right far more often than leaving it unnamed; ten minutes covers
 * the pools without naming connections made an hour later from some unrelated source.
 */
export const dnsNameGraceMs = 10 * 60_000;

/** Names one address may carry at once (a CDN address serves many names); the oldest goes first. */
const namesPerAddress = 16;

interface Learned {
  readonly address: string;
  /** The name the device asked for. */
  readonly name: string;
  /** The end of the CNAME chain, when the answer went through one. */
  readonly canonical: string | undefined;
  readonly learnedAtMs: number;
  /** Until when the name is given for the address: learned + TTL + grace. */
  readonly validUntilMs: number;
}

export interface DnsNamesOptions {
  /** (address, name) pairs kept; past it, the oldest learned goes. */
  readonly maxEntries?: number;
  readonly graceMs?: number;
}

export class DnsNames {
  readonly #maxEntries: number;
  readonly #graceMs: number;
  /** Keyed `address name`, in the order learned (a pair learned again moves to the end). */
  readonly #entries = new Map<string, Learned>();
  /** address → keys of #entries, oldest first. */
  readonly #byAddress = new Map<string, string[]>();

  constructor(options: DnsNamesOptions = {}) {
    this.#maxEntries = Math.max(1, options.maxEntries ?? limits.dnsNameEntries);
    this.#graceMs = Math.max(0, options.graceMs ?? dnsNameGraceMs);
  }

  /** (address, name) pairs held now. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Learns from the answers the device got for `name`: every A/AAAA record on the CNAME chain that
   * starts at `name` gives its address that name (the one asked for, which is what the app meant to
   * reach), and the chain's last name as the canonical one. Records off the chain are ignored: they
   * are not what the question was answered with.
   */
  learn(name: string, answers: readonly DnsAnswer[], nowMs: number): void {
    const asked = normalName(name);
    if (!asked) return;
    const chain = new Set([asked]);
    let canonical = asked;
    // Follow CNAMEs in any order they were given, as far as they lead (bounded by the answer's length).
    for (let grew = true; grew;) {
      grew = false;
      for (const answer of answers) {
        if (answer.type !== 'CNAME' || !chain.has(normalName(answer.name))) continue;
        const target = normalName(answer.data);
        if (target && !chain.has(target)) {
          chain.add(target);
          canonical = target;
          grew = true;
        }
      }
    }
    for (const answer of answers) {
      if (answer.type !== 'A' && answer.type !== 'AAAA') continue;
      if (!chain.has(normalName(answer.name))) continue;
      const address = normalAddress(answer.data);
      if (!address) continue;
      const ttlMs = Math.max(0, Number.isFinite(answer.ttl) ? answer.ttl : 0) * 1000;
      this.#remember({ address, name: asked, canonical: canonical === asked ? undefined : canonical, learnedAtMs: nowMs, validUntilMs: nowMs + ttlMs + this.#graceMs });
    }
  }

  /** Learns from a flow, when it is a DNS answer that gave the device addresses (`dnsLesson`). */
  learnFrom(flow: Flow): void {
    const lesson = dnsLesson(flow);
    if (lesson) this.learn(lesson.name, lesson.answers, lesson.atMs);
  }

  /** The name most recently learned for `address` that is still valid at `nowMs` (learned by then, TTL plus grace not over). */
  nameOf(address: string, nowMs: number = Date.now()): string | undefined {
    return this.#lookup(address, nowMs)?.name;
  }

  /** The canonical name (end of the CNAME chain) behind `nameOf`, when there was a chain. */
  canonicalOf(address: string, nowMs: number = Date.now()): string | undefined {
    return this.#lookup(address, nowMs)?.canonical;
  }

  #lookup(address: string, nowMs: number): Learned | undefined {
    const key = normalAddress(address);
    const keys = key ? this.#byAddress.get(key) : undefined;
    if (!keys) return undefined;
    let best: Learned | undefined;
    for (const entryKey of keys) {
      const entry = this.#entries.get(entryKey);
      if (!entry || entry.learnedAtMs > nowMs || entry.validUntilMs < nowMs) continue;
      if (!best || entry.learnedAtMs >= best.learnedAtMs) best = entry;
    }
    return best;
  }

  #remember(entry: Learned): void {
    const key = `${entry.address} ${entry.name}`;
    const keys = this.#byAddress.get(entry.address) ?? [];
    if (this.#entries.has(key)) {
      this.#entries.delete(key);
      keys.splice(keys.indexOf(key), 1);
    }
    this.#entries.set(key, entry);
    keys.push(key);
    this.#byAddress.set(entry.address, keys);
    if (keys.length > namesPerAddress) this.#forget(keys[0]!);
    while (this.#entries.size > this.#maxEntries) this.#forget(this.#entries.keys().next().value!);
  }

  #forget(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    const keys = this.#byAddress.get(entry.address);
    if (!keys) return;
    const at = keys.indexOf(key);
    if (at >= 0) keys.splice(at, 1);
    if (keys.length === 0) this.#byAddress.delete(entry.address);
  }
}

/** What a `dns` flow teaches the name map: the name asked for and its answers, when it got any. */
export function dnsLesson(flow: Flow): { name: string; answers: readonly DnsAnswer[]; atMs: number } | undefined {
  if (flow.kind !== 'dns' || flow.dns.rcode !== 'NOERROR' || flow.dns.answers.length === 0 || flow.dns.name === '') return undefined;
  // When the device was told: the answer left phonehome as the flow ended.
  return { name: flow.dns.name, answers: flow.dns.answers, atMs: Date.parse(flow.endedAt) };
}

/** A DNS name as compared here: lower-case, without the final dot. */
export function normalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** An address in one spelling (IPv6 compressed, lower-case), or undefined when it is not one. */
function normalAddress(text: string): string | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  // A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d; the answer said a.b.c.d.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped && net.isIPv4(mapped[1]!)) return mapped[1]!;
  const family = net.isIP(bare);
  if (family === 4) return bare;
  if (family !== 6) return undefined;
  return compressedIpv6(bare);
}
