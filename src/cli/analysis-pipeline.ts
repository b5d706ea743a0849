// What `analyze` sets up before its first flow, for a HAR and a capture file alike: the offline
// databases loaded, the canaries and rules checked (a bad file is a usage error before any work),
// the bus with the summary, the findings in file order and the finding pipeline on it, and the app
// attribution a live capture makes in its flow tracker.

import path from 'node:path';
import { FindingPipeline } from '../app/finding-pipeline.js';
import { defaultRulesDir } from '../app/options.js';
import { EntityLookup } from '../enrich/entity/entity-lookup.js';
import { DestinationLookup } from '../enrich/destination-lookup.js';
import { loadRules } from '../enrich/rules.js';
import { EventBus } from '../flow/events.js';
import { ConnectionApps } from '../enrich/app/connection-apps.js';
import type { Flow } from '../model/flow.js';
import { loadCanaries } from '../inspect/canary/canary-file.js';
import { loadSqlite } from '../inspect/decode/sqlite.js';
import { defaultDetectors } from '../inspect/detect/registry.js';
import { parseSeverity, severities, type Finding, type Severity } from '../model/finding.js';
import { SummaryCollector } from '../sinks/summary.js';
import { ConfigError } from '../util/errors.js';
import type { Output } from './capture-command.js';

export interface Analysis {
  readonly bus: EventBus;
  readonly summary: SummaryCollector;
  /** Every finding, in the order made (file order: ids are deterministic). */
  readonly findings: Finding[];
  readonly pipeline: FindingPipeline;
  /** A flow read from the file with the app that sent it (its own requests', or its connection's), as a live capture tells it. */
  readonly attribute: (flow: Flow) => Flow;
}

/** --fail-on, checked: undefined when not given. */
export function parseFailOn(text: string | undefined): Severity | undefined {
  if (text === undefined) return undefined;
  const failOn = parseSeverity(text);
  if (!failOn) throw new ConfigError(`--fail-on ${JSON.stringify(text)}: use one of ${severities.join(', ')}`);
  return failOn;
}

export async function startAnalysis(io: Output, canariesFile: string | undefined, rulesDir: string | undefined): Promise<Analysis> {
  await Promise.all([DestinationLookup.shared(), EntityLookup.shared(), loadSqlite()]);
  const bus = new EventBus();
  const summary = new SummaryCollector();
  const findings: Finding[] = [];
  bus.on('finding', (finding) => {
    findings.push(finding);
    summary.addFinding(finding);
  });
  bus.on('log', (entry) => io.err(`phonehome: ${entry.level}: ${entry.message}`));
  if (canariesFile) loadCanaries(canariesFile); // validate first: a bad file is a usage error
  const rules = loadRules(path.resolve(rulesDir ?? defaultRulesDir()), rulesDir !== undefined);
  const pipeline = new FindingPipeline(bus, { detectors: defaultDetectors, rules, ...(canariesFile ? { canariesFile } : {}) });
  const apps = new ConnectionApps();
  return { bus, summary, findings, pipeline, attribute: (flow) => apps.attribute(flow) };
}
