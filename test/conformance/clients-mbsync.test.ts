// mbsync (isync), a real IMAP client, against a real IMAP server, Dovecot, over implicit TLS (the
// server speaks first). It logs in with AUTHENTICATE PLAIN and an initial response, switches on
// COMPRESS DEFLATE as soon as Dovecot offers it (as Thunderbird and K-9 Mail do with Gmail), and
// files a sent mail with a photo attached (APPEND) inside the deflate stream. It has no proxy
// setting: its `Tunnel` command (netcat) opens the connection, through phonehome's CONNECT.
//
// Direct and through phonehome, the server must store the same mail, and mbsync must succeed.
// Through phonehome the mail and its photo must be found where they were on the wire, inside the
// deflate stream, and a quick session (mbsync is done in about 40 ms) must not be taken for an app
// refusing our certificate: the next sync is decrypted too.

import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import t, { type Test } from 'tap';
import { startCaptureRun } from '../helpers/capture-run.js';
import { getOriginCa, pemFile, tempDir, unusedPort, within } from '../helpers/lab.js';
import { waitForLine } from '../helpers/netns.js';
import { runProgram } from '../helpers/run-client.js';
import { missingCommand } from './differential.js';

/** OpenBSD's netcat: the one that speaks CONNECT to a proxy (-X connect). */
const netcatConnects = /-X proxy_protocol/.test(spawnSync('nc', ['-h'], { encoding: 'utf8' }).stderr ?? '');
const skip = missingCommand('mbsync', 'isync')
  ?? (fs.existsSync('/usr/lib/dovecot/modules/lib30_imap_zlib_plugin.so') ? undefined : 'Dovecot with its IMAP compression is not installed (apt-get install dovecot-imapd)')
  ?? (netcatConnects ? undefined : 'nc cannot CONNECT through a proxy (apt-get install netcat-openbsd)');
const HOST = 'imap.example.test';
const photo = fs.readFileSync(new URL('../fixtures/photos/camera.jpg', import.meta.url));

/** A sent mail as a phone files it: text and the camera's photo (EXIF with GPS), attached in base64. */
function sentMail(subject: string): string {
  return [
    'From: Jane <jane@example.com>', 'To: bob@example.org', `Subject: ${subject}`, 'Date: Sun, 12 Oct 2014 18:30:05 +0200',
    `Message-ID: <${subject.replace(/\W/g, '')}@phone.example.com>`, 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"', '',
    '--b1', 'Content-Type: text/plain; charset=utf-8', '', 'Voici les photos.', '--b1',
    'Content-Type: image/jpeg', 'Content-Disposition: attachment; filename="IMG_20141012_183005.jpg"', 'Content-Transfer-Encoding: base64', '',
    ...(photo.toString('base64').match(/.{1,76}/g) ?? []), '--b1--', '',
  ].join('\r\n');
}

interface Dovecot {
  readonly port: number;
  /** The mails a user has in a folder, as Dovecot stored them. */
  stored(user: string, folder: string): string[];
}

/** Dovecot for IMAPS only, with compression, users from a file, each mail as a Maildir file. */
async function startDovecot(t: Test): Promise<Dovecot> {
  const dir = tempDir('phonehome-dovecot-');
  // Its auth process runs as the dovecot user and mail is written as nobody: both go through here.
  fs.chmodSync(dir, 0o755);
  const leaf = getOriginCa().issueLeaf(HOST);
  fs.writeFileSync(path.join(dir, 'cert.pem'), leaf.certPem);
  fs.writeFileSync(path.join(dir, 'key.pem'), leaf.keyPem, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'users'), 'jane:{PLAIN}s3cret\njune:{PLAIN}s3cret\n');
  fs.mkdirSync(path.join(dir, 'home'), { mode: 0o777 });
  fs.chmodSync(path.join(dir, 'home'), 0o777);
  const port = await unusedPort();
  fs.writeFileSync(path.join(dir, 'dovecot.conf'), [
    `base_dir = ${dir}/run`, `state_dir = ${dir}/state`, 'log_path = /dev/stderr', 'protocols = imap', 'listen = 127.0.0.1',
    'ssl = required', `ssl_cert = <${dir}/cert.pem`, `ssl_key = <${dir}/key.pem`, 'auth_mechanisms = plain login',
    `passdb {\n  driver = passwd-file\n  args = ${dir}/users\n}`, `userdb {\n  driver = static\n  args = uid=nobody gid=nogroup home=${dir}/home/%u\n}`,
    'mail_location = maildir:~/Maildir', 'mail_plugins = zlib', 'protocol imap {\n  mail_plugins = $mail_plugins imap_zlib\n}',
    // IMAPS only, on a port of its own.
    `service imap-login {\n  inet_listener imap {\n    port = 0\n  }\n  inet_listener imaps {\n    port = ${port}\n    ssl = yes\n  }\n}`,
    'default_internal_user = dovecot', 'default_login_user = dovenull', '',
  ].join('\n'));
  const dovecot: ChildProcess = spawn('/usr/sbin/dovecot', ['-F', '-c', path.join(dir, 'dovecot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(async () => {
    if (dovecot.exitCode !== null) return;
    dovecot.kill('SIGTERM');
    await once(dovecot, 'exit');
  });
  await within(waitForLine(dovecot, /starting up/, 'stderr'), 15_000, 'Dovecot to start');
  // Its first greeting may be "waiting for authentication": one connection until it is ready, so
  // that mbsync's runs see the same server.
  const probe = tls.connect({ host: '127.0.0.1', port, servername: HOST, ca: getOriginCa().certPem });
  let greeting = '';
  probe.on('data', (chunk: Buffer) => { greeting += chunk.toString('latin1'); if (/ ready\.\r\n/.test(greeting)) probe.end(); });
  await within(once(probe, 'close'), 15_000, 'Dovecot\'s greeting');
  return {
    port,
    stored(user, folder) {
      const cur = path.join(dir, 'home', user, 'Maildir', `.${folder}`, 'cur');
      // mbsync adds X-TUID, an id of its own drawn at random for each APPEND: taken out to compare.
      return fs.existsSync(cur) ? fs.readdirSync(cur).sort().map((name) => fs.readFileSync(path.join(cur, name), 'latin1').replace(/^X-TUID: \S+\n/m, '')) : [];
    },
  };
}

/** A phone's Sent folder with new mails, and mbsync's configuration to push them to `user`'s Sent. */
function mbsyncConfig(user: string, tunnel: string, trust: string, mails: string[]): { config: string; sent: string } {
  const dir = tempDir('phonehome-mbsync-');
  const sent = path.join(dir, 'local', 'Sent');
  for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(sent, sub), { recursive: true });
  for (const [i, mail] of mails.entries()) fs.writeFileSync(path.join(sent, 'new', `1413131405.M${i}P1.phone`), mail);
  const config = path.join(dir, 'mbsyncrc');
  fs.writeFileSync(config, [
    'IMAPAccount phone', `Host ${HOST}`, `User ${user}`, 'Pass s3cret', 'SSLType IMAPS', `CertificateFile ${trust}`, `Tunnel "${tunnel}"`, '',
    'IMAPStore remote', 'Account phone', '', 'MaildirStore local', `Path ${path.join(dir, 'local')}/`, `Inbox ${path.join(dir, 'local', 'INBOX')}`, '',
    'Channel sent', 'Far :remote:Sent', 'Near :local:Sent', 'Create Far', 'Sync Push New', 'SyncState *', '',
  ].join('\n'));
  return { config, sent };
}

/** A new mail for the next sync: mbsync pushes what is new since the last. */
function addMail(sent: string, mail: string): void {
  fs.writeFileSync(path.join(sent, 'new', `1413131999.M9P1.phone`), mail);
}

async function mbsync(config: string): Promise<string> {
  const run = await runProgram('mbsync', ['-V', '-c', config, 'sent'], '', 30_000);
  if (run.code !== 0) throw new Error(`mbsync exited ${run.code}: ${run.stdout}${run.stderr}`);
  return run.stdout;
}

const lf = (mail: string): string => mail.replace(/\r\n/g, '\n');

t.test('mbsync files a sent mail with a photo over IMAPS with COMPRESS DEFLATE: Dovecot stores the same mail direct and through phonehome, and the mail and photo are found inside the deflate stream', { skip: skip ?? false }, async (t) => {
  const dovecot = await startDovecot(t);
  const first = sentMail('Photos de vacances');
  const second = sentMail('Encore des photos');

  const direct = mbsyncConfig('jane', `nc 127.0.0.1 ${dovecot.port}`, pemFile(getOriginCa().certPem), [first]);
  const directLog = await mbsync(direct.config);
  t.match(directLog, /Connection is now encrypted/, 'direct: over TLS');

  const { session, out } = await startCaptureRun();
  let stopped = false;
  t.teardown(async () => { if (!stopped) await session.stop(); });
  const proxied = mbsyncConfig('june', `nc -X connect -x 127.0.0.1:${session.port} ${HOST} ${dovecot.port}`, pemFile(session.ca.certPem), [first]);
  await mbsync(proxied.config);
  addMail(proxied.sent, second);
  await mbsync(proxied.config);
  stopped = true;
  await session.stop();

  const stored = dovecot.stored('jane', 'Sent');
  t.same(stored, [lf(first)], 'direct: Dovecot stored the mail as sent (its Maildir keeps LF)');
  t.same(dovecot.stored('june', 'Sent'), [lf(first), lf(second)], 'through phonehome: the same mail, then the next sync\'s');

  const flows = fs.readFileSync(path.join(out, 'flows.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const streams = flows.filter((f) => f._phonehome?.kind === 'raw');
  t.equal(streams.length, 2, 'one stream per sync');
  for (const [i, flow] of streams.entries()) {
    t.match(flow._phonehome.tags, ['decrypted', 'stream:raw', 'stream:server-speaks-first'], `sync ${i + 1}: decrypted`);
    t.match(Buffer.from(flow._phonehome.stream.up.text, 'base64').toString('latin1'), /^1 AUTHENTICATE PLAIN \S+\r\n2 COMPRESS DEFLATE\r\n/, `sync ${i + 1}: logged in, then compressed`);
  }
  const findings = fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const mails = findings.filter((f) => f.category === 'mail');
  t.match(mails.map((f) => f.summary).sort(), [/^Mail sent over IMAP from jane@example\.com to bob@example\.org, 'Encore des photos'/, /^Mail sent over IMAP from jane@example\.com to bob@example\.org, 'Photos de vacances'/]);
  t.same(mails.map((f) => f.evidence.path), [['stream:up', 'imap:deflate:append[0]', 'message/rfc822'], ['stream:up', 'imap:deflate:append[0]', 'message/rfc822']], 'each found where it was: inside the deflate stream');
  const photos = findings.filter((f) => f.category === 'photo');
  t.equal(photos.length, 2, 'both photos');
  t.match(photos[0]?.summary, /JPEG camera photo 1600x1200, from Xiaomi Redmi Note, taken 2014-10-12 18:30, GPS 48\.853 N 2\.350 E/);
  t.notOk(findings.find((f) => f.category === 'credential'), 'a login inside TLS is not a clear-text password');
  t.notOk(findings.find((f) => f.category === 'tls-pinned'), 'a quick sync is not a refusal of our certificate');
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  t.same(summary.passthrough.learned, [], 'nothing learned as pinned');
});
