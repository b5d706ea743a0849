// Issue 21, as a user would: a pinned app through a live capture (it trusts only the real server's
// CA, so phonehome's certificate is refused, the host is learned as passthrough and its traffic
// passes through undecrypted, recorded in opaque.pcapng), the app's own key log brought afterwards,
// and `phonehome decrypt RUN_DIR --keylog app.keys` turning its photo upload into a photo finding
// marked decryptedLater, in the run's files and its report.

import t from 'tap';
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { once } from 'node:events';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Finding } from '../../src/model/finding.js';
import { cli } from '../helpers/cli.js';
import { connectTunnel, getOriginCa, h2Request, startH2Origin, startOrigin, tempDir, within } from '../helpers/lab.js';
import { startCaptureRun } from '../helpers/capture-run.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const photo = fs.readFileSync(path.join(here, '../fixtures/photos/camera.jpg'));

const skip = spawnSync('tshark', ['--version']).status === 0 ? false : 'tshark is not installed';

/**
 * A pinning app: a Node TLS client through a CONNECT tunnel that trusts only the real server's CA
 * and logs its own keys (what Frida or friTap pull out of a real app). Resolves once the
 * handshake is refused, or with the server's answer to its multipart photo upload.
 */
async function pinnedApp(proxyPort: number, originPort: number, keys: Buffer[]): Promise<{ refused: true } | { status: number; body: string }> {
  const { socket } = await connectTunnel(proxyPort, `pinned.example.test:${originPort}`);
  const secure = tls.connect({ socket, ca: getOriginCa().certPem, servername: 'pinned.example.test', ALPNProtocols: ['http/1.1'] });
  secure.on('keylog', (line) => keys.push(line));
  const handshake = await new Promise<'ok' | 'refused'>((resolve) => {
    secure.once('secureConnect', () => resolve('ok'));
    secure.once('error', () => resolve('refused'));
  });
  if (handshake === 'refused') return { refused: true };
  const boundary = '----phonehome-pinned-app';
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="caption"\r\n\r\nholidays\r\n--${boundary}\r\nContent-Disposition: form-data; name="photo"; filename="camera.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
    photo, Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const request = https.request({
    host: 'pinned.example.test', port: originPort, method: 'POST', path: '/v2/media/upload', createConnection: () => secure,
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length, connection: 'close' },
  });
  request.end(body);
  const [response] = await once(request, 'response') as [import('node:http').IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return { status: response.statusCode!, body: Buffer.concat(chunks).toString() };
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  return within(once(child, 'close').then(([code]) => ({ code: code as number | null, stdout, stderr })), 60_000, `phonehome ${args[0]}`);
}

function jsonLines<T>(file: string): T[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);
}

t.test('a pinned app\'s photo upload, passed through live, becomes a photo finding once its keys are brought', { skip }, async (t) => {
  let received = 0;
  const origin = await startOrigin({ tls: true, hostname: 'pinned.example.test', handler: (req, res) => { req.on('data', (c: Buffer) => { received += c.length; }); req.on('end', () => res.end('stored')); } });
  t.teardown(() => origin.close());
  const { session, out } = await startCaptureRun({ report: true });
  const findingsLive: Finding[] = [];
  session.bus.on('finding', (f) => findingsLive.push(f));

  const appKeys: Buffer[] = [];
  // The proxy learns the host from the refused handshake: the next connection waits for that.
  const learned = within(once(session.bus, 'tls:failed'), 20_000, 'the pinned host learned');
  t.same(await pinnedApp(session.port, origin.port, appKeys), { refused: true }, 'the first handshake fails: the app pins');
  t.match(await learned, [{ host: 'pinned.example.test', learnedPassthrough: true }]);
  const upload = await pinnedApp(session.port, origin.port, appKeys);
  t.same(upload, { status: 200, body: 'stored' }, 'then it passes through, untouched');
  t.ok(received > photo.length, 'the server got the photo');
  // Another pinned upload whose keys nobody extracted: it stays opaque.
  t.match(await pinnedApp(session.port, origin.port, []), { status: 200 });
  const stopped = await session.stop();
  t.equal(stopped.exitCode, 0);
  t.notOk(findingsLive.some((f) => f.category === 'photo'), 'live, the photo was not seen');
  t.ok(fs.existsSync(path.join(out, 'opaque.pcapng')), 'the ciphertext was kept');
  const flowsBefore = jsonLines<{ _phonehome: { flowId: string; kind: string } }>(path.join(out, 'flows.jsonl'));
  const findingsBefore = jsonLines<Finding>(path.join(out, 'findings.jsonl'));
  t.same(flowsBefore.map((f) => f._phonehome.kind), ['tls-failed', 'tunnel', 'tunnel']);
  const lastFlow = Math.max(...flowsBefore.map((f) => Number(f._phonehome.flowId.slice(3))));
  const lastFinding = Math.max(...findingsBefore.map((f) => Number(f.id.slice(2))));

  const keyFile = path.join(path.dirname(out), 'app.keys');
  fs.writeFileSync(keyFile, Buffer.concat(appKeys), { mode: 0o600 });
  const decrypted = await run(['decrypt', out, '--keylog', keyFile]);
  t.equal(decrypted.code, 0, decrypted.stderr);
  t.match(decrypted.stderr, /keys opened 1 of 2 TLS session\(s\) in opaque\.pcapng .*; 1 stayed opaque/);
  t.match(decrypted.stderr, /flows\.har, summary\.json and report\.html rebuilt/);

  const printed = decrypted.stdout.trim().split('\n').map((line) => JSON.parse(line) as Finding);
  const found = printed.find((f) => f.category === 'photo');
  t.ok(found, 'a photo finding');
  t.equal(found?.decryptedLater, true);
  t.equal(found?.host, 'pinned.example.test');
  t.equal(found?.method, 'POST');
  t.equal(found?.url, `https://pinned.example.test:${origin.port}/v2/media/upload`);
  t.same(found?.evidence.path, ['body', 'multipart:photo', 'image/jpeg'], 'the decode path');
  t.equal(found?.id, `f-${String(lastFinding + 1).padStart(6, '0')}`, 'finding ids go on');

  const flowsAfter = jsonLines<{ _phonehome: { flowId: string; tags: string[] } }>(path.join(out, 'flows.jsonl'));
  const added = flowsAfter.slice(flowsBefore.length);
  t.same(added.map((f) => f._phonehome.flowId), [`fl-${String(lastFlow + 1).padStart(6, '0')}`], 'flow ids go on');
  t.ok(added.every((f) => f._phonehome.tags.includes('decrypted-later')));
  t.equal(found?.flowId, added[0]!._phonehome.flowId);
  t.same(jsonLines<Finding>(path.join(out, 'findings.jsonl')).filter((f) => f.decryptedLater).map((f) => f.id), printed.map((f) => f.id));

  const record = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'));
  t.equal(record.sessions.length, 2, 'a new session');
  t.equal(record.finished, true);
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  t.match(summary.coverage.decryptedLater, { sessions: 1, flows: 1 });
  t.equal(summary.findings.byCategory.photo, 1);
  t.equal(JSON.parse(fs.readFileSync(path.join(out, 'flows.har'), 'utf8')).log.entries.length, flowsAfter.length);
  const report = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
  const article = new RegExp(`<article class="finding [a-z]+" id="${found?.id}"[^]*?</article>`).exec(report)?.[0] ?? '';
  t.match(article, /<span class="badge decrypted-later"[^>]*>decrypted later<\/span>/, 'the report marks the finding');
  t.match(report, /id="decrypted-later">1 of the 2 opaque session\(s\) recorded in opaque\.pcapng were opened afterwards/);

  const again = await run(['decrypt', out, '--keylog', keyFile]);
  t.equal(again.code, 0);
  t.equal(again.stdout, '', 'the same keys again add nothing');
  t.match(again.stderr, /1 were opened by an earlier decrypt and not added again/);
});

t.test('TLS 1.2 (CLIENT_RANDOM) and HTTP/2 open too: a pinned h2 app uploading a photo', { skip }, async (t) => {
  const origin = await startH2Origin({ hostname: 'pinned-h2.example.test', onStream: (stream) => { stream.resume(); stream.on('end', () => { stream.respond({ ':status': 201 }); stream.end('stored'); }); } });
  t.teardown(() => origin.close());
  const { session, out } = await startCaptureRun();
  const keys: Buffer[] = [];
  const app = async (): Promise<tls.TLSSocket | undefined> => {
    const { socket } = await connectTunnel(session.port, `pinned-h2.example.test:${origin.port}`);
    const secure = tls.connect({ socket, ca: getOriginCa().certPem, servername: 'pinned-h2.example.test', ALPNProtocols: ['h2'], maxVersion: 'TLSv1.2' });
    secure.on('keylog', (line) => keys.push(line));
    return new Promise((resolve) => {
      secure.once('secureConnect', () => resolve(secure));
      secure.once('error', () => resolve(undefined));
    });
  };
  const learned = within(once(session.bus, 'tls:failed'), 20_000, 'the pinned host learned');
  t.equal(await app(), undefined, 'pinned: refused once');
  await learned;
  const secure = (await app())!;
  t.equal(secure.getProtocol(), 'TLSv1.2');
  t.equal(secure.alpnProtocol, 'h2');
  const h2 = http2.connect(`https://pinned-h2.example.test:${origin.port}`, { createConnection: () => secure });
  const answer = await h2Request(h2, { ':method': 'POST', ':path': '/api/photos', 'content-type': 'image/jpeg' }, photo);
  t.equal(answer.status, 201);
  h2.close();
  await once(secure, 'close');
  await session.stop();
  t.match(Buffer.concat(keys).toString(), /^CLIENT_RANDOM /m, 'a TLS 1.2 key log');

  const keyFile = path.join(path.dirname(out), 'app.keys');
  fs.writeFileSync(keyFile, Buffer.concat(keys), { mode: 0o600 });
  const decrypted = await run(['decrypt', out, '--keylog', keyFile]);
  t.equal(decrypted.code, 0, decrypted.stderr);
  const found = decrypted.stdout.trim().split('\n').map((line) => JSON.parse(line) as Finding).find((f) => f.category === 'photo');
  t.match(found, { decryptedLater: true, host: 'pinned-h2.example.test', method: 'POST', url: `https://pinned-h2.example.test:${origin.port}/api/photos` });
  t.equal(found?.evidence.path[0], 'body');
  const added = jsonLines<{ request: { httpVersion: string }; _phonehome: { tags: string[] } }>(path.join(out, 'flows.jsonl')).filter((f) => f._phonehome.tags.includes('decrypted-later'));
  t.same(added.map((f) => f.request.httpVersion), ['HTTP/2.0'], 'read as HTTP/2');
});

t.test('decrypt refuses in one line: no ciphertext kept, a bad key log, no --keylog', async (t) => {
  const dir = tempDir('phonehome-decrypt-cli-');
  fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ v: 1, tool: { name: 'phonehome', version: 'x' }, insecureUpstream: false, passthroughConfigured: [], sessions: [{ startedAt: '2026-12-02T10:00:00.000Z', options: {} }], finished: true }));
  fs.writeFileSync(path.join(dir, 'flows.jsonl'), '');
  const keys = path.join(dir, 'app.keys');
  fs.writeFileSync(keys, `CLIENT_RANDOM ${'a'.repeat(64)} ${'b'.repeat(96)}\n`);
  const none = await run(['decrypt', dir, '--keylog', keys]);
  t.equal(none.code, 1);
  t.equal(none.stderr, 'phonehome: this run recorded no ciphertext (opaque.pcapng): run capture with --opaque-limit > 0\n');
  fs.writeFileSync(path.join(dir, 'opaque.pcapng'), '');
  fs.writeFileSync(keys, `# friTap\nCLIENT_RANDOM ${'a'.repeat(64)} ${'b'.repeat(95)}\n`);
  const bad = await run(['decrypt', dir, '--keylog', keys]);
  t.equal(bad.code, 1);
  t.equal(bad.stderr, `phonehome: --keylog ${keys}: line 2: CLIENT_RANDOM: the secret should be 96 hex digits, found 95 character(s)\n`);
  const missing = await run(['decrypt', dir]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^phonehome: --keylog FILE is required \(usage: phonehome decrypt RUN_DIR --keylog FILE \[--keylog FILE…\]\)\n$/);
  const help = await run(['decrypt', '--help']);
  t.match(help.stdout, /^usage: phonehome decrypt RUN_DIR --keylog FILE/);
});
