import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { phoneConfig, serverSetconf, wireguardInfo } from '../../../../src/proxy/modes/wireguard/wireguard-config.js';
import { loadOrCreateWireguardKeys } from '../../../../src/proxy/modes/wireguard/wireguard-keys.js';
import { ConfigError } from '../../../../src/util/errors.js';
import { tempDir, within } from '../../../helpers/lab.js';

/** wg-quick's format read back: sections in order, each a list of [key, value]. */
function parseIni(text: string): Array<{ section: string; entries: Array<[string, string]> }> {
  const sections: Array<{ section: string; entries: Array<[string, string]> }> = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      sections.push({ section: header[1]!, entries: [] });
      continue;
    }
    const entry = /^(\w+) = (.+)$/.exec(line);
    if (!entry || sections.length === 0) throw new Error(`not wg-quick: ${JSON.stringify(line)}`);
    sections.at(-1)!.entries.push([entry[1]!, entry[2]!]);
  }
  return sections;
}

const keys = loadOrCreateWireguardKeys(tempDir(), ['phone', 'tablet']);
const [phone, tablet] = keys.clients as [typeof keys.clients[0], typeof keys.clients[0]];

t.test('the phone\'s configuration: its key and /32, our DNS, everything through the lab, a keepalive', async (t) => {
  const text = phoneConfig(keys, tablet, '192.168.1.20:51820');
  t.same(parseIni(text), [
    { section: 'Interface', entries: [['PrivateKey', tablet.privateKey], ['Address', '10.64.77.3/32'], ['DNS', '10.64.77.1']] },
    { section: 'Peer', entries: [['PublicKey', keys.server.publicKey], ['Endpoint', '192.168.1.20:51820'], ['AllowedIPs', '0.0.0.0/0, ::/0'], ['PersistentKeepalive', '25']] },
  ]);
  t.notMatch(text, keys.server.privateKey, 'never the server\'s private key');
  t.notMatch(text, phone.privateKey, 'never another client\'s key');
  t.ok(text.endsWith('\n'));
  t.match(parseIni(phoneConfig(keys, phone, '[2001:db8::1]:51820'))[1]!.entries, [['PublicKey', keys.server.publicKey], ['Endpoint', '[2001:db8::1]:51820']]);
  t.throws(() => phoneConfig(keys, phone, '1.2.3.4:51820\nDNS = 8.8.8.8'), ConfigError, 'an endpoint cannot add lines');
});

t.test('the server\'s setconf: our key and port, each client allowed only its /32', async (t) => {
  t.same(parseIni(serverSetconf(keys, 51820)), [
    { section: 'Interface', entries: [['PrivateKey', keys.server.privateKey], ['ListenPort', '51820']] },
    { section: 'Peer', entries: [['PublicKey', phone.publicKey], ['AllowedIPs', '10.64.77.2/32']] },
    { section: 'Peer', entries: [['PublicKey', tablet.publicKey], ['AllowedIPs', '10.64.77.3/32']] },
  ]);
  // Line names only: a random base64 key may hold the letters (one run's key had "MTU" in it).
  t.notMatch(serverSetconf(keys, 0), /^(Address|DNS|MTU)\s*=/m, 'no wg-quick-only lines (wg setconf refuses them)');
  t.throws(() => serverSetconf(keys, 70000), RangeError);
});

t.test('wireguardInfo: one entry per client with its configuration', async (t) => {
  const info = wireguardInfo(keys, 'phonehome-wg', '192.168.1.20:51820');
  t.same(info, {
    interfaceName: 'phonehome-wg',
    endpoint: '192.168.1.20:51820',
    gateway: '10.64.77.1',
    clients: [
      { name: 'phone', address: '10.64.77.2', config: phoneConfig(keys, phone, '192.168.1.20:51820') },
      { name: 'tablet', address: '10.64.77.3', config: phoneConfig(keys, tablet, '192.168.1.20:51820') },
    ],
  });
});

const has = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
const skip = process.getuid?.() !== 0 ? 'needs root (a network namespace)'
  : !has('ip') ? 'needs ip (iproute2)'
  : !has('wireguard-go') ? 'needs wireguard-go'
  : !has('wg') ? 'needs wg (wireguard-tools)'
  : !fs.existsSync('/dev/net/tun') ? 'needs /dev/net/tun'
  : false;

t.test('wg setconf takes serverSetconf and the phone\'s config stripped of wg-quick lines (a throwaway wireguard-go in a namespace)', { skip }, async (t) => {
  const tag = `${process.pid % 100000}`;
  const namespace = `phwgc${tag}`;
  const interfaceName = `phwgc${tag}`;
  spawnSync('ip', ['netns', 'del', namespace]);
  t.equal(spawnSync('ip', ['netns', 'add', namespace]).status, 0);
  t.teardown(() => { spawnSync('ip', ['netns', 'del', namespace]); });
  const socket = `/var/run/wireguard/${interfaceName}.sock`;
  const wireguardGo = spawn('ip', ['netns', 'exec', namespace, 'wireguard-go', interfaceName], { env: { ...process.env, WG_PROCESS_FOREGROUND: '1' }, stdio: 'ignore' });
  t.teardown(() => { if (wireguardGo.exitCode === null) wireguardGo.kill('SIGKILL'); });
  fs.mkdirSync(path.dirname(socket), { recursive: true });
  await within(new Promise<void>((resolve) => {
    const watcher = fs.watch(path.dirname(socket), () => { if (fs.existsSync(socket)) { watcher.close(); resolve(); } });
    if (fs.existsSync(socket)) { watcher.close(); resolve(); }
  }), 10_000, 'the UAPI socket');

  const work = tempDir();
  const wg = (args: string[]) => spawnSync('ip', ['netns', 'exec', namespace, 'wg', ...args], { encoding: 'utf8' });
  const setconf = (text: string) => {
    const file = path.join(work, 'wg.conf');
    fs.writeFileSync(file, text, { mode: 0o600 });
    return wg(['setconf', interfaceName, file]);
  };
  const server = setconf(serverSetconf(keys, 0));
  t.equal(server.status, 0, `wg setconf accepted the server's configuration ${server.stderr}`);
  const dump = wg(['show', interfaceName, 'dump']).stdout.trim().split('\n').map((line) => line.split('\t'));
  t.equal(dump[0]![0], keys.server.privateKey, 'the interface has our private key');
  const peers = dump.slice(1).map((peer) => [peer[0], peer[3]]).sort((a, b) => a[1]!.localeCompare(b[1]!));
  t.same(peers, [[phone.publicKey, '10.64.77.2/32'], [tablet.publicKey, '10.64.77.3/32']], 'each peer with its /32 (wg lists them in no set order)');

  // The phone's side: what the test phones do with phoneConfig (wg-quick lines stripped).
  const stripped = phoneConfig(keys, phone, '192.0.2.1:51820').split('\n').filter((line) => !/^(Address|DNS|MTU) =/.test(line)).join('\n');
  const client = setconf(stripped);
  t.equal(client.status, 0, `wg setconf accepted the phone's configuration ${client.stderr}`);
  const peer = wg(['show', interfaceName, 'dump']).stdout.trim().split('\n')[1]!.split('\t');
  t.same([peer[0], peer[2], peer[3], peer[7]], [keys.server.publicKey, '192.0.2.1:51820', '0.0.0.0/0,::/0', '25']);
  wireguardGo.kill('SIGTERM');
  await once(wireguardGo, 'exit');
});
