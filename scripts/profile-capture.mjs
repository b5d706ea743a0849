#!/usr/bin/env node
// CPU per small request and idle memory of a capture, for the hot-path work of issue #24.
//
//   node scripts/profile-capture.mjs [--subject phonehome|bare-http|bare-pipe] [--seconds 10] [--concurrency 10]
//        [--node-flag=--max-semi-space-size=8 ...] [--cpu-prof DIR] [--idle-seconds 3] [--fresh] [--installed]
//        [--warm 100] [--pin] [--upload MB [--uploads 3]] [--ws KB [--messages 400]] [--grpc KB [--messages 400]]
//        [--h2 STREAMS] [--alloc]
//        [--alloc-profile FILE [--promoted]]
//        [--capture-arg=ARG ...]
//   node scripts/profile-capture.mjs --summarize FILE.cpuprofile|FILE.heapprofile [--top 30]
//
// It starts an HTTPS origin (our own CA) in this process, the subject as a child process (the
// built CLI's `capture`, or the bench's bare HTTP relay from dist-bench/), reads the child's idle
// RSS once it listens, sends the bench's small requests (GET /small?size=64 over 10 keep-alive
// CONNECT tunnels) for a while, and divides the child's CPU time (utime+stime from /proc, per
// thread name: the proxy's main thread, the inspection worker, V8's helper threads that collect
// garbage, libuv's pool) by the requests served. The load generator shares the machine: the
// figures are CPU of the subject only, but wall-clock rates depend on what else runs.
// --fresh opens a new device connection (CONNECT and TLS) for every request instead of keeping 10 alive.
// --warm N: requests per connection before the clock starts (default 100; 1 measures a capture
// still warming up, as the first seconds after start are). --pin: the subject on CPU 0 and this
// load generator on CPU 1 (taskset), as `npm run bench` runs them (needs `npm run build:bench`).
// --upload MB: instead of small requests, POST bodies of MB megabytes (--uploads of them, one after
// another on one warm connection, as the bench's upload row does); it prints MB/s of each and the
// subject's CPU per MB (needs `npm run build:bench`). With --download the same bodies come the
// other way: GETs answered with MB megabytes (--chunked: in chunks, without a length).
// --ws KB: instead of small requests, one wss WebSocket through the CONNECT tunnel to an echo
// origin, binary messages of KB kibibytes (random) sent one at a time, each after the echo of the one before
// (--messages of them, after --warm 20: the bench's own WebSocket scenario, so it needs `npm run
// build:bench`); it prints the subject's CPU per message and per MB both ways.
// --grpc KB: instead of small requests, one gRPC call over HTTP/2 (through the tunnel, ALPN h2) to an
// origin that streams every message back as it comes: --messages framed messages of KB kibibytes
// (random) sent as fast as flow control allows, after a call of 20 untimed; it prints CPU per
// message (each way) and per MB both ways (needs `npm run build:bench`).
// --h2 STREAMS: the small requests on one HTTP/2 connection (ALPN h2 through the CONNECT tunnel)
// to an HTTP/2 origin, STREAMS of them at a time, as the bench's HTTP/2 row sends them (the bench
// uses 8; needs `npm run build:bench`); --warm then counts requests on that connection.
// --alloc: also the bytes the subject's main thread allocates on V8's heap per request (or per MB),
// counted by scripts/alloc-meter.cjs inside it: steadier than CPU time on a shared machine.
// --alloc-profile FILE (implies --alloc): V8's sampled allocation profile of the main thread over
// the same window, garbage included, written to FILE (.heapprofile: DevTools opens it; --summarize
// prints where the bytes were allocated). With --promoted the profile keeps only what outlived a
// young-generation collection (promoted, or still alive at the end): the objects that make
// scavenges slow and the old generation grow.
// --installed runs the command as installed (bin/phonehome.js, with the V8 flags of its first line)
// instead of `node dist/cli.js`; other node flags then go through NODE_OPTIONS.
// With --cpu-prof DIR the child writes V8 profiles (its main thread and each worker) on exit;
// --summarize prints the functions with the most self time in one of them.

import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { spawn, spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
};
const nodeFlags = args.filter((a) => a.startsWith('--node-flag=')).map((a) => a.slice('--node-flag='.length));
/** More arguments for `capture` (e.g. --capture-arg=--body-limit --capture-arg=64k). */
const captureArgs = args.filter((a) => a.startsWith('--capture-arg=')).map((a) => a.slice('--capture-arg='.length));

if (option('summarize')?.endsWith('.heapprofile')) {
  summarizeAllocations(option('summarize'), Number(option('top', 30)));
  process.exit(0);
}
if (option('summarize')) {
  summarize(option('summarize'), Number(option('top', 30)), Number(option('from', 0)), Number(option('to', Infinity)));
  process.exit(0);
}

const { CertificateAuthority } = await import(path.join(root, 'dist/proxy/ca/certificate-authority.js'));
const { TunnelAgent } = await import(path.join(root, 'dist/proxy/client/tunnel-agent.js'));

const subjectName = option('subject', 'phonehome');
const seconds = Number(option('seconds', 10));
const concurrency = Number(option('concurrency', 10));
const warmRequests = Number(option('warm', 100));
const uploadMb = Number(option('upload', 0));
const uploads = Number(option('uploads', 3));
const download = args.includes('--download');
const chunkedDownload = args.includes('--chunked');
const h2Streams = Number(option('h2', 0));
const wsKb = Number(option('ws', 0));
const grpcKb = Number(option('grpc', 0));
const wsMessages = Number(option('messages', 400));
const pin = args.includes('--pin') && os.cpus().length >= 2;
if (pin) {
  // Every thread of this load generator, with the bench's own arguments (npm run build:bench makes them).
  const { tasksetPidArgs } = await import(path.join(root, 'dist-bench/bench/pinning.js'));
  spawnSync('taskset', tasksetPidArgs('1', process.pid), { stdio: 'ignore' });
}
/** The subject's command, on CPU 0 when pinned (taskset runs it in its own process, same pid). */
const pinned = (command, commandArgs) => (pin ? ['taskset', ['-c', '0', command, ...commandArgs]] : [command, commandArgs]);
const idleSeconds = Number(option('idle-seconds', 3));
const profileDir = option('cpu-prof');
const ticksPerSecond = 100; // USER_HZ on Linux
const installed = args.includes('--installed') && !subjectName.startsWith('bare-');
if (installed && profileDir) {
  // Node refuses --cpu-prof in NODE_OPTIONS, and the launcher's first line cannot take more flags.
  process.stderr.write('profile-capture: --cpu-prof needs node\'s own command line: drop --installed and add --node-flag=--max-semi-space-size=2 for the same heap\n');
  process.exit(2);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-profile-'));
const originCa = CertificateAuthority.loadOrCreate(path.join(work, 'origin-ca'));
fs.writeFileSync(path.join(work, 'origin-ca.pem'), originCa.certPem);
const body = Buffer.alloc(64, 0x5a);
const leaf = originCa.issueLeaf('127.0.0.1');
const origin = https.createServer({ key: leaf.keyPem, cert: leaf.certPem, keepAliveTimeout: 30_000 }, (req, res) => {
  req.resume();
  req.on('end', () => {
    const size = /^\/download\?size=(\d+)$/.exec(req.url ?? '')?.[1];
    if (size === undefined) return void res.end(body);
    // --chunked: no length, so Node frames each write as a chunk (a server streaming its answer).
    res.writeHead(200, chunkedDownload ? {} : { 'content-length': size });
    writeBody(res, Number(size));
  });
});
origin.listen(0, '127.0.0.1');
await once(origin, 'listening');
const originPort = origin.address().port;
// --ws: the bench's echo on this origin (npm run build:bench).
if (wsKb > 0) (await import(path.join(root, 'dist-bench/bench/origins.js'))).echoWebSockets(origin);
/** The --grpc origin: each call's messages streamed back as they come, then grpc-status 0. */
const grpcOrigin = grpcKb > 0 ? (await import('node:http2')).createSecureServer({ key: leaf.keyPem, cert: leaf.certPem }) : undefined;
grpcOrigin?.on('stream', (stream) => {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.pipe(stream);
});
grpcOrigin?.listen(0, '127.0.0.1');
if (grpcOrigin) await once(grpcOrigin, 'listening');
const h2Origin = h2Streams > 0 ? await (await import(path.join(root, 'dist-bench/bench/origins.js'))).startH2Origin(originCa) : undefined;

const proxyPort = await freePort();
const caDir = path.join(work, 'ca');
const allocProfile = option('alloc-profile');
const alloc = args.includes('--alloc') || allocProfile !== undefined;
const profileFlags = [
  ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(profileDir)] : []),
  ...(alloc ? [`--require=${path.join(root, 'scripts/alloc-meter.cjs')}`] : []),
];
const bareRelay = { 'bare-http': 'http', 'bare-pipe': 'pipe' }[subjectName];
const childArgs = bareRelay
  ? [...nodeFlags, ...profileFlags, path.join(root, 'dist-bench/bench/bare-relay.js'), bareRelay, String(proxyPort), caDir, path.join(work, 'origin-ca.pem')]
  : [...nodeFlags, ...profileFlags, path.join(root, 'dist/cli.js'), 'capture', '--listen', `127.0.0.1:${proxyPort}`, '--ca-dir', caDir, '--out', path.join(work, 'run'), '--upstream-ca', path.join(work, 'origin-ca.pem'), ...captureArgs];
const childEnv = {
  ...process.env,
  ...(allocProfile ? { PHONEHOME_ALLOC_PROFILE: path.resolve(allocProfile) } : {}),
  ...(allocProfile && args.includes('--promoted') ? { PHONEHOME_ALLOC_PROFILE_PROMOTED: '1' } : {}),
};
const child = installed
  ? spawn(...pinned(path.join(root, 'bin/phonehome.js'), childArgs.slice(childArgs.indexOf(path.join(root, 'dist/cli.js')) + 1)), {
    stdio: ['ignore', 'ignore', alloc ? 'pipe' : 'inherit'], env: { ...childEnv, NODE_OPTIONS: [process.env.NODE_OPTIONS ?? '', ...nodeFlags, ...profileFlags].join(' ').trim() },
  })
  : spawn(...pinned(process.execPath, childArgs), { stdio: ['ignore', 'ignore', alloc ? 'pipe' : 'inherit'], env: childEnv });
/** The alloc meter's answers, in order; the rest of the child's stderr goes on to ours. */
const allocReports = [];
if (alloc) {
  let pending = '';
  child.stderr.on('data', (chunk) => {
    pending += chunk;
    let end;
    while ((end = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, end + 1);
      pending = pending.slice(end + 1);
      const bytes = /^alloc-meter: (\d+) bytes/.exec(line);
      if (bytes) allocReports.push(Number(bytes[1]));
      else process.stderr.write(line);
    }
  });
}
const allocReport = async () => {
  child.kill('SIGUSR2');
  const count = allocReports.length;
  while (allocReports.length === count) await once(child.stderr, 'data');
  return allocReports[count];
};
process.on('exit', () => child.kill('SIGKILL'));
await waitForPort(proxyPort, child);
const trust = fs.readFileSync(path.join(caDir, 'ca.pem'), 'utf8');

// Idle: after start-up, no traffic yet.
await new Promise((r) => setTimeout(r, idleSeconds * 1000));
const idleRssMb = status(child.pid, 'VmRSS');

const fresh = args.includes('--fresh');
const agent = new TunnelAgent(proxyPort, trust, { maxSockets: concurrency, ...(fresh ? { keepAlive: false } : {}) });
const get = () => new Promise((resolve, reject) => {
  const req = https.request({ host: '127.0.0.1', port: originPort, path: '/small?size=64', agent }, (res) => {
    res.resume();
    res.on('end', resolve);
    res.on('error', reject);
  });
  req.on('error', reject);
  req.end();
});
/** One POST of `bytes`, written with backpressure by the bench's own body pump (npm run build:bench). */
const { writeBody } = uploadMb > 0 ? await import(path.join(root, 'dist-bench/bench/body-pump.js')) : {};
const upload = (bytes) => new Promise((resolve, reject) => {
  const req = https.request({ host: '127.0.0.1', port: originPort, agent, ...(download ? { path: `/download?size=${bytes}` } : { path: '/upload', method: 'POST', headers: { 'content-length': bytes } }) }, (res) => {
    res.resume();
    res.on('end', resolve);
    res.on('error', reject);
  });
  req.on('error', reject);
  if (download) req.end();
  else writeBody(req, bytes);
});
/** The bench's own HTTP/2 connection through the subject, and its small GET on it. */
const scenarios = h2Origin || grpcOrigin || wsKb > 0 ? await import(path.join(root, 'dist-bench/bench/scenarios.js')) : undefined;
/** --grpc: the session through the subject, and one call of `count` messages streamed both ways. */
const grpcSession = grpcOrigin ? await scenarios.h2Session({ id: subjectName, proxyPort, trust }, grpcOrigin.address().port) : undefined;
const grpcMessage = grpcKb > 0 ? crypto.randomBytes(grpcKb * 1024) : undefined;
const grpcFramed = grpcMessage ? Buffer.concat([Buffer.from([0, ...new Uint8Array(new Uint32Array([grpcMessage.length]).buffer).reverse()]), grpcMessage]) : undefined;
const grpcCall = (count) => new Promise((resolve, reject) => {
  const stream = grpcSession.request({ ':method': 'POST', ':path': '/lab.Sync/Stream', 'content-type': 'application/grpc', te: 'trailers' });
  stream.on('data', () => undefined);
  stream.on('end', resolve);
  stream.on('error', reject);
  let sent = 0;
  const pump = () => {
    while (sent < count) {
      sent++;
      if (!stream.write(grpcFramed)) return void stream.once('drain', pump);
    }
    stream.end();
  };
  pump();
});
const h2 = h2Origin ? await scenarios.h2Session({ id: subjectName, proxyPort, trust }, h2Origin.port) : undefined;
const h2Get = () => scenarios.h2Request(h2, '/small?size=64');
// Warm: tunnels open, leaves issued, code optimized (HTTP/2: warmRequests in all, h2Streams at a
// time). --ws warms inside the bench's WebSocket scenario, which starts the clock itself.
if (grpcSession) {
  await grpcCall(Math.min(20, warmRequests));
} else if (h2) {
  let warmed = 0;
  await Promise.all(Array.from({ length: h2Streams }, async () => { while (warmed < warmRequests) { warmed++; await h2Get(); } }));
} else if (wsKb === 0) await Promise.all(Array.from({ length: concurrency }, async () => { for (let i = 0; i < (fresh ? Math.min(5, warmRequests) : warmRequests); i++) await get(); }));

let before;
let faultsBefore;
let windowFrom;
let started;
const startClock = () => {
  if (alloc) child.kill('SIGUSR2');
  before = threadTimes(child.pid);
  faultsBefore = minorFaults(child.pid);
  // Both V8's profile clock and hrtime are CLOCK_MONOTONIC in microseconds here: --from/--to of --summarize.
  windowFrom = process.hrtime.bigint() / 1000n;
  started = performance.now();
};
let done = 0;
const rates = [];
if (wsKb > 0) {
  // One wss WebSocket, random bytes (as a photo's or an encrypted blob's: a run of one letter is
  // text to the decoders, and some read it at length), each message after the echo of the one before.
  await scenarios.webSocketEcho({ id: subjectName, proxyPort, trust }, originPort, { messages: wsMessages, warm: Math.min(20, warmRequests), messageBytes: wsKb * 1024, onClockStart: startClock });
  done = wsMessages;
} else if (grpcSession) {
  startClock();
  await grpcCall(wsMessages);
  done = wsMessages;
} else if (uploadMb > 0) {
  startClock();
  for (let i = 0; i < uploads; i++) {
    const at = performance.now();
    await upload(uploadMb * 1024 * 1024);
    rates.push(uploadMb / ((performance.now() - at) / 1000));
    done++;
  }
} else if (h2) {
  startClock();
  done = (await scenarios.repeatFor(seconds, h2Streams, h2Get)).requests;
} else {
  startClock();
  const until = started + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < until) {
      await get();
      done++;
    }
  }));
}
const elapsed = (performance.now() - started) / 1000;
const windowTo = process.hrtime.bigint() / 1000n;
const after = threadTimes(child.pid);
const faults = minorFaults(child.pid) - faultsBefore;
const allocated = alloc ? await allocReport() : undefined;
const loadedRssMb = status(child.pid, 'VmRSS');
grpcSession?.destroy();
agent.destroy();
h2?.destroy();

const perThread = new Map();
for (const [tid, { name, ticks }] of after) {
  const delta = ticks - (before.get(tid)?.ticks ?? 0);
  perThread.set(name, (perThread.get(name) ?? 0) + delta);
}
const totalTicks = [...perThread.values()].reduce((a, b) => a + b, 0);
const usPerRequest = (ticks) => ((ticks / ticksPerSecond) * 1e6) / done;
const msPerMb = (ticks) => ((ticks / ticksPerSecond) * 1e3) / (done * uploadMb);
const wsMb = (done * 2 * (wsKb || grpcKb)) / 1024;
const lines = grpcSession ? [
  `subject ${subjectName}${installed ? ' (as installed: bin/phonehome.js)' : ''}${pin ? ' (pinned to CPU 0)' : ''}, one gRPC call of ${done} messages of ${grpcKb} KiB each way in ${elapsed.toFixed(1)} s ${nodeFlags.join(' ')}`.trim(),
  `cpu per message ${usPerRequest(totalTicks).toFixed(1)} us (all threads; the message and its echo), ${(((totalTicks / ticksPerSecond) * 1e3) / wsMb).toFixed(2)} ms per MB`,
  ...[...perThread].filter(([, t]) => t > 0).sort((a, b) => b[1] - a[1]).map(([name, t]) => `  ${name.padEnd(18)} ${usPerRequest(t).toFixed(1)} us`),
] : wsKb > 0 ? [
  `subject ${subjectName}${installed ? ' (as installed: bin/phonehome.js)' : ''}${pin ? ' (pinned to CPU 0)' : ''}, ${done} WebSocket messages of ${wsKb} KiB each way in ${elapsed.toFixed(1)} s ${nodeFlags.join(' ')}`.trim(),
  `cpu per message ${usPerRequest(totalTicks).toFixed(1)} us (all threads; the message and its echo), ${(((totalTicks / ticksPerSecond) * 1e3) / wsMb).toFixed(2)} ms per MB`,
  ...[...perThread].filter(([, t]) => t > 0).sort((a, b) => b[1] - a[1]).map(([name, t]) => `  ${name.padEnd(18)} ${usPerRequest(t).toFixed(1)} us`),
] : uploadMb > 0 ? [
  `subject ${subjectName}${installed ? ' (as installed: bin/phonehome.js)' : ''}${pin ? ' (pinned to CPU 0)' : ''}, ${uploads} ${download ? 'downloads' : 'uploads'} of ${uploadMb} MB ${nodeFlags.join(' ')}`.trim(),
  `MB/s ${rates.map((r) => r.toFixed(0)).join(', ')}`,
  `cpu per MB ${msPerMb(totalTicks).toFixed(2)} ms (all threads)`,
  ...[...perThread].filter(([, t]) => t > 0).sort((a, b) => b[1] - a[1]).map(([name, t]) => `  ${name.padEnd(18)} ${msPerMb(t).toFixed(2)} ms`),
  `minor page faults per MB ${(faults / (done * uploadMb)).toFixed(0)} (memory touched for the first time: steadier than CPU time here)`,
] : [
  `subject ${subjectName}${installed ? ' (as installed: bin/phonehome.js)' : ''}${fresh ? ' (a new connection per request)' : ''}${h2 ? ` (HTTP/2, ${h2Streams} streams on one connection)` : ''}${pin ? ' (pinned to CPU 0)' : ''}, ${warmRequests} warm-up requests per connection ${nodeFlags.join(' ')}`.trim(),
  `requests ${done} in ${elapsed.toFixed(1)} s = ${(done / elapsed).toFixed(0)}/s`,
  `cpu per request ${usPerRequest(totalTicks).toFixed(1)} us (all threads)`,
  ...[...perThread].filter(([, t]) => t > 0).sort((a, b) => b[1] - a[1]).map(([name, t]) => `  ${name.padEnd(18)} ${usPerRequest(t).toFixed(1)} us`),
];
if (allocated !== undefined) lines.push(uploadMb > 0 ? `main thread allocated ${(allocated / (done * uploadMb) / 1024).toFixed(1)} kB per MB on V8's heap` : `main thread allocated ${(allocated / done / 1024).toFixed(1)} kB per request on V8's heap`);
lines.push(
  `load window --from ${windowFrom} --to ${windowTo}`,
  `idle RSS ${idleRssMb.toFixed(1)} MB, after load ${loadedRssMb.toFixed(1)} MB, peak ${status(child.pid, 'VmHWM').toFixed(1)} MB`,
);
process.stdout.write(lines.join('\n') + '\n');

child.kill('SIGTERM');
await once(child, 'exit');
origin.closeAllConnections();
origin.close();
h2Origin?.close();
grpcOrigin?.close();
fs.rmSync(work, { recursive: true, force: true });

// ---- helpers ------------------------------------------------------------------------------------

function status(pid, field) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1]) / 1024;
}

/**
 * The process's minor page faults so far (all its threads): each is a page of memory touched for
 * the first time, which a virtual machine's host may serve slowly (uploads: the capture's buffers).
 */
function minorFaults(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
}

/** utime+stime in clock ticks per thread id, with the thread's name. */
function threadTimes(pid) {
  const times = new Map();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Node 20 leaves every thread named "node": the main thread is the one whose id is the pid.
      times.set(tid, { name: tid === String(pid) ? 'main thread' : `${name} thread ${tid}`, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return times;
}

async function freePort() {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = server.address().port;
  server.close();
  return port;
}

async function waitForPort(port, proc) {
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error('the subject exited during start-up');
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

/** A profile node's function as the summaries name it: name, and file:line under dist/ or node_modules/. */
function keyOf(frame) {
  return `${frame.functionName || '(anonymous)'} ${frame.url ? `${frame.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${frame.lineNumber + 1}` : ''}`.trim();
}

/** The `top` largest entries of `map` as percentages of `total`, under a title. */
function printShares(title, map, total, top) {
  process.stdout.write(`${title}\n`);
  for (const [key, amount] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${((amount / total) * 100).toFixed(1).padStart(5)}%  ${key}\n`);
}

/**
 * Self time per function (and file:line) of a .cpuprofile, largest first, within the load window;
 * then total time (self and callees) of our own functions (dist/), which says which step costs.
 */
function summarize(file, top, from, to) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const self = new Map();
  const inclusive = new Map();
  let total = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (at < from || at > to) continue;
    const node = byId.get(profile.samples[i]);
    total += dt;
    self.set(keyOf(node.callFrame), (self.get(keyOf(node.callFrame)) ?? 0) + dt);
    const seen = new Set();
    for (let id = node.id; id !== undefined; id = parentOf.get(id)) {
      const f = byId.get(id).callFrame;
      if (!f.url.includes('/dist/')) continue;
      const key = keyOf(f);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
    }
  }
  process.stdout.write(`${file}: ${(total / 1000).toFixed(0)} ms sampled\n`);
  printShares('self time:', self, total, top);
  printShares('total time of our functions:', inclusive, total, top);
}

/** Bytes allocated per function of a sampled allocation profile (.heapprofile), self and inclusive for our own. */
function summarizeAllocations(file, top) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const self = new Map();
  const inclusive = new Map();
  let total = 0;
  const walk = (node, ours) => {
    const key = keyOf(node.callFrame);
    const mine = node.callFrame.url.includes('/dist/') && !ours.includes(key) ? [...ours, key] : ours;
    total += node.selfSize;
    self.set(key, (self.get(key) ?? 0) + node.selfSize);
    for (const k of mine) inclusive.set(k, (inclusive.get(k) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child, mine);
  };
  walk(profile.head, []);
  process.stdout.write(`${file}: ${(total / 1048576).toFixed(1)} MB sampled\n`);
  printShares('allocated by (self):', self, total, top);
  printShares('allocated under our functions:', inclusive, total, top);
}
