// `npm run bench:fleet`: the fleet measured on this machine, against a real `nats-server -js`
// started on a free port: how many flows a second 1 and 2 workers inspect (each worker is its own
// process, as on separate machines), and how long from a flow's end to its finding on the bus
// (what the collector sees), p50 and p99. Figures for the README; nothing is asserted.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connectBus, type Bus } from '../fleet/bus-connection.js';
import { ALL_FINDINGS, WORK_STREAM, WORKER_CONSUMER, workSubject } from '../fleet/fleet-names.js';
import { decodeFinding, encodeFlowMessage } from '../fleet/fleet-wire.js';
import { installRoot } from '../util/install-paths.js';
import { launchNatsServer, natsServerPath } from './nats-server.js';
import type { Flow } from '../model/flow.js';

const cli = path.join(installRoot, 'dist', 'cli.js');

async function startServer(): Promise<{ url: string; child: ChildProcess }> {
  const { child, port } = await launchNatsServer(-1, fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-bench-nats-')));
  return { url: `nats://127.0.0.1:${port}`, child };
}

const photo = fs.readFileSync(path.join(installRoot, 'assets', 'demo', 'IMG_20141012_183005.jpg'));
const sms = Buffer.from(JSON.stringify({ messages: [{ address: '+33612345678', body: 'Rendez-vous demain à 18h', date: 1413131405000, type: 1 }], padding: 'x'.repeat(20_000) }));

function flow(i: number): Flow {
  const body = i % 4 === 0 ? photo : sms;
  const now = new Date().toISOString();
  return {
    id: `fl-${String(i + 1).padStart(6, '0')}`, kind: 'http', startedAt: now, endedAt: now, durationMs: 1, client: { ip: '192.168.1.23', port: 40000 }, target: { host: 'api.example.com', port: 443 }, scheme: 'https',
    destination: { ip: '42.62.48.10', port: 443 },
    request: { method: 'POST', url: 'https://api.example.com/up', httpVersion: 'HTTP/1.1', headers: [['content-type', i % 4 === 0 ? 'image/jpeg' : 'application/json']], body: { bytes: body, totalBytes: body.length, truncated: false } },
    bytesUp: body.length, bytesDown: 0, tags: ['decrypted'],
  };
}

async function drained(bus: Bus): Promise<void> {
  for (;;) {
    try {
      const info = await bus.jsm.consumers.info(WORK_STREAM, WORKER_CONSUMER);
      if (info.num_pending === 0 && info.num_ack_pending === 0) return;
    } catch {
      // the first worker has not made the consumer yet
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function workersRun(url: string, bus: Bus, workers: number, flows: number, node: string, gapMs = 0): Promise<{ perSecond: number; latencies: number[] }> {
  const children = Array.from({ length: workers }, () => spawn(process.execPath, [cli, 'worker', url], { stdio: 'ignore' }));
  const latencies: number[] = [];
  const subscription = bus.nc.subscribe(ALL_FINDINGS, { callback: (_e, m) => {
    const finding = decodeFinding(m.data);
    if (finding.node === node) latencies.push(Date.now() - Date.parse(finding.time));
  } });
  // Wait until the workers are pulling (the consumer exists), then time the whole batch.
  for (;;) {
    try {
      await bus.jsm.consumers.info(WORK_STREAM, WORKER_CONSUMER);
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 1500)); // worker processes load their databases
  const started = performance.now();
  for (let i = 0; i < flows; i++) {
    await bus.js.publish(workSubject(node), encodeFlowMessage(node, flow(i)), { msgID: `${node}:${i}` });
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  await drained(bus);
  const seconds = (performance.now() - started) / 1000;
  subscription.unsubscribe();
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((c) => once(c, 'exit')));
  return { perSecond: flows / seconds, latencies };
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

if (!natsServerPath) {
  process.stderr.write('bench:fleet needs nats-server (apt-get install nats-server)\n');
  process.exit(1);
}
const server = await startServer();
const bus = await connectBus({ url: server.url, name: 'phonehome bench' });
const flows = Number(process.argv[2] ?? 2000);
const lines: string[] = [`fleet, ${flows} flows (1 in 4 a camera photo, the others a 20 kB JSON with an SMS), ${os.cpus().length} cores`];
for (const workers of [1, 2]) {
  const result = await workersRun(server.url, bus, workers, flows, `bench${workers}`);
  lines.push(`${workers} worker${workers > 1 ? 's' : ' '}: ${result.perSecond.toFixed(0).padStart(6)} flows/s inspected (a backlog of ${flows} flows)`);
}
// Latency without a backlog: 50 flows a second, one worker.
const steady = await workersRun(server.url, bus, 1, 250, 'latency', 20);
lines.push(`flow end -> its finding on the bus, 50 flows/s, 1 worker: p50 ${percentile(steady.latencies, 50).toFixed(1)} ms, p99 ${percentile(steady.latencies, 99).toFixed(1)} ms (${steady.latencies.length} findings)`);
await bus.close();
server.child.kill('SIGTERM');
process.stdout.write(`${lines.join('\n')}\n`);
