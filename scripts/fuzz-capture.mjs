#!/usr/bin/env node
// `npm run fuzz [-- --sessions N] [--seed S] [--limit MS]`: mutation fuzzing of the built CLI's
// `capture`, checking what a witness must do with whatever a device and a server send. Run before
// a release or after a change to the proxy's layers, not in CI: its findings are leads, each to be
// turned into a test of its own (test/conformance/http1-headers.test.ts holds those it found).
//
// One session at a time, so that each server connection is known to be the session's. A session
// is a device connection by one of four routes (the proxy port with an absolute URL, CONNECT in
// clear, SOCKS5, CONNECT then TLS), carrying a request chosen from a few kinds (a GET, a chunked
// POST with a second request pipelined, an Expect: 100-continue upload, a WebSocket upgrade with a
// frame behind it, an h2c offer, SMTP commands) that is mutated most of the time: bytes flipped,
// inserted, cut, repeated, header lines added. Behind it, a plain and a TLS server answer each
// read with an answer from a list (a length, chunks and trailers, a 100 then the answer, a 101,
// until the close, a 204, a 304 with a length, a repeated length, an SMTP greeting), mutated half
// of the time; they end their side when they read the device's end, as Node's servers do.
//
// Once the server has answered (or 300 ms have gone by), the device ends its side. Then, within
// --limit ms (2,000):
//   - every server connection of the session has read that end or been closed: direct, the server
//     reads the device's end; a proxy that keeps it from the server keeps both waiting;
//   - the device's connection is closed: its server has ended its side, so direct it would be.
// A session that breaks one is printed with what the device sent, what each server read and
// answered, and what the device got. At the end the capture must still be running and answer a
// plain request; the number of sockets it still holds is printed (with `ss`, when installed).
// Exit code 1 when the capture died or stopped answering, 2 when a session broke a rule.
//
// What it found on 2026-12-08 is in the README (What happens to traffic). What it still reports,
// known and left: a device that pipelines a request behind an answer its server never ends, then
// ends its side (Node's client writes the next request, and so the end, after that answer).

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { once } from 'node:events';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { CertificateAuthority } = await import(path.join(root, 'dist/proxy/ca/certificate-authority.js'));

/** `--name value` from the command line, as a number. */
function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isFinite(value)) throw new Error(`--${name} takes a number`);
  return value;
}
const sessions = option('sessions', 300);
const firstSeed = option('seed', 1);
const limitMs = option('limit', 2_000);

// A small linear congruential generator: the same seed draws the same sessions.
let seed = firstSeed;
const random = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
const below = (n) => Math.floor(random() * n);

const ANSWERS = [
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok',
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n\x81\x05hello',
  'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close',
  'HTTP/1.1 204 No Content\r\n\r\n',
  'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n',
  'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc',
  '220 mail.example ESMTP\r\n250 OK\r\n',
];

const requests = (authority) => [
  `GET /a?x=1 HTTP/1.1\r\nHost: ${authority}\r\nUser-Agent: f\r\n\r\n`,
  `POST /u HTTP/1.1\r\nHost: ${authority}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /b HTTP/1.1\r\nHost: ${authority}\r\n\r\n`,
  `POST /u HTTP/1.1\r\nHost: ${authority}\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello`,
  `GET /ws HTTP/1.1\r\nHost: ${authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n\x81\x85abcd\x09\x07\x0f\x08\x0e`,
  `GET / HTTP/1.1\r\nHost: ${authority}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n`,
  'EHLO x\r\nMAIL FROM:<a@b>\r\n',
];

const INSERTED_BYTES = [13, 10, 32, 58, 59, 48, 0, 255, 9];
const INSERTED_TEXT = ['\r\n', '\n', ' ', 'chunked', 'Content-Length: 9\r\n', 'Upgrade: h2c\r\n', 'Transfer-Encoding: chunked\r\n', 'Expect: 100-continue\r\n'];

/** `bytes` with one to four mutations. */
function mutate(bytes) {
  let b = Buffer.from(bytes, 'latin1');
  for (let n = 1 + below(4); n > 0; n--) {
    const at = below(b.length + 1);
    const piece = (buffer) => Buffer.concat([b.subarray(0, at), buffer, b.subarray(at)]);
    switch (below(7)) {
      case 0: if (b.length > 0) b[Math.min(at, b.length - 1)] = below(256); break;
      case 1: b = piece(Buffer.from([INSERTED_BYTES[below(INSERTED_BYTES.length)]])); break;
      case 2: b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + below(8)))]); break;
      case 3: b = piece(b.subarray(at, at + below(16))); break;
      case 4: b = b.subarray(0, at); break;
      case 5: b = piece(Buffer.from(String(below(1e9)).repeat(1 + below(3)))); break;
      default: b = piece(Buffer.from(INSERTED_TEXT[below(INSERTED_TEXT.length)], 'latin1'));
    }
  }
  return b;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-fuzz-'));
const originCa = CertificateAuthority.loadOrCreate(path.join(work, 'origin-ca'));
fs.writeFileSync(path.join(work, 'origin-ca.pem'), originCa.certPem);
const leaf = originCa.issueLeaf('127.0.0.1');

/** The current session's server connections, as the servers read them. */
let current = { servers: [] };
/** Answers each of the first three reads; reads the device's end (and then ends its side, Node's default). */
const serve = (socket) => {
  const record = { got: [], answered: [], ended: false, closed: false };
  current.servers.push(record);
  socket.on('error', () => undefined);
  socket.on('end', () => { record.ended = true; });
  socket.on('close', () => { record.closed = true; });
  socket.on('data', (chunk) => {
    record.got.push(chunk);
    if (record.answered.length >= 3) return;
    const answer = ANSWERS[below(ANSWERS.length)];
    const sent = random() < 0.5 ? Buffer.from(answer, 'latin1') : mutate(answer);
    record.answered.push(sent);
    socket.write(sent);
  });
};
const plain = net.createServer(serve).listen(0, '127.0.0.1');
const secure = tls.createServer({ key: leaf.keyPem, cert: leaf.certPem, ALPNProtocols: ['http/1.1'] }, serve).listen(0, '127.0.0.1');
// A server that answers well, for the health check at the end.
const healthy = net.createServer((socket) => socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'))).listen(0, '127.0.0.1');
await Promise.all([once(plain, 'listening'), once(secure, 'listening'), once(healthy, 'listening')]);
const plainPort = plain.address().port;
const securePort = secure.address().port;

const proxyPort = await new Promise((resolve) => {
  const probe = net.createServer().listen(0, '127.0.0.1', () => { const { port } = probe.address(); probe.close(() => resolve(port)); });
});
const capture = spawn(process.execPath, [path.join(root, 'dist/cli.js'), 'capture', '--listen', `127.0.0.1:${proxyPort}`, '--ca-dir', path.join(work, 'ca'), '--out', path.join(work, 'run'), '--upstream-ca', path.join(work, 'origin-ca.pem')], { stdio: ['ignore', 'ignore', 'pipe'] });
let captureExit;
capture.on('exit', (code, signal) => { captureExit = `exited (${code ?? signal})`; });
let captureStderr = '';
capture.stderr.on('data', (chunk) => { captureStderr = (captureStderr + chunk).slice(-4000); });

/** Resolves true once `check` holds, false after `ms`. */
async function until(check, ms) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/** Connects to the capture once it listens. */
async function connectToCapture() {
  for (;;) {
    if (captureExit) throw new Error(`the capture ${captureExit} before it listened: ${captureStderr}`);
    const socket = net.connect(proxyPort, '127.0.0.1');
    const connected = await new Promise((resolve) => { socket.once('connect', () => resolve(true)); socket.once('error', () => resolve(false)); });
    if (connected) return socket;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const ROUTES = ['absolute-form', 'CONNECT', 'SOCKS5', 'CONNECT+TLS'];
const broken = new Map();

async function session() {
  const route = ROUTES[below(ROUTES.length)];
  current = { servers: [] };
  const socket = await connectToCapture();
  socket.on('error', () => undefined);
  let deviceClosed = false;
  let received = '';
  socket.on('close', () => { deviceClosed = true; });
  let io = socket;
  let sent;
  if (route === 'absolute-form') {
    const request = requests(`127.0.0.1:${plainPort}`)[below(3)].replace(/^(\w+) \//, `$1 http://127.0.0.1:${plainPort}/`);
    sent = random() < 0.8 ? mutate(request) : Buffer.from(request, 'latin1');
  } else if (route === 'CONNECT' || route === 'SOCKS5') {
    const request = requests(`127.0.0.1:${plainPort}`)[below(6)];
    const opening = route === 'CONNECT' ? Buffer.from(`CONNECT 127.0.0.1:${plainPort} HTTP/1.1\r\nHost: 127.0.0.1:${plainPort}\r\n\r\n`) : Buffer.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, plainPort >> 8, plainPort & 255]);
    sent = Buffer.concat([opening, random() < 0.8 ? mutate(request) : Buffer.from(request, 'latin1')]);
  } else {
    socket.write(`CONNECT 127.0.0.1:${securePort} HTTP/1.1\r\nHost: 127.0.0.1:${securePort}\r\n\r\n`);
    await once(socket, 'data');
    io = tls.connect({ socket, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    io.on('error', () => undefined);
    await once(io, 'secureConnect');
    const request = requests(`127.0.0.1:${securePort}`)[below(6)];
    sent = random() < 0.8 ? mutate(request) : Buffer.from(request, 'latin1');
  }
  io.on('data', (chunk) => { received += chunk.toString('latin1'); });
  io.write(sent);
  await until(() => deviceClosed || (current.servers.length > 0 && current.servers.every((server) => server.answered.length > 0)), 300);
  io.end();
  const serversReadTheEnd = await until(() => current.servers.every((server) => server.ended || server.closed), limitMs);
  const deviceConnectionClosed = await until(() => deviceClosed, limitMs);
  if (!serversReadTheEnd || !deviceConnectionClosed) {
    const rule = `${route}: ${[!serversReadTheEnd && 'a server never read the device\'s end', !deviceConnectionClosed && 'the device\'s connection stayed open'].filter(Boolean).join('; ')}`;
    const seen = broken.get(rule) ?? [];
    broken.set(rule, seen);
    seen.push({
      sent: sent.toString('latin1'), received,
      servers: current.servers.map((server) => ({ read: Buffer.concat(server.got).toString('latin1'), answered: Buffer.concat(server.answered).toString('latin1'), ended: server.ended, closed: server.closed })),
    });
  }
  socket.destroy();
  await until(() => current.servers.every((server) => server.closed), 500);
}

for (let n = 0; n < sessions && !captureExit; n++) await session();

const health = await (async () => {
  if (captureExit) return `the capture ${captureExit}`;
  const socket = await connectToCapture();
  socket.write(`GET http://127.0.0.1:${healthy.address().port}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  let answer = '';
  socket.on('data', (chunk) => { answer += chunk; });
  const answered = await until(() => answer.endsWith('ok'), 5_000);
  socket.destroy();
  return answered ? 'answers' : `did not answer a plain request (${JSON.stringify(answer.slice(0, 80))})`;
})();

let census = '';
try {
  const lines = execFileSync('ss', ['-tnp'], { encoding: 'utf8' }).split('\n').filter((line) => line.includes(`pid=${capture.pid},`));
  census = `, holding ${lines.length} TCP socket(s) after the last session`;
} catch {
  census = '';
}

const show = (text) => JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…` : text);
console.log(`seed ${firstSeed}, ${sessions} sessions: the capture ${health}${census}`);
for (const [rule, cases] of broken) {
  console.log(`\n${cases.length} × ${rule}`);
  for (const broke of cases.slice(0, 3)) {
    console.log(`  device sent ${show(broke.sent)}`);
    for (const server of broke.servers) console.log(`  a server read ${show(server.read)}\n    answered ${show(server.answered)} (${server.ended ? 'read the end' : server.closed ? 'closed' : 'still open'})`);
    console.log(`  device got ${show(broke.received)}`);
  }
}
if (broken.size === 0) console.log('every session kept both rules');

capture.kill('SIGTERM');
if (!captureExit) await once(capture, 'exit');
for (const server of [plain, secure, healthy]) server.close();
fs.rmSync(work, { recursive: true, force: true });
process.exit(health !== 'answers' ? 1 : broken.size > 0 ? 2 : 0);
