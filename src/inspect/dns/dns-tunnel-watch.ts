// DNS tunnelling: data carried out in the names themselves, a long encoded label per query, many
// queries under one domain (iodine, dnscat2, the exfiltration modules of malware and of some SDKs).
// No single query says so; the run's DNS flows, in order, do. One finding per domain and run.
//
// What counts: a query whose leftmost label is long (≥ 20 characters), made of an encoding's
// alphabet, mixes letters and digits and has a high character entropy; a domain is suspected once
// it has had enough *distinct* such names within a window. Left out before anything is counted:
// service labels (`_dmarc`, `selector._domainkey`, `_acme-challenge`, SRV), reverse lookups
// (.arpa), mDNS (.local) and names without a registered domain. CDN shard names (Akamai's
// a23-45-67-89, YouTube's r3---sn-…, CloudFront's d1a2…) are shorter than the label threshold, and a
// hash- or UUID-named host, or a few of them, stays under the count.
//
// State is bounded: so many domains followed at once (least recently seen forgotten first), so
// many names kept per domain, so many domains remembered as reported.

import { getDomain } from 'tldts';
import type { FindingDraft } from '../../model/finding.js';
import type { Flow } from '../../model/flow.js';
import { queryName } from './dns-name-views.js';

export interface TunnelWatchLimits {
  /** Distinct qualifying names under one domain, within the window, that make a suspicion. */
  readonly minQueries: number;
  readonly minLabelChars: number;
  /** Shannon entropy of the label's characters, bits per character. */
  readonly minEntropyBits: number;
  readonly windowMs: number;
  readonly maxDomains: number;
  readonly maxNamesPerDomain: number;
}

export const defaultTunnelWatchLimits: TunnelWatchLimits = {
  minQueries: 8, minLabelChars: 20, minEntropyBits: 3, windowMs: 10 * 60_000, maxDomains: 10_000, maxNamesPerDomain: 64,
};

/** Characters of hex, base32, base64 and base64url (and the hyphen of hand-made encodings). */
const ENCODED_LABEL = /^[A-Za-z0-9+/=_-]+$/;
const EXAMPLES = 3;
const SHOWN_NAME_CHARS = 120;

export function labelEntropy(label: string): number {
  const counts = new Map<string, number>();
  for (const char of label.toLowerCase()) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / label.length) * Math.log2(n / label.length);
  return bits;
}

/** A leftmost label that looks like encoded data rather than a word, a shard or a counter. */
export function looksEncoded(label: string, limits: TunnelWatchLimits = defaultTunnelWatchLimits): boolean {
  return label.length >= limits.minLabelChars && ENCODED_LABEL.test(label) && /[a-z]/i.test(label) && /\d/.test(label) && labelEntropy(label) >= limits.minEntropyBits;
}

/** Names no tunnel hides in, or whose long labels are there by design. */
function outOfScope(name: string): boolean {
  return name.endsWith('.arpa') || name.endsWith('.local') || name.split('.').some((label) => label.startsWith('_'));
}

/** The labels every name ends with, when there are any beyond the first name's own leftmost label. */
function commonSuffix(names: string[]): string | undefined {
  const split = names.map((n) => n.split('.').reverse());
  const shared: string[] = [];
  for (let i = 0; split.every((labels) => i < labels.length - 1 && labels[i] === split[0]![i]); i++) shared.push(split[0]![i]!);
  return shared.length > 0 ? shared.reverse().join('.') : undefined;
}

interface DomainState {
  /** Qualifying queries in the window, oldest first: time and name. */
  readonly seen: Array<{ at: number; name: string; type: string }>;
}

export class DnsTunnelWatch {
  readonly #limits: TunnelWatchLimits;
  readonly #domains = new Map<string, DomainState>();
  readonly #reported = new Set<string>();

  constructor(limits: Partial<TunnelWatchLimits> = {}) {
    this.#limits = { ...defaultTunnelWatchLimits, ...limits };
  }

  /** Looks at one finished flow (any kind; only DNS questions count), in the order flows end. */
  observe(flow: Flow): FindingDraft | undefined {
    if (flow.kind !== 'dns') return undefined;
    const name = queryName(flow);
    if (!name || outOfScope(name)) return undefined;
    const domain = getDomain(name);
    if (!domain || this.#reported.has(domain) || !name.endsWith(`.${domain}`)) return undefined;
    const leftmost = name.slice(0, name.indexOf('.'));
    if (!looksEncoded(leftmost, this.#limits)) return undefined;
    const at = Date.parse(flow.startedAt) || 0;
    const state = this.#domains.get(domain) ?? { seen: [] };
    // Least recently seen domains are forgotten first: re-inserting keeps the map in that order.
    this.#domains.delete(domain);
    this.#domains.set(domain, state);
    if (this.#domains.size > this.#limits.maxDomains) this.#domains.delete(this.#domains.keys().next().value!);
    state.seen.push({ at, name, type: flow.dns.type });
    while (state.seen.length > 0 && (state.seen[0]!.at < at - this.#limits.windowMs || state.seen.length > this.#limits.maxNamesPerDomain)) state.seen.shift();
    const distinct = new Set(state.seen.map((s) => s.name));
    if (distinct.size < this.#limits.minQueries) return undefined;
    this.#domains.delete(domain);
    this.#reported.add(domain);
    if (this.#reported.size > this.#limits.maxDomains) this.#reported.delete(this.#reported.values().next().value!);
    return this.#draft(domain, state, distinct, name);
  }

  #draft(domain: string, state: DomainState, distinct: Set<string>, name: string): FindingDraft {
    // The zone the names sit under: the labels they all end with (`t.example.net`), at least the domain.
    const zone = commonSuffix([...distinct]) ?? domain;
    const types = new Map<string, number>();
    for (const s of state.seen) types.set(s.type, (types.get(s.type) ?? 0) + 1);
    const spanMs = state.seen[state.seen.length - 1]!.at - state.seen[0]!.at;
    const labelChars = [...distinct].reduce((n, d) => n + d.indexOf('.'), 0);
    return {
      // low, as every opaque finding (design: rules raise them); the shipped rules make it medium.
      category: 'opaque', severity: 'low', direction: 'request', detector: 'dns/tunnel',
      summary: `DNS tunnelling suspected: ${distinct.size} queries with long random labels under ${zone} within ${Math.max(1, Math.round(spanMs / 1000))} s`,
      evidence: { path: ['dns:query', 'tunnel'], bytes: labelChars, excerpt: name.slice(0, SHOWN_NAME_CHARS) },
      details: {
        domain, zone, queries: distinct.size, windowMs: this.#limits.windowMs, spanMs,
        types: Object.fromEntries(types), examples: [...distinct].slice(0, EXAMPLES).map((n) => n.slice(0, SHOWN_NAME_CHARS)),
        encodedLabelChars: labelChars,
      },
    };
  }
}
