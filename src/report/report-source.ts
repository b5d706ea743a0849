// What a report is made from: a run's summary, its findings and its flows — read from a run folder
// (flows.jsonl a line at a time, or flows.har for folders without it), or handed over in memory by
// `analyze --report`. Lines cut by a crash are skipped and counted, never fatal.

import fs from 'node:fs';
import path from 'node:path';
import { FINDINGS_FILE, FLOW_LOG, HAR_FILE, SUMMARY_FILE } from '../run/layout.js';
import { readRunRecord, type RunRecord } from '../run/run-record.js';
import { harEntryToFlow } from '../flow/har-reader.js';
import { harFileFlows } from '../flow/har-file-stream.js';
import type { Finding } from '../model/finding.js';
import type { Flow } from '../model/flow.js';
import { readFlowLog } from '../run/flow-log-reader.js';
import { readFindingsJsonl } from '../run/findings-reader.js';
import { ConfigError } from '../util/errors.js';

/** The parts of summary.json a report reads (every field optional: older and hand-made files too). */
export interface TlsVersionJson {
  readonly flows?: number;
  readonly hosts?: string[];
  readonly devices?: string[];
}

export interface RunSummary {
  readonly tool?: { readonly version?: string };
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly durationMs?: number;
  readonly insecureUpstream?: boolean;
  readonly options?: Record<string, unknown>;
  readonly flows?: Record<string, number>;
  readonly findings?: { readonly total?: number; readonly byCategory?: Record<string, number>; readonly bySeverity?: Record<string, number> };
  readonly destinations?: ReadonlyArray<{ host: string; ips?: string[]; country?: string | null; asn?: number | null; org?: string | null; flows?: number; bytesUp?: number; bytesDown?: number; findings?: number }>;
  readonly byCountry?: Record<string, { flows?: number; bytesUp?: number; bytesDown?: number; findings?: number; hosts?: string[] }>;
  readonly byNetwork?: Record<string, { flows?: number; bytesUp?: number; bytesDown?: number; findings?: number; hosts?: string[] }>;
  readonly passthrough?: { readonly configured?: string[]; readonly learned?: Array<{ host: string; time?: string; reason?: string; kind?: string }> };
  /** TLS versions spoken, per side (device with phonehome, phonehome with the server). */
  readonly tls?: { readonly client?: Record<string, TlsVersionJson>; readonly server?: Record<string, TlsVersionJson> };
  readonly coverage?: {
    readonly totals?: CoverageTotalsJson;
    readonly unseenByHost?: Record<string, CoverageTotalsJson>;
    /** DNS questions phonehome answered, and encrypted DNS it could not read (names not seen). */
    readonly dns?: { readonly queries?: number; readonly names?: number; readonly namesCapped?: boolean; readonly stripped?: number; readonly encrypted?: { readonly flows?: number; readonly hosts?: string[]; readonly bytes?: number; readonly decrypted?: number } };
    /** QUIC packets dropped by the WireGuard firewall (null: not counted), responses whose Alt-Svc lost its h3. */
    readonly quic?: { readonly dropped?: number | null; readonly altSvcH3Removed?: number };
  };
  readonly notes?: string[];
  readonly exitCode?: number;
}

export interface CoverageTotalsJson {
  readonly flows?: Record<string, number>;
  readonly bytesUp?: number;
  readonly bytesUpInspected?: number;
  readonly shareUpInspected?: number | null;
  readonly bytesDown?: number;
  readonly bytesDownInspected?: number;
}

export interface ReportSource {
  /** What the report is of: the run folder, or the HAR file analyzed. */
  readonly title: string;
  readonly summary: RunSummary;
  readonly findings: readonly Finding[];
  readonly run?: RunRecord;
  /** The flows, in recorded order; may be read more than once. */
  flows(): AsyncIterable<Flow>;
  /** Lines of findings.jsonl or flows.jsonl cut by a crash, left out. */
  readonly cutLines: () => number;
}

export async function runFolderSource(dir: string): Promise<ReportSource> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ConfigError(`${dir} is not a folder`);
  const summaryFile = path.join(dir, SUMMARY_FILE);
  if (!fs.existsSync(summaryFile)) throw new ConfigError(`${dir} has no summary.json (a run that was killed? phonehome recover ${dir} first)`);
  let summary: RunSummary;
  try {
    summary = JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as RunSummary;
  } catch (error) {
    throw new ConfigError(`${summaryFile} is not JSON: ${(error as Error).message}`);
  }
  if (!summary || typeof summary !== 'object') throw new ConfigError(`${summaryFile} is not a phonehome summary`);
  const cutFindings = { count: 0 };
  const findings: Finding[] = [];
  for await (const finding of readFindingsJsonl(path.join(dir, FINDINGS_FILE), cutFindings)) findings.push(finding);
  const cut = cutFindings.count;
  const flowLog = path.join(dir, FLOW_LOG);
  const har = path.join(dir, HAR_FILE);
  const skipped = { count: 0 };
  const flows = async function* (): AsyncGenerator<Flow> {
    skipped.count = 0;
    if (fs.existsSync(flowLog)) {
      let index = 0;
      for await (const entry of readFlowLog(flowLog, skipped)) yield harEntryToFlow(entry, index++);
      return;
    }
    if (!fs.existsSync(har)) return;
    // Entry by entry, in bounded memory, whatever the HAR's size.
    yield* harFileFlows(har);
  };
  const run = readRunRecord(dir);
  return { title: dir, summary, findings, ...(run ? { run } : {}), flows, cutLines: () => cut + skipped.count };
}

/** `analyze --report`: the flows read from the HAR, the findings and summary just made. */
export function memorySource(title: string, summary: RunSummary, findings: readonly Finding[], flows: readonly Flow[]): ReportSource {
  return {
    title, summary, findings,
    flows: async function* () { yield* flows; },
    cutLines: () => 0,
  };
}
