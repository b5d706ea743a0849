// WireGuard mode as a user would run it, in three network namespaces made for this test:
// - a "phone" whose only default route is a wireguard-go tunnel configured from
//   `phonehome wireguard config`, and whose resolver is the tunnel address;
// - a "gateway" running `phonehome capture --wireguard`, its endpoint reached over a veth pair;
// - a "cloud" with HTTPS, SMTP, DNS for cloud.example.test, and UDP listeners.
// From the phone, with real clients (getent, curl): the name is resolved, a photo uploaded over
// HTTPS with the exported CA, a mail sent over SMTP, a QUIC-style UDP 443 datagram dropped, and a
// query whose label carries a hex-encoded canary is found. After stop, nothing of ours is left in
// the gateway's links or firewall.
// Needs root, ip, iptables, wireguard-go, wg and curl; skips with the reason otherwise.

import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import t from 'tap';
import { installRoot } from '../../src/util/install-paths.js';
import { transparentUnavailable } from '../../src/proxy/modes/original-destination.js';
import { tempDir, within } from '../helpers/lab.js';
import { has, makeLab, removeLab, sh, waitForLine, writeCloudCertificates, type Lab } from '../helpers/netns.js';

const cli = path.join(installRoot, 'dist', 'cli.js');
const fixtures = path.join(installRoot, 'test', 'fixtures', 'netns');
const photo = path.join(installRoot, 'test', 'fixtures', 'photos', 'camera.jpg');
const skip = process.getuid?.() !== 0 ? 'needs root (network namespaces)'
  : !has('ip') ? 'needs ip (iproute2)'
  : !has('iptables') ? 'needs iptables'
  : !has('wireguard-go') || !has('wg') ? 'needs wireguard-go and wg (apt-get install wireguard-go wireguard-tools)'
  : !has('curl') ? 'needs curl'
  : transparentUnavailable() ?? false;

const tag = `${process.pid % 10000}`;
const ns = { phone: `phwp${tag}`, gw: `phwg${tag}`, cloud: `phwc${tag}` };
const net = { phoneLan: '10.232.1.2', gwLan: '10.232.1.1', gwCloud: '10.232.2.1', cloud: '10.232.2.2' };
const phoneTunnel = `phwt${tag}`;
const IMEI = '353456789012348';

const lab: Lab = {
  ns,
  links: { phone: `wp${tag}`, gwPhone: `wg${tag}`, gwCloud: `wh${tag}`, cloud: `wc${tag}` },
  addresses: { phone: net.phoneLan, gwPhone: net.gwLan, gwCloud: net.gwCloud, cloud: net.cloud },
};

function setUp(): void {
  makeLab(lab);
  sh(`ip -n ${ns.cloud} route add default via ${net.gwCloud}`);
  // The phone's resolver, as `ip netns exec` shows it: the tunnel address (set once it is known).
  fs.mkdirSync(`/etc/netns/${ns.phone}`, { recursive: true });
}

function tearDown(): void {
  removeLab(lab);
  fs.rmSync(`/etc/netns/${ns.phone}`, { recursive: true, force: true });
  // The phone's wireguard-go is killed, not stopped: its UAPI socket file stays behind otherwise.
  fs.rmSync(`/var/run/wireguard/${phoneTunnel}.sock`, { force: true });
}

/** Runs a command in the phone's namespace; resolves with its exit status and output. */
function inPhone(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('ip', ['netns', 'exec', ns.phone, ...args], { encoding: 'utf8', timeout: 60_000, ...(input !== undefined ? { input } : {}) });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

t.test('a phone on a WireGuard tunnel: DNS, a photo over HTTPS, a mail over SMTP, QUIC dropped, a canary in a DNS label', { skip }, async (t) => {
  t.teardown(tearDown);
  tearDown();
  setUp();
  const work = tempDir();
  writeCloudCertificates(work, net.cloud);
  fs.writeFileSync(path.join(work, 'canaries.yaml'), `canaries:\n  - { label: lab-imei, type: imei, value: "${IMEI}" }\n`);

  const cloud = spawn('ip', ['netns', 'exec', ns.cloud, process.execPath, path.join(fixtures, 'cloud.mjs'), path.join(work, 'certs.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { cloud.kill('SIGKILL'); });
  const cloudDns = spawn('ip', ['netns', 'exec', ns.cloud, process.execPath, path.join(fixtures, 'cloud-dns.mjs'), net.cloud], { stdio: ['ignore', 'pipe', 'pipe'], cwd: installRoot });
  t.teardown(() => { cloudDns.kill('SIGKILL'); });
  await Promise.all([waitForLine(cloud, /ready/), waitForLine(cloudDns, /ready/)]);

  const out = path.join(work, 'run');
  const caDir = path.join(work, 'ca');
  const capture = spawn('ip', ['netns', 'exec', ns.gw, process.execPath, cli, 'capture', '--listen', '127.0.0.1:0',
    '--wireguard', `${net.gwLan}:51820`, '--wireguard-endpoint', net.gwLan, '--dns-upstream', net.cloud,
    '--ca-dir', caDir, '--out', out, '--upstream-ca', path.join(work, 'origin-ca.pem'), '--canaries', path.join(work, 'canaries.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { if (capture.exitCode === null) capture.kill('SIGKILL'); });
  let captureErr = '';
  capture.stderr!.on('data', (c: Buffer) => { captureErr += c.toString(); });
  await waitForLine(capture, /WireGuard endpoint .*listening/i);

  // The phone's side, configured from what phonehome prints for it.
  const config = spawnSync(process.execPath, [cli, 'wireguard', 'config', '--ca-dir', caDir, '--client', 'phone'], { encoding: 'utf8' });
  t.equal(config.status, 0, config.stderr);
  t.match(config.stdout, new RegExp(`Endpoint = ${net.gwLan.replace(/\./g, '\\.')}:51820`), 'the configuration points at the endpoint the capture announced');
  const tunnelAddress = /^Address = ([\d.]+)\/32$/m.exec(config.stdout)?.[1];
  const resolver = /^DNS = ([\d.]+)$/m.exec(config.stdout)?.[1];
  t.ok(tunnelAddress && resolver, 'the configuration has an address and a DNS server');
  // wg setconf takes the [Interface]/[Peer] keys only; Address and DNS are wg-quick's, done by hand.
  const setconf = path.join(work, 'phone.conf');
  fs.writeFileSync(setconf, config.stdout.split('\n').filter((line) => !/^(Address|DNS|MTU)\s*=/.test(line)).join('\n'), { mode: 0o600 });
  fs.writeFileSync(`/etc/netns/${ns.phone}/resolv.conf`, `nameserver ${resolver}\n`);
  const phoneWg = spawn('ip', ['netns', 'exec', ns.phone, 'wireguard-go', phoneTunnel], { env: { ...process.env, WG_PROCESS_FOREGROUND: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { phoneWg.kill('SIGKILL'); });
  await waitForSocket(`/var/run/wireguard/${phoneTunnel}.sock`, phoneWg);
  sh(`ip netns exec ${ns.phone} wg setconf ${phoneTunnel} ${setconf}`);
  sh(`ip -n ${ns.phone} addr add ${tunnelAddress}/32 dev ${phoneTunnel} && ip -n ${ns.phone} link set ${phoneTunnel} up`);
  sh(`ip -n ${ns.phone} route add default dev ${phoneTunnel}`);

  // 1. The name, through the tunnel, answered by phonehome's DNS (forwarded to the cloud's server).
  const resolved = inPhone(['getent', 'ahostsv4', 'cloud.example.test']);
  t.equal(resolved.status, 0, resolved.stderr);
  t.match(resolved.stdout, net.cloud, 'cloud.example.test resolves through the tunnel');

  // 2. A QUIC-style datagram to UDP 443 is dropped, then one to 444 passes: datagrams leave in
  // order, so once 444 has arrived, 443 would have too, had it not been dropped.
  let cloudSaw = '';
  cloudDns.stdout!.on('data', (chunk: Buffer) => { cloudSaw += chunk.toString(); });
  const otherArrived = within(waitForLine(cloudDns, /udp 444/), 30_000, 'the UDP 444 datagram at the cloud');
  const sent = inPhone([process.execPath, '-e', `const s=require('dgram').createSocket('udp4');s.send(Buffer.from('quic-initial'),443,'${net.cloud}',()=>s.send(Buffer.from('other'),444,'${net.cloud}',()=>s.close()))`]);
  t.equal(sent.status, 0, sent.stderr);
  await otherArrived;
  t.notMatch(cloudSaw, /udp 443/, 'UDP 443 never reached the cloud');

  // 3. The app falls back to TCP: a photo uploaded over HTTPS, trusting the exported CA.
  const upload = inPhone(['curl', '-sS', '--max-time', '30', '--cacert', path.join(caDir, 'ca.pem'), '-F', `photo=@${photo};type=image/jpeg`, 'https://cloud.example.test/gallery/upload']);
  t.equal(upload.status, 0, upload.stderr);
  t.match(upload.stdout, /cloud got POST \/gallery\/upload \(\d+ bytes\) for cloud\.example\.test/);

  // 4. A mail over SMTP (curl's own SMTP client).
  const mail = 'From: alice@example.test\r\nTo: bob@example.test\r\nSubject: rendez-vous\r\n\r\nOn se voit demain a 18h devant la gare.\r\n';
  const smtp = inPhone(['curl', '-sS', '--max-time', '30', 'smtp://cloud.example.test:25', '--mail-from', 'alice@example.test', '--mail-rcpt', 'bob@example.test', '-T', '-'], mail);
  t.equal(smtp.status, 0, smtp.stderr);

  // 5. A query whose first label carries the planted IMEI, hex-encoded (NXDOMAIN: it leaks anyway).
  const leak = inPhone(['getent', 'ahostsv4', `${Buffer.from(IMEI).toString('hex')}.t.leak.example.test`]);
  t.equal(leak.status, 2, 'the leaking name does not resolve (it did not need to)');

  capture.kill('SIGTERM');
  const [code] = await once(capture, 'exit');
  t.equal(code, 0, captureErr);

  const findings = fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  t.comment(`findings: ${findings.map((f) => `${f.category}/${f.detector} ${f.host} ${f.mode} ${f.client?.name}`).join('; ')}`);
  const photoFinding = findings.find((f) => f.category === 'photo');
  t.match(photoFinding, { host: 'cloud.example.test', mode: 'wireguard', client: { ip: tunnelAddress, name: 'phone' }, destination: { ip: net.cloud, port: 443 } }, 'the photo: name, mode, peer and address');
  // SMTP names nothing (no SNI, no Host): its name comes from the DNS answer the phone got.
  t.match(findings.find((f) => f.category === 'mail'), { host: 'cloud.example.test', mode: 'wireguard', client: { name: 'phone' }, destination: { ip: net.cloud, port: 25 } }, 'the mail sent over SMTP, named from DNS');
  const dnsLeak = findings.find((f) => f.evidence?.path?.[0] === 'dns:query' && f.canary);
  t.ok(dnsLeak, 'the canary in a DNS label is a finding whose path starts with dns:query');
  t.match(dnsLeak, { mode: 'wireguard', client: { name: 'phone' } });

  const har = JSON.parse(fs.readFileSync(path.join(out, 'flows.har'), 'utf8'));
  const entries = har.log.entries as Array<{ request: { url: string }; _phonehome: Record<string, any> }>;
  const dnsEntries = entries.filter((e) => e._phonehome['kind'] === 'dns');
  t.ok(dnsEntries.some((e) => e._phonehome['dns'].name === 'cloud.example.test' && e._phonehome['dns'].answers.some((a: { data: string }) => a.data === net.cloud)), 'the DNS question and its answer are in the HAR');
  t.ok(dnsEntries.every((e) => e._phonehome['mode'] === 'wireguard' && e._phonehome['client'].name === 'phone'), 'DNS flows carry the mode and the peer');
  t.ok(entries.some((e) => e._phonehome['mode'] === 'wireguard' && e.request.url === 'https://cloud.example.test/gallery/upload'), 'the upload is a wireguard flow');
  const smtpEntry = entries.find((e) => e._phonehome['kind'] === 'raw' && e.request.url === `tcp://${net.cloud}:25/`);
  t.equal(smtpEntry?._phonehome['dnsName'], 'cloud.example.test', 'the raw SMTP stream to an address carries the name the phone looked up');

  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  t.comment(`coverage: dns ${JSON.stringify(summary.coverage.dns)} quic ${JSON.stringify(summary.coverage.quic)}`);
  t.ok(summary.coverage.dns.queries >= 2, 'DNS queries counted');
  t.ok(summary.coverage.quic.dropped >= 1, 'the dropped QUIC datagram is counted');

  // Nothing of ours is left in the gateway.
  t.notMatch(sh(`ip -n ${ns.gw} link`), /phonehome/, 'the tunnel interface is gone');
  t.notMatch(sh(`ip netns exec ${ns.gw} iptables-save`), /phonehome/, 'no tagged rule is left');
});

/** Resolves once `file` exists (the UAPI socket wireguard-go makes), or rejects if the process exits first. */
async function waitForSocket(file: string, child: ChildProcess): Promise<void> {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  if (fs.existsSync(file)) return;
  await new Promise<void>((resolve, reject) => {
    const watcher = fs.watch(dir, () => {
      if (fs.existsSync(file)) {
        watcher.close();
        resolve();
      }
    });
    child.once('exit', (code) => {
      watcher.close();
      reject(new Error(`wireguard-go exited with ${code}`));
    });
    if (fs.existsSync(file)) {
      watcher.close();
      resolve();
    }
  });
}
