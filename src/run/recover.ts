// `phonehome recover RUN_DIR`: rebuilds summary.json (and flows.har when the run is small, as a stop
// would: src/run/har-on-stop.ts) of a run that was killed, from what it had already made durable — flows.jsonl (every flow completed before the kill) and
// findings.jsonl (every finding made) — or, for folders of older versions, from the whole entries
// of flows.har.partial. Lines cut by the kill are left out and counted. A capture that finds an
// unfinished run in its --out runs this first.

import fs from 'node:fs';
import path from 'node:path';
import { EntityLookup } from '../enrich/entity/entity-lookup.js';
import { DestinationLookup } from '../enrich/destination-lookup.js';
import { harEntryToFlow, wholeEntriesOf } from '../flow/har-reader.js';
import type { Flow } from '../model/flow.js';
import type { LearnedHost } from '../model/learned-host.js';
import { SummaryCollector } from '../sinks/summary.js';
import { ConfigError } from '../util/errors.js';
import { toolVersion } from '../util/install-paths.js';
import { trimToWholeBlocks } from '../capture-file/pcapng-file.js';
import { writeJsonAtomically } from './atomic-write.js';
import { readFindingsJsonl } from './findings-reader.js';
import { readFlowLog } from './flow-log-reader.js';
import { harFactsOf } from './har-facts.js';
import { buildHarWhenSmall } from './har-on-stop.js';
import { FINDINGS_FILE, FLOW_LOG, HAR_PARTIAL_FILE, OPAQUE_FILE, SUMMARY_FILE } from './layout.js';
import { readRunRecord, writeRunRecord, type RunRecord } from './run-record.js';

export interface Recovered {
  readonly flows: number;
  readonly findings: number;
  /** Lines (or a HAR entry) cut by the crash, left out. */
  readonly cutFlowLines: number;
  readonly cutFindingLines: number;
  /** flows.har was built (a small run); else `phonehome har` builds it. */
  readonly harBuilt: boolean;
}

/** The run's summary.json as it stands, for the counters no flow carries (QUIC dropped); undefined when absent or unreadable. */
function previousSummary(dir: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, SUMMARY_FILE), 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Replays the durable files into a summary collector (also used by --append to go on counting). */
export async function replayRun(dir: string, summary: SummaryCollector): Promise<{ flows: number; findings: number; cutFlowLines: number; cutFindingLines: number; learned: LearnedHost[]; lastFlowEnd?: string }> {
  const cut = { count: 0 };
  let flows = 0;
  let lastFlowEnd: string | undefined;
  const learned: LearnedHost[] = [];
  summary.continueFrom(previousSummary(dir));
  for await (const entry of readFlowLog(path.join(dir, FLOW_LOG), cut)) {
    const flow: Flow = harEntryToFlow(entry, flows);
    summary.addFlow(flow);
    flows++;
    if (!lastFlowEnd || flow.endedAt > lastFlowEnd) lastFlowEnd = flow.endedAt;
    if (flow.kind === 'tls-failed' && flow.tags.includes('passthrough:learned')) learned.push({ host: flow.target.host, time: flow.endedAt, reason: flow.error ?? 'refused our certificate' });
  }
  let findings = 0;
  const cutFindings = { count: 0 };
  for await (const finding of readFindingsJsonl(path.join(dir, FINDINGS_FILE), cutFindings)) {
    summary.addFinding(finding);
    findings++;
  }
  const cutFindingLines = cutFindings.count;
  return { flows, findings, cutFlowLines: cut.count, cutFindingLines, learned, ...(lastFlowEnd ? { lastFlowEnd } : {}) };
}

/** `harOnStopMaxLogBytes`: flows.har is built up to this much flows.jsonl (default limits.harOnStopMaxLogBytes). */
export async function recoverRun(dir: string, options: { harOnStopMaxLogBytes?: number } = {}): Promise<Recovered> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ConfigError(`${dir} is not a folder`);
  const log = path.join(dir, FLOW_LOG);
  const legacyPartial = path.join(dir, HAR_PARTIAL_FILE);
  let salvagedFromHar = 0;
  if (!fs.existsSync(log)) {
    if (!fs.existsSync(legacyPartial)) throw new ConfigError(`${dir} holds no phonehome run to recover (no ${FLOW_LOG}, no ${HAR_PARTIAL_FILE})`);
    // An older version's half-written HAR: its whole entries become the flow log.
    const salvaged = wholeEntriesOf(fs.readFileSync(legacyPartial, 'utf8'));
    const entries = salvaged?.entries ?? [];
    fs.writeFileSync(log, entries.map((e) => `${JSON.stringify(e)}\n`).join(''), { mode: 0o644 });
    salvagedFromHar = salvaged?.droppedTail ? 1 : 0;
  }
  const record: RunRecord | undefined = readRunRecord(dir);
  // A kill can land inside a write of opaque.pcapng: the cut block goes, every whole one stays for decrypt.
  const opaque = path.join(dir, OPAQUE_FILE);
  let opaqueNote = '';
  if (fs.existsSync(opaque)) {
    try {
      const cut = trimToWholeBlocks(opaque);
      if (cut > 0) opaqueNote = `; ${cut} byte(s) of a block of ${OPAQUE_FILE} cut by the stop were left out`;
    } catch (error) {
      opaqueNote = `; ${OPAQUE_FILE} was left as it is (${(error as Error).message})`;
    }
  }
  await Promise.all([DestinationLookup.shared(), EntityLookup.shared()]);
  const summary = new SummaryCollector();
  const replayed = await replayRun(dir, summary);
  const cutFlowLines = replayed.cutFlowLines + salvagedFromHar;
  const session = record?.sessions.at(-1);
  const facts = harFactsOf(record);
  const startedAt = facts.startedAt;
  const endedAt = replayed.lastFlowEnd ?? startedAt;
  const note = `recovered after an unclean stop by phonehome recover: ${replayed.flows} flow(s), ${replayed.findings} finding(s)${cutFlowLines + replayed.cutFindingLines > 0 ? `; ${cutFlowLines} flow line(s) and ${replayed.cutFindingLines} finding line(s) cut by the stop were left out` : ''}${opaqueNote}`;
  const har = await buildHarWhenSmall(dir, facts, { comment: note, ...(options.harOnStopMaxLogBytes !== undefined ? { maxLogBytes: options.harOnStopMaxLogBytes } : {}) });
  writeJsonAtomically(path.join(dir, SUMMARY_FILE), summary.snapshot(
    { ...facts, passthroughConfigured: record?.passthroughConfigured ?? [] },
    { endedAt, learnedPassthrough: replayed.learned, notes: har.built ? [note] : [note, har.note] },
  ));
  if (record) {
    if (session) {
      session.endedAt ??= endedAt;
      session.recovered = true;
    }
    record.finished = true;
    writeRunRecord(dir, record);
  } else {
    writeRunRecord(dir, { v: 1, tool: { name: 'phonehome', version: toolVersion }, insecureUpstream: false, passthroughConfigured: [], sessions: [{ startedAt, endedAt, options: {}, recovered: true }], finished: true });
  }
  return { flows: replayed.flows, findings: replayed.findings, cutFlowLines, cutFindingLines: replayed.cutFindingLines, harBuilt: har.built };
}
