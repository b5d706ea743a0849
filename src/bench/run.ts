// `npm run bench`: the same load through (a) direct TLS, (b) phonehome, (c) mitmproxy when
// `mitmdump` is installed, printed side by side with ratios to direct. HTTP/1.1 and HTTP/2 rows
// (small requests on one h2 connection, 8 streams at a time; one h2 upload). Everything runs on
// 127.0.0.x. phonehome runs as its own process (the built CLI), so its memory is its own.
//
// Goals (issue #14, on a 2-core machine): small HTTP/1.1 requests >= 0.9x the bare HTTP relay;
// inspected uploads and downloads >= 0.9x the bare pipe relay; small HTTP/2 requests >= 5x
// mitmproxy's; new-host p50 <= mitmproxy's; detection >= 100 MB/s; peak RSS <= 250 MB over the
// whole run (the last scenario: a 1 GB upload and a 200 MB download to a slow reader).

import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { CertificateAuthority } from '../proxy/ca/certificate-authority.js';
import { installRoot } from '../util/install-paths.js';
import tls from 'node:tls';
import { connectTunnel, TunnelAgent } from '../proxy/client/tunnel-agent.js';

const MB = 1024 * 1024;
const LARGE_BYTES = Number(process.env['BENCH_LARGE_MB'] ?? 128) * MB;
const SMALL_SECONDS = Number(process.env['BENCH_SMALL_SECONDS'] ?? 3);
const NEW_HOSTS = 30;
const CONCURRENCY = 10;
const H2_STREAMS = 8;

interface Subject {
  readonly name: string;
  readonly proxyPort?: number;
  readonly trust: string;
  readonly pid?: number;
  stop(): Promise<void>;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-bench-'));
const originCa = CertificateAuthority.loadOrCreate(path.join(work, 'origin-ca'));
fs.writeFileSync(path.join(work, 'origin-ca.pem'), originCa.certPem);
const chunk = Buffer.alloc(256 * 1024, 0x5a);

/** Writes `bytes` of the shared chunk with backpressure, then ends the stream. */
function writeBody(stream: NodeJS.WritableStream, bytes: number): void {
  let left = bytes;
  const pump = (): void => {
    while (left > 0) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      if (!stream.write(piece)) return void stream.once('drain', pump);
    }
    stream.end();
  };
  pump();
}

// ---- origin servers -------------------------------------------------------------------------

async function startOrigins(): Promise<{ port: number; newHostIps: string[]; close(): void }> {
  const servers: https.Server[] = [];
  const handler: Parameters<typeof https.createServer>[1] = (req, res) => {
    const size = Number(new URL(req.url ?? '/', 'https://x').searchParams.get('size') ?? 2);
    req.on('data', () => undefined);
    req.on('end', () => {
      if (size <= chunk.length) {
        res.end(chunk.subarray(0, size));
        return;
      }
      res.writeHead(200, { 'content-length': size });
      writeBody(res, size);
    });
  };
  const ips = ['127.0.0.1', ...Array.from({ length: NEW_HOSTS }, (_, i) => `127.0.0.${i + 2}`)];
  let port = 0;
  for (const ip of ips) {
    const leaf = originCa.issueLeaf(ip);
    const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem, keepAliveTimeout: 30_000 }, handler);
    server.listen(port, ip);
    await once(server, 'listening');
    port = (server.address() as net.AddressInfo).port;
    servers.push(server);
  }
  return { port, newHostIps: ips.slice(1), close: () => servers.forEach((s) => { s.closeAllConnections(); s.close(); }) };
}

/** An HTTP/2 origin (TLS, ALPN h2) with the same answers as the HTTP/1.1 ones. */
async function startH2Origin(): Promise<{ port: number; close(): void }> {
  const leaf = originCa.issueLeaf('127.0.0.1');
  const server = http2.createSecureServer({ key: leaf.keyPem, cert: leaf.certPem });
  server.on('stream', (stream, headers) => {
    const size = Number(new URL(String(headers[':path'] ?? '/'), 'https://x').searchParams.get('size') ?? 2);
    stream.on('error', () => undefined);
    stream.resume();
    stream.on('end', () => {
      stream.respond({ ':status': 200 });
      stream.end(chunk.subarray(0, Math.min(size, chunk.length)));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

// ---- subjects ---------------------------------------------------------------------------------

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  server.close();
  return port;
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error('the proxy exited during start-up');
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  child.kill('SIGTERM');
  return once(child, 'exit').then(() => undefined);
}

async function startPhonehome(): Promise<Subject> {
  const port = await freePort();
  const caDir = path.join(work, 'phonehome-ca');
  const child = spawn(process.execPath, [path.join(installRoot, 'dist', 'cli.js'), 'capture', '--listen', `127.0.0.1:${port}`, '--ca-dir', caDir, '--out', path.join(work, 'phonehome-run'), '--upstream-ca', path.join(work, 'origin-ca.pem')], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(port, child);
  return { name: 'phonehome', proxyPort: port, trust: fs.readFileSync(path.join(caDir, 'ca.pem'), 'utf8'), pid: child.pid, stop: () => stopChild(child) };
}

/** A bare Node relay (the floor): no recording, no inspection. */
async function startBareRelay(mode: 'pipe' | 'http'): Promise<Subject> {
  const port = await freePort();
  const caDir = path.join(work, 'phonehome-ca');
  const child = spawn(process.execPath, [fileURLToPath(new URL('./bare-relay.js', import.meta.url)), mode, String(port), caDir, path.join(work, 'origin-ca.pem')], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(port, child);
  return { name: `bare ${mode} relay`, proxyPort: port, trust: fs.readFileSync(path.join(caDir, 'ca.pem'), 'utf8'), pid: child.pid, stop: () => stopChild(child) };
}

async function startMitmproxy(): Promise<Subject | undefined> {
  if (spawnSync('sh', ['-c', 'command -v mitmdump']).status !== 0) return undefined;
  const port = await freePort();
  const confdir = path.join(work, 'mitmproxy');
  // stream_large_bodies: mitmproxy's fastest setting for large bodies (it buffers whole bodies by default).
  const child = spawn('mitmdump', ['-q', '--listen-host', '127.0.0.1', '--listen-port', String(port), '--set', `confdir=${confdir}`, '--set', `ssl_verify_upstream_trusted_ca=${path.join(work, 'origin-ca.pem')}`, '--set', 'stream_large_bodies=1m'], { stdio: 'ignore' });
  await waitForPort(port, child);
  return { name: 'mitmproxy', proxyPort: port, trust: fs.readFileSync(path.join(confdir, 'mitmproxy-ca-cert.pem'), 'utf8'), pid: child.pid, stop: () => stopChild(child) };
}

function agentFor(subject: Subject, options: https.AgentOptions = {}): https.Agent {
  return subject.proxyPort === undefined
    ? new https.Agent({ keepAlive: true, ca: subject.trust, ...options })
    : new TunnelAgent(subject.proxyPort, subject.trust, options);
}

// ---- scenarios --------------------------------------------------------------------------------

function request(agent: https.Agent, host: string, port: number, pathAndQuery: string, options: { method?: string; uploadBytes?: number; slowReaderBytesPerSecond?: number } = {}): Promise<{ firstByteMs: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = https.request({ host, port, path: pathAndQuery, method: options.method ?? 'GET', agent, headers: options.uploadBytes ? { 'content-length': options.uploadBytes } : {} }, (res) => {
      const firstByteMs = performance.now() - started;
      let bytes = 0;
      const readStarted = performance.now();
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        const rate = options.slowReaderBytesPerSecond;
        if (rate) {
          const aheadMs = (bytes / rate) * 1000 - (performance.now() - readStarted);
          if (aheadMs > 5) {
            res.pause();
            setTimeout(() => res.resume(), aheadMs);
          }
        }
      });
      res.on('end', () => resolve({ firstByteMs, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    writeBody(req, options.uploadBytes ?? 0);
  });
}

async function throughput(subject: Subject, port: number, direction: 'upload' | 'download'): Promise<number> {
  const agent = agentFor(subject);
  await request(agent, '127.0.0.1', port, '/warm');
  const started = performance.now();
  if (direction === 'upload') await request(agent, '127.0.0.1', port, '/upload', { method: 'POST', uploadBytes: LARGE_BYTES });
  else await request(agent, '127.0.0.1', port, `/download?size=${LARGE_BYTES}`);
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return LARGE_BYTES / MB / seconds;
}

async function smallRequests(subject: Subject, port: number): Promise<number> {
  const agent = agentFor(subject, { maxSockets: CONCURRENCY });
  let done = 0;
  const until = performance.now() + SMALL_SECONDS * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < until) {
      await request(agent, '127.0.0.1', port, '/small?size=64');
      done++;
    }
  }));
  agent.destroy();
  return done / SMALL_SECONDS;
}

async function newHosts(subject: Subject, port: number, ips: string[]): Promise<{ p50: number; p95: number }> {
  const times: number[] = [];
  for (const ip of ips) {
    const agent = agentFor(subject);
    times.push((await request(agent, ip, port, '/new')).firstByteMs);
    agent.destroy();
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)]!, p95: times[Math.floor(times.length * 0.95)]! };
}

function peakRssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]);
    return kb / 1024;
  } catch {
    return undefined;
  }
}

async function memory(subject: Subject, port: number): Promise<number | undefined> {
  const agent = agentFor(subject);
  await request(agent, '127.0.0.1', port, '/upload', { method: 'POST', uploadBytes: 1024 * MB });
  await request(agent, '127.0.0.1', port, `/download?size=${200 * MB}`, { slowReaderBytesPerSecond: 40 * MB });
  agent.destroy();
  return peakRssMb(subject.pid);
}

/** One HTTP/2 connection to the origin, through the subject's proxy when it has one (CONNECT, then TLS with ALPN h2). */
async function h2Session(subject: Subject, port: number): Promise<http2.ClientHttp2Session> {
  if (subject.proxyPort === undefined) return http2.connect(`https://127.0.0.1:${port}`, { ca: subject.trust });
  const { socket } = await connectTunnel(subject.proxyPort, `127.0.0.1:${port}`);
  socket.setNoDelay(true);
  // host (not servername): an IP is checked against the certificate's IP names, and sends no SNI.
  const secure = tls.connect({ socket, host: '127.0.0.1', ca: subject.trust, ALPNProtocols: ['h2'] });
  secure.on('error', () => undefined); // reported by the session's streams
  await once(secure, 'secureConnect');
  if (secure.alpnProtocol !== 'h2') throw new Error(`${subject.name} did not negotiate h2`);
  return http2.connect(`https://127.0.0.1:${port}`, { createConnection: () => secure });
}

function h2Request(session: http2.ClientHttp2Session, pathAndQuery: string, uploadBytes = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': uploadBytes > 0 ? 'POST' : 'GET', ':path': pathAndQuery }, { endStream: uploadBytes === 0 });
    let bytes = 0;
    stream.on('data', (c: Buffer) => { bytes += c.length; });
    stream.on('end', () => resolve(bytes));
    stream.on('error', reject);
    if (uploadBytes > 0) writeBody(stream, uploadBytes);
  });
}

/** Small requests on one HTTP/2 connection, 8 streams at a time; and one large upload stream. */
async function h2Rows(subject: Subject, port: number): Promise<{ small: number; upload: number }> {
  const session = await h2Session(subject, port);
  session.on('error', (error) => process.stderr.write(`bench: ${subject.name}: HTTP/2 session: ${error.message}\n`));
  await h2Request(session, '/warm');
  let done = 0;
  const until = performance.now() + SMALL_SECONDS * 1000;
  await Promise.all(Array.from({ length: H2_STREAMS }, async () => {
    while (performance.now() < until) {
      await h2Request(session, '/small?size=64');
      done++;
    }
  }));
  const started = performance.now();
  await h2Request(session, '/upload', LARGE_BYTES);
  const upload = LARGE_BYTES / MB / ((performance.now() - started) / 1000);
  session.close();
  return { small: done / SMALL_SECONDS, upload };
}

// ---- main -------------------------------------------------------------------------------------

interface Row { upload: number; download: number; small: number; newHost: { p50: number; p95: number }; h2?: { small: number; upload: number }; rss?: number }

async function measure(subject: Subject, origins: Awaited<ReturnType<typeof startOrigins>>, h2Port: number, withMemory: boolean): Promise<Row> {
  process.stderr.write(`bench: ${subject.name}…\n`);
  // Which scenario raised the peak: the high-water mark after each one, for the profile in the note.
  const phase = <T>(name: string, value: T): T => {
    const peak = peakRssMb(subject.pid);
    if (peak !== undefined) process.stderr.write(`bench: ${subject.name}: peak RSS after ${name}: ${peak.toFixed(0)} MB\n`);
    return value;
  };
  const upload = phase('upload', await throughput(subject, origins.port, 'upload'));
  const download = phase('download', await throughput(subject, origins.port, 'download'));
  const small = phase('small requests', await smallRequests(subject, origins.port));
  const newHost = phase('new hosts', await newHosts(subject, origins.port, origins.newHostIps));
  let h2: Row['h2'];
  try {
    h2 = phase('HTTP/2', await h2Rows(subject, h2Port));
  } catch (error) {
    process.stderr.write(`bench: ${subject.name}: HTTP/2 rows failed: ${(error as Error).message}\n`);
  }
  const rss = withMemory ? await memory(subject, origins.port) : undefined;
  return { upload, download, small, newHost, ...(h2 ? { h2 } : {}), ...(rss !== undefined ? { rss } : {}) };
}

/** A 2,000-row SQLite file, as a backup upload would carry one. */
async function sqliteFile(initSqlJs: (typeof import('sql.js'))['default']): Promise<Buffer> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.run('CREATE TABLE items (id INTEGER, name TEXT, price REAL, note TEXT)');
  for (let i = 0; i < 2000; i++) db.run('INSERT INTO items VALUES (?, ?, ?, ?)', [i, `item ${i}`, i * 1.5, 'lorem ipsum dolor sit amet']);
  const bytes = Buffer.from(db.export());
  db.close();
  return bytes;
}

/** MB/s of the detection engine (decode chain + detectors) on one core, over a mixed corpus. */
async function detectorThroughput(): Promise<number> {
  const { inspectFlow } = await import('../inspect/inspector.js');
  const { defaultDetectors } = await import('../inspect/detect/registry.js');
  const { BodyCapture } = await import('../flow/body-capture.js');
  const { loadSqlite } = await import('../inspect/decode/sqlite.js');
  const { zipSync } = await import('fflate');
  const initSqlJs = (await import('sql.js')).default;
  await loadSqlite();
  const zlib = await import('node:zlib');
  // The demo's camera photo (the same bytes as the tests' camera.jpg), from assets/ rather than test/.
  const photo = fs.readFileSync(path.join(installRoot, 'assets', 'demo', 'IMG_20141012_183005.jpg'));
  const json = Buffer.from(JSON.stringify({ items: Array.from({ length: 2000 }, (_, i) => ({ id: i, name: `item ${i}`, price: i * 1.5, tags: ['a', 'b'], note: 'lorem ipsum dolor sit amet' })) }));
  const bodies: Array<[Buffer, Array<[string, string]>]> = [
    [photo, [['content-type', 'image/jpeg']]],
    [json, [['content-type', 'application/json']]],
    [zlib.gzipSync(json), [['content-type', 'application/json'], ['content-encoding', 'gzip']]],
    [Buffer.from(JSON.stringify({ blob: photo.toString('base64') })), [['content-type', 'application/json']]],
    [Buffer.alloc(8 * MB, 0x41), [['content-type', 'application/octet-stream']]],
    [Buffer.from('a=1&b=2&c=hello+world'.repeat(100)), [['content-type', 'application/x-www-form-urlencoded']]],
    // The second round's containers: an archive, a database, a text dump.
    [Buffer.from(zipSync({ 'DCIM/Camera/IMG_1.jpg': photo, 'data.json': json })), [['content-type', 'application/zip']]],
    [await sqliteFile(initSqlJs), [['content-type', 'application/octet-stream']]],
    [Buffer.from(Array.from({ length: 2000 }, (_, i) => `Row: ${i} _id=${i}, name=setting_${i}, value=${i * 7}`).join('\n')), [['content-type', 'text/plain']]],
  ];
  const flows = bodies.map(([bytes, headers], i) => {
    const capture = new BodyCapture(bytes.length);
    capture.push(bytes);
    return { id: `b${i}`, kind: 'http' as const, startedAt: '', endedAt: '', durationMs: 0, client: { ip: '127.0.0.1', port: 1 }, target: { host: 'x', port: 443 }, scheme: 'https' as const, request: { method: 'POST', url: 'https://x/', httpVersion: 'HTTP/1.1', headers, body: capture.result() }, bytesUp: bytes.length, bytesDown: 0, tags: [] };
  });
  const total = bodies.reduce((n, [b]) => n + b.length, 0);
  let bytes = 0;
  const started = performance.now();
  while (performance.now() - started < 3000) {
    for (const flow of flows) inspectFlow(flow, defaultDetectors);
    bytes += total;
  }
  return bytes / MB / ((performance.now() - started) / 1000);
}

/** Milliseconds to compute one UI frame with 100,000 flows and 10,000 findings (only visible rows are built). */
async function tuiFrameMs(): Promise<number> {
  const { TuiModel } = await import('../sinks/tui/tui-model.js');
  const model = new TuiModel({ capacity: 100_000, proxyAddresses: ['192.168.1.5:8080'], insecureUpstream: false, redact: (f) => f });
  for (let i = 0; i < 100_000; i++) {
    model.addFlow({ id: `fl-${i}`, time: '18:30:11', method: 'POST', host: `h${i % 500}.example.com`, path: `/api/${i}`, status: '200', bytesUp: i, bytesDown: i, durationMs: 12, kind: 'http', tags: [], detail: [] }, '192.168.1.23');
  }
  for (let i = 0; i < 10_000; i++) {
    model.addFinding({ v: 1, id: `f-${i}`, time: '2026-11-27T18:30:11.000Z', flowId: `fl-${i}`, category: 'photo', severity: 'high', direction: 'request', detector: 'photo/jpeg', summary: `photo ${i}`, host: 'h.example.com', client: { ip: '1' }, destination: { country: 'CN' }, evidence: { path: [], bytes: 1 }, details: {}, canary: null });
  }
  const started = performance.now();
  for (let i = 0; i < 50; i++) model.render(200, 60);
  return (performance.now() - started) / 50;
}

const detectorMBps = await detectorThroughput();
// `npm run bench -- --detection`: the detection line alone (seconds instead of minutes).
if (process.argv.includes('--detection')) {
  process.stdout.write(`detection engine, MB/s (1 core): ${detectorMBps.toFixed(0)} (goal >= 100: ${detectorMBps >= 100 ? 'met' : 'NOT met'})\n`);
  process.exit(0);
}
const uiFrameMs = await tuiFrameMs();
const origins = await startOrigins();
const h2Origin = await startH2Origin();
const direct: Subject = { name: 'direct', trust: originCa.certPem, stop: async () => undefined };
const results = new Map<string, Row>();
results.set('direct', await measure(direct, origins, h2Origin.port, false));
const phonehome = await startPhonehome();
try {
  results.set('phonehome', await measure(phonehome, origins, h2Origin.port, true));
} finally {
  await phonehome.stop();
}
// `npm run bench -- --phonehome-only`: direct and phonehome alone, for profiling a change.
const phonehomeOnly = process.argv.includes('--phonehome-only');
for (const mode of phonehomeOnly ? [] : (['pipe', 'http'] as const)) {
  const bare = await startBareRelay(mode);
  try {
    results.set(`bare-${mode}`, await measure(bare, origins, h2Origin.port, false));
  } finally {
    await bare.stop();
  }
}
const mitm = phonehomeOnly ? undefined : await startMitmproxy();
if (mitm) {
  try {
    results.set('mitmproxy', await measure(mitm, origins, h2Origin.port, true));
  } finally {
    await mitm.stop();
  }
}
origins.close();
h2Origin.close();

const d = results.get('direct')!;
const p = results.get('phonehome')!;
const m = results.get('mitmproxy');
const fmt = (n: number | undefined, digits = 0): string => (n === undefined ? '-' : n.toFixed(digits));
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
const lines = [
  `phonehome benchmark — ${os.cpus().length} cores, Node ${process.version}, ${LARGE_BYTES / MB} MB bodies, ${CONCURRENCY} concurrent small requests for ${SMALL_SECONDS} s, ${NEW_HOSTS} new hosts`,
  '',
  `${'scenario'.padEnd(32)}${'direct'.padStart(10)}${'phonehome'.padStart(12)}${'mitmproxy'.padStart(12)}   phonehome/direct   phonehome/mitmproxy`,
  `${'HTTPS upload, MB/s'.padEnd(32)}${fmt(d.upload).padStart(10)}${fmt(p.upload).padStart(12)}${fmt(m?.upload).padStart(12)}   ${ratio(p.upload, d.upload).padEnd(19)}${m ? ratio(p.upload, m.upload) : '-'}`,
  `${'HTTPS download, MB/s'.padEnd(32)}${fmt(d.download).padStart(10)}${fmt(p.download).padStart(12)}${fmt(m?.download).padStart(12)}   ${ratio(p.download, d.download).padEnd(19)}${m ? ratio(p.download, m.download) : '-'}`,
  `${'small keep-alive requests, req/s'.padEnd(32)}${fmt(d.small).padStart(10)}${fmt(p.small).padStart(12)}${fmt(m?.small).padStart(12)}   ${ratio(p.small, d.small).padEnd(19)}${m ? ratio(p.small, m.small) : '-'}`,
  `${'new host first byte p50, ms'.padEnd(32)}${fmt(d.newHost.p50, 1).padStart(10)}${fmt(p.newHost.p50, 1).padStart(12)}${fmt(m?.newHost.p50, 1).padStart(12)}   ${ratio(p.newHost.p50, d.newHost.p50).padEnd(19)}${m ? ratio(p.newHost.p50, m.newHost.p50) : '-'}`,
  `${'HTTP/2 small requests, req/s'.padEnd(32)}${fmt(d.h2?.small).padStart(10)}${fmt(p.h2?.small).padStart(12)}${fmt(m?.h2?.small).padStart(12)}   ${d.h2 && p.h2 ? ratio(p.h2.small, d.h2.small).padEnd(19) : '-'.padEnd(19)}${m?.h2 && p.h2 ? ratio(p.h2.small, m.h2.small) : '-'}`,
  `${'HTTP/2 upload, MB/s'.padEnd(32)}${fmt(d.h2?.upload).padStart(10)}${fmt(p.h2?.upload).padStart(12)}${fmt(m?.h2?.upload).padStart(12)}   ${d.h2 && p.h2 ? ratio(p.h2.upload, d.h2.upload).padEnd(19) : '-'.padEnd(19)}${m?.h2 && p.h2 ? ratio(p.h2.upload, m.h2.upload) : '-'}`,
  `${'new host first byte p95, ms'.padEnd(32)}${fmt(d.newHost.p95, 1).padStart(10)}${fmt(p.newHost.p95, 1).padStart(12)}${fmt(m?.newHost.p95, 1).padStart(12)}`,
  `${'peak RSS, 1 GB up + 200 MB slow down'.padEnd(32)}${'-'.padStart(10)}${`${fmt(p.rss)} MB`.padStart(12)}${(m?.rss !== undefined ? `${fmt(m.rss)} MB` : '-').padStart(12)}`,
  `${'detection engine, MB/s (1 core)'.padEnd(32)}${'-'.padStart(10)}${fmt(detectorMBps).padStart(12)}`,
  `${'UI frame, 100k flows, ms'.padEnd(32)}${'-'.padStart(10)}${fmt(uiFrameMs, 1).padStart(12)}`,
  '',
  // The floor: what a Node relay with no recording and no inspection does on these cores.
  `${'floor (bare Node relays)'.padEnd(32)}${'pipe'.padStart(10)}${'http'.padStart(12)}   phonehome/pipe     phonehome/http`,
  ...(['upload', 'download', 'small'] as const).map((k) => {
    const pipe = results.get('bare-pipe')?.[k];
    const httpRelay = results.get('bare-http')?.[k];
    const label = { upload: 'HTTPS upload, MB/s', download: 'HTTPS download, MB/s', small: 'small keep-alive requests, req/s' }[k];
    return `${label.padEnd(32)}${fmt(pipe).padStart(10)}${fmt(httpRelay).padStart(12)}   ${(pipe ? ratio(p[k], pipe) : '-').padEnd(19)}${httpRelay ? ratio(p[k], httpRelay) : '-'}`;
  }),
  `${'new host first byte p50, ms'.padEnd(32)}${fmt(results.get('bare-pipe')?.newHost.p50, 1).padStart(10)}${fmt(results.get('bare-http')?.newHost.p50, 1).padStart(12)}`,
  '',
  goalsLine(),
];
process.stdout.write(`${lines.join('\n')}\n`);

/** Each of issue #14's goals, met or not, from this run's figures. */
function goalsLine(): string {
  const pipe = results.get('bare-pipe');
  const httpRelay = results.get('bare-http');
  const verdict = (ok: boolean | undefined, missing = 'not measured'): string => (ok === undefined ? missing : ok ? 'met' : 'NOT met');
  return 'goals: ' + [
    `small requests >= 0.9x bare HTTP relay: ${verdict(httpRelay && p.small >= 0.9 * httpRelay.small)}`,
    `upload >= 0.9x bare pipe: ${verdict(pipe && p.upload >= 0.9 * pipe.upload)}`,
    `download >= 0.9x bare pipe: ${verdict(pipe && p.download >= 0.9 * pipe.download)}`,
    `HTTP/2 small >= 5x mitmproxy: ${verdict(m?.h2 && p.h2 ? p.h2.small >= 5 * m.h2.small : undefined, 'mitmdump not installed')}`,
    `new host p50 <= mitmproxy: ${verdict(m ? p.newHost.p50 <= m.newHost.p50 : undefined, 'mitmdump not installed')}`,
    `detection >= 100 MB/s: ${verdict(detectorMBps >= 100)}`,
    `peak RSS <= 250 MB: ${verdict(p.rss !== undefined ? p.rss <= 250 : undefined)}`,
  ].join('; ');
}
fs.rmSync(work, { recursive: true, force: true });
process.exit(0);
