// summary.json: counts per category, severity, destination host and country; flows seen,
// decrypted, passed through, failed; bytes up and down per destination; the options in force;
// and the coverage ledger: what could not be seen, with bytes, per destination; the DNS names seen
// and the encrypted DNS not seen; the QUIC that was made to fall back to TCP.

import { flowHost, isLaterPart, type DnsRecord, type Flow } from '../model/flow.js';
import { coverageOf, type CoverageClass } from '../flow/coverage.js';
import { categories, severities, type Finding } from '../model/finding.js';
import type { LearnedHost } from '../model/learned-host.js';
import { EntityLookup } from '../enrich/entity/entity-lookup.js';
import { DeviceLedger } from './device-ledger.js';
import { DestinationLookup } from '../enrich/destination-lookup.js';
import { limits } from '../limits.js';

interface DestinationTotals {
  host: string;
  ips: Set<string>;
  flows: number;
  bytesUp: number;
  bytesDown: number;
  findings: number;
  coverage: CoverageTotals;
}

/** The ledger of one destination (or of the whole run): flows per class, and bytes seen and not. */
interface CoverageTotals {
  flows: Partial<Record<Exclude<CoverageClass, 'rejected'>, number>>;
  bytesUp: number;
  bytesUpInspected: number;
  bytesDown: number;
  bytesDownInspected: number;
}

function emptyCoverage(): CoverageTotals {
  return { flows: {}, bytesUp: 0, bytesUpInspected: 0, bytesDown: 0, bytesDownInspected: 0 };
}

function shareOf(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000;
}

export interface SummaryContext {
  readonly version: string;
  readonly startedAt: string;
  readonly options: Record<string, unknown>;
  readonly insecureUpstream: boolean;
  readonly passthroughConfigured: readonly string[];
}

/** Distinct DNS names counted exactly up to here; past it the count says "at least". */
const MAX_DNS_NAMES = limits.summaryDnsNames;
/** The tag the HTTP layers put on a response whose Alt-Svc lost its HTTP/3 alternatives. */
const ALT_SVC_H3_REMOVED = 'alt-svc:h3-removed';
/** The tag of flows `phonehome decrypt` made from the run's recorded ciphertext (src/run/decrypt-later.ts). */
const DECRYPTED_LATER = 'decrypted-later';

export class SummaryCollector {
  readonly #flows = { seen: 0, http: 0, decrypted: 0, plainHttp: 0, websocket: 0, passedThrough: 0, raw: 0, dns: 0, tlsFailed: 0, rejected: 0, withErrors: 0, inspectedPartly: 0 };
  /** DNS questions phonehome answered: how many, which names, how many HTTPS/SVCB records it stripped. */
  readonly #dns = { queries: 0, names: new Set<string>(), namesCapped: false, stripped: 0 };
  /**
   * Encrypted DNS whose messages we did not read (tunnels, refused handshakes to DoT or DoH
   * resolvers): names not seen. A DoH or DoT flow we decrypted was read like any other (its bytes
   * went to the detectors) and is only counted as `decrypted`.
   */
  readonly #encryptedDns = { flows: 0, hosts: new Set<string>(), bytes: 0, decrypted: 0 };
  /** QUIC packets the WireGuard firewall dropped: earlier sessions of the run (--append), and this one (null: not counted). */
  readonly #quic = { droppedEarlier: null as number | null, droppedNow: null as number | null, altSvcH3Removed: 0 };
  /** opaque.pcapng (OpaqueRecorder's stats): earlier sessions of the run (--append), and this one (null: not recorded). */
  readonly #opaque = { earlier: null as OpaqueCounts | null, now: null as OpaqueCounts | null };
  /**
   * Opaque sessions opened afterwards by `decrypt`: their flows are counted here, not again in the
   * destinations' bytes and the ledger's totals, which already hold them as the tunnels they were.
   * `decrypt` writes a session's flows one after another, so a new connection starts a new session.
   */
  readonly #decryptedLater = { sessions: 0, flows: 0, bytesUp: 0, bytesDown: 0, lastConnection: '' };
  readonly #byCategory: Record<string, number> = Object.fromEntries(categories.map((c) => [c, 0]));
  readonly #bySeverity: Record<string, number> = Object.fromEntries(severities.map((s) => [s, 0]));
  readonly #byHost = new Map<string, number>();
  readonly #byCountry = new Map<string, number>();
  readonly #canaries = new Map<string, number>();
  readonly #destinations = new Map<string, DestinationTotals>();
  readonly #coverage = emptyCoverage();
  readonly #devices = new DeviceLedger();
  /** Per side and TLS version: flows, and the hosts and devices that spoke it. */
  readonly #tlsVersions = { client: new Map<string, TlsVersionTotals>(), server: new Map<string, TlsVersionTotals>() };
  #findings = 0;

  get findingCount(): number {
    return this.#findings;
  }

  addFlow(flow: Flow): void {
    // Exchanges are counted, not their parts (a long-lived WebSocket or gRPC call is written as
    // several flows); a later part's bytes still add to its destination's.
    if (isLaterPart(flow)) return this.#addLaterPart(flow);
    this.#flows.seen++;
    switch (flow.kind) {
      case 'http':
        this.#flows.http++;
        if (flow.scheme === 'https') this.#flows.decrypted++;
        else this.#flows.plainHttp++;
        break;
      case 'websocket': this.#flows.websocket++; break;
      case 'tunnel': this.#flows.passedThrough++; break;
      case 'raw': this.#flows.raw++; break;
      case 'tls-failed': this.#flows.tlsFailed++; break;
      case 'rejected': this.#flows.rejected++; break;
      case 'dns': this.#flows.dns++; break;
    }
    if (flow.error) this.#flows.withErrors++;
    if (flow.tags.includes('inspected:partial')) this.#flows.inspectedPartly++;
    if (flow.tags.includes(ALT_SVC_H3_REMOVED)) this.#quic.altSvcH3Removed++;
    if (flow.kind === 'rejected') return;
    this.#devices.add(flow);
    this.#countTls(flow);
    if (flow.tags.includes(DECRYPTED_LATER)) return this.#countDecryptedLater(flow);
    const coverage = coverageOf(flow);
    if (coverage.encryptedDns) this.#countEncryptedDns(flow, coverage.unseen);
    // A DNS question is not a destination: its name is where the device means to go next, and
    // its address is the resolver's, which would lend the name the resolver's country.
    if (flow.kind === 'dns') this.#countDns(flow.dns);
    this.#addTraffic(flow, flow.kind === 'dns' ? undefined : this.#destination(flowHost(flow)), coverage, true);
  }

  #addLaterPart(flow: Flow): void {
    this.#addTraffic(flow, this.#destination(flowHost(flow)), coverageOf(flow), false);
  }

  /** A flow's bytes to its destination and the coverage totals; counted as a flow there unless it is a later part. */
  #addTraffic(flow: Flow, destination: DestinationTotals | undefined, coverage: ReturnType<typeof coverageOf>, asFlow: boolean): void {
    if (destination) {
      if (asFlow) destination.flows++;
      destination.bytesUp += flow.bytesUp;
      destination.bytesDown += flow.bytesDown;
      if (flow.destination) destination.ips.add(flow.destination.ip);
    }
    for (const totals of destination ? [destination.coverage, this.#coverage] : [this.#coverage]) {
      if (asFlow) {
        const cls = coverage.class as Exclude<CoverageClass, 'rejected'>;
        totals.flows[cls] = (totals.flows[cls] ?? 0) + 1;
      }
      totals.bytesUp += coverage.bytesUp;
      totals.bytesUpInspected += coverage.bytesUpInspected;
      totals.bytesDown += coverage.bytesDown;
      totals.bytesDownInspected += coverage.bytesDownInspected;
    }
  }

  #countDns(dns: DnsRecord): void {
    this.#dns.queries++;
    this.#dns.stripped += dns.stripped ?? 0;
    const name = dns.name;
    if (this.#dns.names.size < MAX_DNS_NAMES) this.#dns.names.add(name);
    else if (!this.#dns.names.has(name)) this.#dns.namesCapped = true;
  }

  #countEncryptedDns(flow: Flow, unseen: boolean): void {
    if (!unseen) {
      this.#encryptedDns.decrypted++;
      return;
    }
    this.#encryptedDns.flows++;
    this.#encryptedDns.bytes += flow.bytesUp + flow.bytesDown;
    if (this.#encryptedDns.hosts.size < MAX_LISTED) this.#encryptedDns.hosts.add(flowHost(flow));
  }

  #countDecryptedLater(flow: Flow): void {
    const later = this.#decryptedLater;
    const connection = `${flow.client.ip}:${flow.client.port}>${flow.destination?.ip ?? flow.target.host}:${flow.destination?.port ?? flow.target.port}`;
    if (connection !== later.lastConnection) later.sessions++;
    later.lastConnection = connection;
    later.flows++;
    later.bytesUp += flow.bytesUp;
    later.bytesDown += flow.bytesDown;
  }

  /** QUIC packets the WireGuard firewall dropped in this session (read from its counter at stop). */
  setQuicDropped(packets: number): void {
    this.#quic.droppedNow = packets;
  }

  /** Tunnel bytes opaque.pcapng recorded and did not (--opaque-limit, a full disk) in this session, and the tunnels recorded. */
  setOpaqueRecorded(stats: OpaqueCounts): void {
    this.#opaque.now = { recordedBytes: stats.recordedBytes, notRecordedBytes: stats.notRecordedBytes, sessions: stats.sessions };
  }

  /**
   * What the flow log cannot give back, from the run's previous summary.json (--append, recover):
   * the QUIC packets dropped and the opaque.pcapng counts of earlier sessions. Anything unreadable
   * counts as not counted.
   */
  continueFrom(previous: unknown): void {
    const coverage = (previous as { coverage?: { quic?: { dropped?: unknown }; opaque?: Record<string, unknown> | null } } | null)?.coverage;
    const dropped = coverage?.quic?.dropped;
    if (typeof dropped === 'number' && Number.isSafeInteger(dropped) && dropped >= 0) this.#quic.droppedEarlier = dropped;
    const opaque = coverage?.opaque;
    const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    if (opaque && count(opaque.recordedBytes) && count(opaque.notRecordedBytes) && count(opaque.sessions)) {
      this.#opaque.earlier = { recordedBytes: opaque.recordedBytes, notRecordedBytes: opaque.notRecordedBytes, sessions: opaque.sessions };
    }
  }

  #opaqueCounts(): OpaqueCounts | null {
    const { earlier, now } = this.#opaque;
    if (!earlier && !now) return null;
    const sum = (key: keyof OpaqueCounts): number => (earlier?.[key] ?? 0) + (now?.[key] ?? 0);
    return { recordedBytes: sum('recordedBytes'), notRecordedBytes: sum('notRecordedBytes'), sessions: sum('sessions') };
  }

  #quicDropped(): number | null {
    const { droppedEarlier, droppedNow } = this.#quic;
    return droppedEarlier === null && droppedNow === null ? null : (droppedEarlier ?? 0) + (droppedNow ?? 0);
  }

  #countTls(flow: Flow): void {
    for (const side of ['client', 'server'] as const) {
      const version = flow.tls?.[side]?.version;
      if (!version) continue;
      const byVersion = this.#tlsVersions[side];
      let totals = byVersion.get(version);
      if (!totals) byVersion.set(version, (totals = { flows: 0, hosts: new Set(), devices: new Set() }));
      totals.flows++;
      if (totals.hosts.size < MAX_LISTED) totals.hosts.add(flowHost(flow));
      if (totals.devices.size < MAX_LISTED) totals.devices.add(flow.client.ip);
    }
  }

  /** TLS versions spoken, per side: "3 hosts reached over TLS 1.0" is worth reading. */
  #tlsLedger(): Record<string, unknown> {
    const describe = (byVersion: Map<string, TlsVersionTotals>): Record<string, unknown> => Object.fromEntries([...byVersion].sort((a, b) => a[0].localeCompare(b[0])).map(([version, t]) => [version, { flows: t.flows, hosts: [...t.hosts].sort(), devices: [...t.devices].sort() }]));
    return { client: describe(this.#tlsVersions.client), server: describe(this.#tlsVersions.server) };
  }

  addFinding(finding: Finding): void {
    this.#findings++;
    this.#byCategory[finding.category] = (this.#byCategory[finding.category] ?? 0) + 1;
    this.#bySeverity[finding.severity] = (this.#bySeverity[finding.severity] ?? 0) + 1;
    this.#byHost.set(finding.host, (this.#byHost.get(finding.host) ?? 0) + 1);
    const country = finding.destination.country ?? 'unknown';
    this.#byCountry.set(country, (this.#byCountry.get(country) ?? 0) + 1);
    if (finding.canary) this.#canaries.set(finding.canary, (this.#canaries.get(finding.canary) ?? 0) + 1);
    this.#destination(finding.host).findings++;
  }

  #destination(host: string): DestinationTotals {
    let entry = this.#destinations.get(host);
    if (!entry) {
      entry = { host, ips: new Set(), flows: 0, bytesUp: 0, bytesDown: 0, findings: 0, coverage: emptyCoverage() };
      this.#destinations.set(host, entry);
    }
    return entry;
  }

  /**
   * What could not be seen: per destination host that had anything unseen or cut, the flows per
   * class and the bytes up and down with how many of them the detectors got; and the run's totals.
   */
  #coverageLedger(): Record<string, unknown> {
    const describe = (c: CoverageTotals): Record<string, unknown> => ({
      flows: { ...c.flows },
      bytesUp: c.bytesUp, bytesUpInspected: c.bytesUpInspected, shareUpInspected: shareOf(c.bytesUpInspected, c.bytesUp),
      bytesDown: c.bytesDown, bytesDownInspected: c.bytesDownInspected, shareDownInspected: shareOf(c.bytesDownInspected, c.bytesDown),
    });
    const byHost = [...this.#destinations.values()]
      .filter((d) => d.coverage.bytesUpInspected < d.coverage.bytesUp || d.coverage.bytesDownInspected < d.coverage.bytesDown || (d.coverage.flows['tls-failed'] ?? 0) > 0)
      .sort((a, b) => (b.coverage.bytesUp - b.coverage.bytesUpInspected) - (a.coverage.bytesUp - a.coverage.bytesUpInspected) || a.host.localeCompare(b.host));
    return {
      totals: describe(this.#coverage),
      unseenByHost: Object.fromEntries(byHost.map((d) => [d.host, describe(d.coverage)])),
      dns: {
        queries: this.#dns.queries, names: this.#dns.names.size, ...(this.#dns.namesCapped ? { namesCapped: true } : {}), stripped: this.#dns.stripped,
        encrypted: { flows: this.#encryptedDns.flows, hosts: [...this.#encryptedDns.hosts].sort(), bytes: this.#encryptedDns.bytes, decrypted: this.#encryptedDns.decrypted },
      },
      // dropped: null when no WireGuard firewall counted (no --wireguard, or a run recovered after a kill).
      quic: { dropped: this.#quicDropped(), altSvcH3Removed: this.#quic.altSvcH3Removed },
      // Tunnel ciphertext kept in opaque.pcapng for `decrypt`, and what passed unrecorded; null when it was not written.
      opaque: this.#opaqueCounts(),
      // Application bytes read from the opened sessions (their ciphertext is in the totals, as tunnels).
      decryptedLater: { sessions: this.#decryptedLater.sessions, flows: this.#decryptedLater.flows, bytesUp: this.#decryptedLater.bytesUp, bytesDown: this.#decryptedLater.bytesDown },
    };
  }

  /** Share of the bytes devices sent that the detectors were given so far (null before any). */
  get shareUpInspected(): number | null {
    return shareOf(this.#coverage.bytesUpInspected, this.#coverage.bytesUp);
  }

  snapshot(context: SummaryContext, extra: { endedAt: string; learnedPassthrough: readonly LearnedHost[]; exitCode?: number; failOn?: string | null; notes?: readonly string[]; fleet?: Record<string, unknown> }): Record<string, unknown> {
    const sortDesc = (map: Map<string, number>): Record<string, number> => Object.fromEntries([...map].sort((a, b) => b[1] - a[1]));
    const destinations = [...this.#destinations.values()]
      .sort((a, b) => b.bytesUp - a.bytesUp || a.host.localeCompare(b.host))
      .map((d) => {
        const ips = [...d.ips].sort();
        const where = DestinationLookup.locate(ips[0]);
        const company = EntityLookup.of(d.host);
        return { host: d.host, ips, country: where.country, asn: where.asn, org: where.org, entity: company?.entity ?? null, purpose: company?.purpose ?? null, flows: d.flows, bytesUp: d.bytesUp, bytesDown: d.bytesDown, findings: d.findings };
      });
    return {
      v: 1,
      tool: { name: 'phonehome', version: context.version },
      startedAt: context.startedAt,
      endedAt: extra.endedAt,
      durationMs: Date.parse(extra.endedAt) - Date.parse(context.startedAt),
      ...(context.insecureUpstream ? { warning: 'upstream certificate verification was OFF (--insecure-upstream)' } : {}),
      insecureUpstream: context.insecureUpstream,
      options: context.options,
      flows: { ...this.#flows },
      findings: {
        total: this.#findings,
        byCategory: { ...this.#byCategory },
        bySeverity: { ...this.#bySeverity },
        byHost: sortDesc(this.#byHost),
        byCountry: sortDesc(this.#byCountry),
        byCanary: sortDesc(this.#canaries),
      },
      destinations,
      byCountry: totalsBy(destinations, (d) => d.country ?? d.org ?? 'unknown'),
      byNetwork: totalsBy(destinations, (d) => (d.asn ? `AS${d.asn} ${d.org ?? ''}`.trim() : d.org ?? 'unknown')),
      devices: this.#devices.devices(),
      apps: this.#devices.attribution(),
      passthrough: { configured: context.passthroughConfigured, learned: extra.learnedPassthrough },
      coverage: this.#coverageLedger(),
      tls: this.#tlsLedger(),
      failOn: extra.failOn ?? null,
      ...(extra.fleet ? { fleet: extra.fleet } : {}),
      ...(extra.exitCode !== undefined ? { exitCode: extra.exitCode } : {}),
      ...(extra.notes && extra.notes.length > 0 ? { notes: extra.notes } : {}),
    };
  }
}

/** coverage.opaque: tunnel bytes in opaque.pcapng, tunnel bytes not in it, tunnels recorded. */
interface OpaqueCounts { recordedBytes: number; notRecordedBytes: number; sessions: number }

/** Hosts and devices listed per TLS version, at most (a long run's counts stay exact in `flows`). */
const MAX_LISTED = limits.summaryListed;

interface TlsVersionTotals { flows: number; hosts: Set<string>; devices: Set<string> }

interface Totals { flows: number; bytesUp: number; bytesDown: number; findings: number; hosts: string[] }

/** Flows, bytes and findings summed per key (a country, a network), largest upload first. */
function totalsBy<T extends { host: string; flows: number; bytesUp: number; bytesDown: number; findings: number }>(destinations: T[], key: (d: T) => string): Record<string, Totals> {
  const totals = new Map<string, Totals>();
  for (const d of destinations) {
    const k = key(d);
    const t = totals.get(k) ?? { flows: 0, bytesUp: 0, bytesDown: 0, findings: 0, hosts: [] };
    t.flows += d.flows;
    t.bytesUp += d.bytesUp;
    t.bytesDown += d.bytesDown;
    t.findings += d.findings;
    t.hosts.push(d.host);
    totals.set(k, t);
  }
  return Object.fromEntries([...totals].sort((a, b) => b[1].bytesUp - a[1].bytesUp));
}
