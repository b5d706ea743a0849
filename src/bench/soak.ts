// A soak run: `phonehome capture` as its own process under steady mixed traffic — HTTPS uploads,
// a WebSocket that stays open, a pinned client that refuses our certificate, SMTP raw streams —
// for a given time, sampling its RSS and open file descriptors. At the end it stops the capture
// and checks that every flow the clients completed is in flows.jsonl and that flows.har is whole.
// `npm run soak -- 30` runs 30 minutes and prints the curve; test/e2e/soak.test.ts runs a short
// one in CI and asserts the same properties.

import fs from 'node:fs';
import readline from 'node:readline';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import tls from 'node:tls';
import { once } from 'node:events';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { WebSocket, WebSocketServer } from 'ws';
import { CertificateAuthority } from '../proxy/ca/certificate-authority.js';
import { installRoot } from '../util/install-paths.js';
import { connectTunnel, TunnelAgent } from '../proxy/client/tunnel-agent.js';

export interface SoakSample {
  readonly seconds: number;
  readonly rssMb: number;
  readonly fds: number;
  readonly flows: number;
}

export interface SoakResult {
  readonly samples: SoakSample[];
  readonly completed: number;
  readonly recorded: number;
  readonly missing: number;
  readonly exitCode: number | null;
}

function procStatus(pid: number): { rssMb: number; fds: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssMb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024, fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

/** The soak's origin: HTTPS on 127.0.0.1 answering every request with a small JSON, and a WebSocket echo on it. */
export async function startSoakOrigin(work: string): Promise<{ originCa: CertificateAuthority; port: number; close(): void }> {
  const originCa = CertificateAuthority.loadOrCreate(path.join(work, 'origin-ca'));
  fs.writeFileSync(path.join(work, 'origin-ca.pem'), originCa.certPem);
  const leaf = originCa.issueLeaf('127.0.0.1');
  const origin = https.createServer({ key: leaf.keyPem, cert: leaf.certPem, keepAliveTimeout: 30_000 }, (req, res) => { req.resume(); req.on('end', () => res.end('{"ok":true}')); });
  const wss = new WebSocketServer({ server: origin });
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  return { originCa, port: (origin.address() as net.AddressInfo).port, close: () => { origin.closeAllConnections(); origin.close(); } };
}

/**
 * `phonehome capture` as its own process, started as installed (bin/phonehome.js, whose first line
 * gives Node its memory flags), trusting the soak origin's CA (written by startSoakOrigin);
 * resolves once it listens.
 */
export async function startCapture(work: string, out: string): Promise<{ child: ChildProcess; proxyPort: number; trust: string }> {
  const proxyPort = await new Promise<number>((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); }); });
  const child = spawn(path.join(installRoot, 'bin', 'phonehome.js'), ['capture', '--listen', `127.0.0.1:${proxyPort}`, '--ca-dir', path.join(work, 'ca'), '--out', out, '--upstream-ca', path.join(work, 'origin-ca.pem')], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (c: Buffer) => { text += c.toString(); if (text.includes('listening on')) resolve(); });
    child.once('exit', (code) => reject(new Error(`capture exited ${code}`)));
  });
  child.stdout!.resume();
  return { child, proxyPort, trust: fs.readFileSync(path.join(work, 'ca', 'ca.pem'), 'utf8') };
}

/** Stops the capture with SIGTERM and waits for its exit code (the files are whole then). */
export async function stopCapture(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  const [exitCode] = (await once(child, 'exit')) as [number | null];
  return exitCode;
}

/**
 * The flows of each kind in a stopped run's flows.jsonl, read a line at a time (a 30-minute log is
 * larger than one string may be); `harWhole` says whether flows.har ends its entries and its log
 * (past 64 MiB of flows.jsonl the stop leaves it out, and `phonehome har` builds it here).
 */
export async function recordedFlows(out: string): Promise<{ byKind: Map<string, number>; harWhole: boolean }> {
  const byKind = new Map<string, number>();
  for await (const line of readline.createInterface({ input: fs.createReadStream(path.join(out, 'flows.jsonl'), { encoding: 'utf8' }), crlfDelay: Infinity })) {
    if (!line) continue;
    const { kind, part } = (JSON.parse(line) as { _phonehome: { kind: string; part?: { last: boolean } } })._phonehome;
    // A long-lived WebSocket is written in parts: it counts once, by the part written when it closed.
    if (part && !part.last) continue;
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
  }
  const har = path.join(out, 'flows.har');
  if (!fs.existsSync(har)) spawnSync(process.execPath, [path.join(installRoot, 'dist', 'cli.js'), 'har', out], { stdio: ['ignore', 'ignore', 'inherit'] });
  const tail = Buffer.alloc(5);
  const fd = fs.openSync(har, 'r');
  fs.readSync(fd, tail, 0, 5, Math.max(0, fs.statSync(har).size - 5));
  fs.closeSync(fd);
  return { byKind, harWhole: tail.toString() === '\n]}}\n' };
}

export async function soak(options: { seconds: number; sampleEverySeconds: number; onSample?: (s: SoakSample) => void }): Promise<SoakResult> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-soak-'));
  const { originCa, port, close: closeOrigin } = await startSoakOrigin(work);
  const smtp = net.createServer((s) => { s.on('error', () => undefined); s.write('220 soak\r\n'); s.on('data', (c: Buffer) => { if (c.toString().startsWith('QUIT')) s.end('221 bye\r\n'); else s.write('250 ok\r\n'); }); });
  smtp.listen(0, '127.0.0.1');
  await once(smtp, 'listening');
  const smtpPort = (smtp.address() as net.AddressInfo).port;

  const out = path.join(work, 'run');
  const { child, proxyPort, trust } = await startCapture(work, out);
  const agent = new TunnelAgent(proxyPort, trust, { maxSockets: 4 });
  const ws = new WebSocket(`wss://127.0.0.1:${port}/live`, { agent: new TunnelAgent(proxyPort, trust) });
  await once(ws, 'open');

  let completed = 0;
  let stop = false;
  const started = Date.now();
  const body = Buffer.alloc(50 * 1024, 0x61);
  const step = async (i: number): Promise<void> => {
    await new Promise<void>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, path: `/upload/${i}`, method: 'POST', agent }, (res) => { res.resume(); res.on('end', () => resolve()); });
      req.on('error', reject);
      req.end(body);
    });
    completed++;
    const echo = once(ws, 'message');
    ws.send(JSON.stringify({ i, text: 'hello' }));
    await echo;
    if (i % 10 === 0) {
      // A pinned client: it does not trust our CA and refuses the handshake.
      const { socket } = await connectTunnel(proxyPort, `pinned${i % 3}.soak.test:443`);
      const refusing = tls.connect({ socket, servername: `pinned${i % 3}.soak.test`, ca: originCa.certPem });
      // (events.once would reject on the refusal's 'error'; only the close matters here.)
      await new Promise<void>((resolve) => { refusing.on('error', () => undefined); refusing.once('close', () => resolve()); });
    }
    if (i % 5 === 0) {
      const { socket } = await connectTunnel(proxyPort, `127.0.0.1:${smtpPort}`);
      socket.on('data', () => undefined);
      socket.write('EHLO soak\r\n');
      socket.end('QUIT\r\n');
      await new Promise<void>((resolve) => { socket.on('error', () => undefined); socket.once('close', () => resolve()); });
      completed++;
    }
  };
  const samples: SoakSample[] = [];
  const sample = (): void => {
    const { rssMb, fds } = procStatus(child.pid!);
    const s = { seconds: Math.round((Date.now() - started) / 1000), rssMb: Math.round(rssMb), fds, flows: completed };
    samples.push(s);
    options.onSample?.(s);
  };
  sample();
  const sampler = setInterval(sample, options.sampleEverySeconds * 1000);
  const deadline = setTimeout(() => { stop = true; }, options.seconds * 1000);
  // A steady pace: one step at a time, about 20 a second.
  for (let i = 0; !stop; i++) {
    const next = Date.now() + 50;
    await step(i);
    const wait = next - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  clearTimeout(deadline);
  ws.close();
  await once(ws, 'close');
  completed++; // the WebSocket counts as one flow (its last part, when written in parts)
  agent.destroy();
  // Idle for the connections to close, then the last sample shows what stayed open.
  await new Promise((r) => setTimeout(r, 2_000));
  sample();
  clearInterval(sampler);
  const exitCode = await stopCapture(child);
  closeOrigin();
  smtp.close();
  const { byKind, harWhole } = await recordedFlows(out);
  // flows.har must be a whole document too, or nothing counts as recorded.
  const recorded = harWhole ? (byKind.get('http') ?? 0) + (byKind.get('raw') ?? 0) + (byKind.get('websocket') ?? 0) : 0;
  fs.rmSync(work, { recursive: true, force: true });
  return { samples, completed, recorded, missing: Math.max(0, completed - recorded), exitCode };
}

// `node dist-bench/bench/soak.js MINUTES` (`npm run soak` builds it: bench is compiled apart from the shipped dist/)
if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const minutes = Number(process.argv[2] ?? 30);
  const result = await soak({ seconds: minutes * 60, sampleEverySeconds: Math.max(5, Math.round(minutes * 2)), onSample: (s) => process.stdout.write(`${String(s.seconds).padStart(6)} s  RSS ${String(s.rssMb).padStart(4)} MB  fds ${String(s.fds).padStart(4)}  flows ${s.flows}\n`) });
  process.stdout.write(`\n${result.completed} flows completed, ${result.recorded} recorded, ${result.missing} missing; exit ${result.exitCode}\n`);
  process.exit(result.missing === 0 && result.exitCode === 0 ? 0 : 1);
}
