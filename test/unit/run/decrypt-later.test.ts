// decrypt's run-folder half: a finished run with a pinned host's tunnel, opaque.pcapng present, and
// the capture-file reader and offline layers stood in by functions handing RecordedSessions and
// flows, so what decrypt does to the run (a new session, ids going on, tags, decryptedLater, the
// rebuilt summary, HAR and report, nothing twice, refusals) is tested on its own.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { decryptLater, type CaptureReader, type SessionLayers } from '../../../src/run/decrypt-later.js';
import { recoverRun } from '../../../src/run/recover.js';
import { readRunRecord, writeRunRecord } from '../../../src/run/run-record.js';
import type { RecordedSession } from '../../../src/capture-file/recorded-session.js';
import { newFlowId, type Flow } from '../../../src/model/flow.js';
import type { Finding } from '../../../src/model/finding.js';
import { FindingsJsonlSink } from '../../../src/sinks/findings-jsonl-sink.js';
import { FlowLogSink } from '../../../src/sinks/flow-log-sink.js';
import { body } from '../../helpers/flows.js';
import { tempDir, within } from '../../helpers/lab.js';
import { makeFinding } from '../../helpers/runs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const photo = fs.readFileSync(path.join(here, '../../fixtures/photos/camera.jpg'));
const CLIENT = { ip: '127.0.0.1', port: 50_001 };
const SERVER = { ip: '127.0.0.1', port: 8443 };

const quiet = { failed: () => undefined, recovered: () => undefined };
const files = { redact: false, backlogLimitBytes: 1 << 20, retryMs: 1000 };

/** A run as a capture leaves it: the pinned host's failed handshake and its tunnel, their two findings, finished. */
async function pinnedRun(options: { finished?: boolean; opaque?: boolean; report?: boolean } = {}): Promise<string> {
  const dir = tempDir('phonehome-decrypt-');
  const common = { startedAt: '2026-12-02T10:00:00.000Z', durationMs: 100, client: { ip: '127.0.0.1', port: 50_000 }, mode: 'http' as const, target: { host: 'pinned.example.test', port: 8443 }, sni: 'pinned.example.test', bytesUp: 0, bytesDown: 0 };
  const flows: Flow[] = [
    { ...common, id: 'fl-000001', kind: 'tls-failed', endedAt: '2026-12-02T10:00:00.100Z', scheme: 'tls', error: 'alert 48', tags: ['passthrough:learned', 'tls:certificate-rejected'] },
    { ...common, id: 'fl-000002', kind: 'tunnel', client: CLIENT, endedAt: '2026-12-02T10:00:01.000Z', scheme: 'tls', destination: SERVER, bytesUp: 40_000, bytesDown: 3_000, tags: ['passthrough:learned'] },
  ];
  const flowLog = new FlowLogSink(path.join(dir, 'flows.jsonl'), quiet, files);
  for (const flow of flows) flowLog.write(flow);
  flowLog.close();
  const findings = new FindingsJsonlSink(path.join(dir, 'findings.jsonl'), quiet, { ...files, insecureUpstream: false });
  findings.write(makeFinding(1, { category: 'tls-pinned', severity: 'low', flowId: 'fl-000001', host: 'pinned.example.test', detector: 'tls/pinned' }));
  findings.write(makeFinding(2, { category: 'opaque', severity: 'info', flowId: 'fl-000002', host: 'pinned.example.test', detector: 'tunnel/opaque' }));
  findings.close();
  writeRunRecord(dir, { v: 1, tool: { name: 'phonehome', version: '0.0.0-test' }, insecureUpstream: false, passthroughConfigured: [], sessions: [{ startedAt: '2026-12-02T10:00:00.000Z', options: { bodyLimitBytes: 1 << 20, redact: false } }], finished: false });
  // The summary and HAR as a stop makes them from the logs.
  if (options.finished !== false) await recoverRun(dir);
  if (options.opaque !== false) fs.writeFileSync(path.join(dir, 'opaque.pcapng'), 'ciphertext read by the reader stand-in');
  if (options.report) {
    const { reportRunFolder } = await import('../../../src/report/build-report.js');
    await reportRunFolder(dir);
  }
  return dir;
}

/** A key log with one TLS 1.2 and one TLS 1.3 session, a comment and a blank line. */
function keylog(dir: string): string {
  const file = path.join(dir, 'app.keys');
  const random = (c: string): string => c.repeat(64);
  fs.writeFileSync(file, [
    '# written by the app (tls keylog event)',
    `CLIENT_RANDOM ${random('a')} ${'b'.repeat(96)}`,
    '',
    `CLIENT_HANDSHAKE_TRAFFIC_SECRET ${random('c')} ${'d'.repeat(64)}`,
    `SERVER_HANDSHAKE_TRAFFIC_SECRET ${random('c')} ${'e'.repeat(64)}`,
    `CLIENT_TRAFFIC_SECRET_0 ${random('c')} ${'f'.repeat(64)}`,
    `SERVER_TRAFFIC_SECRET_0 ${random('c')} ${'0'.repeat(64)}`,
  ].join('\r\n'));
  return file;
}

function session(overrides: Partial<RecordedSession> = {}): RecordedSession {
  return {
    client: CLIENT, server: SERVER, startedAt: '2026-12-02T10:00:00.500Z', endedAt: '2026-12-02T10:00:01.000Z',
    tls: { sni: 'pinned.example.test', alpn: 'http/1.1', version: 'TLSv1.3', decrypted: true },
    chunks: [{ fromClient: true, time: '2026-12-02T10:00:00.600Z', data: Buffer.from('POST /upload HTTP/1.1\r\n\r\n') }],
    bytesUp: 40_000, bytesDown: 3_000, tags: [], ...overrides,
  };
}

/** The reader stand-in: hands the sessions in order, after checking it got the merged key log. */
function reader(sessions: readonly RecordedSession[], seen: { keylogs?: readonly string[]; keylogText?: string } = {}): CaptureReader {
  return async (file, options) => {
    if (!fs.existsSync(file)) throw new Error(`no ${file}`);
    seen.keylogs = options.keylogFiles;
    seen.keylogText = fs.readFileSync(options.keylogFiles[0]!, 'utf8');
    const mode = fs.statSync(options.keylogFiles[0]!).mode & 0o777;
    seen.keylogText += `\nmode ${mode.toString(8)}`;
    for (const s of sessions) options.onSession(s);
  };
}

/** The layers stand-in: one multipart photo upload per session, to the address (as a redirected capture would know it). */
const layers: SessionLayers = (s, options) => {
  const boundary = 'phonehome-test-boundary';
  const payload = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="camera.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`), photo, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return [{
    id: newFlowId(), kind: 'http', startedAt: s.startedAt, endedAt: s.endedAt, durationMs: 500, client: s.client, target: { host: s.server.ip, port: s.server.port },
    scheme: 'https', destination: s.server, ...(s.tls?.sni ? { sni: s.tls.sni } : {}),
    request: { method: 'POST', url: `https://pinned.example.test:${s.server.port}/upload`, httpVersion: 'HTTP/1.1', headers: [['host', `pinned.example.test:${s.server.port}`], ['content-type', `multipart/form-data; boundary=${boundary}`]], body: body(payload) },
    response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [], body: body('stored') },
    // As the real layers do on a tap: the SNI differs from the address they know.
    bytesUp: payload.length, bytesDown: 6, tags: [...options.tags, 'offline', 'sni-mismatch'],
  }];
};

function lines<T>(file: string): T[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);
}

t.test('keys open a recorded session: its flows and findings join the run as a new session, ids going on', async (t) => {
  const dir = await pinnedRun({ report: true });
  const summaryBefore = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
  const seen: { keylogs?: readonly string[]; keylogText?: string } = {};
  const withoutKeys = session({ client: { ip: '127.0.0.1', port: 50_002 }, tls: { sni: 'other.example.test', decrypted: false }, bytesUp: 500, bytesDown: 700 });
  const notTls = session({ client: { ip: '127.0.0.1', port: 50_003 }, bytesUp: 10, bytesDown: 0 });
  delete (notTls as { tls?: unknown }).tls;
  const result = await decryptLater(dir, { keylogFiles: [keylog(dir)], readCapture: reader([session(), withoutKeys, notTls], seen), sessionToFlows: layers });

  t.same(result.opened, { sessions: 1, bytes: 43_000 });
  t.same(result.withoutKeys, { sessions: 1, bytes: 1_200 });
  t.same(result.notTls, { sessions: 1, bytes: 10 });
  t.same(result.keys, { tls12: 1, tls13: 4, skipped: 2 });
  t.match(seen.keylogText, /^CLIENT_RANDOM a{64} b{96}\nCLIENT_HANDSHAKE_TRAFFIC_SECRET/, 'the merged key log, comments and line ends left out');
  t.match(seen.keylogText, /mode 600$/, 'only this user reads the merged keys');
  t.notOk(fs.existsSync(seen.keylogs![0]!), 'the merged key log is removed afterwards');

  const flows = lines<{ _phonehome: { flowId: string; tags: string[]; target: { host: string } } }>(path.join(dir, 'flows.jsonl'));
  t.same(flows.map((f) => f._phonehome.flowId), ['fl-000001', 'fl-000002', 'fl-000003'], 'flow ids go on after the last; no flow for the sessions without keys');
  t.same(flows[2]!._phonehome.tags, ['decrypted-later', 'decrypted-later-of:fl-000002', 'offline'], 'the SNI matches the host the device asked for: no sni-mismatch');
  t.equal(flows[2]!._phonehome.target.host, 'pinned.example.test', 'the host the device asked for, from the tunnel flow');

  const findings = lines<Finding>(path.join(dir, 'findings.jsonl'));
  t.same(findings.map((f) => f.id), ['f-000001', 'f-000002', 'f-000003']);
  const found = findings[2]!;
  t.equal(found.category, 'photo');
  t.equal(found.decryptedLater, true);
  t.equal(found.host, 'pinned.example.test');
  t.equal(found.flowId, 'fl-000003');
  t.equal(found.mode, 'http', 'how the device came, from the tunnel flow');
  t.match(found.evidence.path.join(' > '), /multipart/);
  t.notOk('decryptedLater' in findings[0]!, 'findings of the live capture are not marked');
  t.same(result.findings.map((f) => f.id), ['f-000003']);

  const record = readRunRecord(dir)!;
  t.equal(record.finished, true);
  t.equal(record.sessions.length, 2);
  const decrypt = record.sessions[1]!.options['decrypt'] as Record<string, unknown>;
  t.match(decrypt, { capture: 'opaque.pcapng', opened: { sessions: 1 }, withoutKeys: { sessions: 1 }, flows: 1, findings: 1 });
  t.ok(record.sessions[1]!.endedAt);

  const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
  t.same(summary.coverage.decryptedLater, { sessions: 1, flows: 1, bytesUp: (flows[2] as unknown as { _phonehome: { bytesUp: number } })._phonehome.bytesUp, bytesDown: 6 });
  t.same(summary.coverage.totals, summaryBefore.coverage.totals, 'the opened bytes are not counted twice: the tunnel holds them');
  t.equal(summary.flows.seen, 3);
  t.equal(summary.findings.byCategory.photo, 1);
  t.equal(summary.startedAt, summaryBefore.startedAt);
  t.match(summary.notes.at(-1), /phonehome decrypt .*opened 1 of the 2 TLS session/);
  const har = JSON.parse(fs.readFileSync(path.join(dir, 'flows.har'), 'utf8'));
  t.equal(har.log.entries.length, 3);
  const report = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
  t.ok(result.reportRebuilt);
  t.match(report, /<span class="badge decrypted-later"[^>]*>decrypted later<\/span>/);
  t.match(report, /id="decrypted-later">1 opaque session\(s\) were opened afterwards/);
});

t.test('the same keys again add nothing; new keys add only the sessions they open', async (t) => {
  const dir = await pinnedRun();
  const second = session({ client: { ip: '127.0.0.1', port: 50_004 }, startedAt: '2026-12-02T10:00:02.000Z' });
  await decryptLater(dir, { keylogFiles: [keylog(dir)], readCapture: reader([session(), { ...second, tls: { decrypted: false } }]), sessionToFlows: layers });
  const again = await decryptLater(dir, { keylogFiles: [keylog(dir)], readCapture: reader([session(), second]), sessionToFlows: layers });
  t.same(again.alreadyOpened, { sessions: 1, bytes: 43_000 });
  t.same(again.opened.sessions, 1);
  t.same(again.flowIds, ['fl-000004']);
  t.same(again.findings.map((f) => f.id), ['f-000004']);
  t.equal(readRunRecord(dir)!.sessions.length, 3);
  const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
  t.same(summary.coverage.decryptedLater.sessions, 2);
  t.equal(summary.findings.byCategory.photo, 2);
  t.equal(summary.notes.filter((n: string) => n.startsWith('phonehome decrypt')).length, 2);
  t.notOk(fs.existsSync(path.join(dir, 'report.html')), 'no report is made where there was none');
});

t.test('a run without opaque.pcapng is refused in one line, and nothing changes', async (t) => {
  const dir = await pinnedRun({ opaque: false });
  const before = fs.readFileSync(path.join(dir, 'run.json'), 'utf8');
  await t.rejects(decryptLater(dir, { keylogFiles: [keylog(dir)], readCapture: reader([]), sessionToFlows: layers }), { message: 'this run recorded no ciphertext (opaque.pcapng): run capture with --opaque-limit > 0' });
  t.equal(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'), before);
});

t.test('a folder without a run, or a missing folder, is one line', async (t) => {
  const empty = tempDir('phonehome-decrypt-empty-');
  await t.rejects(decryptLater(empty, { keylogFiles: [], readCapture: reader([]), sessionToFlows: layers }), { message: /holds no phonehome run/ });
  await t.rejects(decryptLater(path.join(empty, 'nope'), { keylogFiles: [], readCapture: reader([]), sessionToFlows: layers }), { message: /is not a folder/ });
});

t.test('a run that did not stop cleanly is recovered first', async (t) => {
  const dir = await pinnedRun({ finished: false });
  const notices: string[] = [];
  const result = await decryptLater(dir, { keylogFiles: [keylog(dir)], readCapture: reader([session()]), sessionToFlows: layers, notice: (m) => notices.push(m) });
  t.match(notices[0], /did not stop cleanly: recovered 2 flow\(s\) and 2 finding\(s\) first/);
  t.same(result.flowIds, ['fl-000003']);
  const record = readRunRecord(dir)!;
  t.equal(record.sessions[0]!.recovered, true);
  t.equal(record.finished, true);
});

t.test('a run a live capture is writing is refused, and left alone', async (t) => {
  const dir = await pinnedRun({ finished: false });
  // Another process holding flows.jsonl open, as a running capture does.
  const holder = spawn(process.execPath, ['-e', `require('fs').openSync(${JSON.stringify(path.join(dir, 'flows.jsonl'))}, 'a'); console.log('open'); process.stdin.resume();`], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => holder.kill());
  await within(once(holder.stdout!, 'data'), 10_000, 'the holder opened the log');
  const before = fs.readFileSync(path.join(dir, 'run.json'), 'utf8');
  await t.rejects(decryptLater(dir, { keylogFiles: [keylog(dir)], readCapture: reader([session()]), sessionToFlows: layers }), { message: `${dir} is being written by a running capture (process ${holder.pid}): stop it first, then decrypt` });
  t.equal(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'), before, 'not recovered under the capture');
  t.notOk(fs.existsSync(path.join(dir, 'summary.json')));
});

t.test('a reader that fails before anything was added leaves the run as it was', async (t) => {
  const dir = await pinnedRun();
  const before = readRunRecord(dir)!;
  const failing: CaptureReader = async () => { throw new Error('tshark: not found'); };
  await t.rejects(decryptLater(dir, { keylogFiles: [keylog(dir)], readCapture: failing, sessionToFlows: layers }), { message: 'tshark: not found' });
  t.same(readRunRecord(dir), before);
});

t.test('a malformed key log is named by file and line before anything is touched', async (t) => {
  const dir = await pinnedRun();
  const bad = path.join(dir, 'bad.keys');
  fs.writeFileSync(bad, `# ok\nCLIENT_RANDOM ${'a'.repeat(64)} ${'b'.repeat(96)}\nCLIENT_RANDOM ${'a'.repeat(63)} ${'b'.repeat(96)}\n`);
  const before = fs.readFileSync(path.join(dir, 'run.json'), 'utf8');
  await t.rejects(decryptLater(dir, { keylogFiles: [keylog(dir), bad], readCapture: reader([session()]), sessionToFlows: layers }), { message: `--keylog ${bad}: line 3: CLIENT_RANDOM: the client random should be 64 hex digits, found "${'a'.repeat(63)}"` });
  t.equal(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'), before);
});
