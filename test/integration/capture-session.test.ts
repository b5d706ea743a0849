import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import type { Detector } from '../../src/inspect/detect/detector.js';
import type { RawOptions } from '../../src/app/options.js';
import { getOriginCa, httpsViaProxy, startOrigin, tempDir } from '../helpers/lab.js';
import { startCaptureRun } from '../helpers/capture-run.js';
import { incrementalMarking } from '../../src/util/incremental-marking.js';
import { socketPeekAvailable } from '../../src/proxy/socket-peek.js';

// A stand-in detector for the pipeline test: the real detectors (issue #3) register the same way.
const plantedValueDetector: Detector = {
  id: 'test/planted',
  category: 'sms',
  gate: (view) => view.bytes.includes('PLANTED-SMS'),
  detect: (view) => [{
    category: 'sms', severity: 'high', direction: view.direction, detector: 'test/planted',
    summary: 'planted SMS text found', evidence: { path: view.path, bytes: view.bytes.length, excerpt: 'PLANTED-SMS Rendez-vous' }, details: {},
  }],
};

const throwingDetector: Detector = { id: 'test/throws', category: 'sms', gate: () => true, detect: () => { throw new Error('detector bug'); } };

async function runSession(t: { teardown(fn: () => unknown): void }, raw: RawOptions, traffic: (port: number, originPort: number, caPem: string) => Promise<void>) {
  const origin = await startOrigin({ tls: true, handler: (req, res) => { req.resume(); req.on('end', () => res.end('ok')); } });
  t.teardown(() => origin.close());
  const { session, out } = await startCaptureRun(raw, { detectors: [throwingDetector, plantedValueDetector] });
  await traffic(session.port, origin.port, session.ca.certPem);
  const result = await session.stop();
  return { out, result, session };
}

t.test('findings flow from a request to findings.jsonl, summary.json and flows.har; --fail-on exits 3', async (t) => {
  const { out, result } = await runSession(t, { 'fail-on': 'high' }, async (port, originPort, caPem) => {
    await httpsViaProxy({ proxyPort: port, host: 'api.example.test', port: originPort, method: 'POST', body: 'msg=PLANTED-SMS Rendez-vous', trust: caPem });
    await httpsViaProxy({ proxyPort: port, host: 'api.example.test', port: originPort, method: 'POST', body: 'nothing to see', trust: caPem });
  });
  t.equal(result.exitCode, 3);
  const lines = fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8').trim().split('\n');
  t.equal(lines.length, 1);
  const finding = JSON.parse(lines[0]!);
  t.match(finding, { v: 1, id: 'f-000001', category: 'sms', severity: 'high', direction: 'request', detector: 'test/planted', method: 'POST', host: 'api.example.test', client: { ip: '127.0.0.1' }, canary: null });
  t.match(finding.url, /^https:\/\/api\.example\.test:\d+\/$/);
  t.equal(finding.destination.ip, '127.0.0.1');
  t.same(finding.evidence.path, ['body']);

  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  t.equal(summary.flows.decrypted, 2);
  t.equal(summary.findings.total, 1);
  t.equal(summary.findings.byCategory.sms, 1);
  t.equal(summary.findings.bySeverity.high, 1);
  t.equal(summary.findings.byHost['api.example.test'], 1);
  t.equal(summary.exitCode, 3);
  const destination = summary.destinations.find((d: { host: string }) => d.host === 'api.example.test');
  t.equal(destination.flows, 2);
  t.ok(destination.bytesUp > 0);
  t.same(destination.ips, ['127.0.0.1']);

  const har = JSON.parse(fs.readFileSync(path.join(out, 'flows.har'), 'utf8'));
  t.equal(har.log.version, '1.2');
  t.equal(har.log.entries.length, 2);
  t.equal(har.log.entries[0].request.postData.text, 'msg=PLANTED-SMS Rendez-vous');
  t.notOk(fs.existsSync(path.join(out, 'flows.har.partial')));
});

t.test('a failing detector is isolated: the others still report', async (t) => {
  const { out } = await runSession(t, {}, async (port, originPort, caPem) => {
    await httpsViaProxy({ proxyPort: port, host: 'api.example.test', port: originPort, method: 'POST', body: 'PLANTED-SMS', trust: caPem });
  });
  t.equal(fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8').trim().split('\n').length, 1);
});

t.test('pinned clients and passthrough tunnels become tls-pinned and opaque findings', async (t) => {
  const origin = await startOrigin({ tls: true, hostname: 'pinned.example.test', handler: (_req, res) => res.end('real') });
  t.teardown(() => origin.close());
  const { out, result } = await runSession(t, { 'fail-on': 'medium' }, async (port) => {
    await t.rejects(httpsViaProxy({ proxyPort: port, host: 'pinned.example.test', port: origin.port, trust: getOriginCa().certPem }));
    await httpsViaProxy({ proxyPort: port, host: 'pinned.example.test', port: origin.port, trust: getOriginCa().certPem });
    await httpsViaProxy({ proxyPort: port, host: 'pinned.example.test', port: origin.port, trust: getOriginCa().certPem });
  });
  t.equal(result.exitCode, 0, 'low and info findings stay under --fail-on medium');
  const findings = fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.same(findings.map((f) => [f.category, f.severity]), [['tls-pinned', 'low'], ['opaque', 'info']], 'one opaque finding per host, not per tunnel');
  t.match(findings[0].summary, /pinned\.example\.test.*refused phonehome's certificate/);
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  t.equal(summary.flows.tlsFailed, 1);
  t.equal(summary.flows.passedThrough, 2);
  t.same(summary.passthrough.learned.map((h: { host: string }) => h.host), ['pinned.example.test']);
  const har = JSON.parse(fs.readFileSync(path.join(out, 'flows.har'), 'utf8'));
  const kinds = har.log.entries.map((e: { _phonehome: { kind: string } }) => e._phonehome.kind);
  t.same(kinds, ['tls-failed', 'tunnel', 'tunnel']);
});

t.test('--insecure-upstream is stated in every output; --redact masks excerpts and HAR bodies', async (t) => {
  const { out } = await runSession(t, { 'insecure-upstream': true, redact: true }, async (port, originPort, caPem) => {
    await httpsViaProxy({ proxyPort: port, host: 'api.example.test', port: originPort, method: 'POST', body: 'PLANTED-SMS Rendez-vous', trust: caPem });
  });
  const finding = JSON.parse(fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8'));
  t.equal(finding.insecureUpstream, true);
  t.notMatch(finding.evidence.excerpt, /Rendez-vous/);
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  t.equal(summary.insecureUpstream, true);
  t.match(summary.warning, /verification was OFF/);
  const harText = fs.readFileSync(path.join(out, 'flows.har'), 'utf8');
  const har = JSON.parse(harText);
  t.match(har.log.comment, /verification was OFF/);
  t.notMatch(harText, /Rendez-vous/);
});

t.test('--pcap: Wireshark reads the device side decrypted with no key file; opaque.pcapng holds a passthrough tunnel', { skip: (await import('node:child_process')).spawnSync('tshark', ['--version']).status === 0 ? false : 'tshark is not installed' }, async (t) => {
  const { spawnSync } = await import('node:child_process');
  const pcap = path.join(tempDir(), 'device.pcapng');
  const { out, session } = await runSession(t, { pcap, passthrough: ['pinned.example.test'] }, async (port, originPort, caPem) => {
    await httpsViaProxy({ proxyPort: port, host: 'api.example.test', port: originPort, method: 'POST', path: '/upload?imei=356938035643809', body: 'msg=PLANTED-SMS', trust: caPem });
    // Passed through (--passthrough, decided by the CONNECT target): the client talks to the origin
    // itself, whose certificate names api.example.test.
    await httpsViaProxy({ proxyPort: port, host: 'pinned.example.test', port: originPort, method: 'POST', path: '/pinned', body: 'secret', trust: getOriginCa().certPem, servername: 'api.example.test' });
  });
  t.equal(fs.statSync(pcap).mode & 0o777, 0o600, 'the file holds keys: owner only');
  const requests = spawnSync('tshark', ['-r', pcap, '-Y', 'http.request', '-T', 'fields', '-e', 'http.request.method', '-e', 'http.request.uri'], { encoding: 'utf8' });
  t.equal(requests.status, 0, requests.stderr);
  t.match(requests.stdout, /POST\t\/upload\?imei=356938035643809/, 'tshark lists the decrypted request without a key file');
  t.notMatch(requests.stdout, /\/pinned/, 'the passthrough tunnel is not in the device-side file');
  const opaque = spawnSync('tshark', ['-r', path.join(out, 'opaque.pcapng'), '-T', 'fields', '-e', 'tls.handshake.extensions_server_name', '-Y', 'tls.handshake.type == 1'], { encoding: 'utf8' });
  t.equal(opaque.status, 0, opaque.stderr);
  t.equal(opaque.stdout.trim(), 'api.example.test', 'opaque.pcapng holds the passthrough tunnel\'s handshake, and only it');
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  t.match(summary.coverage.opaque, { sessions: 1, notRecordedBytes: 0 });
  t.ok(summary.coverage.opaque.recordedBytes > 0);
  t.match(summary.notes.join(' '), /--pcap/);
  t.ok(session);
});

t.test('a capture paces its old generation while it runs, and stops doing so when it stops', { skip: incrementalMarking() ? false : 'the incremental-gc addon is not built here' }, async (t) => {
  const { session } = await startCaptureRun();
  const pacer = session.oldGenerationPacer;
  t.ok(pacer?.running, 'the pacer runs (util/old-generation-pacer.ts)');
  await session.stop();
  t.equal(pacer?.running, false, 'stopped with the session');
});

t.test('a capture whose pacer addon is missing says so at start, and runs', async (t) => {
  const { session } = await startCaptureRun({}, { startPacer: () => undefined });
  t.equal(session.oldGenerationPacer, undefined);
  t.match(session.startupWarnings.join('\n'), /no old-generation pacer: the incremental-collection addon is not built for this Node \(v\d+\.\d+\.\d+\).*native\/build\.mjs/);
  await session.stop();
});

t.test('a capture that cannot peek a device\'s first bytes says so at start, and runs', { skip: process.platform === 'linux' ? false : 'peeking is Linux only' }, async (t) => {
  const { session } = await startCaptureRun({}, { socketPeekAvailable: () => false });
  t.match(session.startupWarnings.join('\n'), /ClientHellos are read in JavaScript: the socket-peek addon is not built for this Node \(v\d+\.\d+\.\d+\).*native\/build\.mjs/);
  await session.stop();
});

t.test('a capture with its pacer says nothing about it', { skip: incrementalMarking() ? false : 'the incremental-gc addon is not built here' }, async (t) => {
  const { session } = await startCaptureRun();
  t.notMatch(session.startupWarnings.join('\n'), /pacer/);
  if (socketPeekAvailable()) t.notMatch(session.startupWarnings.join('\n'), /socket-peek/, 'nor about peeking, where its addon is built');
  await session.stop();
});
