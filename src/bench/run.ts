// `npm run bench`: the same load direct and through five subjects — two bare Node relays (the
// floor: bare-relay.ts), phonehome (the built CLI, every detector on, every flow recorded),
// mockttp (HTTP Toolkit's engine, mockttp-proxy.ts) and mitmproxy — each subject its own process
// pinned to one CPU, the load generator and origins (this process) on the others (pinning.ts).
// Each figure is the median of the rounds (3 unless --rounds) with the spread; each round starts
// every subject afresh, subjects interleaved so a slow minute on a shared machine hits them all.
// The output is one Markdown table and issue #24's goals, met or not.
//   npm run bench -- [--only bare-http,phonehome,mockttp] [--rounds 1] [--phonehome-only] [--detection]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CertificateAuthority } from '../proxy/ca/certificate-authority.js';
import { installRoot } from '../util/install-paths.js';
import { parseBenchOptions, type BenchOptions } from './options.js';
import { planCpus, tasksetPidArgs } from './pinning.js';
import { clockTicksPerSecond, processTreeTicks, statusMb } from './proc-cpu.js';
import { cpuMicrosPerRequest, cpuMillisPerMb, spreadOf, formatNumber } from './figures.js';
import { killAllSubjects, startSubject, type Subject } from './subjects.js';
import { startH2Origin, startOrigins, NEW_HOSTS, type Origins } from './origins.js';
import { CONCURRENCY, H2_STREAMS, MB, WEBSOCKET_MESSAGES, WEBSOCKET_MESSAGE_BYTES, h2Session, h2SmallRequests, h2Upload, memoryLoad, newHosts, smallRequests, throughput, warmUp, webSocketEcho } from './scenarios.js';
import { detectorThroughput, tuiFrameMs } from './in-process.js';
import { goalLines, goalVerdicts, markdownTable, rowSpecs, type Column, type ColumnFigures, type FigureKey } from './bench-table.js';

const LARGE_BYTES = Number(process.env['BENCH_LARGE_MB'] ?? 128) * MB;
const SMALL_SECONDS = Number(process.env['BENCH_SMALL_SECONDS'] ?? 3);
/** Small requests before the clock starts, on the same connections (scenarios.ts says why). */
const WARM_SECONDS = Number(process.env['BENCH_WARM_SECONDS'] ?? 2);

let options: BenchOptions;
try {
  options = parseBenchOptions(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}

// No subject outlives the bench, however it ends.
process.on('exit', killAllSubjects);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    process.stderr.write(`bench: ${signal}, stopping the subjects\n`);
    killAllSubjects();
    process.exit(130);
  });
}

const cpuCount = os.cpus().length;
const plan = planCpus(cpuCount, spawnSync('sh', ['-c', 'command -v taskset']).status === 0);
if (plan.pinned) {
  const moved = spawnSync('taskset', tasksetPidArgs(plan.loadCpus, process.pid), { encoding: 'utf8' });
  if (moved.status !== 0) process.stderr.write(`bench: warning: could not pin the load generator to CPU ${plan.loadCpus}: ${moved.stderr.trim()}\n`);
}
process.stderr.write(`bench: ${plan.note}\n`);
const ticksPerSecond = clockTicksPerSecond();

const detectorMBps = await detectorThroughput();
if (options.detectionOnly) {
  process.stdout.write(`detection engine, MB/s (1 core): ${detectorMBps.toFixed(0)} (goal >= 100: ${detectorMBps >= 100 ? 'met' : 'NOT met'})\n`);
  process.exit(0);
}
const uiFrameMs = await tuiFrameMs();

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-bench-'));
// After killAllSubjects (registered first): the folder goes however the bench ends.
process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));
const originCa = CertificateAuthority.loadOrCreate(path.join(work, 'origin-ca'));
const originCaFile = path.join(work, 'origin-ca.pem');
fs.writeFileSync(originCaFile, originCa.certPem);
const origins = await startOrigins(originCa);
const h2Origin = await startH2Origin(originCa);

type RoundFigures = Partial<Record<FigureKey, number>>;

/** Bytes in a folder and below it (0 when it does not exist yet). */
function folderBytes(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += folderBytes(full);
    else if (entry.isFile()) total += fs.statSync(full).size;
  }
  return total;
}

/** One round of every scenario against a started subject; a scenario that fails leaves its figures out and says why. */
async function measureRound(subject: Subject, origins: Origins, h2Port: number): Promise<RoundFigures> {
  const figures: RoundFigures = {};
  const pid = subject.pid;
  const step = async (name: string, run: () => Promise<void>): Promise<void> => {
    try {
      await run();
    } catch (error) {
      process.stderr.write(`bench: ${subject.id}: ${name} failed: ${(error as Error).message}\n`);
    }
  };
  const ticks = (): number | undefined => (pid === undefined ? undefined : processTreeTicks(pid));
  process.stderr.write(`bench: ${subject.id}…\n`);
  await step('warm-up', async () => {
    await warmUp(subject, origins.port);
    if (pid !== undefined) {
      // Idle: up, one flow done, then a second with nothing to do (workers finish loading their tables).
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const rss = statusMb(pid, 'VmRSS');
      if (rss !== undefined) figures.idleRss = rss;
    }
  });
  // The small-request phases come before any large body: a proxy still inspecting or writing a
  // 128 MB body would charge that CPU and disk to the small requests.
  await step('small requests', async () => {
    let diskBefore = 0;
    let before: number | undefined;
    const done = await smallRequests(subject, origins.port, SMALL_SECONDS, () => {
      before = ticks();
      // After the warm-up, whose flows are on disk too but not among the requests counted.
      diskBefore = subject.runDir ? folderBytes(subject.runDir) : 0;
    }, WARM_SECONDS);
    const after = ticks();
    figures.small = done.requests / done.seconds;
    if (done.warm.seconds > 0) figures.smallWarmUp = done.warm.requests / done.warm.seconds;
    if (before !== undefined && after !== undefined) {
      const cpu = cpuMicrosPerRequest(before, after, ticksPerSecond, done.requests);
      if (cpu !== undefined) figures.smallCpuUs = cpu;
    }
    // Every flow's line reaches the OS within a few ms of its end, so the folder's growth is theirs.
    if (subject.runDir) figures.diskPerSmallFlow = (folderBytes(subject.runDir) - diskBefore) / done.requests;
  });
  await step('new hosts', async () => {
    const times = await newHosts(subject, origins.port, origins.newHostIps);
    figures.newHostP50 = times.p50;
    figures.newHostP95 = times.p95;
  });
  await step('HTTP/2', async () => {
    const session = await h2Session(subject, h2Port);
    try {
      let before: number | undefined;
      const done = await h2SmallRequests(session, SMALL_SECONDS, () => { before = ticks(); }, WARM_SECONDS);
      const after = ticks();
      figures.h2Small = done.requests / done.seconds;
      if (before !== undefined && after !== undefined) {
        const cpu = cpuMicrosPerRequest(before, after, ticksPerSecond, done.requests);
        if (cpu !== undefined) figures.h2CpuUs = cpu;
      }
      figures.h2Upload = await h2Upload(session, LARGE_BYTES);
    } finally {
      session.close();
    }
  });
  await step('upload', async () => {
    let before: number | undefined;
    figures.upload = await throughput(subject, origins.port, 'upload', LARGE_BYTES, { warmBodies: 1, onClockStart: () => { before = ticks(); } });
    const after = ticks();
    if (before !== undefined && after !== undefined) {
      const cpu = cpuMillisPerMb(before, after, ticksPerSecond, LARGE_BYTES / MB);
      if (cpu !== undefined) figures.uploadCpuMs = cpu;
    }
  });
  await step('download', async () => { figures.download = await throughput(subject, origins.port, 'download', LARGE_BYTES); });
  await step('WebSocket', async () => {
    let before: number | undefined;
    const moved = await webSocketEcho(subject, origins.port, { onClockStart: () => { before = ticks(); } });
    const after = ticks();
    figures.webSocket = moved.megabytes / moved.seconds;
    if (before !== undefined && after !== undefined) {
      const cpu = cpuMillisPerMb(before, after, ticksPerSecond, moved.megabytes);
      if (cpu !== undefined) figures.webSocketCpuMs = cpu;
    }
  });
  if (pid !== undefined) {
    await step('memory (1 GB up, 200 MB slow down)', () => memoryLoad(subject, origins.port));
    const peak = statusMb(pid, 'VmHWM');
    if (peak !== undefined) figures.peakRss = peak;
  }
  return figures;
}

const columns: Column[] = ['direct', ...options.subjects];
const rounds = new Map<Column, RoundFigures[]>(columns.map((c) => [c, []]));
const startFailures = new Map<Column, string>();
const loadBefore = os.loadavg();
const startedAt = new Date();
for (let round = 1; round <= options.rounds; round++) {
  process.stderr.write(`bench: round ${round} of ${options.rounds}\n`);
  rounds.get('direct')!.push(await measureRound({ id: 'direct', trust: originCa.certPem, stop: async () => undefined }, origins, h2Origin.port));
  for (const id of options.subjects) {
    let subject: Subject;
    try {
      subject = await startSubject(id, plan, { work, originCaFile }, round);
    } catch (error) {
      const reason = (error as Error).message.split('\n')[0]!;
      process.stderr.write(`bench: ${id} did not start: ${reason}\n`);
      startFailures.set(id, reason);
      continue;
    }
    try {
      rounds.get(id)!.push(await measureRound(subject, origins, h2Origin.port));
    } finally {
      await subject.stop();
    }
  }
}
origins.close();
h2Origin.close();
const loadAfter = os.loadavg();

const results = new Map<Column, ColumnFigures>();
for (const column of columns) {
  const measured = rounds.get(column)!;
  const keys = new Set(measured.flatMap((r) => Object.keys(r) as FigureKey[]));
  const figures: ColumnFigures['figures'] = {};
  for (const key of keys) {
    const spread = spreadOf(measured.map((r) => r[key]));
    if (spread) figures[key] = spread;
  }
  const failed = measured.length === 0 ? startFailures.get(column) ?? 'no round measured' : undefined;
  results.set(column, failed ? { figures, failed } : { figures });
}

const mockttpVersion = ((): string => {
  try {
    // Read from the file: mockttp's exports map does not export its package.json.
    return (JSON.parse(fs.readFileSync(path.join(installRoot, 'node_modules', 'mockttp', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
})();
const mitmVersion = spawnSync('mitmdump', ['--version'], { encoding: 'utf8' }).stdout?.match(/Mitmproxy:\s*(\S+)/)?.[1] ?? 'not installed';
const partial = [...startFailures].filter(([column]) => (rounds.get(column)?.length ?? 0) > 0).map(([column, reason]) => `${column} missed a round: ${reason}`);
const output = [
  `## phonehome benchmark, ${startedAt.toISOString().slice(0, 10)}`,
  '',
  `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${cpuCount} CPUs, Node ${process.version}, mockttp ${mockttpVersion}, mitmproxy ${mitmVersion} (stream_large_bodies=1m). ${plan.note.charAt(0).toUpperCase()}${plan.note.slice(1)}.`,
  `Median of ${options.rounds} round${options.rounds === 1 ? '' : 's'} (min–max in brackets); each round starts every subject afresh. ${CONCURRENCY} connections for ${SMALL_SECONDS} s of small requests after ${WARM_SECONDS} s of them to warm up, ${NEW_HOSTS} new hosts, ${LARGE_BYTES / MB} MB bodies (the HTTPS upload timed after an untimed one of the same size). CPU per request: user + system time of the subject's process (every thread) and its children, from /proc, ${ticksPerSecond} ticks/s. Load average before ${loadBefore.map((l) => l.toFixed(1)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(1)).join(' ')}.`,
  ...partial.map((line) => `Note: ${line}.`),
  '',
  markdownTable(columns, results, rowSpecs(LARGE_BYTES / MB, CONCURRENCY, H2_STREAMS, WARM_SECONDS, { messages: WEBSOCKET_MESSAGES, kib: WEBSOCKET_MESSAGE_BYTES / 1024 })),
  '',
  `In the bench process (one load CPU): detection engine ${formatNumber(detectorMBps)} MB/s over a mixed corpus; terminal UI frame with 100,000 flows ${formatNumber(uiFrameMs, 1)} ms.`,
  '',
  'Goals (issue #24, medians):',
  '',
  goalLines(goalVerdicts(results, detectorMBps)),
];
process.stdout.write(`${output.join('\n')}\n`);
process.exit(0);
