// `phonehome decrypt RUN_DIR --keylog FILE…`: the ciphertext a run kept of its opaque connections
// (opaque.pcapng: pinned apps passed through, --passthrough hosts) opened with TLS keys obtained
// afterwards (Frida/friTap, PCAPdroid, SSLKEYLOGFILE, PiRogue). The sessions the keys open go
// through the same layers and detectors as live traffic and are added to the run as a new
// session: flow and finding ids go on after the last, flows are tagged `decrypted-later`, findings
// carry `decryptedLater: true`; flows.har, summary.json (and report.html when there was one) are
// rebuilt from the logs. Sessions without keys stay opaque: the run already has their tunnel
// flows, so they are only counted. Running it again with the same keys adds nothing twice.

import fs from 'node:fs';
import path from 'node:path';
import { ConnectionApps } from '../enrich/app/connection-apps.js';
import { EntityLookup } from '../enrich/entity/entity-lookup.js';
import { DestinationLookup } from '../enrich/destination-lookup.js';
import { loadRules } from '../enrich/rules.js';
import { EventBus } from '../flow/events.js';
import { harEntryToFlow } from '../flow/har-reader.js';
import type { RecordedSession } from '../capture-file/recorded-session.js';
import { loadSqlite } from '../inspect/decode/sqlite.js';
import { defaultDetectors } from '../inspect/detect/registry.js';
import { limits } from '../limits.js';
import type { Finding } from '../model/finding.js';
import type { Endpoint, Flow } from '../model/flow.js';
import { FindingsJsonlSink } from '../sinks/findings-jsonl-sink.js';
import { FlowLogSink } from '../sinks/flow-log-sink.js';
import { SummaryCollector } from '../sinks/summary.js';
import { ConfigError, describeError } from '../util/errors.js';
import { FindingPipeline } from '../app/finding-pipeline.js';
import { writeJsonAtomically } from './atomic-write.js';
import { readFlowLog } from './flow-log-reader.js';
import { buildHarWhenSmall } from './har-on-stop.js';
import { FINDINGS_FILE, FLOW_LOG, HAR_FILE, OPAQUE_FILE, SUMMARY_FILE } from './layout.js';
import { liveWriterOf } from './live-run-writer.js';
import { mergeKeylogFiles, type KeylogCounts } from './nss-keylog.js';
import { toolVersion } from '../util/install-paths.js';
import { recoverRun, replayRun } from './recover.js';
import { prepareRunFolder, runStateOf } from './run-folder.js';
import { readRunRecord, writeRunRecord, type RunRecord } from './run-record.js';

/** The tag every flow `decrypt` makes carries (findings of such flows are `decryptedLater`). */
export const DECRYPTED_LATER_TAG = 'decrypted-later';
/** Names the tunnel flow whose ciphertext a decrypted-later flow came from: `decrypted-later-of:fl-000012`. */
const OPENED_FROM_TAG = 'decrypted-later-of:';

/** The capture-file reader (src/capture-file/read-capture.ts): calls `onSession` for each TCP connection of the file. */
export type CaptureReader = (file: string, options: { keylogFiles: readonly string[]; onSession: (session: RecordedSession) => void }) => Promise<{ readonly problems?: readonly string[] } | void>;
/** The offline protocol layers (src/capture-file/session-to-flows.ts): one recorded connection's flows. */
export type SessionLayers = (session: RecordedSession, options: { bodyLimitBytes: number; tags: readonly string[] }) => Flow[];

export interface DecryptOptions {
  readonly keylogFiles: readonly string[];
  readonly readCapture: CaptureReader;
  readonly sessionToFlows: SessionLayers;
  /** Said as they happen: what was done to the folder first (recovery). */
  readonly notice?: (message: string) => void;
  readonly now?: () => Date;
}

interface SessionCount {
  sessions: number;
  /** Bytes on the wire (ciphertext), both ways. */
  bytes: number;
}

export interface DecryptResult {
  readonly keys: KeylogCounts;
  /** TLS sessions of opaque.pcapng the keys opened now. */
  readonly opened: SessionCount;
  /** Opened by an earlier `decrypt` of this run: not added again. */
  readonly alreadyOpened: SessionCount;
  /** TLS sessions no key opened: still opaque. */
  readonly withoutKeys: SessionCount;
  /** Connections of opaque.pcapng that carried no TLS (nothing for keys to open). */
  readonly notTls: SessionCount;
  /** Ids of the flows added, in order (the flows themselves went to flows.jsonl: bodies are not kept). */
  readonly flowIds: readonly string[];
  readonly findings: readonly Finding[];
  readonly reportRebuilt: boolean;
}

/** What a decrypted connection is known by in the run: its two endpoints. */
function connectionKey(client: Endpoint, server: Endpoint | undefined): string {
  return `${client.ip}:${client.port}>${server ? `${server.ip}:${server.port}` : '?'}`;
}

/** The facts of a tunnel flow a decrypted-later flow takes over: what the device asked for and how it came. */
interface TunnelFacts {
  readonly id: string;
  readonly target: Flow['target'];
  readonly mode?: Flow['mode'];
  readonly clientName?: string;
}

/** The run's capture options as run.json kept them: the last session that was a capture. */
function captureOptionsOf(record: RunRecord | undefined): Record<string, unknown> {
  const sessions = record?.sessions ?? [];
  for (let i = sessions.length - 1; i >= 0; i--) if (sessions[i]!.options['decrypt'] === undefined) return sessions[i]!.options;
  return {};
}

export async function decryptLater(dir: string, options: DecryptOptions): Promise<DecryptResult> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ConfigError(`${dir} is not a folder`);
  const writer = liveWriterOf(dir);
  if (writer !== undefined) throw new ConfigError(`${dir} is being written by a running capture (process ${writer}): stop it first, then decrypt`);
  const state = runStateOf(dir);
  if (state === 'none') throw new ConfigError(`${dir} holds no phonehome run (no run.json, flows.jsonl or findings.jsonl)`);
  const opaqueFile = path.join(dir, OPAQUE_FILE);
  if (!fs.existsSync(opaqueFile)) throw new ConfigError(`this run recorded no ciphertext (${OPAQUE_FILE}): run capture with --opaque-limit > 0`);
  if (options.keylogFiles.length === 0) throw new ConfigError('decrypt needs at least one --keylog FILE (NSS key log: SSLKEYLOGFILE, friTap, PCAPdroid, PiRogue)');
  const keys = await mergeKeylogFiles(options.keylogFiles);
  try {
    if (state === 'unfinished') {
      const recovered = await recoverRun(dir);
      options.notice?.(`${dir} held a run that did not stop cleanly: recovered ${recovered.flows} flow(s) and ${recovered.findings} finding(s) first`);
    }
    return await addDecryptedSession(dir, opaqueFile, keys.file, keys.counts, options);
  } finally {
    keys.remove();
  }
}

async function addDecryptedSession(dir: string, opaqueFile: string, keylogFile: string, keys: KeylogCounts, options: DecryptOptions): Promise<DecryptResult> {
  const now = options.now ?? (() => new Date());
  const prepared = await prepareRunFolder(dir, { append: true, force: false });
  const record = prepared.previous ?? readRunRecord(dir);
  const captured = captureOptionsOf(record);
  const redact = captured['redact'] === true;
  const bodyLimitBytes = typeof captured['bodyLimitBytes'] === 'number' ? captured['bodyLimitBytes'] : limits.defaultBodyLimitBytes;

  // What the log already says: the tunnels whose ciphertext this is, and the connections opened before.
  const tunnels = new Map<string, TunnelFacts>();
  const openedBefore = new Set<string>();
  for await (const entry of readFlowLog(path.join(dir, FLOW_LOG), { count: 0 })) {
    const flow = harEntryToFlow(entry, 0);
    if (flow.kind === 'tunnel') tunnels.set(`${flow.client.ip}:${flow.client.port}`, { id: flow.id, target: flow.target, ...(flow.mode ? { mode: flow.mode } : {}), ...(flow.client.name ? { clientName: flow.client.name } : {}) });
    if (flow.tags.includes(DECRYPTED_LATER_TAG)) openedBefore.add(connectionKey(flow.client, flow.destination));
  }

  await Promise.all([DestinationLookup.shared(), EntityLookup.shared(), loadSqlite()]);
  const rulesDir = (captured['rules'] as { dir?: unknown } | undefined)?.dir;
  const rules = typeof rulesDir === 'string' && fs.existsSync(rulesDir) ? loadRules(rulesDir, false) : [];
  const canariesFile = (captured['canaries'] as { file?: unknown } | null | undefined)?.file;
  const bus = new EventBus();
  const pipeline = new FindingPipeline(bus, { detectors: defaultDetectors, rules, lastFindingNumber: prepared.lastFindingNumber, ...(typeof canariesFile === 'string' && fs.existsSync(canariesFile) ? { canariesFile } : {}) });
  // Ids go on after the folder's last, whatever the layers numbered them (their counter is the process's).
  let lastFlowNumber = prepared.lastFlowNumber;

  const startedAt = now().toISOString();
  const run: RunRecord = record ?? { v: 1, tool: { name: 'phonehome', version: toolVersion }, insecureUpstream: false, passthroughConfigured: [], sessions: [], finished: true };
  const session = { startedAt, options: { decrypt: { capture: OPAQUE_FILE, keylogs: options.keylogFiles.map((f) => path.resolve(f)) } } as Record<string, unknown> };
  run.sessions.push(session);
  run.finished = false;
  writeRunRecord(dir, run);

  const writeProblems: string[] = [];
  const events = { failed: (message: string) => writeProblems.push(message), recovered: () => undefined };
  const files = { redact, backlogLimitBytes: limits.sinkBacklogBytes, retryMs: limits.sinkRetryMs };
  const flowLog = new FlowLogSink(path.join(dir, FLOW_LOG), events, files);
  const findingsSink = new FindingsJsonlSink(path.join(dir, FINDINGS_FILE), events, { ...files, insecureUpstream: run.insecureUpstream });
  const findings: Finding[] = [];
  bus.on('finding', (finding) => {
    findings.push(finding);
    findingsSink.write(finding);
  });
  bus.on('log', (entry) => options.notice?.(`${entry.level}: ${entry.message}`));

  const flowIds: string[] = [];
  const opened: SessionCount = { sessions: 0, bytes: 0 };
  const alreadyOpened: SessionCount = { sessions: 0, bytes: 0 };
  const withoutKeys: SessionCount = { sessions: 0, bytes: 0 };
  const notTls: SessionCount = { sessions: 0, bytes: 0 };
  const count = (into: SessionCount, s: RecordedSession): void => {
    into.sessions++;
    into.bytes += s.bytesUp + s.bytesDown;
  };
  // The app of each opened flow, as the live capture would have told it.
  const apps = new ConnectionApps();
  // Everything here is synchronous, so sessions are handled one at a time in the reader's order.
  const onSession = (recorded: RecordedSession): void => {
    if (!recorded.tls) return count(notTls, recorded);
    if (!recorded.tls.decrypted) return count(withoutKeys, recorded);
    if (openedBefore.has(connectionKey(recorded.client, recorded.server))) return count(alreadyOpened, recorded);
    count(opened, recorded);
    const tunnel = tunnels.get(`${recorded.client.ip}:${recorded.client.port}`);
    const tags = [DECRYPTED_LATER_TAG, ...(tunnel ? [`${OPENED_FROM_TAG}${tunnel.id}`] : [])];
    // The layers read it as a tap on the wire does (addresses only: URLs from Host and :authority);
    // what the device asked the proxy for comes from the tunnel flow afterwards.
    for (const made of options.sessionToFlows(recorded, { bodyLimitBytes, tags })) {
      const flow = apps.attribute(withTunnelFacts({ ...made, id: `fl-${String(++lastFlowNumber).padStart(6, '0')}` }, tunnel, tags));
      flowIds.push(flow.id);
      flowLog.write(flow);
      pipeline.inspectNow(flow);
    }
  };
  let problems: readonly string[] = [];
  try {
    problems = (await options.readCapture(opaqueFile, { keylogFiles: [keylogFile], onSession }))?.problems ?? [];
    // What tshark said of the file (a capture cut by a kill ends mid-block): said, and kept with the session.
    for (const problem of problems) options.notice?.(`${OPAQUE_FILE}: ${problem}`);
  } catch (error) {
    // Nothing added (tshark missing, a file it cannot read): the run is left as it was found.
    // Once flows were written, the run stays unfinished, so the next command recovers what they hold.
    if (flowIds.length === 0 && findings.length === 0) {
      run.sessions.pop();
      run.finished = true;
      writeRunRecord(dir, run);
    }
    throw error;
  } finally {
    await pipeline.close();
    for (const [name, sink] of [[FLOW_LOG, flowLog], [FINDINGS_FILE, findingsSink]] as const) {
      const stats = sink.close();
      if (stats.dropped > 0 || stats.pending > 0) writeProblems.push(`${name}: ${stats.dropped + stats.pending} line(s) could not be written (${stats.error ?? 'write failed'})`);
    }
  }
  if (writeProblems.length > 0) throw new Error(`${dir}: ${writeProblems.join('; ')} (run phonehome recover ${dir} when there is room)`);

  const facts = { opened, alreadyOpened, withoutKeys, notTls, flows: flowIds.length, findings: findings.length, ...(problems.length > 0 ? { problems } : {}) };
  Object.assign(session.options['decrypt'] as object, facts);
  const note = `phonehome decrypt at ${startedAt}: keys opened ${opened.sessions} of the ${opened.sessions + withoutKeys.sessions + alreadyOpened.sessions} TLS session(s) in ${OPAQUE_FILE} (${opened.bytes} bytes), ${withoutKeys.sessions} stayed opaque (${withoutKeys.bytes} bytes); ${flowIds.length} flow(s) and ${findings.length} finding(s) added`;
  await rebuildRunViews(dir, run, note);
  Object.assign(session, { endedAt: now().toISOString() });
  run.finished = true;
  writeRunRecord(dir, run);

  let reportRebuilt = false;
  if (fs.existsSync(path.join(dir, 'report.html'))) {
    const { reportRunFolder } = await import('../report/build-report.js');
    await reportRunFolder(dir, { redact });
    reportRebuilt = true;
  }
  return { keys, opened, alreadyOpened, withoutKeys, notTls, flowIds, findings, reportRebuilt };
}

/**
 * The layers know only addresses; the tunnel flow knows what the device asked for (the CONNECT or
 * SOCKS host), how it came and which WireGuard peer it was. The flow keeps its own facts where it has them.
 */
function withTunnelFacts(flow: Flow, tunnel: TunnelFacts | undefined, tags: readonly string[]): Flow {
  let allTags = [...flow.tags, ...tags.filter((t) => !flow.tags.includes(t))];
  if (!tunnel) return { ...flow, tags: allTags };
  const targetIsAddress = flow.target.host === flow.destination?.ip || /^[\d.]+$|:/.test(flow.target.host);
  if (targetIsAddress) {
    // The layers compared the SNI with the address; the live proxy compares it with the host asked for.
    allTags = allTags.filter((t) => t !== 'sni-mismatch');
    if (flow.sni && flow.sni !== tunnel.target.host) allTags.push('sni-mismatch');
  }
  return {
    ...flow,
    tags: allTags,
    ...(targetIsAddress ? { target: tunnel.target } : {}),
    ...(tunnel.mode ? { mode: tunnel.mode } : {}),
    ...(!flow.client.name && tunnel.clientName ? { client: { ...flow.client, name: tunnel.clientName } } : {}),
  };
}

/** The run's summary as it stands (its context is kept: the capture's options, start, end, notes). */
function readSummary(dir: string): Record<string, unknown> {
  try {
    const summary = JSON.parse(fs.readFileSync(path.join(dir, SUMMARY_FILE), 'utf8')) as unknown;
    return summary && typeof summary === 'object' && !Array.isArray(summary) ? summary as Record<string, unknown> : {};
  } catch {
    return {};
  }
}

/** summary.json (and flows.har when the run is small) made again from the two logs (as recover makes them), with `note` added to the summary's notes. */
async function rebuildRunViews(dir: string, run: RunRecord, note: string): Promise<void> {
  const previous = readSummary(dir);
  const summary = new SummaryCollector();
  const replayed = await replayRun(dir, summary);
  const startedAt = typeof previous['startedAt'] === 'string' ? previous['startedAt'] : run.sessions[0]?.startedAt ?? new Date(0).toISOString();
  const endedAt = typeof previous['endedAt'] === 'string' ? previous['endedAt'] : replayed.lastFlowEnd ?? startedAt;
  const options = previous['options'] && typeof previous['options'] === 'object' ? previous['options'] as Record<string, unknown> : captureOptionsOf(run);
  const facts = { version: run.tool.version, startedAt, insecureUpstream: run.insecureUpstream, options };
  let harNote: string | undefined;
  try {
    const har = await buildHarWhenSmall(dir, facts);
    if (!har.built) harNote = har.note;
  } catch (error) {
    throw new Error(`${HAR_FILE}: ${describeError(error)} (${FLOW_LOG} keeps every flow; run phonehome recover ${dir} when there is room)`);
  }
  const learned = (previous['passthrough'] as { learned?: unknown } | undefined)?.learned;
  const notes = Array.isArray(previous['notes']) ? previous['notes'].map(String) : [];
  writeJsonAtomically(path.join(dir, SUMMARY_FILE), summary.snapshot(
    { ...facts, passthroughConfigured: run.passthroughConfigured },
    {
      endedAt, learnedPassthrough: Array.isArray(learned) ? learned : replayed.learned, notes: [...notes, note, ...(harNote ? [harNote] : [])],
      ...(typeof previous['exitCode'] === 'number' ? { exitCode: previous['exitCode'] } : {}),
      ...(typeof previous['failOn'] === 'string' ? { failOn: previous['failOn'] } : {}),
      ...(previous['fleet'] && typeof previous['fleet'] === 'object' ? { fleet: previous['fleet'] as Record<string, unknown> } : {}),
    },
  ));
}
