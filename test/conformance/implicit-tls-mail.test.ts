// A phone's mail app over implicit TLS (SMTPS 465, IMAPS 993, POP3S 995: the server speaks first),
// with a real client: `openssl s_client`, once straight to the server and once through phonehome
// (HTTP CONNECT). The server must read the same bytes and the client must read the same answers
// both times; through phonehome the mail sent must also be a `mail` finding.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { once } from 'node:events';
import { CaptureSession } from '../../src/app/capture-session.js';
import { resolveCaptureOptions } from '../../src/app/options.js';
import { getOriginCa, pemFile, tempDir, testLookup } from '../helpers/lab.js';
import { runProgram } from '../helpers/run-client.js';
import { serveSmtp } from '../helpers/smtp-server.js';

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

/** IMAP enough for a mail app that logs in, files a sent message (APPEND with a literal) and leaves. */
function serveImap(socket: tls.TLSSocket, received: Buffer[]): void {
  socket.write('* OK [CAPABILITY IMAP4rev1] imaps.example.test ready\r\n');
  let pending = '';
  let literal = 0;
  let literalTag = '';
  socket.on('data', (chunk: Buffer) => {
    received.push(chunk);
    pending += chunk.toString('latin1');
    for (;;) {
      if (literal > 0) {
        if (pending.length < literal) return;
        pending = pending.slice(literal);
        literal = 0;
        continue;
      }
      const eol = pending.indexOf('\r\n');
      if (eol < 0) return;
      const line = pending.slice(0, eol);
      pending = pending.slice(eol + 2);
      if (line === '') {
        if (literalTag) socket.write(`${literalTag} OK [APPENDUID 1 42] APPEND completed\r\n`);
        literalTag = '';
        continue;
      }
      const [tag, verb] = line.split(' ');
      const size = /\{(\d+)\+?\}$/.exec(line);
      if (verb?.toUpperCase() === 'APPEND' && size) {
        literal = Number(size[1]);
        literalTag = tag!;
        if (!line.endsWith('+}')) socket.write('+ Ready for literal data\r\n');
      } else if (verb?.toUpperCase() === 'LOGOUT') {
        socket.end(`* BYE logging out\r\n${tag} OK LOGOUT completed\r\n`);
      } else socket.write(`${tag} OK ${verb ?? ''} completed\r\n`);
    }
  });
}

/** POP3 enough to log in, list and leave. */
function servePop3(socket: tls.TLSSocket, received: Buffer[]): void {
  socket.write('+OK pop3s.example.test ready\r\n');
  socket.on('data', (chunk: Buffer) => {
    received.push(chunk);
    for (const line of chunk.toString('latin1').split('\r\n').filter(Boolean)) {
      if (line === 'QUIT') socket.end('+OK bye\r\n');
      else if (line === 'STAT') socket.write('+OK 0 0\r\n');
      else socket.write('+OK\r\n');
    }
  });
}

interface Scenario {
  readonly name: string;
  readonly host: string;
  readonly serve: (socket: tls.TLSSocket, received: Buffer[]) => void;
  readonly input: string;
  /** The finding the mail must become through phonehome, if any. */
  readonly mail?: RegExp;
}

const message = 'From: Jane <jane@example.com>\r\nTo: bob@example.org\r\nSubject: Photos de vacances\r\nDate: Sun, 12 Oct 2014 18:30:05 +0200\r\n\r\nVoici les photos.\r\n';

const scenarios: Scenario[] = [
  {
    name: 'SMTPS', host: 'smtps.example.test', serve: (socket, received) => serveSmtp(socket, 'smtps.example.test', received),
    input: ['EHLO phone', 'MAIL FROM:<jane@example.com>', 'RCPT TO:<bob@example.org>', 'DATA', message.replace(/\r\n$/, ''), '.', 'QUIT', ''].join('\r\n'),
    mail: /^Mail sent over SMTP from jane@example\.com to bob@example\.org, 'Photos de vacances'$/,
  },
  {
    name: 'IMAPS', host: 'imaps.example.test', serve: serveImap,
    input: `a1 LOGIN jane secret\r\na2 APPEND Sent {${Buffer.byteLength(message)}+}\r\n${message}\r\na3 LOGOUT\r\n`,
    mail: /Photos de vacances/,
  },
  { name: 'POP3S', host: 'pop3s.example.test', serve: servePop3, input: 'USER jane\r\nPASS secret\r\nSTAT\r\nQUIT\r\n' },
];

async function startServer(scenario: Scenario): Promise<{ port: number; received: Buffer[]; close(): void }> {
  const leaf = getOriginCa().issueLeaf(scenario.host);
  const received: Buffer[] = [];
  const server = tls.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (socket) => {
    socket.on('error', () => undefined);
    scenario.serve(socket, received);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, received, close: () => server.close() };
}

/** openssl s_client, straight or through the proxy; its input all at once, as a pipelining mail app sends it. */
async function sClient(args: string[], input: string): Promise<string> {
  const { code, stdout, stderr } = await runProgram('openssl', ['s_client', ...args, '-quiet', '-verify_return_error'], input, 20_000);
  if (code !== 0) throw new Error(`openssl s_client failed (${code}): ${stderr}`);
  return stdout;
}

for (const scenario of scenarios) {
  t.test(`${scenario.name} via openssl: the same bytes direct and through phonehome`, { skip: !haveOpenssl && 'openssl not installed' }, async (t) => {
    const direct = await startServer(scenario);
    t.teardown(() => direct.close());
    const directOut = await sClient(['-connect', `127.0.0.1:${direct.port}`, '-servername', scenario.host, '-verify_hostname', scenario.host, '-CAfile', pemFile(getOriginCa().certPem)], scenario.input);

    const proxied = await startServer(scenario);
    t.teardown(() => proxied.close());
    const out = path.join(tempDir(), 'run');
    const session = await CaptureSession.start(resolveCaptureOptions({ listen: '127.0.0.1:0', 'ca-dir': path.join(tempDir(), 'ca'), out, 'upstream-ca': [pemFile(getOriginCa().certPem)] }, 'capture'), { lookup: testLookup });
    const proxiedOut = await sClient(['-proxy', `127.0.0.1:${session.port}`, '-connect', `${scenario.host}:${proxied.port}`, '-servername', scenario.host, '-verify_hostname', scenario.host, '-CAfile', pemFile(session.ca.certPem)], scenario.input);
    await session.stop();

    t.equal(Buffer.concat(proxied.received).toString('latin1'), Buffer.concat(direct.received).toString('latin1'), 'the server read the same bytes');
    t.equal(proxiedOut, directOut, 'the client read the same answers');
    t.match(directOut, /^(220|\* OK|\+OK) /, 'the greeting came first');
    const flows = fs.readFileSync(path.join(out, 'flows.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    t.match(flows.find((f) => f._phonehome?.kind === 'raw')?._phonehome, { tags: ['decrypted', 'stream:raw'] }, 'a decrypted raw stream');
    const findings = fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    if (scenario.mail) t.match(findings.find((f) => f.category === 'mail')?.summary, scenario.mail, 'the mail is a finding');
    t.notOk(findings.find((f) => f.category === 'credential'), 'a login inside TLS is not a clear-text password');
  });
}
