// `phonehome wireguard config` as a user runs it (the built CLI): the phone's configuration as
// text, stable across runs, from keys it creates (0600) when there are none; --qr decodes to the
// same text; the endpoint is --endpoint, else the remembered one, else the first LAN address; bad
// input is one line and exit 1.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { publicKeyOf, loadOrCreateWireguardKeys, readWireguardKeys, rememberEndpoint } from '../../src/proxy/modes/wireguard/wireguard-keys.js';
import { lanAddresses } from '../../src/sinks/console-sink.js';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/lab.js';
import { decodeTerminalQr } from '../helpers/qr-decode.js';

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, 'wireguard', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The wg-quick file as sections of key = value (what the WireGuard app reads). */
function parseConf(text: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  let current: Record<string, string> | undefined;
  for (const line of text.split('\n')) {
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) sections[header[1]!] = current = {};
    else if (line.trim() !== '') {
      const match = /^(\w+) = (.+)$/.exec(line);
      if (!match || !current) throw new Error(`not a configuration line: ${JSON.stringify(line)}`);
      current[match[1]!] = match[2]!;
    }
  }
  return sections;
}

t.test('text: a configuration the app can import, from keys created 0600 beside the CA, the same on every run', async (t) => {
  const caDir = path.join(tempDir(), 'ca');
  const first = run('config', '--ca-dir', caDir, '--endpoint', '192.0.2.10');
  t.equal(first.code, 0, first.stderr);
  t.equal(first.stderr, '');
  const keysFile = path.join(caDir, 'wireguard.json');
  t.equal(fs.statSync(keysFile).mode & 0o777, 0o600, 'the keys are 0600');
  const keys = readWireguardKeys(caDir)!;
  t.same(keys.clients.map((c) => c.name), ['phone'], 'one client, phone, by default');
  const conf = parseConf(first.stdout);
  t.same(Object.keys(conf), ['Interface', 'Peer']);
  t.equal(publicKeyOf(conf['Interface']!['PrivateKey']!), keys.clients[0]!.publicKey, "the phone's own key pair");
  t.equal(conf['Interface']!['Address'], '10.64.77.2/32');
  t.equal(conf['Interface']!['DNS'], keys.gateway);
  t.equal(conf['Peer']!['PublicKey'], keys.server.publicKey, 'the server is the peer');
  t.equal(conf['Peer']!['Endpoint'], '192.0.2.10:51820', 'port 51820 unless given');
  t.equal(conf['Peer']!['AllowedIPs'], '0.0.0.0/0, ::/0');
  t.equal(run('config', '--ca-dir', caDir, '--endpoint', '192.0.2.10').stdout, first.stdout, 'stable: the same keys next time');
  t.equal(parseConf(run('config', '--ca-dir', caDir, '--endpoint', '[2001:db8::1]:4000').stdout)['Peer']!['Endpoint'], '[2001:db8::1]:4000');
});

t.test('--qr: one line naming the client and endpoint, then a code that decodes to exactly the text', async (t) => {
  const caDir = path.join(tempDir(), 'ca');
  const text = run('config', '--ca-dir', caDir, '--endpoint', '192.0.2.10:51821');
  const qr = run('config', '--ca-dir', caDir, '--endpoint', '192.0.2.10:51821', '--qr');
  t.equal(qr.code, 0, qr.stderr);
  const [caption, ...rest] = qr.stdout.split('\n');
  t.equal(caption, 'WireGuard client phone (10.64.77.2), endpoint 192.0.2.10:51821: scan with the WireGuard app');
  t.notMatch(qr.stdout, /\x1b/, 'no colours into a pipe');
  t.equal(decodeTerminalQr(rest.join('\n')), text.stdout);
  t.ok(rest.filter(Boolean).every((line) => [...line].length <= 80), 'fits 80 columns');
});

t.test('the endpoint: the one the last capture remembered, else the first LAN address', async (t) => {
  const caDir = path.join(tempDir(), 'ca');
  loadOrCreateWireguardKeys(caDir, ['phone']);
  const lan = lanAddresses()[0];
  const fresh = run('config', '--ca-dir', caDir);
  if (lan) t.equal(parseConf(fresh.stdout)['Peer']!['Endpoint'], `${lan}:51820`);
  else t.match(fresh.stderr, /no LAN address .* give --endpoint/);
  rememberEndpoint(caDir, 'lab.example:40000');
  t.equal(parseConf(run('config', '--ca-dir', caDir).stdout)['Peer']!['Endpoint'], 'lab.example:40000');
  t.equal(parseConf(run('config', '--ca-dir', caDir, '--endpoint', '192.0.2.9').stdout)['Peer']!['Endpoint'], '192.0.2.9:51820', '--endpoint wins');
});

t.test('several clients: the first by default (the others named on stderr), --client picks one', async (t) => {
  const caDir = path.join(tempDir(), 'ca');
  loadOrCreateWireguardKeys(caDir, ['phone', 'tablet']);
  const first = run('config', '--ca-dir', caDir, '--endpoint', '192.0.2.10');
  t.equal(parseConf(first.stdout)['Interface']!['Address'], '10.64.77.2/32');
  t.equal(first.stderr, 'phonehome: client phone; also configured: tablet (choose with --client NAME)\n');
  const tablet = run('config', '--ca-dir', caDir, '--endpoint', '192.0.2.10', '--client', 'tablet');
  t.equal(tablet.stderr, '');
  t.equal(parseConf(tablet.stdout)['Interface']!['Address'], '10.64.77.3/32');
  t.equal(decodeTerminalQr(run('config', '--ca-dir', caDir, '--endpoint', '192.0.2.10', '--client', 'tablet', '--qr').stdout), tablet.stdout);
});

t.test('bad input: one line on stderr, exit 1, nothing on stdout', async (t) => {
  const caDir = path.join(tempDir(), 'ca');
  loadOrCreateWireguardKeys(caDir, ['phone', 'tablet']);
  const cases: Array<[string[], RegExp]> = [
    [['config', '--ca-dir', caDir, '--client', 'laptop'], /^phonehome: --client laptop: no such WireGuard client in .*; configured: phone, tablet \(capture --wireguard-client NAME adds one\)$/],
    [['config', '--ca-dir', caDir, '--client', 'a b'], /^phonehome: --client "a b" is not a client name/],
    [['config', '--ca-dir', caDir, '--endpoint', 'lab\nPostUp = rm -rf'], /^phonehome: --endpoint "lab\\nPostUp = rm -rf": use the HOST or HOST:PORT/],
    [['export', '--ca-dir', caDir], /^phonehome: usage: phonehome wireguard config/],
  ];
  for (const [args, message] of cases) {
    const result = run(...args);
    t.equal(result.code, 1, args.join(' '));
    t.equal(result.stdout, '', args.join(' '));
    t.equal(result.stderr.split('\n').length, 2, `one line: ${args.join(' ')}`);
    t.match(result.stderr.trimEnd(), message, args.join(' '));
  }
});

t.test('a refused client name creates no keys', async (t) => {
  const caDir = path.join(tempDir(), 'ca');
  t.equal(run('config', '--ca-dir', caDir, '--client', 'a b').code, 1);
  t.notOk(fs.existsSync(path.join(caDir, 'wireguard.json')));
});

t.test('--help: the usage, exit 0, before anything is created', async (t) => {
  const caDir = path.join(tempDir(), 'ca');
  const help = run('config', '--ca-dir', caDir, '--help');
  t.equal(help.code, 0);
  t.match(help.stdout, /^usage: phonehome wireguard config \[--client NAME\] \[--ca-dir DIR\] \[--qr\] \[--endpoint HOST\[:PORT\]\]\n/);
  t.notOk(fs.existsSync(caDir));
  t.match(spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' }).stdout, /phonehome wireguard config \[--client NAME\]/, 'listed in phonehome --help');
});
