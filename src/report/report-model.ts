// Everything a report shows, worked out from its source before any HTML is written: the headline
// (app → data → company and country, categories by country, apps by category and destination), the per-country totals for the map, the timeline's points, the photos'
// thumbnails, the comparison with a baseline, the coverage ledger. Numbers come from summary.json
// where it has them, so the page and the file never disagree.

import { createRequire } from 'node:module';
import { compareRuns, findingKey, type CompareLine } from '../run/compare.js';
import type { RunView } from '../run/run-view.js';
import { flowHost } from '../model/flow.js';
import { severityRank, type Finding, type Severity } from '../model/finding.js';
import { redactFinding } from '../util/redact.js';
import { findEvidenceBytes } from './evidence-bytes.js';
import type { ReportSource } from './report-source.js';
import { makeThumbnail, type Thumbnail } from './thumbnail.js';
import type { TimelineFinding, TimelineFlow } from './timeline.js';
import type { CountryTotals } from './world-map.js';

export interface ReportLimits {
  /** Photos shown as thumbnails; the others say they were left out. */
  readonly maxThumbnails: number;
  /** Total size of the thumbnails embedded in the page. */
  readonly maxThumbnailBytes: number;
}

export const defaultReportLimits: ReportLimits = { maxThumbnails: 200, maxThumbnailBytes: 12 * 1024 * 1024 };

export interface Comparison {
  readonly baseTitle: string;
  readonly newFindingIds: ReadonlySet<string>;
  readonly goneFindings: readonly Finding[];
  readonly newHosts: ReadonlyArray<{ host: string; country: string | null; bytesUp: number }>;
  readonly goneHosts: ReadonlyArray<{ host: string; country: string | null; bytesUp: number }>;
  readonly newCategories: readonly string[];
  readonly goneCategories: readonly string[];
  /** Apps sending something in this run and nothing in the baseline, and the other way round. */
  readonly newApps: ReadonlyArray<Extract<CompareLine, { kind: 'app' }>>;
  readonly goneApps: ReadonlyArray<Extract<CompareLine, { kind: 'app' }>>;
  /** Companies receiving findings in this run and none in the baseline, and the other way round. */
  readonly newEntities: ReadonlyArray<Extract<CompareLine, { kind: 'entity' }>>;
  readonly goneEntities: ReadonlyArray<Extract<CompareLine, { kind: 'entity' }>>;
}

export interface ReportModel {
  readonly source: ReportSource;
  readonly findings: readonly Finding[];
  readonly redacted: boolean;
  readonly flows: readonly TimelineFlow[];
  readonly marks: readonly TimelineFinding[];
  readonly devices: readonly string[];
  readonly countries: ReadonlyMap<string, CountryTotals & { bytesDown: number; flows: number; hosts: readonly string[] }>;
  readonly thumbnails: ReadonlyMap<string, Thumbnail>;
  /** Photos without a thumbnail: over the limits, their bytes not kept, or --redact. */
  readonly photosWithoutThumbnail: number;
  readonly comparison?: Comparison;
  readonly geoDatabases: readonly string[];
  readonly builtAt: string;
}

const require = createRequire(import.meta.url);

/** The dates of the offline databases (their package versions end in the build date). */
function geoDatabaseFacts(): string[] {
  const facts: string[] = [];
  for (const [name, what] of [['@ip-location-db/geo-whois-asn-country', 'countries'], ['@ip-location-db/asn', 'networks'], ['world-atlas', 'map shapes (Natural Earth)']] as const) {
    try {
      const version = (require(`${name}/package.json`) as { version: string }).version;
      const stamp = /(\d{4})(\d{2})(\d{2})\d*$/.exec(version);
      facts.push(`${what}: ${name} ${version}${stamp ? ` (data of ${stamp[1]}-${stamp[2]}-${stamp[3]})` : ''}`);
    } catch {
      facts.push(`${what}: ${name} not installed`);
    }
  }
  return facts;
}

function worse(a: Severity | null, b: Severity): Severity {
  return a === null || severityRank(b) > severityRank(a) ? b : a;
}

/** The report's view of `compare`: the same lines, with this run's findings marked by id. */
function compare(findings: readonly Finding[], hosts: RunView['destinations'], title: string, baseline: RunView): Comparison {
  const lines = compareRuns(baseline, { dir: title, findings, destinations: hosts });
  const ids = (change: 'new' | 'gone'): Set<string> => new Set(lines.flatMap((l) => (l.kind === 'finding' && l.change === change ? [l.id] : [])));
  const hostsOf = (change: 'new' | 'gone') => lines.flatMap((l) => (l.kind === 'destination' && l.change === change ? [{ host: l.host, country: l.country, bytesUp: l.bytesUp }] : []));
  // compare lists one finding per identity; the page marks every finding of a new identity.
  const newIds = ids('new');
  const newKeys = new Set(findings.filter((f) => newIds.has(f.id)).map(findingKey));
  const goneIds = ids('gone');
  const summary = lines.at(-1) as Extract<CompareLine, { kind: 'summary' }>;
  const apps = (change: 'new' | 'gone') => lines.flatMap((l) => (l.kind === 'app' && l.change === change ? [l] : []));
  const entities = (change: 'new' | 'gone') => lines.flatMap((l) => (l.kind === 'entity' && l.change === change ? [l] : []));
  return {
    baseTitle: baseline.dir,
    newFindingIds: new Set(findings.filter((f) => newKeys.has(findingKey(f))).map((f) => f.id)),
    goneFindings: baseline.findings.filter((f) => goneIds.has(f.id)),
    newHosts: hostsOf('new'),
    goneHosts: hostsOf('gone'),
    newCategories: summary.newCategories,
    goneCategories: summary.goneCategories,
    newApps: apps('new'), goneApps: apps('gone'),
    newEntities: entities('new'), goneEntities: entities('gone'),
  };
}

export async function buildReportModel(source: ReportSource, options: { redact?: boolean; baseline?: RunView; limits?: ReportLimits; now?: Date } = {}): Promise<ReportModel> {
  const limits = options.limits ?? defaultReportLimits;
  // A run captured with --redact has masked findings already; its report never shows photos.
  const redacted = options.redact === true || source.summary.options?.['redact'] === true;
  const findings = redacted ? source.findings.map(redactFinding) : source.findings;

  // Which photos to look for, by flow: the first photos of the run, up to the limit.
  const wanted = new Map<string, Set<string>>();
  let photos = 0;
  const photoFindings = findings.filter((f) => f.category === 'photo');
  if (!redacted) {
    for (const f of photoFindings) {
      if (!f.evidence.sha256 || photos >= limits.maxThumbnails) continue;
      const set = wanted.get(f.flowId) ?? new Set<string>();
      if (!set.has(f.evidence.sha256)) photos++;
      set.add(f.evidence.sha256);
      wanted.set(f.flowId, set);
    }
  }

  const flows: TimelineFlow[] = [];
  const devices = new Set<string>();
  const photoBytes = new Map<string, Buffer>();
  for await (const flow of source.flows()) {
    if (flow.kind !== 'rejected') flows.push({ time: Date.parse(flow.startedAt), host: flowHost(flow), bytesUp: flow.bytesUp });
    if (flow.client.ip && flow.client.ip !== 'unknown') devices.add(flow.client.ip);
    const hashes = wanted.get(flow.id);
    if (hashes) for (const [hash, bytes] of findEvidenceBytes(flow, hashes)) photoBytes.set(hash, bytes);
  }
  for (const f of findings) if (f.client?.ip && f.client.ip !== 'unknown') devices.add(f.client.ip);

  // Thumbnails, a few at a time (sharp works on its own threads); the same photo twice is made once.
  const byHash = new Map<string, Thumbnail>();
  let embedded = 0;
  const hashes = [...photoBytes.keys()];
  for (let i = 0; i < hashes.length; i += 4) {
    const batch = hashes.slice(i, i + 4);
    const made = await Promise.all(batch.map((h) => makeThumbnail(photoBytes.get(h)!)));
    batch.forEach((h, j) => {
      const thumb = made[j]!;
      if (thumb.kind === 'image' && embedded + thumb.bytes > limits.maxThumbnailBytes) return;
      if (thumb.kind === 'image') embedded += thumb.bytes;
      byHash.set(h, thumb);
    });
  }
  const thumbnails = new Map<string, Thumbnail>();
  for (const f of photoFindings) {
    const thumb = f.evidence.sha256 ? byHash.get(f.evidence.sha256) : undefined;
    if (thumb) thumbnails.set(f.id, thumb);
  }

  const countries = new Map<string, { bytesUp: number; bytesDown: number; flows: number; findings: number; worst: Severity | null; hosts: string[] }>();
  for (const d of source.summary.destinations ?? []) {
    if (!d.country) continue;
    const c = countries.get(d.country) ?? { bytesUp: 0, bytesDown: 0, flows: 0, findings: 0, worst: null, hosts: [] };
    c.bytesUp += d.bytesUp ?? 0;
    c.bytesDown += d.bytesDown ?? 0;
    c.flows += d.flows ?? 0;
    c.hosts.push(d.host);
    countries.set(d.country, c);
  }
  for (const f of findings) {
    const code = f.destination?.country;
    if (!code) continue;
    const c = countries.get(code) ?? { bytesUp: 0, bytesDown: 0, flows: 0, findings: 0, worst: null, hosts: [f.host] };
    c.findings++;
    c.worst = worse(c.worst, f.severity);
    countries.set(code, c);
  }

  const hosts = new Map((source.summary.destinations ?? []).map((d) => [d.host, { country: d.country ?? null, bytesUp: d.bytesUp ?? 0 }]));
  return {
    source, findings, redacted, flows,
    marks: findings.map((f) => ({ time: Date.parse(f.time), host: f.host, severity: f.severity, id: f.id, label: f.summary })),
    devices: [...devices].sort(),
    countries,
    thumbnails,
    photosWithoutThumbnail: photoFindings.filter((f) => !thumbnails.has(f.id) || thumbnails.get(f.id)!.kind !== 'image').length,
    ...(options.baseline ? { comparison: compare(findings, hosts, source.title, options.baseline) } : {}),
    geoDatabases: geoDatabaseFacts(),
    builtAt: (options.now ?? new Date()).toISOString(),
  };
}

