// Capture files read back with tshark, for real: in a network namespace made for this test, tcpdump
// records a client uploading a camera JPEG over TLS 1.2 (HTTP/1.1) and an SMS over TLS 1.3 (HTTP/2),
// plus a DNS lookup, while the client writes its TLS keys. The reader opens both sessions with the
// key log, with the keys injected into the file (a Decryption Secrets Block) and not at all; then
// `phonehome analyze` (the built CLI, dist/cli.js) finds the photo and the SMS in the same files.
// Needs root, ip (iproute2), tcpdump, tshark and editcap; skips with the reason otherwise.

import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import t, { type Test } from 'tap';
import { installRoot } from '../../src/util/install-paths.js';
import { readCaptureFile, type ReadCaptureOptions } from '../../src/capture-file/read-capture.js';
import type { RecordedDns } from '../../src/capture-file/dns-exchanges.js';
import type { RecordedSession } from '../../src/capture-file/recorded-session.js';
import { cli } from '../helpers/cli.js';
import { getOriginCa, tempDir, within } from '../helpers/lab.js';
import { has, sh, waitForLine } from '../helpers/netns.js';

const fixture = path.join(installRoot, 'test', 'fixtures', 'capture-file', 'uploads.mjs');
const photoFile = path.join(installRoot, 'test', 'fixtures', 'photos', 'camera.jpg');
const missing = ['ip', 'tcpdump', 'tshark', 'editcap'].find((command) => !has(command));
const skip = process.getuid?.() !== 0 ? 'needs root (a network namespace for tcpdump)' : missing ? `needs ${missing}` : false;
const ns = `phcap${process.pid % 10000}`;

interface Recorded {
  readonly work: string;
  readonly pcap: string;
  readonly keys: string;
  readonly photo: Buffer;
  readonly sms: string;
  readonly wire: { readonly photo: { up: number; down: number }; readonly sms: { up: number; down: number }; readonly plain: { up: number; down: number } };
}

/** Records the fixture's traffic on the namespace's loopback; the file and what the client saw. */
async function record(): Promise<Recorded> {
  const work = tempDir('phonehome-capture-');
  const origin = getOriginCa();
  const photos = origin.issueLeaf('photos.example.test');
  const smsLeaf = origin.issueLeaf('sms.example.test');
  const certs = path.join(work, 'certs.json');
  fs.writeFileSync(certs, JSON.stringify({ ca: origin.certPem, photos: { key: photos.keyPem, cert: photos.certPem }, sms: { key: smsLeaf.keyPem, cert: smsLeaf.certPem } }));
  spawnSync('ip', ['netns', 'del', ns]);
  sh(`ip netns add ${ns} && ip -n ${ns} link set lo up`);
  const pcap = path.join(work, 'cap.pcap');
  const keys = path.join(work, 'keys.log');
  // tcpdump drops to its own user: the file is written in a directory it may write to.
  fs.chmodSync(work, 0o777);
  const tcpdump = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', 'lo', '--immediate-mode', '-U', '-w', pcap], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    await within(waitForLine(tcpdump, /listening on/, 'stderr'), 10_000, 'tcpdump listening');
    const client = spawn('ip', ['netns', 'exec', ns, process.execPath, fixture, certs, photoFile, keys], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    client.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    const [code] = await within(once(client, 'exit'), 30_000, 'the uploads');
    if (code !== 0) throw new Error(`uploads.mjs exited with ${code}`);
    type Answered = { answer: string; wire: { up: number; down: number } };
    const result = JSON.parse(out) as { photo: Answered; sms: Answered; plain: Answered };
    const photo = fs.readFileSync(photoFile);
    const sms = JSON.stringify({ sms: [{ address: '+33612345678', body: 'Rendez-vous demain a 18h', date: 1413131405000, type: 1 }] });
    if (result.photo.answer !== `got ${photo.length}` || result.sms.answer !== `got ${Buffer.byteLength(sms)}`) throw new Error(`the servers did not get the uploads: ${out}`);
    return { work, pcap, keys, photo, sms, wire: { photo: result.photo.wire, sms: result.sms.wire, plain: result.plain.wire } };
  } finally {
    const exited = once(tcpdump, 'exit');
    tcpdump.kill('SIGINT');
    await within(exited, 10_000, 'tcpdump writing its file');
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

async function read(file: string, options: Omit<ReadCaptureOptions, 'onSession' | 'onDns'> = {}) {
  const sessions: RecordedSession[] = [];
  const dns: RecordedDns[] = [];
  const result = await readCaptureFile(file, { ...options, onSession: (session) => sessions.push(session), onDns: (exchange) => dns.push(exchange) });
  const byHost = (sni: string): RecordedSession => {
    const session = sessions.find((s) => s.tls?.sni === sni);
    if (!session) throw new Error(`no session for ${sni} in ${JSON.stringify(sessions.map((s) => s.tls))}`);
    return session;
  };
  return { result, sessions, dns, photo: byHost('photos.example.test'), sms: byHost('sms.example.test'), plain: sessions.find((s) => s.server.port === 80) };
}

type ReadBack = Awaited<ReturnType<typeof read>>;

const sent = (session: RecordedSession, fromClient: boolean): Buffer => Buffer.concat(session.chunks.filter((c) => c.fromClient === fromClient).map((c) => c.data));

t.test('a capture file read back with tshark', { skip }, async (t) => {
  const recorded = await record();
  t.teardown(() => fs.rmSync(recorded.work, { recursive: true, force: true }));

  const decryptedBoth = (t: Test, got: ReadBack): void => {
    const read = got;
    t.equal(read.result.sessions, 3, 'three TCP sessions');
    t.match(read.photo.tls, { sni: 'photos.example.test', alpn: 'http/1.1', version: 'TLSv1.2', decrypted: true }, 'TLS 1.2: SNI, ALPN, version, opened');
    t.match(read.photo.tls?.cipher, /^TLS_ECDHE_/, 'TLS 1.2: its cipher suite by name');
    t.match(read.sms.tls, { sni: 'sms.example.test', alpn: 'h2', version: 'TLSv1.3', decrypted: true }, 'TLS 1.3: SNI, ALPN, version, opened');
    t.match(read.sms.tls?.cipher, /^TLS_AES_|^TLS_CHACHA20_/, 'TLS 1.3: its cipher suite by name');
    const upload = sent(read.photo, true);
    t.match(upload.subarray(0, 40).toString('latin1'), /^POST \/upload HTTP\/1\.1\r\n/, 'the photo session starts with the request as the client wrote it');
    t.ok(upload.includes(recorded.photo), 'the whole JPEG is in the client\'s bytes, in order');
    t.match(sent(read.photo, false).toString('latin1'), /^HTTP\/1\.1 200 OK[\s\S]*got 74389$/, 'the response, whole');
    t.match(sent(read.sms, true).subarray(0, 24).toString('latin1'), 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'the HTTP/2 preface first');
    t.ok(sent(read.sms, true).includes(Buffer.from(recorded.sms)), 'the SMS JSON is in the client\'s HTTP/2 bytes');
    t.equal(read.photo.chunks[0]?.fromClient, true, 'chunks alternate sides in the order they passed');
  };

  await t.test('with the client\'s key log', async (t) => {
    const got = await read(recorded.pcap, { keylogFiles: [recorded.keys] });
    decryptedBoth(t, got);
    t.match(got.photo, { client: { ip: '127.0.0.1' }, server: { ip: '127.0.0.2', port: 443 }, bytesUp: recorded.wire.photo.up, bytesDown: recorded.wire.photo.down }, 'client by its SYN, the server, and the bytes on the wire each way as the client counted them');
    t.match(got.sms, { server: { ip: '127.0.0.3', port: 443 }, bytesUp: recorded.wire.sms.up, bytesDown: recorded.wire.sms.down }, 'the same for the TLS 1.3 session');
    t.same(got.photo.tags, [], 'nothing missing');
    t.ok(got.photo.startedAt <= got.photo.endedAt && got.photo.startedAt.startsWith('20'), 'times from the capture');
    t.equal(got.result.dns, 1, 'one DNS exchange');
    t.match(got.dns[0], { client: { ip: '127.0.0.1' }, server: { ip: '127.0.0.53', port: 53 }, dns: { name: 'photos.example.test', type: 'A', rcode: 'NOERROR', answers: [{ type: 'A', data: '127.0.0.2', ttl: 60 }] } }, 'the DNS question and its answer, as the live listener words them');
    t.match(got.plain, { client: { ip: '127.0.0.1' }, server: { ip: '127.0.0.4', port: 80 }, bytesUp: recorded.wire.plain.up, bytesDown: recorded.wire.plain.down, tags: [] }, 'a plain TCP session: no TLS, its bytes on the wire');
    t.equal(got.plain?.tls, undefined, 'no TLS facts on it');
    t.match(got.plain && sent(got.plain, true).toString('latin1'), /^POST \/form HTTP\/1\.1\r\n[\s\S]*\r\n\r\nname=plain\+text&city=Lyon$/, 'its TCP payload, whole and in order');
    t.match(got.plain && sent(got.plain, false).toString('latin1'), /^HTTP\/1\.1 200 OK[\s\S]*got 25$/, 'and the answer');
    t.same(got.result.problems, [], 'tshark had nothing to say about the file');
    t.equal(got.result.bytes, fs.statSync(recorded.pcap).size, 'the file\'s size');
  });

  await t.test('with the keys split over two key logs', async (t) => {
    const lines = fs.readFileSync(recorded.keys, 'utf8').trimEnd().split('\n');
    const first = path.join(recorded.work, 'first.keys');
    const second = path.join(recorded.work, 'second.keys');
    fs.writeFileSync(first, lines.slice(0, 1).join('\n')); // no final newline: the files are still joined line by line
    fs.writeFileSync(second, `${lines.slice(1).join('\n')}\n`);
    decryptedBoth(t, await read(recorded.pcap, { keylogFiles: [first, second] }));
  });

  await t.test('with the keys injected into the file (a Decryption Secrets Block), no key log', async (t) => {
    const dsb = path.join(recorded.work, 'cap-dsb.pcapng');
    sh(`editcap --inject-secrets tls,${recorded.keys} ${recorded.pcap} ${dsb}`);
    decryptedBoth(t, await read(dsb));
  });

  await t.test('without keys: opaque sessions, with their facts and bytes', async (t) => {
    const got = await read(recorded.pcap);
    t.match(got.photo, { tls: { sni: 'photos.example.test', version: 'TLSv1.2', decrypted: false }, chunks: [], bytesUp: recorded.wire.photo.up, bytesDown: recorded.wire.photo.down, tags: ['tls:no-keys'] }, 'TLS 1.2 unopened: SNI, version, ciphertext counted, no chunks');
    t.match(got.sms, { tls: { sni: 'sms.example.test', version: 'TLSv1.3', decrypted: false }, chunks: [], bytesUp: recorded.wire.sms.up, bytesDown: recorded.wire.sms.down, tags: ['tls:no-keys'] }, 'TLS 1.3 unopened (its ALPN is encrypted)');
    t.equal(got.sms.tls?.alpn, undefined, 'TLS 1.3 hides the server\'s ALPN choice without keys');
    const wrong = path.join(recorded.work, 'wrong.keys');
    fs.writeFileSync(wrong, fs.readFileSync(recorded.keys, 'utf8').replace(/ ([0-9a-f]{64,})$/gm, (_m, secret: string) => ` ${'0'.repeat(secret.length)}`));
    const withWrongKeys = await read(recorded.pcap, { keylogFiles: [wrong] });
    t.equal(withWrongKeys.photo.tls?.decrypted, false, 'a look-alike key log (right client randoms, wrong secrets) opens nothing');
    t.same(withWrongKeys.photo.chunks, [], 'and yields no bytes');
  });

  await t.test('a budget per direction: the rest is counted and tagged', async (t) => {
    const got = await read(recorded.pcap, { keylogFiles: [recorded.keys], keepBytesPerDirection: 1000 });
    t.equal(sent(got.photo, true).length, 1000, 'the client\'s first 1000 bytes kept');
    t.ok(got.photo.tags.includes('pcap:truncated'), 'tagged pcap:truncated');
    t.equal(got.photo.bytesUp, recorded.wire.photo.up, 'the wire bytes still counted whole');
  });

  await t.test('a file cut short: what it holds is read, and tshark\'s word on it is a problem line', async (t) => {
    const cut = path.join(recorded.work, 'cut.pcap');
    fs.writeFileSync(cut, fs.readFileSync(recorded.pcap).subarray(0, 60_000));
    const sessions: RecordedSession[] = [];
    const result = await readCaptureFile(cut, { keylogFiles: [recorded.keys], onSession: (s) => sessions.push(s) });
    t.equal(result.sessions, 1, 'the photo session, up to where the file stops');
    t.match(sessions[0], { tls: { sni: 'photos.example.test', decrypted: true }, tags: ['pcap:unfinished'] }, 'opened, and tagged unfinished');
    t.match(result.problems, [/cut short/], 'tshark\'s line about the cut');
  });

  await t.test('a file tshark cannot read, a missing key log, no tshark: one line each', async (t) => {
    const notCapture = path.join(recorded.work, 'notes.txt');
    fs.writeFileSync(notCapture, 'not a capture file\n');
    await t.rejects(read(notCapture), { name: 'ConfigError', message: /^[^\n]*notes\.txt: [^\n]+$/ }, 'not a capture file');
    await t.rejects(read(path.join(recorded.work, 'absent.pcap')), { message: /absent\.pcap: no such file$/ }, 'no such file');
    await t.rejects(read(recorded.pcap, { keylogFiles: [path.join(recorded.work, 'absent.keys')] }), { message: /^--keylog .*absent\.keys: no such file$/ }, 'a key log that is not there');
    const pathBefore = process.env['PATH'];
    process.env['PATH'] = recorded.work; // a PATH with no tshark in it
    t.teardown(() => { process.env['PATH'] = pathBefore; });
    await t.rejects(read(recorded.pcap), { message: /needs tshark .*apt-get install tshark$/ }, 'tshark not installed');
    process.env['PATH'] = pathBefore;
  });

  await t.test('phonehome analyze: the photo and the SMS found, with keys from a key log or the file; opaque without', async (t) => {
    const analyze = (args: string[]) => {
      const result = spawnSync(process.execPath, [cli, 'analyze', ...args], { encoding: 'utf8', timeout: 120_000 });
      t.equal(result.status, 0, `analyze ${args.join(' ')}: ${result.stderr}`);
      return result;
    };
    const findingsIn = (dir: string) => fs.readFileSync(path.join(dir, 'findings.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { category: string; host?: string; method?: string; url?: string; severity: string });

    const withKeys = path.join(recorded.work, 'with-keys');
    const result = analyze([recorded.pcap, '--keylog', recorded.keys, '--out', withKeys, '--report']);
    t.match(result.stderr, /3 TCP session\(s\): 2 TLS opened, 0 TLS without keys \(0 bytes, opaque\), 1 not TLS; 1 DNS/, 'both TLS sessions opened, said in one line');
    const found = findingsIn(withKeys);
    t.match(found.find((f) => f.category === 'photo'), { severity: 'high', method: 'POST', url: 'https://photos.example.test/upload' }, 'the camera photo, on its host and path');
    t.match(found.find((f) => f.category === 'sms'), { severity: 'high', method: 'POST', url: 'https://sms.example.test/sync' }, 'the SMS, over HTTP/2');
    for (const name of ['summary.json', 'flows.jsonl', 'flows.har', 'report.html']) t.ok(fs.existsSync(path.join(withKeys, name)), `${name} written`);
    const har = JSON.parse(fs.readFileSync(path.join(withKeys, 'flows.har'), 'utf8')) as { log: { entries: Array<{ request: { url: string } }> } };
    t.ok(har.log.entries.some((e) => e.request.url === 'https://photos.example.test/upload'), 'flows.har holds the upload');
    t.ok(har.log.entries.some((e) => e.request.url.startsWith('dns:')), 'and the DNS exchange');
    t.ok(har.log.entries.some((e) => e.request.url === 'http://plain.example.test/form'), 'and the plain HTTP post');

    const fromDsb = path.join(recorded.work, 'from-dsb');
    const dsb = path.join(recorded.work, 'cap-dsb.pcapng');
    if (!fs.existsSync(dsb)) sh(`editcap --inject-secrets tls,${recorded.keys} ${recorded.pcap} ${dsb}`);
    analyze([dsb, '--out', fromDsb]);
    t.same(findingsIn(fromDsb).map((f) => f.category).sort(), found.map((f) => f.category).sort(), 'the file with its keys inside gives the same findings, no --keylog');

    const opaque = path.join(recorded.work, 'opaque');
    analyze([recorded.pcap, '--out', opaque]);
    t.notOk(findingsIn(opaque).some((f) => f.category === 'photo' || f.category === 'sms'), 'without keys, nothing is read inside');
    const summary = JSON.parse(fs.readFileSync(path.join(opaque, 'summary.json'), 'utf8')) as { destinations: Array<{ host: string; bytesUp: number; bytesDown: number }> };
    t.match(summary.destinations.find((d) => d.host === 'photos.example.test'), { bytesUp: recorded.wire.photo.up, bytesDown: recorded.wire.photo.down }, 'the opaque photo upload counted on its destination, bytes each way');
    t.match(summary.destinations.find((d) => d.host === 'sms.example.test'), { bytesUp: recorded.wire.sms.up, bytesDown: recorded.wire.sms.down }, 'and the SMS one');
  });
});
