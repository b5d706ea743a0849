// A raw stream still open (a mail app's IMAP session held for hours, an MQTT link held for days) is
// written in parts where it went quiet, so what it carries is found, and on disk, before it
// closes, and each part has a capture of its own. After IMAP COMPRESS DEFLATE it is not cut any
// more: the client's bytes from there on read only with all those before.

import t, { type Test } from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { once } from 'node:events';
import { readHar } from '../../src/flow/har-reader.js';
import type { Finding } from '../../src/model/finding.js';
import type { Flow, RawFlow } from '../../src/model/flow.js';
import { mayCutStreamAfter } from '../../src/proxy/layers/stream-cut-points.js';
import { relayStream, type StreamParts, type StreamRelayResult } from '../../src/proxy/layers/stream-relay.js';
import { startCaptureRun } from '../helpers/capture-run.js';
import { connectedPair, connectTunnel, getOriginCa, within, withLimit } from '../helpers/lab.js';

const mail = (subject: string): string => `From: Jane <jane@example.com>\r\nTo: bob@example.org\r\nSubject: ${subject}\r\nDate: Sun, 12 Oct 2014 18:30:05 +0200\r\n\r\nA 18h devant la gare.\r\n`;
const append = (tag: string, subject: string): string => `${tag} APPEND Sent {${Buffer.byteLength(mail(subject))}+}\r\n${mail(subject)}\r\n`;

/** Reads from `socket` until what it sent ends with `pattern`. */
function untilReply(socket: tls.TLSSocket, pattern: RegExp): Promise<void> {
  let text = '';
  return within(new Promise<void>((resolve) => {
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      if (!pattern.test(text)) return;
      socket.off('data', onData);
      resolve();
    };
    socket.on('data', onData);
  }), 10_000, `a reply matching ${pattern}`);
}

t.test('an IMAPS session still open is written in parts: its first mail is found before it closes; after COMPRESS it stays one part', async (t) => {
  withLimit(t, 'rawStreamPartIntervalMs', 0);
  withLimit(t, 'rawStreamPartQuietMs', 200);
  const leaf = getOriginCa().issueLeaf('imap.example.test');
  const received: Buffer[] = [];
  let serverDone!: () => void;
  const serverClosed = new Promise<void>((resolve) => { serverDone = resolve; });
  // Enough IMAP for this app: a greeting, then an OK for each of its commands once read whole.
  const commands: Array<[string, string]> = [['a1', 'a1 LOGIN jane s3cret\r\n'], ['a2', append('a2', 'Rendez-vous demain')], ['a3', 'a3 COMPRESS DEFLATE\r\n']];
  const server = tls.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (socket) => {
    socket.on('error', () => undefined);
    socket.write('* OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] ready\r\n');
    let text = '';
    let answered = 0;
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      text += chunk.toString('latin1');
      while (answered < commands.length && text.includes(commands[answered]![1])) socket.write(`${commands[answered++]![0]} OK done\r\n`);
    });
    socket.on('end', () => { socket.end(); serverDone(); });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const { session, out } = await startCaptureRun();
  const flows: Flow[] = [];
  const findings: Finding[] = [];
  session.bus.on('flow:end', (flow) => flows.push(flow));
  const firstMail = new Promise<Finding>((resolve) => session.bus.on('finding', (f) => { findings.push(f); if (f.category === 'mail') resolve(f); }));

  const { socket: tunnel } = await connectTunnel(session.port, `imap.example.test:${(server.address() as net.AddressInfo).port}`);
  const app = tls.connect({ socket: tunnel, servername: 'imap.example.test', ca: session.ca.certPem });
  const sent: Buffer[] = [];
  const send = (bytes: Buffer | string): void => {
    const chunk = Buffer.from(bytes);
    sent.push(chunk);
    app.write(chunk);
  };
  await untilReply(app, /ready\r\n$/);
  send('a1 LOGIN jane s3cret\r\n');
  await untilReply(app, /a1 OK done\r\n$/);
  send(append('a2', 'Rendez-vous demain'));
  await untilReply(app, /a2 OK done\r\n$/);

  const found = await within(firstMail, 10_000, 'the first mail found from a part');
  t.notOk(app.destroyed, 'found while the session is still open');
  const firstPart = flows.find((f): f is RawFlow => f.id === found.flowId && f.kind === 'raw');
  t.match(firstPart?.part, { of: /^fl-/, last: false }, 'from a part written while open');
  t.match(found.summary, /'Rendez-vous demain'/);

  send('a3 COMPRESS DEFLATE\r\n');
  await untilReply(app, /a3 OK done\r\n$/);
  send(zlib.deflateRawSync(`${append('a4', 'Encore des photos')}a5 LOGOUT\r\n`, { finishFlush: zlib.constants.Z_SYNC_FLUSH }));
  app.end();
  await within(serverClosed, 10_000, 'the server to read the end');
  await once(app, 'close');
  await session.stop();

  t.same(Buffer.concat(received), Buffer.concat(sent), 'the server read every byte the app sent, in order');
  const entries = fs.readFileSync(path.join(out, 'flows.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line)).filter((e) => e._phonehome.kind === 'raw');
  const parts = entries.map((e) => e._phonehome.part);
  t.ok(parts.length >= 2, `the session on disk in parts (${parts.length})`);
  t.ok(parts.every((p) => p?.of === firstPart?.part?.of), 'every part names the session\'s first part');
  t.same(parts.map((p) => p.index), parts.map((_, i) => i + 1), 'numbered in order');
  t.same(parts.map((p) => p.last), parts.map((_, i) => i === parts.length - 1), 'only the last is the last');
  const upTotals = entries.map((e) => e._phonehome.bytesUp as number);
  t.equal(upTotals.reduce((a, b) => a + b, 0), Buffer.concat(sent).length, 'the parts\' bytes add up to the session\'s');
  t.same(parts.map((p) => p.bytesBefore.up), upTotals.map((_, i) => upTotals.slice(0, i).reduce((a, b) => a + b, 0)), 'each part says where its bytes start');
  const last = Buffer.from(entries.at(-1)._phonehome.stream.up.text, 'base64').toString('latin1');
  t.match(last, /a3 COMPRESS DEFLATE\r\n/, 'the compressed rest is in one part with its COMPRESS');
  t.same(findings.filter((f) => f.category === 'mail').map((f) => f.evidence.path), [['stream:up', 'imap:append[0]', 'message/rfc822'], ['stream:up', 'imap:deflate:append[0]', 'message/rfc822']], 'both mails found, the second inside the deflate stream');
  const back = readHar(fs.readFileSync(path.join(out, 'flows.har'), 'utf8')).filter((f): f is RawFlow => f.kind === 'raw');
  t.same(back.map((f) => f.part?.bytesBefore?.up), parts.map((p) => p.bytesBefore.up), 'flows.har keeps the parts');
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  t.equal(summary.flows.raw, 1, 'the summary counts one stream');
});

/** A client's end of a stream relayed (relayStream) to an echo server, which sends back every byte. */
async function relayedToEcho(t: Test, parts: StreamParts): Promise<{ near: net.Socket; done: Promise<StreamRelayResult> }> {
  const echo = net.createServer((socket) => socket.pipe(socket));
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  t.teardown(() => echo.close());
  const [near, far] = await connectedPair(t);
  const done = new Promise<StreamRelayResult>((resolve) => relayStream(far, {
    host: '127.0.0.1', port: (echo.address() as net.AddressInfo).port, captureBytes: 1024 * 1024, idleTimeoutMs: 10_000, parts,
  }, resolve));
  return { near, done };
}

t.test('the relay cuts only where both sides were quiet, and never again once the cut rule says no', async (t) => {
  const parts: StreamRelayResult[] = [];
  let askedAfterCompress!: () => void;
  const compressSeen = new Promise<void>((resolve) => { askedAfterCompress = resolve; });
  let partArrived: (() => void) | undefined;
  const { near, done } = await relayedToEcho(t, {
    intervalMs: 0, quietMs: 50, onPart: (part) => { parts.push(part); partArrived?.(); },
    mayCut: (clientBytes) => {
      const may = mayCutStreamAfter(clientBytes);
      if (!may) askedAfterCompress();
      return may;
    },
  });
  const echoed = (text: string): Promise<void> => {
    let got = '';
    return within(new Promise<void>((resolve) => {
      const onData = (c: Buffer): void => { got += c.toString('latin1'); if (got.endsWith(text)) { near.off('data', onData); resolve(); } };
      near.on('data', onData);
    }), 10_000, `the echo of ${JSON.stringify(text)}`);
  };
  const nextPart = (): Promise<void> => within(new Promise<void>((resolve) => { partArrived = resolve; }), 10_000, 'a part');

  const waiting = nextPart();
  near.write('a1 NOOP\r\n');
  await echoed('a1 NOOP\r\n');
  await waiting;
  t.match(parts[0], { bytesUp: 9, bytesDown: 9, part: { index: 1, bytesBefore: { up: 0, down: 0 }, last: false } }, 'a quiet stream is cut');
  t.equal(parts[0]?.up?.bytes.toString(), 'a1 NOOP\r\n');

  near.write('a2 COMPRESS DEFLATE\r\n');
  await echoed('a2 COMPRESS DEFLATE\r\n');
  await within(compressSeen, 10_000, 'the cut rule asked after COMPRESS');
  near.write('deflate bytes\r\n');
  await echoed('deflate bytes\r\n');
  near.end();
  const last = await within(done, 10_000, 'the relay to end');
  t.equal(parts.length, 1, 'no part after COMPRESS');
  t.match(last, { part: { index: 2, bytesBefore: { up: 9, down: 9 }, last: true } }, 'the rest is the last part');
  t.equal(last.up?.bytes.toString(), 'a2 COMPRESS DEFLATE\r\ndeflate bytes\r\n');
});

t.test('a stream whose part never came due is one flow, as before', async (t) => {
  const parts: StreamRelayResult[] = [];
  const { near, done } = await relayedToEcho(t, { intervalMs: 3_600_000, quietMs: 50, onPart: (part) => parts.push(part), mayCut: mayCutStreamAfter });
  near.end('EHLO phone\r\nQUIT\r\n');
  const whole = await within(done, 10_000, 'the relay to end');
  t.same(parts, []);
  t.equal(whole.part, undefined, 'no part: a flow as before');
  t.equal(whole.up?.bytes.toString(), 'EHLO phone\r\nQUIT\r\n');
});

t.test('where a stream may be cut: anywhere but after an IMAP COMPRESS DEFLATE', async (t) => {
  const rows: Array<[string, string, boolean]> = [
    ['IMAP commands', 'a1 LOGIN jane s3cret\r\na2 SELECT INBOX\r\n', true],
    ['SMTP', 'EHLO phone\r\nMAIL FROM:<jane@example.com>\r\n', true],
    ['COMPRESS first', 'a9 COMPRESS DEFLATE\r\n\x01\x02', false],
    ['COMPRESS after a login', 'a1 LOGIN jane s3cret\r\nA0002 compress deflate\r\nxx', false],
    ['the words inside a line (a mail that mentions them)', 'Subject: how to COMPRESS DEFLATE\r\n', true],
    ['COMPRESS of another kind', 'a1 COMPRESS LZ4\r\n', true],
  ];
  for (const [name, bytes, may] of rows) t.equal(mayCutStreamAfter(Buffer.from(bytes, 'latin1')), may, name);
});
