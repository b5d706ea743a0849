import t from 'tap';
import { parseDnsUpstream, systemResolver } from '../../../src/proxy/dns/dns-upstream.js';
import { ConfigError } from '../../../src/util/errors.js';

const good: Array<[string, { ip: string; port: number }]> = [
  ['9.9.9.9', { ip: '9.9.9.9', port: 53 }],
  ['192.168.1.1:5353', { ip: '192.168.1.1', port: 5353 }],
  [' 10.0.0.1 ', { ip: '10.0.0.1', port: 53 }],
  ['2620:fe::fe', { ip: '2620:fe::fe', port: 53 }],
  ['::1', { ip: '::1', port: 53 }],
  ['[2620:fe::fe]:853', { ip: '2620:fe::fe', port: 853 }],
  ['[::1]', { ip: '::1', port: 53 }],
];
for (const [text, expected] of good) {
  t.test(`--dns-upstream ${JSON.stringify(text)}`, async (t) => {
    t.same(parseDnsUpstream(text), expected);
  });
}

const bad = ['', 'dns.google', 'dns.google:53', '9.9.9.9:0', '9.9.9.9:65536', '9.9.9.9:', '9.9.9', '300.1.1.1', '[9.9.9.9', '1.2.3.4:53:53', 'https://9.9.9.9/', '[dns.google]:53'];
for (const text of bad) {
  t.test(`--dns-upstream ${JSON.stringify(text)} is refused in one line`, async (t) => {
    t.throws(() => parseDnsUpstream(text), ConfigError);
    try {
      parseDnsUpstream(text);
    } catch (error) {
      t.match((error as Error).message, /^--dns-upstream .*: use a resolver's IP address/);
      t.notMatch((error as Error).message, /\n/);
    }
  });
}

t.test('the system resolver is the first usable server', async (t) => {
  t.same(systemResolver(['127.0.0.53']), { ip: '127.0.0.53', port: 53 });
  t.same(systemResolver(['[::1]:5353', '1.1.1.1']), { ip: '::1', port: 5353 });
  t.same(systemResolver(['fe80::1', '1.1.1.1']), { ip: 'fe80::1', port: 53 });
  t.same(systemResolver(['nonsense', '8.8.8.8:53']), { ip: '8.8.8.8', port: 53 });
});

t.test('no system resolver is a configuration error naming --dns-upstream', async (t) => {
  t.throws(() => systemResolver([]), { name: 'ConfigError', message: /--dns-upstream IP/ });
});

t.test('the system resolver by default comes from this machine', async (t) => {
  // Whatever /etc/resolv.conf says here, the answer is an address and a port (or a clear error).
  try {
    const upstream = systemResolver();
    t.ok(upstream.ip.length > 0 && upstream.port > 0);
  } catch (error) {
    t.type(error, ConfigError);
  }
});
