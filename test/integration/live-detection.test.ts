// The real detectors on live traffic: a client uploads over real HTTPS through a capture session,
// and the findings land in findings.jsonl with the server, address and decode path.

import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { CaptureSession } from '../../src/app/capture-session.js';
import { resolveCaptureOptions } from '../../src/app/options.js';
import { serveSmtp } from '../helpers/smtp-server.js';
import { connectTunnel, httpsViaProxy, startOrigin, tempDir, testLookup } from '../helpers/lab.js';
import { startCaptureRun } from '../helpers/capture-run.js';

const photo = fs.readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'photos', 'camera.jpg'));

t.test('a photo and SMS uploaded over HTTPS become findings in findings.jsonl; --fail-on high exits 3', async (t) => {
  const origin = await startOrigin({ tls: true, hostname: 'gallery.example.test', handler: (req, res) => { req.resume(); req.on('end', () => res.end('{"ok":true}')); } });
  t.teardown(() => origin.close());
  const { session, out } = await startCaptureRun({ 'fail-on': 'high' });

  const boundary = 'xYzZY';
  const upload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="IMG_20141012_183005.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
    photo,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  await httpsViaProxy({ proxyPort: session.port, host: 'gallery.example.test', port: origin.port, method: 'POST', path: '/upload', body: upload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, trust: session.ca.certPem });
  await httpsViaProxy({ proxyPort: session.port, host: 'gallery.example.test', port: origin.port, method: 'POST', path: '/sync', body: JSON.stringify({ sms: [{ address: '+33612345678', body: 'Rendez-vous demain', date: 1413131405000, type: 1 }] }), headers: { 'content-type': 'application/json' }, trust: session.ca.certPem });
  // Honest traffic alongside: analytics and an icon-sized image must not be flagged.
  await httpsViaProxy({ proxyPort: session.port, host: 'gallery.example.test', port: origin.port, method: 'POST', path: '/analytics', body: JSON.stringify({ events: [{ from: 'home', to: 'settings', message: 'tap', timestamp: 1732700000000 }] }), headers: { 'content-type': 'application/json' }, trust: session.ca.certPem });
  const result = await session.stop();
  t.equal(result.exitCode, 3);

  const findings = fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.same(findings.map((f) => f.category).sort(), ['photo', 'sms']);
  const photoFinding = findings.find((f) => f.category === 'photo');
  t.match(photoFinding, {
    severity: 'high', direction: 'request', method: 'POST', host: 'gallery.example.test',
    summary: 'JPEG camera photo 1600x1200, from Xiaomi Redmi Note, taken 2014-10-12 18:30, GPS 48.853 N 2.350 E',
    destination: { ip: '127.0.0.1', port: origin.port },
    evidence: { path: ['body', 'multipart:file', 'image/jpeg'], bytes: photo.length },
    details: { make: 'Xiaomi', model: 'Redmi Note', gps: [48.853, 2.3499] },
  });
  t.match(photoFinding.url, /^https:\/\/gallery\.example\.test:\d+\/upload$/);
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  t.equal(summary.findings.byCategory.photo, 1);
  t.equal(summary.findings.byCategory.sms, 1);
});

t.test('SMTP through CONNECT: the mail and the clear-text password become findings', async (t) => {
  const server = net.createServer((socket) => serveSmtp(socket, 'smtp.example.test'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const out = path.join(tempDir(), 'run');
  const session = await CaptureSession.start(resolveCaptureOptions({ listen: '127.0.0.1:0', 'ca-dir': path.join(tempDir(), 'ca'), out }, 'capture'), { lookup: testLookup });
  const { socket } = await connectTunnel(session.port, `smtp.example.test:${(server.address() as net.AddressInfo).port}`);
  const lines = ['EHLO phone', `AUTH PLAIN ${Buffer.from('\0jane@example.com\0s3cret').toString('base64')}`, 'MAIL FROM:<jane@example.com>', 'RCPT TO:<bob@example.org>', 'DATA',
    'From: Jane <jane@example.com>\r\nTo: bob@example.org\r\nSubject: Rendez-vous demain\r\nDate: Sun, 12 Oct 2014 18:30:05 +0200\r\n\r\nA 18h devant la gare.\r\n.', 'QUIT'];
  let replies = '';
  socket.on('data', (c: Buffer) => { replies += c.toString(); });
  await new Promise<void>((resolve) => { const check = () => { if (replies.includes('220')) resolve(); else socket.once('data', check); }; check(); });
  for (const line of lines) {
    const before = (replies.match(/\r\n/g) ?? []).length;
    socket.write(`${line}\r\n`);
    await new Promise<void>((resolve) => { const check = () => { if ((replies.match(/\r\n/g) ?? []).length > before) resolve(); else socket.once('data', check); }; check(); });
  }
  await once(socket, 'close');
  await session.stop();
  const findings = fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const mail = findings.find((f) => f.category === 'mail');
  const credential = findings.find((f) => f.category === 'credential');
  t.match(mail?.summary, /^Mail sent over SMTP from jane@example\.com to bob@example\.org, 'Rendez-vous demain'$/);
  t.same(mail?.evidence.path, ['stream:up', 'smtp:data[0]', 'message/rfc822']);
  t.match(credential?.summary, /SMTP AUTH PLAIN password for jane@example\.com sent to smtp\.example\.test:\d+ without TLS/);
  t.notMatch(fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8'), /s3cret/);
});

t.test('planted canaries sent hashed, gzipped and base64-wrapped are each found with their chain', async (t) => {
  const zlib = await import('node:zlib');
  const crypto = await import('node:crypto');
  const origin = await startOrigin({ tls: true, hostname: 'tracker.example.test', handler: (req, res) => { req.resume(); req.on('end', () => res.end('ok')); } });
  t.teardown(() => origin.close());
  const canaries = path.join(import.meta.dirname, '..', 'fixtures', 'canaries', 'lab.yaml');
  const { session, out } = await startCaptureRun({ canaries });
  const send = (body: string | Buffer, headers: Record<string, string>) => httpsViaProxy({ proxyPort: session.port, host: 'tracker.example.test', port: origin.port, method: 'POST', path: '/collect', body, headers, trust: session.ca.certPem });
  await send(JSON.stringify({ ph: crypto.createHash('sha256').update('+33612345678').digest('hex') }), { 'content-type': 'application/json' });
  await send(zlib.gzipSync(JSON.stringify({ d: Buffer.from(JSON.stringify({ imei: '353456789012348' })).toString('base64') })), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
  await send(`note=${encodeURIComponent('Le code du portail est 4721B')}`, { 'content-type': 'application/x-www-form-urlencoded' });
  await session.stop();
  const findings = fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const byLabel = (label: string) => findings.find((f) => f.canary === label);
  t.match(byLabel('lab-phone'), { category: 'identifier', severity: 'critical', rules: ['canary-found'], evidence: { path: ['body', 'json', 'json:$.ph', 'canary:sha256(as planted) hex'] } });
  t.match(byLabel('lab-imei'), { category: 'identifier', evidence: { path: ['body', 'content-encoding:gzip', 'json', 'json:$.d', 'base64', 'json', 'json:$.imei', 'canary:as planted'] } });
  t.match(byLabel('planted-sms'), { category: 'sms', evidence: { path: ['body', 'form', 'form:note', 'canary:as planted'] } });
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  t.same(Object.keys(summary.findings.byCanary).sort(), ['lab-imei', 'lab-phone', 'planted-sms']);
});
