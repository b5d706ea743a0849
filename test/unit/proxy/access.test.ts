import t from 'tap';
import { ClientAccess, defaultAllowedClients, normalizeClientIp } from '../../../src/proxy/access/client-access.js';
import { ProxyAuth } from '../../../src/proxy/access/proxy-auth.js';

const defaults = new ClientAccess([...defaultAllowedClients]);

const rows: Array<[string, boolean]> = [
  ['127.0.0.1', true], ['127.8.9.10', true], ['::1', true], ['::ffff:127.0.0.1', true],
  ['192.168.1.23', true], ['::ffff:192.168.1.23', true], ['10.1.2.3', true], ['172.16.0.1', true], ['172.31.255.255', true],
  ['fd12:3456::1', true], ['fe80::1', true],
  // Public addresses and look-alikes just outside the private ranges.
  ['8.8.8.8', false], ['172.32.0.1', false], ['172.15.255.255', false], ['192.169.0.1', false], ['11.0.0.1', false],
  ['::ffff:8.8.8.8', false], ['2001:4860:4860::8888', false], ['', false],
];
for (const [ip, allowed] of rows) {
  t.test(`default access ${allowed ? 'allows' : 'refuses'} ${ip || '(none)'}`, async (t) => {
    t.equal(defaults.allows(ip || undefined), allowed);
  });
}

t.test('--allow-client widens the defaults', async (t) => {
  const wider = new ClientAccess([...defaultAllowedClients, '203.0.113.0/24']);
  t.ok(wider.allows('203.0.113.77'));
  t.notOk(wider.allows('203.0.114.1'));
});

t.test('bad CIDR ranges are configuration errors that name the option', async (t) => {
  for (const bad of ['10.0.0.0/33', 'nonsense', '10.0.0.0/x', '::/129']) {
    t.throws(() => new ClientAccess([bad]), /--allow-client/, bad);
  }
});

t.test('normalizes IPv4-mapped client addresses', async (t) => {
  t.equal(normalizeClientIp('::ffff:192.168.1.5'), '192.168.1.5');
  t.equal(normalizeClientIp('fe80::1'), 'fe80::1');
  t.equal(normalizeClientIp(undefined), 'unknown');
});

t.test('proxy auth accepts only the exact Basic credentials', async (t) => {
  const auth = new ProxyAuth('lab:s3cret');
  t.ok(auth.accepts(`Basic ${Buffer.from('lab:s3cret').toString('base64')}`));
  t.notOk(auth.accepts(`Basic ${Buffer.from('lab:wrong').toString('base64')}`));
  t.notOk(auth.accepts(undefined));
  t.notOk(auth.accepts(['a', 'b']));
  t.throws(() => new ProxyAuth('nocolon'), /USER:PASS/);
  t.throws(() => new ProxyAuth(':pass'), /USER:PASS/);
});
