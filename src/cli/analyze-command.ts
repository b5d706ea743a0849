// `phonehome analyze FILE.har [--out DIR] [--fail-on SEV]`: the detectors over a HAR file.
// Deterministic: findings take their time from the flow, ids are numbered in file order.

import fs from 'node:fs';
import path from 'node:path';
import { toolVersion } from '../util/install-paths.js';
import { harFileFlows, type HarStreamEnd } from '../flow/har-file-stream.js';
import { severityRank } from '../model/finding.js';
import type { Flow } from '../model/flow.js';
import type { ReportSource } from '../report/report-source.js';
import { writeJsonAtomically } from '../run/atomic-write.js';
import { FINDINGS_FILE, SUMMARY_FILE } from '../run/layout.js';
import { ConfigError } from '../util/errors.js';
import type { Output } from './capture-command.js';
import { isCaptureFile, runAnalyzeCapture } from './analyze-capture.js';
import { parseFailOn, startAnalysis } from './analysis-pipeline.js';

export async function runAnalyze(file: string, outDir: string | undefined, failOnText: string | undefined, io: Output, canariesFile?: string, rulesDir?: string, report = false, keylogFiles: readonly string[] = []): Promise<number> {
  const failOn = parseFailOn(failOnText);
  // RUN_DIR/flows.har of a large run is left out on stop (one durable copy): built here, as asked.
  const { runLogBeside, buildRunHar } = await import('../run/run-har.js');
  const runLog = runLogBeside(file);
  if (runLog) {
    const built = await buildRunHar(path.dirname(path.resolve(file)));
    io.err(`phonehome: ${file} built from ${runLog} (${built.entries} flow(s))`);
  }
  try {
    fs.statSync(file);
  } catch (error) {
    throw new ConfigError(`${file}: ${(error as Error).message}`);
  }
  // A pcap or pcapng file (by its magic bytes) is read with tshark: analyze-capture.ts.
  if (isCaptureFile(file)) return runAnalyzeCapture(file, { ...(outDir !== undefined ? { outDir } : {}), ...(failOnText !== undefined ? { failOnText } : {}), keylogFiles, ...(canariesFile !== undefined ? { canariesFile } : {}), ...(rulesDir !== undefined ? { rulesDir } : {}), report }, io);
  if (keylogFiles.length > 0) throw new ConfigError(`--keylog is for capture files (pcap, pcapng); ${file} is not one`);
  const { bus, summary, findings, pipeline, attribute } = await startAnalysis(io, canariesFile, rulesDir);
  const startedAt = new Date().toISOString();
  // Entry by entry (har-file-stream.ts): a HAR of any size is read in bounded memory; no flow is kept.
  let flowCount = 0;
  let read: HarStreamEnd | undefined;
  for await (const entry of harFileFlows(file, file, (end) => { read = end; })) {
    const flow = attribute(entry);
    flowCount++;
    summary.addFlow(flow);
    pipeline.inspectNow(flow);
    // What the proxy said live about refused certificates and opaque tunnels, said again from the file.
    if (flow.kind === 'tls-failed' && flow.tags.includes('tls:certificate-rejected')) {
      bus.emit('tls:failed', { flowId: flow.id, time: flow.endedAt, client: flow.client, host: flow.target.host, port: flow.target.port, ...(flow.sni ? { sni: flow.sni } : {}), reason: flow.error ?? 'refused our certificate', learnedPassthrough: flow.tags.includes('passthrough:learned') });
    }
    if (flow.kind === 'tunnel') bus.emit('tunnel:end', flow);
  }
  for (const note of read?.notes ?? []) io.err(`phonehome: ${note}`);
  // A loop, not Math.max(...spread): a large HAR can give more findings than a call takes arguments.
  const worst = findings.reduce((most, f) => Math.max(most, severityRank(f.severity)), -1);
  const exitCode = failOn !== undefined && worst >= severityRank(failOn) ? 3 : 0;
  const lines = findings.map((f) => `${JSON.stringify(f)}\n`).join('');
  const snapshot = summary.snapshot(
    { version: toolVersion, startedAt, options: { analyze: path.resolve(file), failOn: failOn ?? null }, insecureUpstream: false, passthroughConfigured: [] },
    { endedAt: new Date().toISOString(), learnedPassthrough: [], exitCode, failOn: failOn ?? null },
  );
  if (outDir) {
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, FINDINGS_FILE), lines);
    writeJsonAtomically(path.join(outDir, SUMMARY_FILE), snapshot);
    io.err(`phonehome: ${flowCount} flow(s), ${findings.length} finding(s); files in ${outDir}`);
  } else {
    if (lines) io.out(lines.trimEnd());
    io.err(`phonehome: ${flowCount} flow(s), ${findings.length} finding(s)`);
  }
  if (report) {
    // Without --out the report goes next to the HAR file: capture.har -> capture.report.html.
    const reportFile = outDir ? path.join(outDir, 'report.html') : `${file.replace(/\.har$/i, '')}.report.html`;
    const { writeReport } = await import('../report/build-report.js');
    // The report reads the flows again from the file, as it reads a run folder's flow log.
    const source: ReportSource = { title: path.resolve(file), summary: snapshot, findings, flows: (): AsyncIterable<Flow> => harFileFlows(file), cutLines: () => 0 };
    const written = await writeReport(source, path.resolve(reportFile));
    io.err(`phonehome: report: ${written.file}`);
  }
  return exitCode;
}
