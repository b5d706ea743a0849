// Fleet mode against a real nats-server with JetStream: two capture nodes publishing with
// --inspect remote, two workers (one killed with SIGKILL while it inspects), one collector, and
// nats-server restarted mid-run. The collector's findings.jsonl must hold every finding of the
// demo's phone, through each node, exactly once — the same findings a single local run makes.

import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import t from 'tap';
import { CaptureSession } from '../../src/app/capture-session.js';
import { demoLookup, phoneSteps, runPhone, startDemoCloud } from '../../src/app/demo.js';
import { resolveCaptureOptions } from '../../src/app/options.js';
import type { Finding } from '../../src/model/finding.js';
import https from 'node:https';
import { installRoot } from '../../src/util/install-paths.js';
import { TunnelAgent } from '../../src/proxy/client/tunnel-agent.js';
import { cli, startCapture } from '../helpers/cli.js';
import { tempDir, until, within } from '../helpers/lab.js';
import { natsServerPath, startNats } from '../helpers/nats.js';

// Findings without evidence bytes (a pinned host, an opaque tunnel) are matched by what and where: their summaries hold byte counts that vary.
/** A 1.5 MB backup upload holding the demo's photo, to a host of its own. */
async function bigUpload(node: CaptureSession): Promise<void> {
  const agent = new TunnelAgent(node.port, node.ca.certPem, { keepAlive: false });
  const photo = fs.readFileSync(path.join(installRoot, 'assets', 'demo', 'IMG_20141012_183005.jpg'));
  const body = Buffer.concat([Buffer.from('--b\r\nContent-Disposition: form-data; name="pad"\r\n\r\n'), Buffer.alloc(1_500_000, 0x61), Buffer.from('\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="IMG_20141012_183005.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'), photo, Buffer.from('\r\n--b--\r\n')]);
  await new Promise<void>((resolve, reject) => {
    const req = https.request({ host: 'backup.cloud.demo', port: cloudPort, path: '/big', method: 'POST', agent, headers: { 'content-type': 'multipart/form-data; boundary=b' } }, (res) => { res.resume(); res.on('end', resolve); });
    req.on('error', reject);
    req.end(body);
  });
  agent.destroy();
}

let cloudPort = 0;

const keyOf = (f: Finding): string => [f.category, f.host, f.detector, f.evidence.sha256 ?? ''].join('|');
const readFindings = (file: string): Finding[] => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Finding) : []);

/** A CLI process whose stdout lines are kept, and awaited. */
function start(args: string[]): { child: ChildProcess; lines: string[]; stderr: string[]; line(match: RegExp): Promise<string> } {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiting: Array<{ match: RegExp; resolve: (line: string) => void }> = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let end: number;
    while ((end = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      lines.push(line);
      for (const w of waiting.splice(0)) (w.match.test(line) ? w.resolve(line) : waiting.push(w));
    }
  });
  // Kept (the last 200 lines) so that a failure can say what each process reported.
  const stderr: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr.push(...chunk.split('\n').filter(Boolean)); stderr.splice(0, Math.max(0, stderr.length - 200)); });
  return {
    child, lines, stderr,
    line: (match) => {
      const seen = lines.find((l) => match.test(l));
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiting.push({ match, resolve }));
    },
  };
}

t.test('the fleet: 2 nodes, 2 workers (one killed), 1 collector, a NATS restart; every finding exactly once', { skip: natsServerPath ? false : 'nats-server is not installed (apt-get install nats-server)' }, async (t) => {
  const nats = await startNats();
  t.teardown(() => nats.stop());
  const cloud = await startDemoCloud();
  cloudPort = cloud.httpsPort;
  t.teardown(() => cloud.close());
  const dir = tempDir();
  const session = async (name: string, fleet: Record<string, string> = {}): Promise<CaptureSession> =>
    CaptureSession.start(resolveCaptureOptions({ listen: '127.0.0.1:0', 'ca-dir': path.join(dir, 'ca'), out: path.join(dir, name), 'upstream-ca': [cloud.caFile], ...fleet }, 'capture'), { lookup: demoLookup });
  const phone = async (s: CaptureSession): Promise<void> => runPhone(phoneSteps(s.port, s.ca.certPem, cloud), 0, () => undefined);

  // What a single local run finds for the same phone.
  const local = await session('local');
  await phone(local);
  await local.stop();
  const expected = new Set(readFindings(path.join(dir, 'local', 'findings.jsonl')).map(keyOf));
  t.ok(expected.size >= 8, `the local run finds ${expected.size} things`);

  const collectorDir = path.join(dir, 'collected');
  const collector = start(['collect', nats.url, '--out', collectorDir]);
  const workers = [start(['worker', nats.url, '--ack-wait', '2s']), start(['worker', nats.url, '--ack-wait', '2s'])];
  t.teardown(() => { for (const p of [collector, ...workers]) if (p.child.exitCode === null) p.child.kill('SIGKILL'); });
  const fleet = { publish: nats.url, inspect: 'remote' };
  const nodeA = await session('node-a', { ...fleet, node: 'a' });
  const nodeB = await session('node-b', { ...fleet, node: 'b' });

  // Node a's phone; the first worker to start on a flow is killed right there.
  const killed = Promise.race(workers.map((w, i) => w.line(/^inspecting /).then((line) => ({ i, line }))));
  await phone(nodeA);
  // A flow larger than a NATS message (1 MiB by default) travels through the object store.
  await bigUpload(nodeA);
  const victim = await within(killed, 30_000, 'a worker inspecting');
  workers[victim.i]!.child.kill('SIGKILL');
  t.pass(`worker ${victim.i + 1} killed with SIGKILL at "${victim.line}"`);

  // The bus goes away and comes back while node b's phone is busy.
  const restart = nats.restart();
  await phone(nodeB);
  await restart;
  await nodeA.stop();
  await nodeB.stop();

  const findingsFile = path.join(collectorDir, 'findings.jsonl');
  const complete = (): boolean => {
    const found = readFindings(findingsFile);
    return ['a', 'b'].every((node) => new Set(found.filter((f) => f.node === node).map(keyOf)).size >= expected.size + (node === 'a' ? 1 : 0));
  };
  try {
    await until(complete, 90_000, 'the collector holding both nodes\' findings');
  } catch (error) {
    // Say what is missing and what the fleet's processes said, so a failure in CI can be read.
    const found = readFindings(findingsFile);
    for (const node of ['a', 'b']) {
      const have = new Set(found.filter((f) => f.node === node).map(keyOf));
      t.comment(`node ${node}: ${have.size} distinct findings; missing: ${[...expected].filter((k) => !have.has(k)).join(', ') || 'none of the local run\'s'}`);
    }
    for (const [name, p] of [['collector', collector], ...workers.map((w, i) => [`worker ${i + 1}`, w] as const)] as const) t.comment(`${name} (exit ${p.child.exitCode}) stdout tail: ${p.lines.slice(-15).join(' | ')}\n  stderr tail: ${p.stderr.slice(-15).join(' | ')}`);
    throw error;
  }
  collector.child.kill('SIGTERM');
  await once(collector.child, 'exit');
  const survivor = workers[1 - victim.i]!;
  survivor.child.kill('SIGTERM');
  await once(survivor.child, 'exit');

  const collected = readFindings(findingsFile);
  const big = 'photo|backup.cloud.demo|photo/jpeg|dd4a8c7d84e58746f765ef9834f8d0caa6fe047bf6280382cee9b54a27b7e41f';
  for (const node of ['a', 'b']) {
    const mine = collected.filter((f) => f.node === node);
    t.same(new Set(mine.map(keyOf)), node === 'a' ? new Set([...expected, big]) : expected, `node ${node}: the same findings as the local run${node === 'a' ? ', and the photo of the large upload' : ''}`);
    t.equal(new Set(mine.map((f) => f.id)).size, mine.length, `node ${node}: each finding once (${mine.length})`);
  }
  t.equal(collected.length, expected.size * 2 + 1, 'nothing lost, nothing doubled');
  const summary = JSON.parse(fs.readFileSync(path.join(collectorDir, 'summary.json'), 'utf8')) as { nodes: Record<string, { findings: number; flows: number }> };
  t.same(Object.keys(summary.nodes).sort(), ['a', 'b']);
  t.equal(summary.nodes['a']!.findings, expected.size + 1);
  t.ok(summary.nodes['a']!.flows >= 8, 'flow records counted per node');
  const redone = survivor.lines.some((l) => l === victim.line);
  t.comment(`the killed worker's flow ${redone ? 'was redelivered to the other worker' : 'had been acknowledged before the kill'}`);
  const nodeSummary = JSON.parse(fs.readFileSync(path.join(dir, 'node-b', 'summary.json'), 'utf8')) as { fleet: Record<string, unknown> };
  t.match(nodeSummary.fleet, { node: 'b', inspect: 'remote', dropped: 0 }, 'node b says what it published and dropped nothing');
  t.comment(`node b: ${JSON.stringify(nodeSummary.fleet)}`);
  const nodeASummary = JSON.parse(fs.readFileSync(path.join(dir, 'node-a', 'summary.json'), 'utf8')) as { fleet: { workLargeObjects: number } };
  t.equal(nodeASummary.fleet.workLargeObjects, 1, 'the large flow went through the object store');
  t.ok(readFindings(path.join(dir, 'node-b', 'findings.jsonl')).every((f) => f.node === 'b'), 'a node\'s own files carry its name');
});

t.test('fleet options and an unreachable bus: one line and exit 1, or a warning with --publish-optional', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const net = await import('node:net');
  const free = net.createServer().listen(0, '127.0.0.1');
  await once(free, 'listening');
  const port = (free.address() as { port: number }).port;
  free.close();
  const dir = tempDir();
  const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30_000 });
  const cases: Array<[string[], RegExp]> = [
    [['capture', '--out', path.join(dir, 'a'), '--publish', `nats://127.0.0.1:${port}`], new RegExp(`^phonehome: cannot reach NATS at 127\\.0\\.0\\.1:${port}: `)],
    [['capture', '--inspect', 'remote'], /^phonehome: --inspect remote leaves inspection to fleet workers: add --publish nats:\/\/HOST:PORT\n$/],
    [['capture', '--publish', 'http://x:1'], /^phonehome: "http:\/\/x:1": use nats:\/\/HOST:PORT/],
    [['capture', '--publish', 'nats://127.0.0.1:1', '--node', 'a.b'], /^phonehome: --node "a\.b": use 1 to 64 letters/],
    [['capture', '--node', 'a'], /^phonehome: --node is for a fleet node: add --publish/],
    [['collect', `nats://127.0.0.1:${port}`], /^phonehome: collect needs --out DIR/],
    [['worker'], /^phonehome: .*usage: phonehome worker nats:\/\/HOST:PORT/],
  ];
  for (const [args, message] of cases) {
    const result = run(args);
    t.equal(result.status, 1, args.join(' '));
    t.match(result.stderr, message);
    t.equal(result.stderr.trim().split('\n').length, 1, 'one line');
  }
  t.notOk(fs.existsSync(path.join(dir, 'a')), 'nothing written when the bus cannot be reached');
  const optional = await startCapture(['--out', path.join(dir, 'b'), '--ca-dir', path.join(dir, 'ca'), '--publish', `nats://127.0.0.1:${port}`, '--publish-optional', '--duration', '1s']);
  const [code] = await once(optional.child, 'exit');
  t.equal(code, 0, 'runs without the bus');
  t.match(optional.stderr(), /fleet: cannot reach NATS .*going on without the bus \(--publish-optional\)/);
  for (const command of ['worker', 'collect', 'watch']) {
    const help = run([command, '--help']);
    t.equal(help.status, 0);
    t.match(help.stdout, new RegExp(`^usage: phonehome ${command} nats://HOST:PORT`));
  }
});
