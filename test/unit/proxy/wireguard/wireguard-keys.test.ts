import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { generateKeyPair, loadOrCreateWireguardKeys, publicKeyOf, readWireguardKeys, rememberEndpoint, validateClientName, validateEndpoint } from '../../../../src/proxy/modes/wireguard/wireguard-keys.js';
import { ConfigError } from '../../../../src/util/errors.js';
import { tempDir } from '../../../helpers/lab.js';

const hasWg = spawnSync('sh', ['-c', 'command -v wg']).status === 0;

t.test('creates the keys once beside the CA: 0600, a 0700 folder, the same on every load', async (t) => {
  const caDir = path.join(tempDir(), 'ca');
  const keys = loadOrCreateWireguardKeys(caDir, ['phone']);
  const file = path.join(caDir, 'wireguard.json');
  t.equal(fs.statSync(file).mode & 0o777, 0o600, 'the file holds private keys: 0600');
  t.equal(fs.statSync(caDir).mode & 0o777, 0o700);
  t.equal(keys.subnet, '10.64.77.0/24');
  t.equal(keys.gateway, '10.64.77.1');
  t.same(keys.clients.map((c) => [c.name, c.address]), [['phone', '10.64.77.2']]);
  t.match(keys.server.privateKey, /^[A-Za-z0-9+/]{43}=$/);
  t.not(keys.server.privateKey, keys.clients[0]!.privateKey);
  const before = fs.readFileSync(file, 'utf8');
  t.same(loadOrCreateWireguardKeys(caDir, ['phone']), keys, 'loaded, not re-created');
  t.same(readWireguardKeys(caDir), keys);
  t.equal(fs.readFileSync(file, 'utf8'), before, 'a load with nothing new does not rewrite the file');
  t.same(fs.readdirSync(caDir), ['wireguard.json'], 'no temporary file is left');
});

t.test('clients named later get the next free address; existing ones never change', async (t) => {
  const caDir = tempDir();
  const first = loadOrCreateWireguardKeys(caDir, ['phone', 'tablet']);
  t.same(first.clients.map((c) => [c.name, c.address]), [['phone', '10.64.77.2'], ['tablet', '10.64.77.3']]);
  const second = loadOrCreateWireguardKeys(caDir, ['laptop', 'phone', 'laptop']);
  t.same(second.server, first.server, 'the server keeps its keys');
  t.same(second.clients.slice(0, 2), first.clients, 'phone and tablet unchanged (tablet kept though not named)');
  t.same(second.clients.map((c) => [c.name, c.address]), [['phone', '10.64.77.2'], ['tablet', '10.64.77.3'], ['laptop', '10.64.77.4']]);
  t.equal(fs.statSync(path.join(caDir, 'wireguard.json')).mode & 0o777, 0o600, 'still 0600 after the update');

  // A gap (a client removed by hand) is filled first.
  const file = path.join(caDir, 'wireguard.json');
  const data = JSON.parse(fs.readFileSync(file, 'utf8'));
  data.clients = data.clients.filter((c: { name: string }) => c.name !== 'tablet');
  fs.writeFileSync(file, JSON.stringify(data));
  t.equal(loadOrCreateWireguardKeys(caDir, ['watch']).clients.find((c) => c.name === 'watch')?.address, '10.64.77.3');
});

t.test('the keys are X25519 as wg makes them: wg pubkey agrees', { skip: hasWg ? false : 'needs wg (wireguard-tools)' }, async (t) => {
  const keys = loadOrCreateWireguardKeys(tempDir(), ['phone', 'tablet']);
  for (const pair of [keys.server, ...keys.clients]) {
    const result = spawnSync('wg', ['pubkey'], { input: `${pair.privateKey}\n`, encoding: 'utf8' });
    t.equal(result.stdout.trim(), pair.publicKey);
  }
  // And the other way round: a key from wg genkey gives wg's public key here too.
  const generated = spawnSync('wg', ['genkey'], { encoding: 'utf8' }).stdout.trim();
  t.equal(publicKeyOf(generated), spawnSync('wg', ['pubkey'], { input: `${generated}\n`, encoding: 'utf8' }).stdout.trim());
});

t.test('a corrupt or foreign wireguard.json is refused in one line naming the file, and never overwritten', async (t) => {
  const valid = (() => {
    const dir = tempDir();
    loadOrCreateWireguardKeys(dir, ['phone']);
    return JSON.parse(fs.readFileSync(path.join(dir, 'wireguard.json'), 'utf8'));
  })();
  const other = generateKeyPair();
  const cases: Array<[string, string]> = [
    ['not JSON', '{"format": "phonehome-wire'],
    ['empty', ''],
    ['another program\'s JSON', JSON.stringify({ privateKey: other.privateKey })],
    ['an array', '[]'],
    ['a public key that is not the private key\'s', JSON.stringify({ ...valid, server: { ...valid.server, publicKey: other.publicKey } })],
    ['a short key', JSON.stringify({ ...valid, server: { privateKey: 'AAAA', publicKey: 'AAAA' } })],
    ['a client outside the subnet', JSON.stringify({ ...valid, clients: [{ ...valid.clients[0], address: '192.168.1.2' }] })],
    ['a client on the gateway', JSON.stringify({ ...valid, clients: [{ ...valid.clients[0], address: '10.64.77.1' }] })],
    ['a client name with a newline', JSON.stringify({ ...valid, clients: [{ ...valid.clients[0], name: 'phone\nDNS = 1.1.1.1' }] })],
    ['a duplicate address', JSON.stringify({ ...valid, clients: [valid.clients[0], { ...valid.clients[0], name: 'twin' }] })],
    ['an endpoint with a newline', JSON.stringify({ ...valid, endpoint: '1.2.3.4:51820\nAllowedIPs = 0.0.0.0/0' })],
    ['a subnet that is not 10.x.y.0/24', JSON.stringify({ ...valid, subnet: '10.300.1.0/24', gateway: '10.300.1.1' })],
  ];
  for (const [what, content] of cases) {
    const caDir = tempDir();
    const file = path.join(caDir, 'wireguard.json');
    fs.writeFileSync(file, content, { mode: 0o600 });
    for (const load of [() => loadOrCreateWireguardKeys(caDir, ['phone', 'new']), () => readWireguardKeys(caDir), () => rememberEndpoint(caDir, '192.0.2.1:51820')]) {
      try {
        load();
        t.fail(`${what}: accepted`);
      } catch (error) {
        t.ok(error instanceof ConfigError, `${what}: a ConfigError`);
        t.match((error as Error).message, file, `${what}: names the file`);
        t.notMatch((error as Error).message, /\n/, `${what}: one line`);
      }
    }
    t.equal(fs.readFileSync(file, 'utf8'), content, `${what}: left as it was`);
  }
  const caDir = tempDir();
  fs.mkdirSync(path.join(caDir, 'wireguard.json'));
  t.throws(() => readWireguardKeys(caDir), ConfigError, 'a folder in its place');
});

t.test('the announced endpoint is remembered, the keys untouched', async (t) => {
  const caDir = tempDir();
  const keys = loadOrCreateWireguardKeys(caDir, ['phone']);
  t.equal(keys.endpoint, undefined);
  rememberEndpoint(caDir, '192.168.1.20:51820');
  t.same(readWireguardKeys(caDir), { ...keys, endpoint: '192.168.1.20:51820' });
  rememberEndpoint(caDir, '[2001:db8::1]:51820');
  t.equal(readWireguardKeys(caDir)?.endpoint, '[2001:db8::1]:51820');
  t.equal(loadOrCreateWireguardKeys(caDir, ['phone']).endpoint, '[2001:db8::1]:51820', 'kept by a later load');
  t.throws(() => rememberEndpoint(tempDir(), '192.168.1.20:51820'), ConfigError, 'no keys, nothing to remember');
  for (const bad of ['192.168.1.20', '192.168.1.20:0', '192.168.1.20:70000', 'host:51820\nDNS = 1.1.1.1', 'a b:1', '2001:db8::1:51820', '']) {
    t.throws(() => validateEndpoint(bad), ConfigError, `refused: ${JSON.stringify(bad)}`);
  }
  for (const good of ['lab.local:51820', '10.0.0.5:1', '[fe80::1]:65535']) t.equal(validateEndpoint(good), good);
});

t.test('client names: letters, digits, - and _, nothing that could break a file, a config or a URL', async (t) => {
  for (const name of ['phone', 'Pixel-7', 'alice_2', '7', 'a'.repeat(32)]) t.equal(validateClientName(name), name, `accepted: ${name}`);
  const lookAlikes = ['', ' phone', 'phone ', 'ph one', 'phone\n', 'phone\nDNS = 1.1.1.1', '../phone', 'phone/1', 'phone.conf', '-phone', '_phone', 'ph\u043ene' /* Cyrillic o */, 'phone\u200b', 'ph%6fne', 'phone?x=1', 'phone#', 'a'.repeat(33), 'phöne'];
  for (const name of lookAlikes) {
    try {
      validateClientName(name);
      t.fail(`accepted: ${JSON.stringify(name)}`);
    } catch (error) {
      t.ok(error instanceof ConfigError, `refused: ${JSON.stringify(name)}`);
      t.match((error as Error).message, /^--wireguard-client: ".*" is not a client name/);
      t.notMatch((error as Error).message, /\n/, 'one line, control characters escaped');
    }
  }
  t.throws(() => loadOrCreateWireguardKeys(tempDir(), ['phone', 'bad name']), ConfigError, 'a bad name is refused before any file is written');
});
