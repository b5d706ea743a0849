// capture --threads 2 through the built CLI: two proxy loops (cluster workers) accept on one port,
// one primary writes the files. Real clients on separate connections, a pinning app learned in one
// loop and passed through by the other, a loop killed and replaced, and SIGINT leaving whole files.

import t from 'tap';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { spawnSync } from 'node:child_process';
import { installRoot } from '../../src/util/install-paths.js';
import { cli, startCapture } from '../helpers/cli.js';
import { connectTunnel, getOriginCa, httpsViaProxy, startOrigin, tempDir, until, within } from '../helpers/lab.js';
import { originCaFile } from '../helpers/capture-run.js';

const photo = fs.readFileSync(path.join(installRoot, 'test', 'fixtures', 'photos', 'camera.jpg'));

function lines(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

/** The proxy loops: the capture's child processes. */
function loopPids(pid: number): number[] {
  const ps = spawnSync('ps', ['--ppid', String(pid), '-o', 'pid='], { encoding: 'utf8' });
  return ps.stdout.split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A server that is not ours, on 127.0.0.2 (still loopback), whose app pins its certificate. */
async function startPinnedOrigin(): Promise<{ port: number; close: () => void }> {
  const leaf = getOriginCa().issueLeaf('127.0.0.2');
  const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (_req, res) => res.end('real server'));
  server.listen(0, '127.0.0.2');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, close: () => { server.closeAllConnections(); server.close(); } };
}

t.test('--threads 2: both loops serve, one writer numbers every flow once, a pinned host learned in one loop passes through the other, a killed loop is replaced, SIGINT leaves whole files', async (t) => {
  const origin = await startOrigin({ tls: true, hostname: '127.0.0.1', handler: (req, res) => { req.resume(); req.on('end', () => res.end(`ok ${req.url}`)); } });
  const pinned = await startPinnedOrigin();
  t.teardown(() => { void origin.close(); pinned.close(); });
  const dir = tempDir();
  const originCa = originCaFile();
  const out = path.join(dir, 'run');
  const caDir = path.join(dir, 'ca');
  const keylog = path.join(dir, 'keys.log');
  const { child, port, stderr } = await startCapture(['--threads', '2', '--out', out, '--ca-dir', caDir, '--upstream-ca', originCa, '--keylog', keylog]);
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  const loops = loopPids(child.pid!);
  t.equal(loops.length, 2, 'two proxy loops');
  const trust = fs.readFileSync(path.join(caDir, 'ca.pem'), 'utf8');
  const upload = (name: string) => httpsViaProxy({ proxyPort: port, host: '127.0.0.1', port: origin.port, method: 'POST', path: `/${name}`, body: photo, headers: { 'content-type': 'image/jpeg' }, trust });

  // One after the other (the cluster hands connections out in turn), then four at once.
  for (let i = 0; i < 4; i++) t.equal((await upload(`photo-${i}`)).body.toString(), `ok /photo-${i}`);
  const together = await Promise.all([4, 5, 6, 7].map((i) => upload(`photo-${i}`)));
  t.same(together.map((r) => r.status), [200, 200, 200, 200]);

  // A loop dies: said in one line, replaced, and the run goes on. (Once its flows are in
  // flows.jsonl, and before the pinned app's tunnels: a client may have its answer before the loop
  // handed the flow over, and a tunnel is recorded when it closes; a dying loop loses those.)
  const flowLog = path.join(out, 'flows.jsonl');
  await until(() => lines(flowLog).length === 8, 20_000, 'the eight uploads in flows.jsonl');
  process.kill(loops[0]!, 'SIGKILL');
  await until(() => /proxy loop \d \(pid \d+\) ended \(SIGKILL\); its open connections are lost; a new loop takes its place/.test(stderr()), 20_000, 'the dead loop said');
  await until(() => /proxy loop \d listens again \(a new process\)/.test(stderr()), 20_000, 'a new loop');
  t.equal(loopPids(child.pid!).filter((pid) => pid !== loops[0]).length, 2, 'two loops again');
  for (let i = 8; i < 10; i++) t.equal((await upload(`photo-${i}`)).status, 200, `after the replacement, upload ${i}`);

  // The app trusts only its server's CA: our leaf is refused, and the host is learned as pinned.
  await t.rejects(httpsViaProxy({ proxyPort: port, host: '127.0.0.2', port: pinned.port, trust: getOriginCa().certPem }));
  // The loop tells the primary what it learned before it hands over the failed flow: once that
  // flow is in flows.jsonl, every loop has been told, ahead of any later connection.
  await until(() => lines(flowLog).some((l) => l.includes('"tls:certificate-rejected"')), 20_000, 'the refused handshake in flows.jsonl');
  for (let i = 0; i < 4; i++) {
    const res = await httpsViaProxy({ proxyPort: port, host: '127.0.0.2', port: pinned.port, trust: getOriginCa().certPem });
    t.equal(res.body.toString(), 'real server', `pinned app, connection ${i + 1}: passed through untouched`);
  }

  const findingsFile = path.join(out, 'findings.jsonl');
  await until(() => lines(findingsFile).length >= 10, 60_000, 'ten photo findings on disk');
  child.kill('SIGINT');
  const [code] = await within(once(child, 'exit'), 60_000, 'the capture to exit');
  t.equal(code, 0, stderr());
  for (const pid of loopPids(child.pid!)) t.notOk(alive(pid), `loop ${pid} ended with the run`);
  for (const pid of loops) t.notOk(alive(pid), `loop ${pid} ended`);

  const flows = lines(flowLog).map((l) => JSON.parse(l) as { _phonehome?: { flowId: string; kind: string } });
  const ids = flows.map((f) => f._phonehome?.flowId);
  t.ok(ids.every((id) => typeof id === 'string' && /^fl-\d{6}$/.test(id)), 'every id is fl-NNNNNN');
  t.equal(new Set(ids).size, ids.length, 'every flow once, ids unique');
  const kinds = flows.map((f) => f._phonehome?.kind);
  t.equal(kinds.filter((k) => k === 'http').length, 10, 'ten uploads');
  t.equal(kinds.filter((k) => k === 'tls-failed').length, 1, 'one refused handshake');
  t.equal(kinds.filter((k) => k === 'tunnel').length, 4, 'four tunnels to the pinned host');

  const findings = lines(findingsFile).map((l) => JSON.parse(l) as { id: string; flowId: string; category: string });
  t.equal(new Set(findings.map((f) => f.id)).size, findings.length, 'finding ids unique');
  t.ok(findings.every((f) => ids.includes(f.flowId)), 'every finding names a flow of flows.jsonl');
  t.equal(findings.filter((f) => f.category === 'photo').length, 10);

  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as { notes?: string[]; options: { threads: number }; passthrough: { learned: Array<{ host: string }> } };
  t.equal(summary.options.threads, 2);
  t.same(summary.passthrough.learned.map((h) => h.host), ['127.0.0.2']);
  const note = summary.notes?.find((n) => n.startsWith('--threads 2:'));
  const perLoop = /handed over (\d+), (\d+) flows/.exec(note ?? '');
  t.ok(perLoop, `the note: ${note}`);
  const [first, second] = [Number(perLoop?.[1]), Number(perLoop?.[2])];
  t.ok(first > 0 && second > 0, `both loops served (${first} and ${second} flows)`);
  t.equal(first + second, flows.length, 'every flow came from a loop');
  t.match(note, /1 loop\(s\) replaced/, 'the new loop listened on the same port');
  t.notMatch(stderr(), /could not be replaced/);
  // What the loops tap, the primary writes: the pinned app's ciphertext for decrypt, and the keys.
  const coverage = (summary as unknown as { coverage: { opaque: { sessions: number; recordedBytes: number } } }).coverage;
  t.equal(coverage.opaque.sessions, 4, 'the four tunnels in opaque.pcapng');
  t.ok(coverage.opaque.recordedBytes > 0);
  t.ok(fs.statSync(path.join(out, 'opaque.pcapng')).size > coverage.opaque.recordedBytes);
  const keyLines = lines(keylog);
  t.ok(keyLines.length >= 10 && keyLines.every((l) => /^[A-Z0-9_]+ [0-9a-f]{64} [0-9a-f]+$/.test(l)), `${keyLines.length} whole key log lines`);
  const har = JSON.parse(fs.readFileSync(path.join(out, 'flows.har'), 'utf8')) as { log: { entries: Array<{ _phonehome?: { flowId: string } }> } };
  t.same(har.log.entries.map((e) => e._phonehome?.flowId).sort(), [...ids].sort(), 'the HAR names the same flows');
});

t.test('--threads 2 on a port in use: one line, exit 1, no loop left', async (t) => {
  const blocker = net.createServer().listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  t.teardown(() => blocker.close());
  const busy = (blocker.address() as net.AddressInfo).port;
  const dir = tempDir();
  const result = spawnSync(process.execPath, [cli, 'capture', '--threads', '2', '--listen', `127.0.0.1:${busy}`, '--out', path.join(dir, 'run'), '--ca-dir', path.join(dir, 'ca')], { encoding: 'utf8', timeout: 60_000 });
  t.equal(result.status, 1, result.stderr);
  t.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  t.match(result.stderr, `--listen 127.0.0.1:${busy}: the port is in use`);
  t.notOk(fs.existsSync(path.join(dir, 'run', 'run.json')), 'no run left behind');
});

t.test('--threads: a bad count is one line, exit 1', async (t) => {
  for (const bad of ['0', '9', 'many']) {
    const result = spawnSync(process.execPath, [cli, 'capture', '--threads', bad, '--listen', '127.0.0.1:0'], { encoding: 'utf8', timeout: 30_000 });
    t.equal(result.status, 1);
    t.match(result.stderr, `--threads "${bad}": use a number of proxy loops from 1 to 8`);
    t.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  }
});

t.test('--threads 1 runs the proxy in the capture process itself: no loop processes', async (t) => {
  const dir = tempDir();
  const { child } = await startCapture(['--threads', '1', '--out', path.join(dir, 'run'), '--ca-dir', path.join(dir, 'ca')]);
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  t.same(loopPids(child.pid!), []);
  child.kill('SIGINT');
  const [code] = await once(child, 'exit');
  t.equal(code, 0);
  const summary = JSON.parse(fs.readFileSync(path.join(dir, 'run', 'summary.json'), 'utf8')) as { notes?: string[] };
  t.notOk(summary.notes?.some((n) => n.startsWith('--threads')));
});

