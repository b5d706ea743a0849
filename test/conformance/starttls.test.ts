// STARTTLS through phonehome with real clients: `openssl s_client -starttls smtp|imap|pop3` through
// CONNECT, against mail servers of our own on 127.0.0.1:0 that speak clear text and then upgrade
// with a certificate of the origin CA. The dialogue must pass unchanged both ways, the flow must
// hold it decrypted, and the mail in it must become a finding. Also: a device that refuses our CA
// (learned, then passed through), a server that refuses STARTTLS, and one whose certificate does
// not verify: shown to the app as it is, which refuses it or goes on as it would directly.

import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { once } from 'node:events';
import { CaptureSession } from '../../src/app/capture-session.js';
import { resolveCaptureOptions } from '../../src/app/options.js';
import type { IssuedLeaf } from '../../src/proxy/ca/certificate-authority.js';
import { noticeForFlow } from '../../src/app/notices.js';
import { socketPeekAvailable } from '../../src/proxy/socket-peek.js';
import type { Flow } from '../../src/model/flow.js';
import { certificateFlaws } from '../helpers/certificate-flaws.js';
import { connectTunnel, getOriginCa, pemFile, startLab, tempDir, testLookup, withLimit, within } from '../helpers/lab.js';
import { runProgram, type ProgramRun } from '../helpers/run-client.js';
import { defaultDetectors } from '../../src/inspect/detect/registry.js';
import { inspectFlow } from '../../src/inspect/inspector.js';

type Protocol = 'smtp' | 'imap' | 'pop3';

interface MailServer {
  readonly port: number;
  /** What the server read, in clear text before STARTTLS and decrypted after. */
  readonly plain: () => string;
  readonly secure: () => string;
  /** Resolves when a connection has closed: each close answers one call, made before or after it. */
  readonly closed: () => Promise<void>;
  /** Resets every connection (RST), as a server that crashed. */
  resetAll(): void;
  /** Resolves with how the next connection to end ended, as the server read it: `end`, or the error's code. */
  readonly nextEnding: () => Promise<string>;
  close(): Promise<void>;
}

/** A small SMTP, IMAP or POP3 server: clear text, STARTTLS (or a refusal), then the same dialogue in TLS. */
/** `tlsVersions`: what the server's TLS speaks, when not today's defaults. */
/** `leaf`: the server's certificate, when not one of the origin CA for `hostname`. */
async function startMailServer(protocol: Protocol, options: { hostname: string; refuse?: boolean; leaf?: IssuedLeaf; tlsVersions?: tls.SecureContextOptions }): Promise<MailServer> {
  const leaf = options.leaf ?? getOriginCa().issueLeaf(options.hostname);
  let plain = '';
  let secure = '';
  // Each close is claimed by one closed() call, whichever comes first: the close, or the call.
  let closesUnclaimed = 0;
  const awaitingClose: Array<() => void> = [];
  const sockets = new Set<net.Socket>();
  let ended: (how: string) => void = () => undefined;
  const server = net.createServer((raw) => {
    sockets.add(raw);
    // How the connection ends, read by what reads it: the TCP socket, then the TLS one over it.
    const hear = (socket: net.Socket): void => {
      socket.once('error', (error: NodeJS.ErrnoException) => ended(error.code ?? error.message));
      socket.once('end', () => ended('end'));
    };
    hear(raw);
    raw.on('error', () => undefined);
    raw.on('close', () => {
      sockets.delete(raw);
      const waiter = awaitingClose.shift();
      if (waiter) waiter();
      else closesUnclaimed++;
    });
    let io: net.Socket | tls.TLSSocket = raw;
    let upgraded = false;
    let buffer = '';
    let literal = 0;
    let inData = false;
    let literalTag = '';
    const send = (text: string): void => { io.write(text); };
    const upgrade = (): void => {
      io.removeAllListeners('data');
      upgraded = true;
      const secured = new tls.TLSSocket(raw, { isServer: true, secureContext: tls.createSecureContext({ key: leaf.keyPem, cert: leaf.certPem, ...options.tlsVersions }) });
      secured.on('error', () => undefined);
      hear(secured);
      io = secured;
      secured.on('data', onData);
    };
    const onLine = (line: string): void => {
      if (protocol === 'smtp') {
        if (inData) {
          if (line === '.') { inData = false; send('250 2.0.0 queued as 42\r\n'); }
          return;
        }
        const verb = line.split(' ')[0]!.toUpperCase();
        if (verb === 'EHLO') send(`250-${options.hostname}\r\n${upgraded ? '' : '250-STARTTLS\r\n'}250 AUTH PLAIN\r\n`);
        else if (verb === 'STARTTLS' && options.refuse) send('454 4.7.0 TLS not available due to temporary reason\r\n');
        else if (verb === 'STARTTLS') { send('220 2.0.0 Ready to start TLS\r\n'); upgrade(); }
        else if (verb === 'DATA') { inData = true; send('354 End data with <CR><LF>.<CR><LF>\r\n'); }
        else if (verb === 'QUIT') io.end('221 2.0.0 Bye\r\n');
        else send('250 2.1.0 Ok\r\n');
      } else if (protocol === 'imap') {
        const [tag = '*', command = '', ...rest] = line.split(' ');
        const upper = command.toUpperCase();
        if (upper === 'CAPABILITY') send(`* CAPABILITY IMAP4rev1${upgraded ? '' : ' STARTTLS'} AUTH=PLAIN\r\n${tag} OK CAPABILITY completed\r\n`);
        else if (upper === 'STARTTLS' && options.refuse) send(`${tag} NO not now\r\n`);
        else if (upper === 'STARTTLS') { send(`${tag} OK Begin TLS negotiation now\r\n`); upgrade(); }
        else if (upper === 'APPEND') {
          literal = Number(/\{(\d+)\}$/.exec(rest.join(' '))?.[1] ?? 0);
          literalTag = tag;
          send('+ Ready for literal data\r\n');
        } else if (upper === 'LOGOUT') io.end(`* BYE logging out\r\n${tag} OK LOGOUT completed\r\n`);
        else send(`${tag} OK ${upper} completed\r\n`);
      } else {
        const verb = line.split(' ')[0]!.toUpperCase();
        if (verb === 'CAPA') send(`+OK\r\n${upgraded ? '' : 'STLS\r\n'}USER\r\n.\r\n`);
        else if (verb === 'STLS' && options.refuse) send('-ERR not now\r\n');
        else if (verb === 'STLS') { send('+OK Begin TLS negotiation\r\n'); upgrade(); }
        else if (verb === 'RETR') send('+OK 44 octets\r\nSubject: stored\r\n\r\n+OK not a status line\r\n.\r\n');
        else if (verb === 'QUIT') io.end('+OK bye\r\n');
        else send('+OK\r\n');
      }
    };
    function onData(chunk: Buffer): void {
      const text = chunk.toString('latin1');
      if (upgraded) secure += text;
      else plain += text;
      buffer += text;
      for (;;) {
        if (literal > 0) {
          if (buffer.length < literal) return;
          buffer = buffer.slice(literal);
          literal = 0;
          // The APPEND command ends after its literal with CRLF.
          const eol = buffer.indexOf('\r\n');
          if (eol < 0) return;
          buffer = buffer.slice(eol + 2);
          send(`${literalTag} OK APPEND completed\r\n`);
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol < 0) return;
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const wasUpgraded = upgraded;
        onLine(line);
        // After the switch, what is left in clear text would be pipelined bytes: none are expected.
        if (upgraded !== wasUpgraded) return;
      }
    }
    raw.on('data', onData);
    send(protocol === 'smtp' ? `220 ${options.hostname} ESMTP ready\r\n` : protocol === 'imap' ? '* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n' : '+OK POP3 ready\r\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    plain: () => plain,
    secure: () => secure,
    // Until 2026-12-08 a call made before the close replaced the resolver that close would call,
    // and waited for good: msmtp's run hung so now and then, when its process had exited before
    // the server read the end of its connection.
    closed: () => {
      if (closesUnclaimed > 0) {
        closesUnclaimed--;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => { awaitingClose.push(resolve); });
    },
    resetAll: () => { for (const socket of sockets) socket.resetAndDestroy(); },
    nextEnding: () => new Promise((resolve) => { ended = resolve; }),
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

/**
 * `openssl s_client -starttls` through the proxy (straight to 127.0.0.1 without `proxyPort`);
 * resolves with its output and exit code once it ends. It checks `verifyName` (default `host`),
 * refusing what does not verify unless `checks` is false, and sends `host` as SNI, except to an
 * address: no SNI.
 */
async function sClient(options: { protocol: Protocol | 'xmpp'; proxyPort?: number; host: string; port: number; caFile: string; input: string; verifyName?: string; checks?: boolean; extraArgs?: string[] }): Promise<ProgramRun> {
  const verifyName = options.verifyName ?? options.host;
  const sni = net.isIP(options.host) === 0 ? ['-servername', options.host] : ['-noservername'];
  const route = options.proxyPort === undefined ? ['-connect', `127.0.0.1:${options.port}`] : ['-connect', `${options.host}:${options.port}`, '-proxy', `127.0.0.1:${options.proxyPort}`];
  return runProgram('openssl', [
    's_client', '-starttls', options.protocol, ...route, ...sni, '-CAfile', options.caFile, ...(options.checks === false ? [] : ['-verify_return_error']),
    '-verify_hostname', verifyName, '-crlf', '-quiet', ...(options.extraArgs ?? []),
  ], options.input, 20_000);
}

const mailText = [
  'From: Jane <jane@example.com>', 'To: bob@example.org', 'Subject: Rendez-vous demain', 'Date: Sun, 12 Oct 2014 18:30:05 +0200', '',
  'A 18h devant la gare. Mon numero: +33 6 12 34 56 78.',
].join('\n');

t.test('SMTP STARTTLS via openssl: relayed unchanged, decrypted into the same flow, and the mail is a finding', { skip: !haveOpenssl && 'openssl not installed' }, async (t) => {
  const server = await startMailServer('smtp', { hostname: 'smtp.example.test' });
  t.teardown(() => server.close());
  const out = path.join(tempDir(), 'run');
  const session = await CaptureSession.start(resolveCaptureOptions({ listen: '127.0.0.1:0', 'ca-dir': path.join(tempDir(), 'ca'), out, 'upstream-ca': [pemFile(getOriginCa().certPem)] }, 'capture'), { lookup: testLookup });
  const flows: Flow[] = [];
  session.bus.on('flow:end', (flow) => flows.push(flow));
  const input = ['EHLO phone', 'MAIL FROM:<jane@example.com>', 'RCPT TO:<bob@example.org>', 'DATA', mailText, '.', 'QUIT', ''].join('\n');
  const result = await sClient({ protocol: 'smtp', proxyPort: session.port, host: 'smtp.example.test', port: server.port, caFile: pemFile(session.ca.certPem), input });
  t.equal(result.code, 0, `openssl succeeded: ${result.stderr}`);
  await session.stop();

  t.match(server.plain(), /^EHLO \S+\r\nSTARTTLS\r\n$/, 'the server read the clear-text dialogue as sent');
  t.equal(server.secure(), input.replace(/\n/g, '\r\n'), 'the server read exactly what the client sent after STARTTLS');
  t.match(result.stdout, /250 2\.0\.0 queued as 42\r\n221 2\.0\.0 Bye/, 'the client read the server\'s replies');
  const flow = flows.find((f) => f.target.host === 'smtp.example.test');
  t.ok(flow, 'one flow for the connection');
  t.equal(flow?.kind, 'raw');
  t.ok(flow?.tags.includes('starttls') && flow.tags.includes('starttls:smtp'), `tagged starttls (${flow?.tags})`);
  t.equal(flow?.sni, 'smtp.example.test');
  t.notOk(flow?.error, 'no error');
  const up = flow?.stream?.up.bytes.toString('latin1') ?? '';
  t.match(up, /STARTTLS\r\nEHLO phone\r\nMAIL FROM:<jane@example\.com>\r\n/, 'the flow holds the clear text and the decrypted continuation');
  t.match(flow?.stream?.down.bytes.toString('latin1') ?? '', /220 2\.0\.0 Ready to start TLS\r\n250-smtp\.example\.test\r\n250 AUTH PLAIN/);
  const findings = fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const mail = findings.find((f) => f.category === 'mail');
  t.match(mail?.summary, /from jane@example\.com to bob@example\.org, 'Rendez-vous demain'/, 'the mail sent after STARTTLS is a finding');
});

t.test('IMAP and POP3 STARTTLS via openssl: relayed unchanged and decrypted', { skip: !haveOpenssl && 'openssl not installed' }, async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const caFile = pemFile(lab.ca.certPem);

  const imap = await startMailServer('imap', { hostname: 'imap.example.test' });
  t.teardown(() => imap.close());
  const message = mailText.replace(/\n/g, '\r\n');
  const imapInput = ['a1 LOGIN jane secret', `a2 APPEND Sent {${message.length}}`, mailText, 'a3 LOGOUT', ''].join('\n');
  const imapResult = await sClient({ protocol: 'imap', proxyPort: lab.port, host: 'imap.example.test', port: imap.port, caFile, input: imapInput });
  t.equal(imapResult.code, 0, `openssl succeeded: ${imapResult.stderr}`);
  t.match(imap.plain(), /^\S+ CAPABILITY\r\n\S+ STARTTLS\r\n$/);
  t.equal(imap.secure(), imapInput.replace(/\n/g, '\r\n'));
  t.match(imapResult.stdout, /a2 OK APPEND completed\r\n\* BYE logging out\r\na3 OK LOGOUT completed/);
  const imapFlow = await lab.next('flow:end', (f) => f.target.host === 'imap.example.test');
  t.ok(imapFlow.tags.includes('starttls:imap'), `tagged (${imapFlow.tags})`);
  t.match(imapFlow.stream?.up.bytes.toString('latin1'), /STARTTLS\r\na1 LOGIN jane secret\r\na2 APPEND Sent/);

  const pop = await startMailServer('pop3', { hostname: 'pop.example.test' });
  t.teardown(() => pop.close());
  const popInput = ['USER jane', 'PASS secret', 'RETR 1', 'QUIT', ''].join('\n');
  const popResult = await sClient({ protocol: 'pop3', proxyPort: lab.port, host: 'pop.example.test', port: pop.port, caFile, input: popInput });
  t.equal(popResult.code, 0, `openssl succeeded: ${popResult.stderr}`);
  t.equal(pop.plain(), 'STLS\r\n');
  t.equal(pop.secure(), popInput.replace(/\n/g, '\r\n'));
  t.match(popResult.stdout, /\+OK not a status line\r\n\.\r\n\+OK bye/);
  const popFlow = await lab.next('flow:end', (f) => f.target.host === 'pop.example.test');
  t.ok(popFlow.tags.includes('starttls:pop3'), `tagged (${popFlow.tags})`);
  t.match(popFlow.stream?.up.bytes.toString('latin1'), /STLS\r\nUSER jane\r\nPASS secret\r\nRETR 1/);
});

t.test('IMAP STARTTLS to an address, no SNI (a mail app given the server\'s address): decrypted, the name it checks taken from the server\'s certificate', { skip: !haveOpenssl && 'openssl not installed' }, async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const imap = await startMailServer('imap', { hostname: 'imap.example.test' });
  t.teardown(() => imap.close());
  const input = ['a1 LOGIN jane secret', 'a2 LOGOUT', ''].join('\n');
  const result = await sClient({ protocol: 'imap', proxyPort: lab.port, host: '127.0.0.1', port: imap.port, caFile: pemFile(lab.ca.certPem), input, verifyName: 'imap.example.test' });
  t.equal(result.code, 0, `openssl succeeded: ${result.stderr}`);
  t.equal(imap.secure(), input.replace(/\n/g, '\r\n'), 'the server read what the client sent after STARTTLS');
  const flow = await lab.next('flow:end', (f) => f.target.host === '127.0.0.1' && f.target.port === imap.port);
  t.ok(flow.tags.includes('starttls:imap'), `decrypted (${flow.tags})`);
  t.notOk(flow.sni, 'no SNI');
  t.equal(lab.passthrough.learned().length, 0, 'nothing learned as pinned');
});

t.test('an old mail app (TLS 1.0) and its TLS 1.0-only server after STARTTLS: they reach each other through phonehome as directly, decrypted', { skip: !haveOpenssl && 'openssl not installed' }, async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const smtp = await startMailServer('smtp', { hostname: 'oldmail.example.test', tlsVersions: { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'AES128-SHA:@SECLEVEL=0' } });
  t.teardown(() => smtp.close());
  const input = ['EHLO phone', 'QUIT', ''].join('\n');
  const result = await sClient({ protocol: 'smtp', proxyPort: lab.port, host: 'oldmail.example.test', port: smtp.port, caFile: pemFile(lab.ca.certPem), input, extraArgs: ['-tls1', '-cipher', 'DEFAULT:@SECLEVEL=0'] });
  t.equal(result.code, 0, `openssl succeeded: ${result.stderr}`);
  t.equal(smtp.secure(), input.replace(/\n/g, '\r\n'), 'the server read what the client sent after STARTTLS');
  const flow = await lab.next('flow:end', (f) => f.target.host === 'oldmail.example.test');
  t.ok(flow.tags.includes('starttls:smtp'), `decrypted (${flow.tags})`);
});

t.test('a mail app with TLS 1.3 and its TLS 1.2 server after STARTTLS: TLS 1.2 on both sides, as directly', { skip: !haveOpenssl && 'openssl not installed' }, async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const smtp = await startMailServer('smtp', { hostname: 'mail12.example.test', tlsVersions: { maxVersion: 'TLSv1.2' } });
  t.teardown(() => smtp.close());
  const input = ['EHLO phone', 'QUIT', ''].join('\n');
  const result = await sClient({ protocol: 'smtp', proxyPort: lab.port, host: 'mail12.example.test', port: smtp.port, caFile: pemFile(lab.ca.certPem), input, extraArgs: ['-brief'] });
  t.equal(result.code, 0, `openssl succeeded: ${result.stderr}`);
  t.match(result.stderr, /Protocol version: TLSv1\.2\b/, 'the app spoke TLS 1.2 to phonehome, as it would have to its server');
  t.equal(smtp.secure(), input.replace(/\n/g, '\r\n'), 'the server read what the client sent after STARTTLS');
});

t.test('a device that refuses our CA after STARTTLS: the host is learned, and its next STARTTLS is not intercepted', { skip: !haveOpenssl && 'openssl not installed' }, async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const server = await startMailServer('smtp', { hostname: 'pinned.example.test' });
  t.teardown(() => server.close());
  // The device trusts only the real server's CA: ours is refused (alert 48, unknown CA).
  const originOnly = pemFile(getOriginCa().certPem);
  const input = ['EHLO phone', 'QUIT', ''].join('\n');
  const first = await sClient({ protocol: 'smtp', proxyPort: lab.port, host: 'pinned.example.test', port: server.port, caFile: originOnly, input });
  t.not(first.code, 0, 'the device refused our certificate');
  const failed = await lab.next('tls:failed', (f) => f.host === 'pinned.example.test');
  t.ok(failed.learnedPassthrough, 'learned');
  const flow = await lab.next('flow:end', (f) => f.target.host === 'pinned.example.test');
  t.ok(flow.tags.includes('starttls:tls-failed') && flow.tags.includes('tls:certificate-rejected') && flow.tags.includes('passthrough:learned'), `tags say so (${flow.tags})`);
  t.ok(flow.tags.includes('tls:alert-48'), 'with the alert');
  t.match(flow.error, /unknown ca/);
  t.same(lab.passthrough.learned().map((h) => h.host), ['pinned.example.test']);

  // Next time the device reaches the real server, whose certificate it trusts. (By hand, not with
  // openssl: a passed-through tunnel answers CONNECT once the server is reached, so the greeting
  // may come in the same segment, and s_client's proxy code drops what follows the 200.)
  const socket = await smtpUpToTls(await dialogue(lab.port, `pinned.example.test:${server.port}`));
  const device = tls.connect({ socket, servername: 'pinned.example.test', ca: getOriginCa().certPem });
  await within(once(device, 'secureConnect'), 10_000, 'the handshake with the real server');
  let replies = '';
  device.on('data', (c: Buffer) => { replies += c.toString('latin1'); });
  device.write('EHLO phone\r\nQUIT\r\n');
  await within(new Promise((resolve) => device.once('close', resolve)), 10_000, 'the server to close');
  t.match(replies, /221 2\.0\.0 Bye/, 'the second connection works');
  t.equal(server.secure(), 'EHLO phone\r\nQUIT\r\n', 'the server read what the device sent, and nothing from the first try');
  const passed = await lab.next('flow:end', (f) => f.target.host === 'pinned.example.test' && f.id !== flow.id);
  t.ok(passed.tags.includes('passthrough:learned'), `not intercepted (${passed.kind}, ${passed.tags})`);
  t.notOk(passed.tags.includes('starttls'), 'not decrypted');
});

/** A device by hand: CONNECT, the greeting, then each line and the server's full reply. */
async function dialogue(proxyPort: number, target: string) {
  const { socket, status, head } = await within(connectTunnel(proxyPort, target), 10_000, `the answer to CONNECT ${target}`);
  if (status !== 200) throw new Error(`CONNECT answered ${status}`);
  // The greeting may come with the CONNECT answer.
  return conversation(socket, head);
}

/** The same device straight to the server. */
async function directDialogue(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  await within(once(socket, 'connect'), 10_000, 'the connection to the mail server');
  return conversation(socket, Buffer.alloc(0));
}

/** An SMTP app's way to TLS, by hand: the greeting, EHLO, STARTTLS and its go-ahead; the socket is then ready for its ClientHello. */
async function smtpUpToTls({ socket, waitFor }: { socket: net.Socket; waitFor: (pattern: RegExp) => Promise<string> }): Promise<net.Socket> {
  await waitFor(/220 .*\r\n/);
  socket.write('EHLO phone\r\n');
  await waitFor(/250 AUTH PLAIN\r\n/);
  socket.write('STARTTLS\r\n');
  await waitFor(/220 2\.0\.0 .*\r\n/);
  return socket;
}

/** Waits for each reply on `socket`, whose first bytes (`head`) were read already. */
function conversation(socket: net.Socket, head: Buffer) {
  let received = head.toString('latin1');
  const waitFor = (pattern: RegExp): Promise<string> => within(new Promise<string>((resolve, reject) => {
    const check = (): void => {
      const match = pattern.exec(received);
      if (match) {
        socket.off('data', onData);
        socket.off('close', onClose);
        received = received.slice(match.index + match[0].length);
        resolve(match[0]);
      }
    };
    const onData = (chunk: Buffer): void => { received += chunk.toString('latin1'); check(); };
    const onClose = (): void => reject(new Error(`closed while waiting for ${pattern}`));
    socket.on('data', onData);
    socket.once('close', onClose);
    check();
  }), 10_000, `a reply matching ${pattern}`);
  return { socket, waitFor };
}

t.test('after STARTTLS the device\'s ClientHello is left for the TLS stack to read: no TLS byte of the device is read into JavaScript, and a 2 MB mail passes whole', { skip: !socketPeekAvailable() && 'the socket-peek addon is not built here' }, async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const server = await startMailServer('smtp', { hostname: 'upload.example.test' });
  t.teardown(() => server.close());
  // Every chunk Node reads into JavaScript from a device's connection (the proxy's end of it). A
  // ClientHello read there and handed back to the TLS socket left Node's TLS input buffer small
  // for the rest of the connection (src/proxy/socket-peek.ts).
  const readFromDevices: Buffer[] = [];
  const push = net.Socket.prototype.push;
  net.Socket.prototype.push = function (this: net.Socket, chunk: unknown, encoding?: BufferEncoding) {
    if (Buffer.isBuffer(chunk) && this.localPort === lab.port) readFromDevices.push(chunk);
    return push.call(this, chunk, encoding);
  };
  t.teardown(() => { net.Socket.prototype.push = push; });

  const socket = await smtpUpToTls(await dialogue(lab.port, `upload.example.test:${server.port}`));
  const device = tls.connect({ socket, servername: 'upload.example.test', ca: lab.ca.certPem });
  await within(once(device, 'secureConnect'), 10_000, 'the handshake with phonehome');
  let replies = '';
  const bye = new Promise<void>((resolve) => device.on('data', (chunk: Buffer) => {
    replies += chunk.toString('latin1');
    if (/221 .*\r\n$/.test(replies)) resolve();
  }));
  const photo = Buffer.alloc(1536 * 1024, 7).toString('base64').replace(/.{76}/g, '$&\r\n');
  const mail = `EHLO phone\r\nMAIL FROM:<jane@example.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n${mailText.replace(/\n/g, '\r\n')}\r\n${photo}\r\n.\r\nQUIT\r\n`;
  // Not ended first: the test's mail server closes at once on a half-close.
  device.write(mail);
  await within(bye, 20_000, 'the server to say bye');
  device.destroy();

  t.match(replies, /250 2\.0\.0 queued as 42\r\n221 2\.0\.0 Bye\r\n$/, 'the device read the server\'s replies');
  t.equal(server.secure(), mail, `the server read exactly the ${mail.length} bytes the device sent after STARTTLS`);
  const flow = await lab.next('flow:end', (f) => f.target.host === 'upload.example.test');
  t.ok(flow.tags.includes('starttls'), `tagged starttls (${flow.tags})`);
  t.ok(readFromDevices.some((chunk) => chunk.includes('STARTTLS\r\n')), 'the clear-text dialogue was read in JavaScript, as the relay must');
  const records = readFromDevices.filter((chunk) => chunk[0] === 0x16 && chunk[1] === 0x03);
  t.equal(records.length, 0, 'no TLS record of the device was read into JavaScript: the TLS stack read the ClientHello itself');
});

const haveCurl = spawnSync('curl', ['--version']).status === 0;

/** curl sending `mail` over SMTP with STARTTLS required (through a CONNECT tunnel when `proxyPort` is given, or SOCKS5 with `socks`). */
async function curlMail(options: { host: string; port: number; caFile: string; proxyPort?: number; socks?: boolean; mail: string }): Promise<{ code: number | null; stderr: string }> {
  const route = options.proxyPort === undefined
    ? ['--resolve', `${options.host}:${options.port}:127.0.0.1`]
    : options.socks ? ['--proxy', `socks5h://127.0.0.1:${options.proxyPort}`] : ['--proxy', `http://127.0.0.1:${options.proxyPort}`, '--proxytunnel'];
  const child = spawn('curl', [
    '-sS', '--max-time', '20', '--ssl-reqd', '--cacert', options.caFile, ...route,
    `smtp://${options.host}:${options.port}`, '--mail-from', 'jane@example.com', '--mail-rcpt', 'bob@example.org', '-T', '-',
  ], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  child.stdin.end(options.mail);
  const [code] = (await within(once(child, 'exit'), 25_000, 'curl to send the mail')) as [number | null];
  return { code, stderr };
}

t.test('curl sends a 2 MB mail over SMTP STARTTLS through CONNECT: the server reads what it reads from curl direct, and the flow holds it decrypted', { skip: !haveCurl && 'curl not installed' }, async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const server = await startMailServer('smtp', { hostname: 'curlmail.example.test' });
  t.teardown(() => server.close());
  const photo = Buffer.alloc(1536 * 1024, 11).toString('base64').replace(/.{76}/g, '$&\n');
  const mail = `${mailText}\n\n${photo}\n`;
  const direct = await curlMail({ host: 'curlmail.example.test', port: server.port, caFile: pemFile(getOriginCa().certPem), mail });
  t.equal(direct.code, 0, `curl direct succeeded: ${direct.stderr}`);
  // curl leaves once the server has answered its QUIT: the server has read everything by then.
  const [plainDirect, secureDirect] = [server.plain(), server.secure()];
  const through = await curlMail({ host: 'curlmail.example.test', port: server.port, caFile: pemFile(lab.ca.certPem), proxyPort: lab.port, mail });
  t.equal(through.code, 0, `curl through phonehome succeeded: ${through.stderr}`);
  t.ok(secureDirect.length > 2_000_000, `curl direct sent ${secureDirect.length} bytes after STARTTLS`);
  t.equal(server.plain().slice(plainDirect.length), plainDirect, 'the clear-text dialogue, as direct');
  t.equal(server.secure().slice(secureDirect.length), secureDirect, 'every byte after STARTTLS, as direct');
  const flow = await lab.next('flow:end', (f) => f.target.host === 'curlmail.example.test');
  t.ok(flow.tags.includes('starttls:smtp'), `tagged (${flow.tags})`);
  t.match(flow.stream?.up.bytes.toString('latin1'), /STARTTLS\r\nEHLO \S+\r\nMAIL FROM:<jane@example\.com>[^\r]*\r\nRCPT TO:<bob@example\.org>\r\nDATA\r\nFrom: Jane/, 'the flow holds the decrypted mail');
});

t.test('curl sends a mail over SMTP STARTTLS through SOCKS5, on a port that does not say who speaks first: the greeting comes behind the reply at once', { skip: !haveCurl && 'curl not installed' }, async (t) => {
  // Endless: a greeting held for the client's silence would never come (curl waits for it).
  withLimit(t, 'connectSniffTimeoutMs', 3_600_000);
  const lab = await startLab();
  t.teardown(() => lab.close());
  const server = await startMailServer('smtp', { hostname: 'socksmail.example.test' });
  t.teardown(() => server.close());
  const direct = await curlMail({ host: 'socksmail.example.test', port: server.port, caFile: pemFile(getOriginCa().certPem), mail: mailText });
  t.equal(direct.code, 0, `curl direct succeeded: ${direct.stderr}`);
  const [plainDirect, secureDirect] = [server.plain(), server.secure()];
  const through = await curlMail({ host: 'socksmail.example.test', port: server.port, caFile: pemFile(lab.ca.certPem), proxyPort: lab.port, socks: true, mail: mailText });
  t.equal(through.code, 0, `curl through phonehome's SOCKS5 succeeded: ${through.stderr}`);
  t.equal(server.plain().slice(plainDirect.length), plainDirect, 'the clear-text dialogue, as direct');
  t.equal(server.secure().slice(secureDirect.length), secureDirect, 'every byte after STARTTLS, as direct');
  const flow = await lab.next('flow:end', (f) => f.target.host === 'socksmail.example.test');
  t.equal(flow.mode, 'socks5');
  t.ok(flow.tags.includes('starttls') && flow.tags.includes('stream:server-speaks-first'), `decided on the greeting, decrypted after STARTTLS (${flow.tags})`);
});

const haveMsmtp = spawnSync('msmtp', ['--version']).status === 0;

/** A phone's mail with a photo attached, as a mail app writes it (MIME, base64 lines of 76). */
function mailWithPhoto(): string {
  const photo = fs.readFileSync(new URL('../fixtures/photos/camera.jpg', import.meta.url)).toString('base64').replace(/.{76}/g, '$&\n');
  return [
    // Its own Message-ID: msmtp makes a random one for a mail without.
    'Message-ID: <20141012183140.7c9e@phone.example.test>', 'From: Jane <jane@example.com>', 'To: bob@example.org', 'Subject: Photo de la gare', 'Date: Sun, 12 Oct 2014 18:31:40 +0200', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="phone-7c9e"', '', '--phone-7c9e', 'Content-Type: text/plain; charset=utf-8', '', 'La voila. A demain.', '',
    '--phone-7c9e', 'Content-Type: image/jpeg', 'Content-Transfer-Encoding: base64', 'Content-Disposition: attachment; filename="IMG_20141012_183005.jpg"', '',
    photo, '--phone-7c9e--', '',
  ].join('\n');
}

/** msmtp (GnuTLS) sends `mail` with STARTTLS: straight to 127.0.0.1, or by name through a SOCKS5 proxy. */
function msmtpMail(options: { host: string; port: number; caFile: string; socksPort?: number; mail: string }): Promise<ProgramRun> {
  const route = options.socksPort === undefined
    ? ['--host=127.0.0.1', `--tls-host-override=${options.host}`]
    : [`--host=${options.host}`, '--proxy-host=127.0.0.1', `--proxy-port=${options.socksPort}`];
  return runProgram('msmtp', [
    ...route, `--port=${options.port}`, '--domain=phone.example.test', '--tls=on', '--tls-starttls=on', `--tls-trust-file=${options.caFile}`,
    '--auth=off', '--from=jane@example.com', '--timeout=20', 'bob@example.org',
  ], options.mail, 30_000);
}

t.test('msmtp (GnuTLS) sends a mail with a photo over SMTP STARTTLS through SOCKS5: the server reads what it reads direct, and the mail and its photo are found', { skip: !haveMsmtp && 'msmtp not installed (apt-get install msmtp)' }, async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const server = await startMailServer('smtp', { hostname: 'msmtp.example.test' });
  t.teardown(() => server.close());
  const mail = mailWithPhoto();
  const direct = await msmtpMail({ host: 'msmtp.example.test', port: server.port, caFile: pemFile(getOriginCa().certPem), mail });
  t.equal(direct.code, 0, `msmtp direct: ${direct.stderr}`);
  await within(server.closed(), 10_000, 'the mail server to see the direct connection close');
  const [plainDirect, secureDirect] = [server.plain(), server.secure()];
  const through = await msmtpMail({ host: 'msmtp.example.test', port: server.port, caFile: pemFile(lab.ca.certPem), socksPort: lab.port, mail });
  t.equal(through.code, 0, `msmtp through phonehome: ${through.stderr}`);
  t.equal(through.stdout + through.stderr, direct.stdout + direct.stderr, 'msmtp said what it says direct');
  t.match(secureDirect, /^EHLO phone\.example\.test\r\nMAIL FROM:<jane@example\.com>\r\nRCPT TO:<bob@example\.org>\r\nDATA\r\n/, 'direct, msmtp\'s dialogue after STARTTLS');
  t.equal(server.plain().slice(plainDirect.length), plainDirect, 'the clear-text dialogue, as direct');
  t.equal(server.secure().slice(secureDirect.length), secureDirect, 'every byte after STARTTLS, as direct');
  const flow = await lab.next('flow:end', (f) => f.target.host === 'msmtp.example.test');
  t.ok(flow.tags.includes('starttls:smtp'), `tagged (${flow.tags})`);
  t.match(flow.stream?.up.bytes.toString('latin1'), /STARTTLS\r\nEHLO phone\.example\.test\r\nMAIL FROM:<jane@example\.com>/, 'the flow holds the dialogue decrypted');
  const findings = inspectFlow(flow, defaultDetectors).drafts;
  t.match(findings.find((f) => f.category === 'mail')?.summary, /from jane@example\.com to bob@example\.org, 'Photo de la gare'/, 'the mail is a finding');
  t.ok(findings.some((f) => f.category === 'photo'), `and so is the photo in it (${findings.map((f) => f.category)})`);
});

t.test('a server that refuses STARTTLS: the dialogue goes on in clear text, relayed and captured', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const server = await startMailServer('smtp', { hostname: 'norelay.example.test', refuse: true });
  t.teardown(() => server.close());
  const { socket, waitFor } = await dialogue(lab.port, `norelay.example.test:${server.port}`);
  await waitFor(/220 .*\r\n/);
  const lines = ['EHLO phone', 'STARTTLS', 'MAIL FROM:<jane@example.com>', 'RCPT TO:<bob@example.org>', 'DATA', mailText.replace(/\n/g, '\r\n'), '.', 'QUIT'];
  const replies = [/250 AUTH PLAIN\r\n/, /454 .*\r\n/, /250 .*\r\n/, /250 .*\r\n/, /354 .*\r\n/, null, /250 2\.0\.0 queued.*\r\n/, /221 .*\r\n/];
  for (const [index, line] of lines.entries()) {
    socket.write(`${line}\r\n`);
    const reply = replies[index];
    if (reply) await waitFor(reply);
  }
  await once(socket, 'close');
  const flow = await lab.next('flow:end', (f) => f.target.host === 'norelay.example.test');
  t.equal(server.plain(), lines.map((l) => `${l}\r\n`).join(''), 'the server read every byte in clear text');
  t.equal(server.secure(), '');
  t.ok(flow.tags.includes('starttls:refused'), `tagged refused (${flow.tags})`);
  t.notOk(flow.tags.includes('starttls'), 'not tagged starttls');
  t.match(flow.stream?.up.bytes.toString('latin1'), /STARTTLS\r\nMAIL FROM:<jane@example\.com>/);
  t.match(flow.stream?.down.bytes.toString('latin1'), /454 4\.7\.0/);
});

t.test('a client that pipelines after STARTTLS: not intercepted, every byte relayed as sent', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const server = await startMailServer('smtp', { hostname: 'pipelined.example.test', refuse: true });
  t.teardown(() => server.close());
  const { socket, waitFor } = await dialogue(lab.port, `pipelined.example.test:${server.port}`);
  await waitFor(/220 .*\r\n/);
  socket.write('STARTTLS\r\nNOOP\r\n');
  await waitFor(/454 .*\r\n/);
  await waitFor(/250 .*\r\n/);
  socket.write('QUIT\r\n');
  await once(socket, 'close');
  const flow = await lab.next('flow:end', (f) => f.target.host === 'pipelined.example.test');
  t.equal(server.plain(), 'STARTTLS\r\nNOOP\r\nQUIT\r\n');
  t.ok(flow.tags.includes('starttls:pipelined'), `tagged (${flow.tags})`);
});

for (const flaw of certificateFlaws) {
  t.test(`a mail server whose certificate is ${flaw.name}, after STARTTLS: a mail app that checks refuses it through phonehome as directly, sends nothing, and is not taken for pinning`, { skip: !haveOpenssl && 'openssl not installed' }, async (t) => {
    const lab = await startLab();
    t.teardown(() => lab.close());
    const server = await startMailServer('smtp', { hostname: 'rogue.example.test', leaf: flaw.leaf('rogue.example.test') });
    t.teardown(() => server.close());
    const input = ['EHLO phone', 'AUTH PLAIN AGphbmUAc2VjcmV0', 'QUIT', ''].join('\n');
    const direct = await sClient({ protocol: 'smtp', host: 'rogue.example.test', port: server.port, caFile: pemFile(getOriginCa().certPem), input });
    t.not(direct.code, 0, 'refused directly');
    t.match(direct.stdout + direct.stderr, flaw.verifyError, 'directly: its complaint');
    const proxied = await sClient({ protocol: 'smtp', proxyPort: lab.port, host: 'rogue.example.test', port: server.port, caFile: pemFile(lab.ca.certPem), input });
    t.not(proxied.code, 0, 'refused through phonehome');
    t.match(proxied.stdout + proxied.stderr, flaw.verifyError, 'through phonehome: the same complaint');
    t.equal(server.secure(), '', 'nothing reached the server after STARTTLS, either way: not the password');
    const flow = await lab.next('flow:end', (f) => f.target.host === 'rogue.example.test');
    t.ok(flow.tags.includes('tls:refused-invalid-certificate') && flow.tags.includes(`upstream:certificate:${flaw.code}`), `the refusal is recorded as such (${flow.tags})`);
    t.notOk(flow.tags.includes('tls:certificate-rejected'), 'not as pinning');
    t.notOk(flow.tags.includes('starttls'), 'nothing decrypted');
    t.match(lab.passthrough.learned(), [{ host: 'rogue.example.test', kind: 'invalid-certificate' }], 'its STARTTLS passes through from now on');

    // The next connection meets the server's own certificate, and the app refuses it as directly
    // (by hand, not with openssl: see the pinned scenario above).
    const socket = await smtpUpToTls(await dialogue(lab.port, `rogue.example.test:${server.port}`));
    const device = tls.connect({ socket, servername: 'rogue.example.test', ca: [getOriginCa().certPem, lab.ca.certPem] });
    const refused = await within(new Promise<Error>((resolve) => device.once('error', resolve)), 10_000, 'the app to refuse the server');
    t.equal((refused as Error & { code?: string }).code, flaw.code, `refused for the server's own flaw (${refused.message})`);
    const passed = await lab.next('flow:end', (f) => f.target.host === 'rogue.example.test' && f.id !== flow.id);
    t.ok(passed.tags.includes('passthrough:invalid-certificate'), `passed through (${passed.tags})`);
  });

  t.test(`a mail server whose certificate is ${flaw.name}, after STARTTLS: a mail app that does not check gets through as directly, decrypted, and the flow says it took an invalid certificate`, { skip: !haveOpenssl && 'openssl not installed' }, async (t) => {
    const lab = await startLab();
    t.teardown(() => lab.close());
    const server = await startMailServer('smtp', { hostname: 'lax.example.test', leaf: flaw.leaf('lax.example.test') });
    t.teardown(() => server.close());
    const input = ['EHLO phone', 'MAIL FROM:<jane@example.com>', 'RCPT TO:<bob@example.org>', 'DATA', mailText, '.', 'QUIT', ''].join('\n');
    const direct = await sClient({ protocol: 'smtp', host: 'lax.example.test', port: server.port, caFile: pemFile(getOriginCa().certPem), input, checks: false });
    t.equal(direct.code, 0, `directly: ${direct.stderr}`);
    const secureDirect = server.secure();
    const proxied = await sClient({ protocol: 'smtp', proxyPort: lab.port, host: 'lax.example.test', port: server.port, caFile: pemFile(lab.ca.certPem), input, checks: false });
    t.equal(proxied.code, 0, `through phonehome: ${proxied.stderr}`);
    t.match(proxied.stdout + proxied.stderr, flaw.verifyError, 'the app saw the same flaw, and went on');
    t.equal(secureDirect, input.replace(/\n/g, '\r\n'), 'directly, the server read the mail');
    t.equal(server.secure().slice(secureDirect.length), secureDirect, 'through phonehome, the same bytes');
    t.match(proxied.stdout, /250 2\.0\.0 queued as 42\r\n221 2\.0\.0 Bye/, 'and the app read the same replies');
    const flow = await lab.next('flow:end', (f) => f.target.host === 'lax.example.test');
    t.ok(flow.tags.includes('starttls:smtp') && flow.tags.includes(`tls:accepted-invalid-certificate:${flaw.code}`), `decrypted, and tagged (${flow.tags})`);
    t.notOk(flow.error, 'no error');
    t.match(noticeForFlow(flow)?.line, /the device accepted a certificate as invalid as its server's .*: it does not check certificates there/, 'the console and the terminal UI say so');
    t.equal(lab.passthrough.learned().length, 0, 'nothing learned');
  });
}

/** An SMTP session up to and through STARTTLS, straight or through phonehome: the TCP socket and the app's TLS over it, handshake done. */
async function smtpInTls(lab: { port: number; ca: { certPem: string } }, server: MailServer, host: string, through: boolean): Promise<{ socket: net.Socket; device: tls.TLSSocket }> {
  const socket = await smtpUpToTls(through ? await dialogue(lab.port, `${host}:${server.port}`) : await directDialogue(server.port));
  const device = tls.connect({ socket, servername: host, ca: [getOriginCa().certPem, lab.ca.certPem] });
  await within(once(device, 'secureConnect'), 10_000, 'the handshake');
  return { socket, device };
}

t.test('a mail server that resets its connection after STARTTLS: the app reads the reply before it, then the reset, as directly (not a clean close)', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const server = await startMailServer('smtp', { hostname: 'crash.example.test' });
  t.teardown(() => server.close());
  const session = async (through: boolean): Promise<string> => {
    const { device } = await smtpInTls(lab, server, 'crash.example.test', through);
    let replies = '';
    const ending = within(new Promise<string>((resolve) => {
      device.on('data', (chunk: Buffer) => {
        replies += chunk.toString('latin1');
        // The server crashes once the app has read its reply.
        if (/250 AUTH PLAIN\r\n$/.test(replies)) server.resetAll();
      });
      device.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      device.once('end', () => resolve('end'));
    }), 10_000, 'the session to end');
    device.write('EHLO phone\r\n');
    const how = await ending;
    device.destroy();
    return `${JSON.stringify(replies)} then ${how}`;
  };
  const direct = await session(false);
  t.match(direct, /250 AUTH PLAIN\\r\\n" then ECONNRESET$/, `directly: ${direct}`);
  t.equal(await session(true), direct, 'through phonehome, the same');
});

t.test('a mail app that resets its connection after STARTTLS (killed mid-session): the server reads a reset, as directly (not a clean close)', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const server = await startMailServer('smtp', { hostname: 'quit.example.test' });
  t.teardown(() => server.close());
  const session = async (through: boolean): Promise<string> => {
    const ending = server.nextEnding();
    const { socket, device } = await smtpInTls(lab, server, 'quit.example.test', through);
    device.on('error', () => undefined);
    device.write('EHLO phone\r\n');
    let replies = '';
    await within(new Promise<void>((resolve) => device.on('data', (chunk: Buffer) => {
      replies += chunk.toString('latin1');
      if (/250 AUTH PLAIN\r\n$/.test(replies)) resolve();
    })), 10_000, 'the reply to EHLO');
    await new Promise(setImmediate); // not from inside a read: the server has read all the app sent
    socket.resetAndDestroy();
    return within(ending, 10_000, 'the server to hear the end');
  };
  t.equal(await session(false), 'ECONNRESET', 'directly, the server reads a reset');
  t.equal(await session(true), 'ECONNRESET', 'through phonehome, the same');
});

t.test('a device that trusts our CA but closes right after the handshake without a byte (an app\'s pin check) is learned too', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const server = await startMailServer('imap', { hostname: 'pincheck.example.test' });
  t.teardown(() => server.close());
  const { socket, waitFor } = await dialogue(lab.port, `pincheck.example.test:${server.port}`);
  await waitFor(/\* OK .*\r\n/);
  socket.write('a1 STARTTLS\r\n');
  await waitFor(/a1 OK .*\r\n/);
  const device = tls.connect({ socket, servername: 'pincheck.example.test', ca: lab.ca.certPem });
  device.on('error', () => undefined);
  // TLS 1.3: the session ticket comes once phonehome has read our Finished, so the handshake is
  // over on both sides before we close.
  await within(once(device, 'session'), 10_000, 'the handshake with phonehome, and its ticket');
  device.destroy();
  const flow = await lab.next('flow:end', (f) => f.target.host === 'pincheck.example.test');
  t.ok(flow.tags.includes('tls:closed-without-request') && flow.tags.includes('passthrough:learned'), `tags say so (${flow.tags})`);
  t.same(lab.passthrough.learned().map((h) => h.host), ['pincheck.example.test']);
  t.equal(server.secure(), '', 'the server got nothing after the handshake');
});

/**
 * A small XMPP server (RFC 6120): the client opens the stream, is offered STARTTLS, told to
 * proceed, and opens it again in TLS. What it read in clear text and in TLS is kept.
 */
async function startXmppServer(hostname: string): Promise<{ port: number; plain: () => string; secure: () => string; close: () => Promise<void> }> {
  const leaf = getOriginCa().issueLeaf(hostname);
  let plain = '';
  let secure = '';
  const sockets = new Set<net.Socket>();
  const header = `<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' from='${hostname}' id='s1' version='1.0'>`;
  const server = net.createServer((raw) => {
    sockets.add(raw);
    raw.on('error', () => undefined);
    raw.on('close', () => sockets.delete(raw));
    raw.on('data', function onPlain(chunk: Buffer) {
      plain += chunk.toString('latin1');
      if (/<stream:stream[^>]*>$/.test(plain)) raw.write(`${header}<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>`);
      if (!plain.endsWith("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")) return;
      raw.off('data', onPlain);
      raw.write("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
      const secured = new tls.TLSSocket(raw, { isServer: true, secureContext: tls.createSecureContext({ key: leaf.keyPem, cert: leaf.certPem }) });
      secured.on('error', () => undefined);
      secured.on('data', (inTls: Buffer) => {
        secure += inTls.toString('latin1');
        if (/<stream:stream[^>]*>\n?$/.test(secure)) secured.write(`${header}<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`);
        if (secure.includes('</stream:stream>')) secured.end('</stream:stream>');
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    plain: () => plain,
    secure: () => secure,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

t.test('XMPP STARTTLS via openssl on a port of its own: known by its stream header, relayed unchanged, decrypted, and the message is in the flow', { skip: !haveOpenssl && 'openssl not installed' }, async (t) => {
  const hostname = 'chat.example.test';
  const input = [
    `<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' to='${hostname}' version='1.0'>`,
    `<message to='bob@${hostname}' type='chat'><body>A 18h devant la gare. Mon numero: +33 6 12 34 56 78.</body></message>`,
    '</stream:stream>', '',
  ].join('\n');
  const run = async (through: { port: number; caPem: string } | undefined): Promise<{ plain: string; secure: string; code: number | null; stderr: string }> => {
    const server = await startXmppServer(hostname);
    t.teardown(() => server.close());
    const result = await sClient({
      protocol: 'xmpp', host: hostname, port: server.port, caFile: pemFile(through ? through.caPem : getOriginCa().certPem), input,
      ...(through ? { proxyPort: through.port } : {}), extraArgs: ['-xmpphost', hostname],
    });
    return { plain: server.plain(), secure: server.secure(), code: result.code, stderr: result.stderr };
  };
  const direct = await run(undefined);
  t.equal(direct.code, 0, `directly, openssl succeeded: ${direct.stderr}`);
  t.match(direct.secure, /<body>A 18h devant la gare/, 'directly, the message went in TLS');
  const lab = await startLab();
  t.teardown(() => lab.close());
  const proxied = await run({ port: lab.port, caPem: lab.ca.certPem });
  t.equal(proxied.code, 0, `through phonehome, openssl succeeded: ${proxied.stderr}`);
  t.equal(proxied.plain, direct.plain, 'the server read the same clear text');
  t.equal(proxied.secure, direct.secure, 'and the same in TLS');
  const flow = await lab.next('flow:end', (f) => f.target.host === hostname);
  t.ok(flow.tags.includes('starttls:xmpp'), `tagged (${flow.tags})`);
  t.match(flow.stream?.up.bytes.toString('latin1'), /<body>A 18h devant la gare\. Mon numero: \+33 6 12 34 56 78\.<\/body>/, 'the message decrypted in the flow');
});
