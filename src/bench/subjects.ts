// The proxies under test, each started as a process of its own on the subject CPU, and the one
// place that knows every process the bench started: whatever happens (a subject that never
// listens, an exception, Ctrl-C), none is left running when the bench ends.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { installRoot } from '../util/install-paths.js';
import { expandCpuList, pinnedCommand, type CpuPlan } from './pinning.js';
import { threadCpuLists } from './proc-cpu.js';
import { dnsNameForIp, type TlsNameFor } from './bench-agent.js';

/** The subjects `--only` may name, in the order the table shows them. */
export const SUBJECT_IDS = ['bare-pipe', 'bare-http', 'phonehome', 'phonehome-threads-2', 'mockttp', 'mitmproxy'] as const;
export type SubjectId = (typeof SUBJECT_IDS)[number];

export const SUBJECT_LABELS: Record<SubjectId, string> = {
  'bare-pipe': 'bare pipe relay',
  'bare-http': 'bare HTTP relay',
  phonehome: 'phonehome',
  'phonehome-threads-2': 'phonehome --threads 2',
  mockttp: 'mockttp',
  mitmproxy: 'mitmproxy',
};

export interface Subject {
  readonly id: SubjectId | 'direct';
  readonly proxyPort?: number;
  /** The CA (PEM) the client trusts: the subject's own, or the origins' for direct. */
  readonly trust: string;
  readonly pid?: number;
  /** The TLS name the client uses for an IP host, for a subject whose leaves carry DNS names only (bench-agent.ts). */
  readonly tlsNameFor?: TlsNameFor;
  /** phonehome's run folder, for the disk each flow costs. */
  readonly runDir?: string;
  stop(): Promise<void>;
}

/** Where the bench keeps its files, and the origins' CA file that every subject trusts upstream. */
export interface BenchPaths {
  readonly work: string;
  readonly originCaFile: string;
}

const running = new Set<ChildProcess>();
const STDERR_TAIL_BYTES = 2048;

/** How many subject processes are running now (none once the bench is done or a start failed). */
export function liveSubjectCount(): number {
  return [...running].filter((child) => child.pid !== undefined && child.exitCode === null && child.signalCode === null).length;
}

/** Kills every child still running, synchronously (for 'exit' and signal handlers). */
export function killAllSubjects(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  running.clear();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1');
    server.once('error', reject);
    server.once('listening', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when something accepts on `port`; rejects as soon as the child exits, or after `seconds`. */
async function waitForPort(port: number, child: ChildProcess, seconds: number, stderrTail: () => string): Promise<void> {
  // 'close', not 'exit': by then its stderr is read to the end, so the reason's last line is in the tail.
  const exited = once(child, 'close').then(([code, signal]) => {
    throw new Error(`exited during start-up (${signal ?? `code ${code}`})${stderrTail() ? `: ${stderrTail()}` : ''}`);
  });
  exited.catch(() => undefined);
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    // Polling a port that has no event to wait on; 100 ms between tries is the start-up's resolution.
    await Promise.race([new Promise((r) => setTimeout(r, 100)), exited]);
  }
  throw new Error(`nothing listened on port ${port} within ${seconds} s${stderrTail() ? `: ${stderrTail()}` : ''}`);
}

export function stopChild(child: ChildProcess): Promise<void> {
  // No pid: the command never started (spawn's 'error'), so there is nothing to wait for.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    running.delete(child);
    return Promise.resolve();
  }
  const exited = once(child, 'exit').then(() => { running.delete(child); });
  child.kill('SIGTERM');
  // A subject that ignores SIGTERM is killed after 10 s, so the bench always ends.
  const hard = setTimeout(() => child.kill('SIGKILL'), 10_000);
  return exited.finally(() => clearTimeout(hard));
}

/**
 * Starts `command args` on the plan's subject CPU and waits until it listens on `port`. On any
 * failure the child is stopped before the error (one line, with the end of its stderr) is thrown.
 */
export async function startPinned(plan: CpuPlan, command: string, args: string[], port: number, startSeconds: number, env: NodeJS.ProcessEnv = process.env): Promise<ChildProcess> {
  const pinned = pinnedCommand(plan, command, args);
  const child = spawn(pinned.command, pinned.args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  running.add(child);
  let tail = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => { tail = (tail + text).slice(-STDERR_TAIL_BYTES); });
  const spawnError = new Promise<never>((_, reject) => child.once('error', (error) => reject(new Error(`could not start ${command}: ${error.message}`))));
  spawnError.catch(() => undefined);
  const lastLine = (): string => tail.trim().split('\n').filter(Boolean).pop()?.slice(0, 200) ?? '';
  try {
    await Promise.race([waitForPort(port, child, startSeconds, lastLine), spawnError]);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  if (plan.pinned) {
    const want = expandCpuList(plan.subjectCpus).join(',');
    const off = threadCpuLists(child.pid!).filter((list) => expandCpuList(list).join(',') !== want);
    if (off.length > 0) process.stderr.write(`bench: warning: ${off.length} thread(s) of ${command} not on CPU ${plan.subjectCpus}: ${off.join(' ')}\n`);
  }
  return child;
}

function trustOf(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

/**
 * phonehome as built; `threads` 2: two proxy loops and the primary, all on the plan's subject
 * CPU(s) like every subject (on one pinned core that measures what the hand-off between them
 * costs; unpinned, what a second core gives). /proc's figures count the loops, its children.
 */
async function startPhonehome(plan: CpuPlan, paths: BenchPaths, round: number, threads = 1): Promise<Subject> {
  const port = await freePort();
  const caDir = path.join(paths.work, 'phonehome-ca');
  const runDir = path.join(paths.work, `phonehome-run-${round}${threads > 1 ? `-threads-${threads}` : ''}`);
  // As installed: the bin launcher, whose first line gives Node the V8 flags the command runs with.
  const child = await startPinned(plan, path.join(installRoot, 'bin', 'phonehome.js'), ['capture', '--listen', `127.0.0.1:${port}`, '--ca-dir', caDir, '--out', runDir, '--upstream-ca', paths.originCaFile, '--threads', String(threads)], port, 60);
  return { id: threads > 1 ? 'phonehome-threads-2' : 'phonehome', proxyPort: port, trust: trustOf(path.join(caDir, 'ca.pem')), pid: child.pid!, runDir, stop: () => stopChild(child) };
}

/** A bare Node relay (the floor): no recording, no inspection (bare-relay.ts). */
async function startBareRelay(plan: CpuPlan, paths: BenchPaths, mode: 'pipe' | 'http'): Promise<Subject> {
  const port = await freePort();
  const caDir = path.join(paths.work, 'bare-relay-ca');
  const child = await startPinned(plan, process.execPath, [fileURLToPath(new URL('./bare-relay.js', import.meta.url)), mode, String(port), caDir, paths.originCaFile], port, 30);
  return { id: `bare-${mode}`, proxyPort: port, trust: trustOf(path.join(caDir, 'ca.pem')), pid: child.pid!, stop: () => stopChild(child) };
}

async function startMockttp(plan: CpuPlan, paths: BenchPaths): Promise<Subject> {
  const port = await freePort();
  const caDir = path.join(paths.work, 'mockttp-ca');
  const child = await startPinned(plan, process.execPath, [fileURLToPath(new URL('./mockttp-proxy.js', import.meta.url)), String(port), caDir], port, 60, { ...process.env, NODE_EXTRA_CA_CERTS: paths.originCaFile });
  return { id: 'mockttp', proxyPort: port, trust: trustOf(path.join(caDir, 'ca.pem')), tlsNameFor: dnsNameForIp, pid: child.pid!, stop: () => stopChild(child) };
}

async function startMitmproxy(plan: CpuPlan, paths: BenchPaths): Promise<Subject> {
  if (spawnSync('sh', ['-c', 'command -v mitmdump']).status !== 0) throw new Error('mitmdump not installed (apt-get install -y mitmproxy)');
  const port = await freePort();
  const confdir = path.join(paths.work, 'mitmproxy');
  // stream_large_bodies: mitmproxy's fastest setting for large bodies (it buffers whole bodies by default).
  const child = await startPinned(plan, 'mitmdump', ['-q', '--listen-host', '127.0.0.1', '--listen-port', String(port), '--set', `confdir=${confdir}`, '--set', `ssl_verify_upstream_trusted_ca=${paths.originCaFile}`, '--set', 'stream_large_bodies=1m'], port, 60);
  return { id: 'mitmproxy', proxyPort: port, trust: trustOf(path.join(confdir, 'mitmproxy-ca-cert.pem')), pid: child.pid!, stop: () => stopChild(child) };
}

/** Starts one subject, pinned by the plan; throws a one-line reason when it cannot run. */
export function startSubject(id: SubjectId, plan: CpuPlan, paths: BenchPaths, round: number): Promise<Subject> {
  switch (id) {
    case 'bare-pipe': return startBareRelay(plan, paths, 'pipe');
    case 'bare-http': return startBareRelay(plan, paths, 'http');
    case 'phonehome': return startPhonehome(plan, paths, round);
    case 'phonehome-threads-2': return startPhonehome(plan, paths, round, 2);
    case 'mockttp': return startMockttp(plan, paths);
    case 'mitmproxy': return startMitmproxy(plan, paths);
  }
}
