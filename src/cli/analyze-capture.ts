// `phonehome analyze FILE.pcap|FILE.pcapng [--keylog FILE…]`: the detectors over a capture file.
// tshark reads the file in one pass (read-capture.ts); each TCP session becomes the Flows a live
// capture records (session-to-flows.ts), each DNS exchange a `dns` flow, and those go through the
// same pipeline, summary, files and report as `analyze FILE.har`. A TLS session no key opened is an
// opaque tunnel, counted per destination. Flows are not kept in memory: with --out they go to
// flows.jsonl as they come (flows.har is built from it when it is small, as a capture's stop does),
// and the report reads them back from the log.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toolVersion } from '../util/install-paths.js';
import type { RecordedDns } from '../capture-file/dns-exchanges.js';
import { readCaptureFile } from '../capture-file/read-capture.js';
import type { RecordedSession } from '../capture-file/recorded-session.js';
import { sessionToFlows } from '../capture-file/session-to-flows.js';
import { parseFailOn, startAnalysis } from './analysis-pipeline.js';
import { harEntryToFlow } from '../flow/har-reader.js';
import { limits } from '../limits.js';
import { severityRank } from '../model/finding.js';
import { newFlowId, type Flow } from '../model/flow.js';
import type { ReportSource } from '../report/report-source.js';
import { FlowLogSink } from '../sinks/flow-log-sink.js';
import { writeJsonAtomically } from '../run/atomic-write.js';
import { readFlowLog } from '../run/flow-log-reader.js';
import { buildHarWhenSmall } from '../run/har-on-stop.js';
import { FINDINGS_FILE, FLOW_LOG, SUMMARY_FILE } from '../run/layout.js';
import type { Output } from './capture-command.js';

const pcapMagics = [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1]; // microsecond and nanosecond pcap, either byte order
const pcapngMagic = 0x0a0d0d0a; // a Section Header Block, the same in both byte orders

/** True when the file starts like a pcap or pcapng file (by its first four bytes, not its name). */
export function isCaptureFile(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(4);
    if (fs.readSync(fd, head, 0, 4, 0) < 4) return false;
    const magic = head.readUInt32BE(0);
    return magic === pcapngMagic || pcapMagics.includes(magic);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export interface AnalyzeCaptureOptions {
  readonly outDir?: string;
  readonly failOnText?: string;
  readonly keylogFiles: readonly string[];
  readonly canariesFile?: string;
  readonly rulesDir?: string;
  readonly report: boolean;
  readonly bodyLimitBytes?: number;
}

export async function runAnalyzeCapture(file: string, options: AnalyzeCaptureOptions, io: Output): Promise<number> {
  const failOn = parseFailOn(options.failOnText);
  const bodyLimitBytes = options.bodyLimitBytes ?? limits.defaultBodyLimitBytes;
  const { bus, summary, findings, pipeline, attribute } = await startAnalysis(io, options.canariesFile, options.rulesDir);
  const startedAt = new Date().toISOString();

  // The flows go to a flow log as they come: in --out, or in a private folder when only the report needs them.
  const flowDir = options.outDir ?? (options.report ? fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-analyze-')) : undefined);
  if (options.outDir) fs.mkdirSync(options.outDir, { recursive: true });
  const writeProblems: string[] = [];
  const flowLog = flowDir ? new FlowLogSink(path.join(flowDir, FLOW_LOG), { failed: (message) => writeProblems.push(message), recovered: () => undefined }, { redact: false, backlogLimitBytes: limits.sinkBacklogBytes, retryMs: limits.sinkRetryMs }) : undefined;

  const counts = { flows: 0, opened: 0, plain: 0, opaque: 0, opaqueBytes: 0 };
  const take = (made: Flow): void => {
    const flow = attribute(made);
    counts.flows++;
    summary.addFlow(flow);
    flowLog?.write(flow);
    pipeline.inspectNow(flow);
    // What the proxy says live at the end of an opaque tunnel, said again from the file.
    if (flow.kind === 'tunnel') bus.emit('tunnel:end', flow);
  };
  const onSession = (session: RecordedSession): void => {
    if (session.tls && !session.tls.decrypted) {
      counts.opaque++;
      counts.opaqueBytes += session.bytesUp + session.bytesDown;
    } else if (session.tls) counts.opened++;
    else counts.plain++;
    for (const flow of sessionToFlows(session, { bodyLimitBytes })) take(flow);
  };
  let read: Awaited<ReturnType<typeof readCaptureFile>>;
  try {
    read = await readCaptureFile(file, { keylogFiles: options.keylogFiles, keepBytesPerDirection: bodyLimitBytes, onSession, onDns: (exchange) => take(dnsFlow(exchange)) });
  } finally {
    const stats = flowLog?.close();
    if (stats && (stats.dropped > 0 || stats.pending > 0)) writeProblems.push(`flows.jsonl: ${stats.dropped + stats.pending} line(s) could not be written (${stats.error ?? 'write failed'})`);
    await pipeline.close();
  }
  for (const problem of read.problems) io.err(`phonehome: ${file}: ${problem}`);
  for (const problem of writeProblems) io.err(`phonehome: ${problem}`);
  io.err(`phonehome: ${read.sessions} TCP session(s): ${counts.opened} TLS opened, ${counts.opaque} TLS without keys (${counts.opaqueBytes} bytes, opaque), ${counts.plain} not TLS; ${read.dns} DNS exchange(s)`);

  const worst = findings.reduce((most, f) => Math.max(most, severityRank(f.severity)), -1);
  const exitCode = failOn !== undefined && worst >= severityRank(failOn) ? 3 : 0;
  const lines = findings.map((f) => `${JSON.stringify(f)}\n`).join('');
  const recordedOptions = { analyze: path.resolve(file), keylogs: options.keylogFiles.map((f) => path.resolve(f)), failOn: failOn ?? null };
  const snapshot = summary.snapshot(
    { version: toolVersion, startedAt, options: recordedOptions, insecureUpstream: false, passthroughConfigured: [] },
    { endedAt: new Date().toISOString(), learnedPassthrough: [], exitCode, failOn: failOn ?? null },
  );
  if (options.outDir) {
    const har = await buildHarWhenSmall(options.outDir, { version: toolVersion, startedAt, insecureUpstream: false, options: recordedOptions });
    if (!har.built) io.err(`phonehome: ${har.note}`);
  }
  try {
    if (options.outDir) {
      fs.writeFileSync(path.join(options.outDir, FINDINGS_FILE), lines);
      writeJsonAtomically(path.join(options.outDir, SUMMARY_FILE), snapshot);
      io.err(`phonehome: ${counts.flows} flow(s), ${findings.length} finding(s); files in ${options.outDir}`);
    } else {
      if (lines) io.out(lines.trimEnd());
      io.err(`phonehome: ${counts.flows} flow(s), ${findings.length} finding(s)`);
    }
    if (options.report && flowDir) {
      const flowLog = path.join(flowDir, FLOW_LOG);
      // Without --out the report goes next to the capture: cap.pcap -> cap.report.html.
      const reportFile = options.outDir ? path.join(options.outDir, 'report.html') : `${file.replace(/\.pcap(ng)?$/i, '')}.report.html`;
      const { writeReport } = await import('../report/build-report.js');
      const source: ReportSource = { title: path.resolve(file), summary: snapshot, findings, flows: () => flowsOf(flowLog), cutLines: () => 0 };
      const written = await writeReport(source, path.resolve(reportFile));
      io.err(`phonehome: report: ${written.file}`);
    }
  } finally {
    if (flowDir && !options.outDir) fs.rmSync(flowDir, { recursive: true, force: true });
  }
  return exitCode;
}

/** A DNS exchange read from the file as the `dns` flow the live DNS listener records. */
function dnsFlow(exchange: RecordedDns): Flow {
  return {
    id: newFlowId(),
    kind: 'dns',
    startedAt: exchange.startedAt,
    endedAt: exchange.endedAt,
    durationMs: Math.max(0, Date.parse(exchange.endedAt) - Date.parse(exchange.startedAt)),
    client: exchange.client,
    mode: 'transparent',
    target: { host: exchange.server.ip, port: exchange.server.port },
    scheme: 'dns',
    destination: exchange.server,
    dns: exchange.dns,
    bytesUp: exchange.bytesUp,
    bytesDown: exchange.bytesDown,
    tags: [...exchange.tags],
  };
}

/** The flows of a flow log, in order (lines cut by a failed write skipped). */
async function* flowsOf(flowLog: string): AsyncGenerator<Flow> {
  let index = 0;
  for await (const entry of readFlowLog(flowLog, { count: 0 })) yield harEntryToFlow(entry, index++);
}
