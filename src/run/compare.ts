// `phonehome compare BASE_DIR RUN_DIR`: what a run has that a baseline run has not, and what it
// no longer has — destinations, categories, findings — for scripts (the differential experiment:
// privacy setting on vs off, SIM in vs out, the new firmware vs the old). A finding is the same
// finding when its category, destination host, detector and evidence hash match, so the same photo
// sent twice is one thing, and a new photo is new. Apps and companies are compared too: an app
// that sends something in the run and nothing in the baseline, a company that receives findings
// now and received none before (issue #22: who sent it, who got it).

import { severityRank, type Finding, type Severity } from '../model/finding.js';
import type { AppAttribution, AppConfidence } from '../model/flow.js';
import type { RunView } from './run-view.js';

export type CompareLine =
  | { kind: 'destination'; change: 'new' | 'gone'; host: string; country: string | null; bytesUp: number }
  | { kind: 'category'; change: 'new' | 'gone'; category: string; findings: number }
  | { kind: 'finding'; change: 'new' | 'gone'; category: string; severity: Severity; host: string; detector: string; sha256: string | null; summary: string; id: string; flowId: string; country: string | null }
  | { kind: 'app'; change: 'new' | 'gone'; app: string; name: string | null; confidence: AppConfidence; evidence: string; findings: number; categories: string[]; hosts: string[] }
  | { kind: 'entity'; change: 'new' | 'gone'; entity: string; purpose: string | null; findings: number; categories: string[]; hosts: string[] }
  | { kind: 'summary'; base: string; run: string; newDestinations: number; goneDestinations: number; newCategories: string[]; goneCategories: string[]; newFindings: number; goneFindings: number; worstNew: Severity | null; newApps: number; goneApps: number; newEntities: number; goneEntities: number };

const confidenceRank: Record<AppConfidence, number> = { low: 0, medium: 1, high: 2 };

/** The findings of one app or one company in a run: how many, of what, to where; the app's best evidence. */
interface Party {
  findings: number;
  categories: Set<string>;
  hosts: Set<string>;
  best?: AppAttribution;
  purpose: string | null;
}

function partiesOf(findings: readonly Finding[], keyOf: (f: Finding) => string | null | undefined): Map<string, Party> {
  const parties = new Map<string, Party>();
  for (const f of findings) {
    const key = keyOf(f);
    if (!key) continue;
    const party = parties.get(key) ?? { findings: 0, categories: new Set<string>(), hosts: new Set<string>(), purpose: null };
    party.findings++;
    party.categories.add(f.category);
    party.hosts.add(f.host);
    // The strongest attribution of the app speaks for it; its purpose is the first one named.
    if (f.app && (!party.best || confidenceRank[f.app.confidence] > confidenceRank[party.best.confidence])) party.best = f.app;
    party.purpose ??= f.destination?.purpose ?? null;
    parties.set(key, party);
  }
  return parties;
}

/** The identity of a finding across runs. */
export function findingKey(finding: Finding): string {
  return [finding.category, finding.host, finding.detector, finding.evidence.sha256 ?? finding.summary].join('|');
}

export function compareRuns(base: RunView, run: RunView): CompareLine[] {
  const lines: CompareLine[] = [];
  for (const [host, d] of run.destinations) if (!base.destinations.has(host)) lines.push({ kind: 'destination', change: 'new', host, country: d.country, bytesUp: d.bytesUp });
  for (const [host, d] of base.destinations) if (!run.destinations.has(host)) lines.push({ kind: 'destination', change: 'gone', host, country: d.country, bytesUp: d.bytesUp });
  const count = (findings: readonly Finding[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const f of findings) m.set(f.category, (m.get(f.category) ?? 0) + 1);
    return m;
  };
  const baseCategories = count(base.findings);
  const runCategories = count(run.findings);
  for (const [category, n] of runCategories) if (!baseCategories.has(category)) lines.push({ kind: 'category', change: 'new', category, findings: n });
  for (const [category, n] of baseCategories) if (!runCategories.has(category)) lines.push({ kind: 'category', change: 'gone', category, findings: n });
  // Apps sending something, companies receiving something: new ones first, then the ones gone.
  const appKey = (f: Finding): string | undefined => f.app?.id;
  const entityKey = (f: Finding): string | null | undefined => f.destination?.entity;
  const baseApps = partiesOf(base.findings, appKey);
  const runApps = partiesOf(run.findings, appKey);
  const appLine = (app: string, p: Party, change: 'new' | 'gone'): CompareLine => ({ kind: 'app', change, app, name: p.best?.name ?? null, confidence: p.best!.confidence, evidence: p.best!.evidence, findings: p.findings, categories: [...p.categories], hosts: [...p.hosts] });
  for (const [app, p] of runApps) if (!baseApps.has(app)) lines.push(appLine(app, p, 'new'));
  for (const [app, p] of baseApps) if (!runApps.has(app)) lines.push(appLine(app, p, 'gone'));
  const baseEntities = partiesOf(base.findings, entityKey);
  const runEntities = partiesOf(run.findings, entityKey);
  const entityLine = (entity: string, p: Party, change: 'new' | 'gone'): CompareLine => ({ kind: 'entity', change, entity, purpose: p.purpose, findings: p.findings, categories: [...p.categories], hosts: [...p.hosts] });
  for (const [entity, p] of runEntities) if (!baseEntities.has(entity)) lines.push(entityLine(entity, p, 'new'));
  for (const [entity, p] of baseEntities) if (!runEntities.has(entity)) lines.push(entityLine(entity, p, 'gone'));
  const keys = (findings: readonly Finding[]): Map<string, Finding> => {
    const m = new Map<string, Finding>();
    for (const f of findings) if (!m.has(findingKey(f))) m.set(findingKey(f), f);
    return m;
  };
  const baseKeys = keys(base.findings);
  const runKeys = keys(run.findings);
  const describe = (f: Finding, change: 'new' | 'gone'): CompareLine => ({ kind: 'finding', change, category: f.category, severity: f.severity, host: f.host, detector: f.detector, sha256: f.evidence.sha256 ?? null, summary: f.summary, id: f.id, flowId: f.flowId, country: f.destination.country ?? null });
  const added = [...runKeys].filter(([k]) => !baseKeys.has(k)).map(([, f]) => f);
  const gone = [...baseKeys].filter(([k]) => !runKeys.has(k)).map(([, f]) => f);
  lines.push(...added.map((f) => describe(f, 'new')), ...gone.map((f) => describe(f, 'gone')));
  const worst = added.reduce<Severity | null>((w, f) => (w === null || severityRank(f.severity) > severityRank(w) ? f.severity : w), null);
  lines.push({
    kind: 'summary', base: base.dir, run: run.dir,
    newDestinations: lines.filter((l) => l.kind === 'destination' && l.change === 'new').length,
    goneDestinations: lines.filter((l) => l.kind === 'destination' && l.change === 'gone').length,
    newCategories: [...runCategories.keys()].filter((c) => !baseCategories.has(c)),
    goneCategories: [...baseCategories.keys()].filter((c) => !runCategories.has(c)),
    newFindings: added.length, goneFindings: gone.length, worstNew: worst,
    newApps: lines.filter((l) => l.kind === 'app' && l.change === 'new').length,
    goneApps: lines.filter((l) => l.kind === 'app' && l.change === 'gone').length,
    newEntities: lines.filter((l) => l.kind === 'entity' && l.change === 'new').length,
    goneEntities: lines.filter((l) => l.kind === 'entity' && l.change === 'gone').length,
  });
  return lines;
}
