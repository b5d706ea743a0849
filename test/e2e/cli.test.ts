// The contract as scripts see it: the built CLI (dist/cli.js, built by `npm test`'s pretest),
// its files, its exit codes and its one-line errors.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import type tls from 'node:tls';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { installRoot } from '../../src/util/install-paths.js';
import { cli, startCapture } from '../helpers/cli.js';
import { getOriginCa, httpsViaProxy, httpViaProxy, startOrigin, tempDir } from '../helpers/lab.js';
import { runProgram } from '../helpers/run-client.js';
import { startOneRequestTlsOrigin } from '../helpers/tls-origin.js';
import { originCaFile } from '../helpers/capture-run.js';
import { installForAnotherUser } from '../helpers/install-for-another-user.js';


function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'buffer', env: { ...process.env, ...env }, timeout: 60_000 });
}


t.test('capture: real traffic, SIGTERM, whole files, exit 0', async (t) => {
  const origin = await startOrigin({ tls: true, hostname: '127.0.0.1', handler: (req, res) => { req.resume(); req.on('end', () => res.end('from origin')); } });
  t.teardown(() => origin.close());
  const dir = tempDir();
  const originCa = originCaFile();
  const out = path.join(dir, 'run');
  const caDir = path.join(dir, 'ca');
  const { child, port } = await startCapture(['--out', out, '--ca-dir', caDir, '--upstream-ca', originCa]);
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  const exported = run(['ca', 'export', '--ca-dir', caDir]);
  t.equal(exported.status, 0);
  const res = await httpsViaProxy({ proxyPort: port, host: '127.0.0.1', port: origin.port, method: 'POST', body: 'photo bytes', trust: exported.stdout.toString() });
  t.equal(res.body.toString(), 'from origin');
  const page = await httpViaProxy({ proxyPort: port, url: 'http://phonehome.cert/' });
  t.equal(page.status, 200);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  t.equal(code, 0);
  const har = JSON.parse(fs.readFileSync(path.join(out, 'flows.har'), 'utf8'));
  t.equal(har.log.entries.length, 1);
  t.equal(har.log.entries[0].request.postData.text, 'photo bytes');
  t.equal(har.log.entries[0].serverIPAddress, '127.0.0.1');
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  t.equal(summary.flows.decrypted, 1);
  t.equal(summary.options.listen, '127.0.0.1:0');
  t.ok(fs.existsSync(path.join(out, 'findings.jsonl')));
  t.equal(fs.statSync(path.join(caDir, 'ca.key')).mode & 0o777, 0o600);

  const analyzed = run(['analyze', path.join(out, 'flows.har'), '--out', path.join(dir, 'analysis')]);
  t.equal(analyzed.status, 0, analyzed.stderr.toString());
  t.ok(fs.existsSync(path.join(dir, 'analysis', 'summary.json')));
});

t.test('capture stops by itself after --duration', async (t) => {
  const out = path.join(tempDir(), 'run');
  const { child } = await startCapture(['--out', out, '--ca-dir', path.join(tempDir(), 'ca'), '--duration', '0.3s']);
  const [code] = await once(child, 'exit');
  t.equal(code, 0);
  t.ok(fs.existsSync(path.join(out, 'summary.json')));
});

t.test('bad usage exits 1 with one line that names the problem', async (t) => {
  const rows: Array<[string[], RegExp]> = [
    [['capture', '--listen', 'nowhere'], /--listen "nowhere"/],
    [['capture', '--fail-on', 'severe'], /--fail-on "severe"/],
    [['capture', '--bogus'], /Unknown option '--bogus'/],
    [['capture', '--body-limit', 'lots'], /--body-limit/],
    [['analyze'], /usage: phonehome analyze/],
    [['analyze', '/nonexistent.har'], /\/nonexistent.har/],
    [['ca', 'export', '--format', 'jpeg', '--ca-dir', tempDir()], /--format "jpeg"/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ];
  for (const [args, message] of rows) {
    const result = run(args);
    t.equal(result.status, 1, args.join(' '));
    const lines = result.stderr.toString().trim().split('\n');
    t.equal(lines.length, 1, `one line: ${lines.join(' | ')}`);
    t.match(lines[0], message);
  }
});

t.test('a port in use is a configuration error, not a crash', async (t) => {
  const net = await import('node:net');
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const result = run(['capture', '--listen', `127.0.0.1:${port}`, '--ca-dir', path.join(tempDir(), 'ca'), '--out', path.join(tempDir(), 'o')]);
  t.equal(result.status, 1);
  t.match(result.stderr.toString(), /port is in use/);
});

t.test('ca export writes PEM, DER and P12; ca info reports the key mode and fingerprint', async (t) => {
  const dir = tempDir();
  const caDir = path.join(dir, 'ca');
  const pem = run(['ca', 'export', '--ca-dir', caDir]).stdout.toString();
  t.match(pem, /^-----BEGIN CERTIFICATE-----/);
  t.equal(run(['ca', 'export', '--format', 'der', '--out', path.join(dir, 'ca.cer'), '--ca-dir', caDir]).status, 0);
  t.equal(new X509Certificate(fs.readFileSync(path.join(dir, 'ca.cer'))).fingerprint256, new X509Certificate(pem).fingerprint256);
  t.equal(run(['ca', 'export', '--format', 'p12', '--out', path.join(dir, 'ca.p12'), '--ca-dir', caDir]).status, 0);
  t.ok(fs.statSync(path.join(dir, 'ca.p12')).size > 500);
  const info = JSON.parse(run(['ca', 'info', '--json', '--ca-dir', caDir]).stdout.toString());
  t.equal(info.keyFileMode, '0600');
  t.equal(info.sha256Fingerprint, new X509Certificate(pem).fingerprint256);
  // PHONEHOME_CA_DIR is the default CA folder.
  const viaEnv = run(['ca', 'export'], { PHONEHOME_CA_DIR: caDir }).stdout.toString();
  t.equal(viaEnv, pem);
});

t.test('analyze is deterministic and honours --fail-on', async (t) => {
  const dir = tempDir();
  const harFile = path.join(dir, 'in.har');
  fs.writeFileSync(harFile, JSON.stringify({ log: { version: '1.2', entries: [{ startedDateTime: '2026-01-01T00:00:00Z', time: 1, request: { method: 'GET', url: 'https://a.example/', headers: [] }, response: { status: 200, content: { size: 0 } } }] } }));
  const first = run(['analyze', harFile]);
  const second = run(['analyze', harFile]);
  t.equal(first.status, 0);
  t.same(first.stdout, second.stdout);
  fs.writeFileSync(path.join(dir, 'bad.har'), '{"not":"har"}');
  const bad = run(['analyze', path.join(dir, 'bad.har')]);
  t.equal(bad.status, 1);
  t.match(bad.stderr.toString(), /not a HAR file/);
});

t.test('analyze finds a photo in a HAR (as mitmproxy or a browser would write it) and --fail-on high exits 3', async (t) => {
  const dir = tempDir();
  const photo = fs.readFileSync(path.join(installRoot, 'test', 'fixtures', 'photos', 'camera.jpg'));
  const harFile = path.join(dir, 'browser.har');
  fs.writeFileSync(harFile, JSON.stringify({ log: { version: '1.2', creator: { name: 'browser', version: '1' }, entries: [{
    startedDateTime: '2026-11-27T18:30:11.000Z', time: 120, serverIPAddress: '42.62.48.10',
    request: { method: 'PUT', url: 'https://api.example.cn/gallery/upload', httpVersion: 'HTTP/1.1', headers: [{ name: 'Content-Type', value: 'image/jpeg' }], postData: { mimeType: 'image/jpeg', text: photo.toString('base64'), encoding: 'base64' } },
    response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [], content: { size: 2, mimeType: 'application/json', text: '{}' } },
  }] } }));
  const result = run(['analyze', harFile, '--fail-on', 'high']);
  t.equal(result.status, 3, result.stderr.toString());
  const finding = JSON.parse(result.stdout.toString().trim().split('\n')[0]!);
  t.match(finding, { category: 'photo', severity: 'high', method: 'PUT', host: 'api.example.cn', destination: { ip: '42.62.48.10', country: 'CN', asn: 23724, org: /China Telecom/ }, summary: /GPS 48\.853 N 2\.350 E/, time: '2026-11-27T18:30:11.120Z' });
  const out = path.join(dir, 'analysis');
  t.equal(run(['analyze', harFile, '--out', out]).status, 0);
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  t.equal(summary.findings.byCountry.CN, 1);
  t.match(summary.byCountry.CN, { flows: 1, findings: 1, hosts: ['api.example.cn'] });
  t.ok(summary.byNetwork['AS23724 IDC, China Telecommunications Corporation']);
  t.same(run(['analyze', harFile]).stdout, run(['analyze', harFile]).stdout, 'deterministic');
});

t.test('analyze: public server addresses get their countries, a home: FR rule makes China critical, --fail-on critical exits 3', async (t) => {
  const dir = tempDir();
  const rulesDir = path.join(dir, 'rules');
  fs.mkdirSync(rulesDir);
  fs.writeFileSync(path.join(rulesDir, 'home.yaml'), 'rules:\n  - name: home-fr\n    home: [FR]\n');
  const entry = (ip: string, n: number) => ({
    startedDateTime: `2026-11-27T18:30:1${n}.000Z`, time: 5, serverIPAddress: ip,
    request: { method: 'POST', url: `https://h${n}.example/sync`, headers: [{ name: 'Content-Type', value: 'application/json' }], postData: { mimeType: 'application/json', text: JSON.stringify({ sms: [{ address: '+33612345678', body: `message ${n}`, date: 1413131405000 + n, type: 1 }] }) } },
    response: { status: 200, content: { size: 0 } },
  });
  const ips = ['42.62.48.10', '221.228.214.101', '161.117.0.1', '95.163.0.1', '8.8.8.8'];
  const harFile = path.join(dir, 'lab.har');
  fs.writeFileSync(harFile, JSON.stringify({ log: { version: '1.2', entries: ips.map(entry) } }));
  const result = run(['analyze', harFile, '--rules', rulesDir, '--fail-on', 'critical']);
  t.equal(result.status, 3, result.stderr.toString());
  const findings = result.stdout.toString().trim().split('\n').map((l) => JSON.parse(l));
  t.same(findings.map((f) => f.destination.country), ['CN', 'CN', 'SG', 'RU', 'US']);
  t.ok(findings.every((f) => f.severity === 'critical' && f.rules[0] === 'home-fr'));
  const check = run(['rules', 'check', rulesDir]);
  t.equal(check.status, 0);
  t.match(check.stdout.toString(), /1 rule\(s\) in 1 file\(s\)/);
  fs.writeFileSync(path.join(rulesDir, 'bad.yaml'), 'rules:\n  - name: x\n    severity: loud\n');
  const bad = run(['rules', 'check', rulesDir]);
  t.equal(bad.status, 1);
  t.match(bad.stderr.toString(), /bad\.yaml:3: severity is one of/);
});

t.test('capture: start-up warnings (--keylog, --insecure-upstream) reach stderr; --keylog to an unwritable path is exit 1 in one line', async (t) => {
  const dir = tempDir();
  const keylog = path.join(dir, 'keys.log');
  const { child, stderr } = await startCapture(['--out', path.join(dir, 'run'), '--ca-dir', path.join(dir, 'ca'), '--keylog', keylog, '--insecure-upstream']);
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  t.equal(code, 0);
  t.match(stderr(), /warn: TLS keys of both sides are appended to .*keys\.log/);
  t.match(stderr(), /warn: upstream certificate verification is OFF/);
  t.equal(fs.statSync(keylog).mode & 0o777, 0o600);
  const bad = run(['capture', '--listen', '127.0.0.1:0', '--ca-dir', path.join(dir, 'ca'), '--out', path.join(dir, 'run2'), '--keylog', path.join(dir, 'no', 'such', 'dir', 'keys.log'), '--duration', '1']);
  t.equal(bad.status, 1);
  const lines = bad.stderr.toString().trim().split('\n');
  t.equal(lines.length, 1, bad.stderr.toString());
  t.match(lines[0], /--keylog .*keys\.log/);
});

for (const threads of ['1', '2']) t.test(`capture --threads ${threads}: a device that sends an address as its TLS server name gets through, the server sees the same name, and the console shows no Node deprecation warning`, { skip: spawnSync('openssl', ['version']).status !== 0 && 'openssl not installed' }, async (t) => {
  const leaf = getOriginCa().issueLeaf('127.0.0.1');
  const names: Array<string | false> = [];
  const origin = await startOneRequestTlsOrigin({ key: leaf.keyPem, cert: leaf.certPem }, 'HTTP/1.0 200 OK\r\n\r\nfrom origin', (socket) => names.push((socket as tls.TLSSocket & { servername: string | false }).servername));
  t.teardown(() => origin.close());
  const dir = tempDir();
  const caDir = path.join(dir, 'ca');
  const { child, port, stderr } = await startCapture(['--threads', threads, '--out', path.join(dir, 'run'), '--ca-dir', caDir, '--upstream-ca', originCaFile()]);
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  const args = ['s_client', '-proxy', `127.0.0.1:${port}`, '-connect', `127.0.0.1:${origin.port}`, '-servername', '127.0.0.1', '-CAfile', path.join(caDir, 'ca.pem'), '-verify_return_error', '-quiet'];
  const device = await runProgram('openssl', args, 'GET /feed HTTP/1.0\r\n\r\n', 20_000);
  t.equal(device.code, 0, device.stderr);
  t.match(device.stdout, /from origin$/);
  t.same(names, ['127.0.0.1'], 'the server got the address as the server name, as the device sent it');
  child.kill('SIGTERM');
  await once(child, 'exit');
  t.notMatch(stderr(), /DeprecationWarning|DEP0123/, 'no Node warning on the console');
});

t.test('capture tells, once, why a server could not be reached: a forgotten --upstream-ca names the fix', async (t) => {
  const origin = await startOrigin({ tls: true, hostname: '127.0.0.1', handler: (_req, res) => res.end('hi') });
  t.teardown(() => origin.close());
  const dir = tempDir();
  const caDir = path.join(dir, 'ca');
  const { child, port, stderr } = await startCapture(['--out', path.join(dir, 'run'), '--ca-dir', caDir]);
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  const trust = run(['ca', 'export', '--ca-dir', caDir]).stdout.toString();
  // The device is shown a leaf as untrusted as the server's certificate (to phonehome), and refuses
  // it; its next connections pass through and meet the server's own, which it refuses too.
  for (let i = 0; i < 3; i++) await t.rejects(httpsViaProxy({ proxyPort: port, host: '127.0.0.1', port: origin.port, trust }), /unable to verify|issuer|self.signed/i);
  child.kill('SIGTERM');
  await once(child, 'exit');
  const lines = stderr().split('\n').filter((l) => l.includes('could not be verified'));
  t.equal(lines.length, 1, 'said once for three failures');
  t.match(lines[0], /127\.0\.0\.1:\d+: the server's certificate could not be verified .*refused it.*--upstream-ca FILE/);
});

t.test('analyze: a phonehome HAR keeps its pinned and opaque findings; a browser HAR is not decoded twice; a cut HAR is read to its last whole entry', async (t) => {
  const { flowToHarEntry } = await import('../../src/flow/har.js');
  const { makeFlow } = await import('../helpers/flows.js');
  const dir = tempDir();
  const pinned = makeFlow({ id: 'fl-000001', kind: 'tls-failed', scheme: 'tls', request: undefined, target: { host: 'bank.example.com', port: 443 }, error: 'client sent TLS alert unknown ca (48)', tags: ['tls:alert-48', 'tls:certificate-rejected', 'passthrough:learned'] });
  const tunnel = makeFlow({ id: 'fl-000002', kind: 'tunnel', scheme: 'tls', request: undefined, target: { host: 'bank.example.com', port: 443 }, bytesUp: 1200, bytesDown: 5000, tags: ['passthrough:learned'] });
  const ours = { log: { version: '1.2', creator: { name: 'phonehome', version: 't' }, entries: [pinned, tunnel].map((f) => flowToHarEntry(f, { omitBodies: false })) } };
  fs.writeFileSync(path.join(dir, 'ours.har'), JSON.stringify(ours));
  const result = run(['analyze', path.join(dir, 'ours.har')]);
  t.equal(result.status, 0, result.stderr.toString());
  const categories = result.stdout.toString().trim().split('\n').map((l) => JSON.parse(l).category).sort();
  t.same(categories, ['opaque', 'tls-pinned'], 'what the proxy said live is said again from the file');

  // A browser writes the decoded body in content.text and keeps Content-Encoding: gzip.
  const sms = JSON.stringify({ sms: [{ address: '+33612345678', body: 'Rendez-vous demain', date: 1413131405000, type: 1 }] });
  const browser = { log: { version: '1.2', creator: { name: 'Chrome', version: '1' }, entries: [{
    startedDateTime: '2026-11-27T18:30:11.000Z', time: 5, serverIPAddress: '42.62.48.10',
    request: { method: 'GET', url: 'https://sync.example.cn/inbox', httpVersion: 'HTTP/2.0', headers: [], queryString: [], cookies: [], headersSize: -1, bodySize: 0 },
    response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/2.0', headers: [{ name: 'content-encoding', value: 'gzip' }, { name: 'content-type', value: 'application/json' }], cookies: [], content: { size: sms.length, mimeType: 'application/json', text: sms }, redirectURL: '', headersSize: -1, bodySize: 100 },
    cache: {}, timings: { send: 0, wait: 5, receive: 0 },
  }] } };
  const text = JSON.stringify(browser);
  fs.writeFileSync(path.join(dir, 'browser.har'), `\ufeff${text}`);
  const read = run(['analyze', path.join(dir, 'browser.har')]);
  t.equal(read.status, 0, read.stderr.toString());
  t.notMatch(read.stderr.toString(), /could not be decoded/);
  t.match(read.stdout.toString(), /"category":"sms"/, 'the SMS in the already-decoded body is found');

  fs.writeFileSync(path.join(dir, 'cut.har'), JSON.stringify(ours).slice(0, -60));
  const cut = run(['analyze', path.join(dir, 'cut.har')]);
  t.equal(cut.status, 0, cut.stderr.toString());
  t.match(cut.stderr.toString(), /cut short: read its 1 whole entry, dropped the incomplete last one/);
});

const asNobody = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v runuser']).status === 0;
// nobody runs the CLI from a copy it can reach: this clone may sit in a folder only root may enter.
const nobodysInstall = asNobody ? installForAnotherUser('nobody') : undefined;
if (nobodysInstall && 'cli' in nobodysInstall) t.teardown(() => nobodysInstall.remove());
const nobodySkip = !nobodysInstall ? 'needs root (runuser) to read as another user' : 'unreachable' in nobodysInstall ? nobodysInstall.unreachable : false;
t.test('an unreadable CA key is exit 1 with one line, whichever way the folder is given; a folder we may not change is left alone', { skip: nobodySkip }, async (t) => {
  const nobodysCli = nobodysInstall && 'cli' in nobodysInstall ? nobodysInstall.cli : cli;
  const dir = tempDir();
  fs.chmodSync(dir, 0o755);
  const caDir = path.join(dir, 'ca');
  t.equal(run(['ca', 'info', '--ca-dir', caDir]).status, 0);
  fs.chmodSync(caDir, 0o755);
  fs.chmodSync(path.join(caDir, 'ca.key'), 0o000);
  fs.chmodSync(path.join(caDir, 'ca.pem'), 0o644);
  const cases: Array<[string[], NodeJS.ProcessEnv]> = [
    [['ca', 'info', '--ca-dir', caDir], {}],
    [['ca', 'export', '--ca-dir', caDir], {}],
    [['ca', 'info'], { PHONEHOME_CA_DIR: caDir }],
    [['capture', '--listen', '127.0.0.1:0', '--ca-dir', caDir, '--out', path.join(dir, 'out'), '--duration', '1'], {}],
  ];
  for (const [args, env] of cases) {
    // A clean environment: the test runner's own instrumentation (NODE_OPTIONS) is not nobody's to write.
    const result = spawnSync('runuser', ['-u', 'nobody', '--', 'env', '-i', `PATH=${process.env['PATH'] ?? ''}`, ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, nobodysCli, ...args], { encoding: 'utf8' });
    t.equal(result.status, 1, `${args.join(' ')} ${JSON.stringify(env)}`);
    const lines = result.stderr.trim().split('\n');
    t.equal(lines.length, 1, result.stderr);
    t.match(lines[0], /cannot read the CA in .*EACCES: permission denied/);
    t.notMatch(lines[0], /EACCES: EACCES/);
  }
});
