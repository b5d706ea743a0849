// `phonehome analyze FILE.har [--out DIR] [--fail-on SEV]`: the detectors over a HAR file.
// Deterministic: findings take their time from the flow, ids are numbered in file order.

import fs from 'node:fs';
import path from 'node:path';
import { FindingPipeline } from '../app/finding-pipeline.js';
import { DestinationLookup } from '../enrich/destination-lookup.js';
import { loadCanaries } from '../inspect/canary/canary-file.js';
import { loadRules } from '../enrich/rules.js';
import { defaultRulesDir } from '../app/options.js';
import { toolVersion } from '../app/paths.js';
import { EventBus } from '../flow/events.js';
import { readHarFile } from '../flow/har-reader.js';
import { loadSqlite } from '../inspect/decode/sqlite.js';
import { defaultDetectors } from '../inspect/detect/registry.js';
import { parseSeverity, severities, severityRank, type Finding } from '../model/finding.js';
import { SummaryCollector, writeJsonAtomically } from '../sinks/summary.js';
import { ConfigError } from '../util/errors.js';
import type { Output } from './capture-command.js';

/** JSON.parse needs the whole file as one string; V8 strings stop at ~512 MiB. */
const MAX_HAR_BYTES = 400 * 1024 * 1024;

export async function runAnalyze(file: string, outDir: string | undefined, failOnText: string | undefined, io: Output, canariesFile?: string, rulesDir?: string, report = false): Promise<number> {
  const failOn = failOnText === undefined ? undefined : parseSeverity(failOnText);
  if (failOnText !== undefined && !failOn) throw new ConfigError(`--fail-on ${JSON.stringify(failOnText)}: use one of ${severities.join(', ')}`);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    throw new ConfigError(`${file}: ${(error as Error).message}`);
  }
  if (stat.size > MAX_HAR_BYTES) throw new ConfigError(`${file} is ${Math.round(stat.size / 1048576)} MiB; analyze reads HAR files up to ${MAX_HAR_BYTES / 1048576} MiB`);
  const read = readHarFile(fs.readFileSync(file, 'utf8'), file);
  const flows = read.flows;
  if (read.truncated) io.err(`phonehome: ${file} is cut short: read its ${flows.length} whole entr${flows.length === 1 ? 'y' : 'ies'}${read.droppedTail ? ', dropped the incomplete last one' : ''}`);
  await Promise.all([DestinationLookup.shared(), loadSqlite()]);

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
  const startedAt = new Date().toISOString();
  for (const flow of flows) {
    summary.addFlow(flow);
    pipeline.inspectNow(flow);
    // What the proxy said live about refused certificates and opaque tunnels, said again from the file.
    if (flow.kind === 'tls-failed' && flow.tags.includes('tls:certificate-rejected')) {
      bus.emit('tls:failed', { flowId: flow.id, time: flow.endedAt, client: flow.client, host: flow.target.host, port: flow.target.port, ...(flow.sni ? { sni: flow.sni } : {}), reason: flow.error ?? 'refused our certificate', learnedPassthrough: flow.tags.includes('passthrough:learned') });
    }
    if (flow.kind === 'tunnel') bus.emit('tunnel:end', flow);
  }
  const worst = Math.max(-1, ...findings.map((f) => severityRank(f.severity)));
  const exitCode = failOn !== undefined && worst >= severityRank(failOn) ? 3 : 0;
  const lines = findings.map((f) => `${JSON.stringify(f)}\n`).join('');
  const snapshot = summary.snapshot(
    { version: toolVersion, startedAt, options: { analyze: path.resolve(file), failOn: failOn ?? null }, insecureUpstream: false, passthroughConfigured: [] },
    { endedAt: new Date().toISOString(), learnedPassthrough: [], exitCode, failOn: failOn ?? null },
  );
  if (outDir) {
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, 'findings.jsonl'), lines);
    writeJsonAtomically(path.join(outDir, 'summary.json'), snapshot);
    io.err(`phonehome: ${flows.length} flow(s), ${findings.length} finding(s); files in ${outDir}`);
  } else {
    if (lines) io.out(lines.trimEnd());
    io.err(`phonehome: ${flows.length} flow(s), ${findings.length} finding(s)`);
  }
  if (report) {
    // Without --out the report goes next to the HAR file: capture.har -> capture.report.html.
    const reportFile = outDir ? path.join(outDir, 'report.html') : `${file.replace(/\.har$/i, '')}.report.html`;
    const { writeReport } = await import('../report/build-report.js');
    const { memorySource } = await import('../report/report-source.js');
    const written = await writeReport(memorySource(path.resolve(file), snapshot, findings, flows), path.resolve(reportFile));
    io.err(`phonehome: report: ${written.file}`);
  }
  return exitCode;
}
