// The WireGuard endpoint for real, in network namespaces made for this test (the root namespace's
// interfaces and iptables are never touched): a "gateway" runs WireguardEndpoint (the fixture, from
// the build in dist/) with stand-ins for the transparent and DNS listeners; a "phone" runs its own
// wireguard-go configured from phoneConfig, the tunnel its only default route, over a veth pair;
// a "cloud" answers UDP echo behind the gateway. Proven: the phone's TCP to any address reaches the
// redirect listener with its original destination and peer name, DNS (UDP and TCP 53) reaches the
// DNS port, other UDP is forwarded and masqueraded, UDP 443 is dropped and counted; a second start
// on the same interface and a taken port are refused in one line; after a kill -9 the next start
// removes the leftovers; after stop nothing of ours is left.
// Needs root, ip, iptables, wireguard-go, wg and /dev/net/tun; skips with the reason otherwise.

import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import t, { type Test } from 'tap';
import { installRoot } from '../../src/util/install-paths.js';
import { phoneConfig } from '../../src/proxy/modes/wireguard/wireguard-config.js';
import { wireguardUnavailable } from '../../src/proxy/modes/wireguard/wireguard-endpoint.js';
import { readWireguardKeys } from '../../src/proxy/modes/wireguard/wireguard-keys.js';
import { isRunning, processIdentity, readRunRecord, runRecordFile } from '../../src/proxy/modes/wireguard/wireguard-run-record.js';
import { tempDir, until, within } from '../helpers/lab.js';
import { has, makeLab, removeLab, sh, type Lab } from '../helpers/netns.js';

const fixtures = path.join(installRoot, 'test', 'fixtures', 'wireguard');
const built = path.join(installRoot, 'dist', 'proxy', 'modes', 'wireguard', 'wireguard-endpoint.js');
const skip = process.getuid?.() !== 0 ? 'needs root (network namespaces)'
  : !has('ip') ? 'needs ip (iproute2)'
  : !has('iptables') ? 'needs iptables'
  : wireguardUnavailable() ?? (fs.existsSync(built) ? false : 'needs the build (npm run build)');

const tag = `${process.pid % 10000}`;
const ns = { phone: `phwph${tag}`, gw: `phwgw${tag}`, cloud: `phwcl${tag}` };
const net = { phoneGw: '10.231.11.1', phone: '10.231.11.2', cloudGw: '10.231.12.1', cloud: '10.231.12.2' };
const serverInterface = `phwg${tag}`;
const phoneInterface = `phwp${tag}`;
const WG_PORT = 51820;
const TCP_PORT = 8081;
const DNS_PORT = 5353;
const QUIC_PACKETS = 3;

const lab: Lab = {
  ns,
  links: { phone: `wp${tag}`, gwPhone: `wg${tag}`, gwCloud: `wh${tag}`, cloud: `wc${tag}` },
  addresses: { phone: net.phone, gwPhone: net.phoneGw, gwCloud: net.cloudGw, cloud: net.cloud },
};

function setUp(): void {
  makeLab(lab);
  // The gateway reaches "the internet" (any address) through the cloud; the cloud has no route back to the tunnel.
  sh(`ip -n ${ns.gw} route add default via ${net.cloud}`);
}

function tearDown(): void {
  // A failed run may leave a killed fixture's wireguard-go behind: it would keep a deleted namespace alive.
  for (const name of [serverInterface, `phwx${tag}`, `phwy${tag}`]) {
    const record = readRunRecord(name);
    if (record?.wireguardGo && isRunning(record.wireguardGo)) process.kill(record.wireguardGo.pid, 'SIGKILL');
    if (record) fs.rmSync(runRecordFile(name), { force: true });
  }
  removeLab(lab);
}

/** The tagged rules in the gateway's iptables-save output. */
function ourRules(): string[] {
  return sh(`ip netns exec ${ns.gw} iptables-save`).split('\n').filter((line) => line.includes(`phonehome:${serverInterface}`));
}

interface Fixture {
  readonly child: ChildProcess;
  readonly lines: Array<Record<string, unknown>>;
  next(predicate: (line: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>>;
  stderr(): string;
}

function startFixture(options: Record<string, unknown>): Fixture {
  const child = spawn('ip', ['netns', 'exec', ns.gw, process.execPath, path.join(fixtures, 'endpoint.mjs'), JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const waiters = new Set<() => void>();
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(JSON.parse(line) as Record<string, unknown>);
    for (const wake of waiters) wake();
  });
  const next = (predicate: (line: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> => within(new Promise((resolve, reject) => {
    const look = (): void => {
      const found = lines.find(predicate);
      if (found) {
        waiters.delete(look);
        resolve(found);
      }
    };
    waiters.add(look);
    child.once('exit', (code) => { look(); reject(new Error(`the endpoint fixture exited (${code}) before ${what}: ${JSON.stringify(lines)} ${stderr}`)); });
    look();
  }), 30_000, what);
  return { child, lines, next, stderr: () => stderr };
}

function phoneUp(caDir: string, work: string): void {
  const keys = readWireguardKeys(caDir)!;
  const phone = keys.clients.find((client) => client.name === 'phone')!;
  // What a person does with the official app, by hand: wg-quick's Address/DNS lines become ip commands.
  const config = phoneConfig(keys, phone, `${net.phoneGw}:${WG_PORT}`).split('\n').filter((line) => !/^(Address|DNS|MTU) =/.test(line)).join('\n');
  const file = path.join(work, 'phone.conf');
  fs.writeFileSync(file, config, { mode: 0o600 });
  sh(`ip netns exec ${ns.phone} wg setconf ${phoneInterface} ${file}`);
}

async function startPhone(t: Test, caDir: string, work: string): Promise<void> {
  const socket = `/var/run/wireguard/${phoneInterface}.sock`;
  fs.mkdirSync(path.dirname(socket), { recursive: true });
  const appeared = new Promise<void>((resolve) => {
    const watcher = fs.watch(path.dirname(socket), () => { if (fs.existsSync(socket)) { watcher.close(); resolve(); } });
  });
  const wireguardGo = spawn('ip', ['netns', 'exec', ns.phone, 'wireguard-go', phoneInterface], { env: { ...process.env, WG_PROCESS_FOREGROUND: '1' }, stdio: 'ignore' });
  t.teardown(async () => {
    if (wireguardGo.exitCode === null) {
      wireguardGo.kill('SIGTERM');
      await once(wireguardGo, 'exit');
    }
    fs.rmSync(socket, { force: true });
  });
  await within(appeared, 10_000, 'the phone\'s wireguard-go socket');
  phoneUp(caDir, work);
  sh(`ip -n ${ns.phone} addr add 10.64.77.2/32 dev ${phoneInterface}`);
  sh(`ip -n ${ns.phone} link set ${phoneInterface} up`);
  sh(`ip -n ${ns.phone} route add default dev ${phoneInterface}`);
}

function probe(): Record<string, string> {
  const result = spawnSync('ip', ['netns', 'exec', ns.phone, process.execPath, path.join(fixtures, 'phone-probe.mjs'), JSON.stringify({ cloud: net.cloud, gateway: '10.64.77.1', quicPackets: QUIC_PACKETS })], { encoding: 'utf8', timeout: 90_000 });
  if (result.status !== 0) throw new Error(`phone probe: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, string>;
}

t.test('a phone in a namespace reaches the WireGuard endpoint: TCP and DNS redirected, QUIC dropped and counted, nothing left after stop or after a kill -9', { skip }, async (t) => {
  t.teardown(tearDown);
  tearDown();
  setUp();
  const work = tempDir();
  const caDir = path.join(work, 'ca');
  const ipForwardBefore = sh(`ip netns exec ${ns.gw} cat /proc/sys/net/ipv4/ip_forward`).trim();

  const cloud = spawn('ip', ['netns', 'exec', ns.cloud, process.execPath, '-e', `
    const s = require('dgram').createSocket('udp4');
    s.on('message', (m, r) => s.send('cloud got ' + m + ' from ' + r.address, r.port, r.address));
    s.bind(7, () => console.log('ready'));`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { cloud.kill('SIGKILL'); });
  await within(once(cloud.stdout!, 'data'), 10_000, 'the cloud echo');

  // A dead interface left by a run whose phonehome and wireguard-go are both gone (here a persistent
  // TUN device and the record of an exited process): the first start deletes it and goes on.
  const exited = spawn(process.execPath, ['-e', '']);
  const exitedIdentity = processIdentity(exited.pid!)!;
  await once(exited, 'exit');
  sh(`ip -n ${ns.gw} tuntap add mode tun name ${serverInterface}`);
  fs.mkdirSync(path.dirname(runRecordFile(serverInterface)), { recursive: true });
  fs.writeFileSync(runRecordFile(serverInterface), JSON.stringify({ owner: exitedIdentity, wireguardGo: exitedIdentity, netns: sh(`ip netns exec ${ns.gw} readlink /proc/self/ns/net`).trim() }));

  const options = { caDir, interfaceName: serverInterface, port: WG_PORT, tcpPort: TCP_PORT, dnsPort: DNS_PORT };
  const first = startFixture(options);
  t.teardown(() => { if (first.child.exitCode === null) first.child.kill('SIGKILL'); });
  const ready = await first.next((line) => line['ready'] === true, 'the endpoint ready');
  t.match(ready, { interfaceName: serverInterface, gateway: '10.64.77.1', listenPort: WG_PORT });
  t.match(sh(`ip -n ${ns.gw} -o addr show dev ${serverInterface}`), /inet 10\.64\.77\.1\/24/, 'the tunnel has the gateway address');
  t.match(sh(`ip -n ${ns.gw} -o link show dev ${serverInterface}`), /mtu 1420.*state (UNKNOWN|UP)/, 'up, and no longer the dead device');
  t.notOk(first.lines.some((line) => line['error'] || line['log'] === 'error'), 'the dead interface was removed without complaint');
  t.equal(ourRules().length, 11, 'eleven tagged rules');
  t.equal(sh(`ip netns exec ${ns.gw} cat /proc/sys/net/ipv4/ip_forward`).trim(), '1');

  await startPhone(t, caDir, work);
  const seen = probe();
  t.comment(`phone saw: ${JSON.stringify(seen)}`);
  const original = fs.existsSync(path.join(installRoot, 'native', 'original-dst', 'build', 'Release', 'original_dst.node')) ? '203.0.113.7:443' : String;
  t.match(seen['tcp'], `tcp 10.64.77.2 phone ${typeof original === 'string' ? original : ''}`, 'TCP to an arbitrary address reaches the redirect listener, from the tunnel address of the peer "phone"');
  t.match(seen['tcp'], /hello-tcp$/);
  t.equal(seen['dnsUdp'], 'dns-udp 10.64.77.2 phone query-udp', 'UDP 53 to any resolver reaches the DNS port, and the answer comes back');
  t.equal(seen['dnsTcp'], 'dns-tcp 10.64.77.2 query-tcp', 'TCP 53 goes to the DNS port, not the transparent one');
  t.equal(seen['cloudUdp'], `cloud got hello-cloud from ${net.cloudGw}`, 'other UDP is forwarded and masqueraded');

  // The drops are counted as the packets arrive (decrypted by wireguard-go, then netfilter): poll with a deadline.
  let dropped = 0;
  const quicCount = async (fixture: Fixture): Promise<number> => {
    const before = fixture.lines.length;
    fixture.child.stdin!.write('quic\n');
    const line = await fixture.next((l) => fixture.lines.indexOf(l) >= before && typeof l['quic'] === 'number', 'a QUIC count');
    return line['quic'] as number;
  };
  const deadline = Date.now() + 10_000;
  while ((dropped = await quicCount(first)) < 2 * QUIC_PACKETS && Date.now() < deadline);
  t.equal(dropped, 2 * QUIC_PACKETS, 'UDP 443, forwarded or to the gateway, is dropped and counted');

  // A second phonehome on the same interface is refused in one line, and touches nothing.
  const second = startFixture(options);
  const refused = await second.next((line) => typeof line['error'] === 'string', 'the refusal');
  t.equal(refused['error'], `--wireguard: interface ${serverInterface} is in use by another phonehome (pid ${ready['pid']})`);
  t.equal(refused['name'], 'ConfigError');
  t.equal(ourRules().length, 11, 'the running endpoint keeps its rules');
  // Another interface on the same UDP port: one line too.
  const samePort = startFixture({ ...options, interfaceName: `phwx${tag}` });
  const portRefused = await samePort.next((line) => typeof line['error'] === 'string', 'the port refusal');
  t.match(portRefused['error'], new RegExp(`^--wireguard: UDP port ${WG_PORT} is in use`));
  t.notMatch(portRefused['error'], /\n/);
  t.notOk(fs.existsSync(runRecordFile(`phwx${tag}`)), 'the refused start left no record');
  t.equal(spawnSync('ip', ['-n', ns.gw, 'link', 'show', `phwx${tag}`]).status, 1, 'nor an interface');

  // A port taken only for IPv6 passes our IPv4 check; wireguard-go's bind fails inside wg setconf:
  // still one line, and the wireguard-go already started is stopped again (no interface, no record).
  const holder = spawn('ip', ['netns', 'exec', ns.gw, process.execPath, '-e', `
    const s = require('dgram').createSocket({ type: 'udp6', ipv6Only: true });
    s.bind(${WG_PORT + 1}, '::', () => console.log('bound'));`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { holder.kill('SIGKILL'); });
  await within(once(holder.stdout!, 'data'), 10_000, 'the IPv6 port holder');
  const lateRefusal = startFixture({ ...options, interfaceName: `phwy${tag}`, port: WG_PORT + 1 });
  const late = await lateRefusal.next((line) => typeof line['error'] === 'string', 'the refusal from wg setconf');
  t.equal(late['error'], `--wireguard: UDP port ${WG_PORT + 1} is in use (another WireGuard or program listens there); choose another with --wireguard PORT`);
  await once(lateRefusal.child, 'exit');
  t.equal(spawnSync('ip', ['-n', ns.gw, 'link', 'show', `phwy${tag}`]).status, 1, 'the interface wireguard-go had made is gone');
  t.notOk(fs.existsSync(runRecordFile(`phwy${tag}`)), 'no record');
  t.notOk(fs.existsSync(`/var/run/wireguard/phwy${tag}.sock`), 'no socket');
  holder.kill('SIGKILL');

  // kill -9: the rules, the record and an orphaned wireguard-go stay behind ...
  const record = JSON.parse(fs.readFileSync(runRecordFile(serverInterface), 'utf8'));
  first.child.kill('SIGKILL');
  await once(first.child, 'exit');
  t.equal(ourRules().length, 11, 'leftover rules after kill -9');
  t.ok(fs.existsSync(`/proc/${record.wireguardGo.pid}`), 'its wireguard-go runs on, orphaned');
  // ... and the next start removes them first.
  const third = startFixture(options);
  t.teardown(() => { if (third.child.exitCode === null) third.child.kill('SIGKILL'); });
  await third.next((line) => line['ready'] === true, 'the endpoint ready after a kill -9');
  t.ok(third.lines.some((line) => line['log'] === 'info' && line['message'] === `removed 11 iptables rules left on ${serverInterface} by a phonehome that did not stop`), JSON.stringify(third.lines));
  t.equal(ourRules().length, 11, 'the old rules removed, the new ones in place (not 22)');
  await until(() => !fs.existsSync(`/proc/${record.wireguardGo.pid}`), 10_000, 'the orphaned wireguard-go gone');
  phoneUp(caDir, work); // a fresh handshake with the restarted endpoint (same keys)
  const again = probe();
  t.match(again['tcp'], /^tcp 10\.64\.77\.2 phone /, 'the phone works again with the same configuration');

  // wireguard-go dying during the run is one error line; the capture (here, the fixture) goes on and still stops cleanly.
  const running = readRunRecord(serverInterface)!;
  process.kill(running.wireguardGo!.pid, 'SIGKILL');
  const died = await third.next((line) => line['log'] === 'error', 'the error line for a dead wireguard-go');
  t.match(died['message'], new RegExp(`^wireguard-go for ${serverInterface} exited \\(SIGKILL\\); the WireGuard tunnel is down, the other modes go on$`));

  third.child.stdin!.write('stop\n');
  const stopped = await third.next((line) => line['stopped'] === true, 'the stop');
  t.equal(stopped['quic'], 2 * QUIC_PACKETS, 'the count of the last run, kept after stop');
  const [code] = await within(once(third.child, 'exit'), 10_000, 'the fixture\'s exit (nothing of the endpoint keeps it alive)');
  t.equal(code, 0, third.stderr());
  t.equal(spawnSync('ip', ['-n', ns.gw, 'link', 'show', serverInterface]).status, 1, `no ${serverInterface} in the gateway after stop`);
  t.same(ourRules(), [], 'no tagged rule in the gateway\'s iptables-save');
  t.notMatch(sh(`ip netns exec ${ns.gw} iptables-save`), /phonehome:/);
  t.equal(sh(`ip netns exec ${ns.gw} cat /proc/sys/net/ipv4/ip_forward`).trim(), ipForwardBefore, 'ip_forward restored');
  t.notOk(fs.existsSync(runRecordFile(serverInterface)), 'the run record removed');
  t.notOk(fs.existsSync(`/var/run/wireguard/${serverInterface}.sock`), 'wireguard-go gone with its socket');
});
