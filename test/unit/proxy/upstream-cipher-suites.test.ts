// The suites we offer a server on a device's behalf: the device's own, in its order, those we
// must not offer left out; and the table's numbers and names agree with OpenSSL's.

import t from 'tap';
import { execFileSync } from 'node:child_process';
import { offerableSuites } from '../../../src/proxy/upstream-cipher-suites.js';

t.test('the device\'s suites, in its order, TLS 1.3\'s apart', async (t) => {
  const rows: Array<[string, number[], string[], string[]]> = [
    ['Chrome-like: TLS 1.3 first, then ECDHE and RSA', [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xcca9, 0xc013, 0x009c, 0x002f],
      ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'],
      ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-AES128-SHA', 'AES128-GCM-SHA256', 'AES128-SHA']],
    ['an order that puts the old suite first is kept', [0x002f, 0xc02f], [], ['AES128-SHA', 'ECDHE-RSA-AES128-GCM-SHA256']],
    ['IoT: TLS 1.3 AES-CCM and TLS 1.2 CCM-8', [0x1304, 0x1305, 0xc0ae], ['TLS_AES_128_CCM_SHA256', 'TLS_AES_128_CCM_8_SHA256'], ['ECDHE-ECDSA-AES128-CCM8']],
    ['Camellia, ARIA and DHE', [0x0041, 0xc050, 0x009e, 0xccaa], [], ['CAMELLIA128-SHA', 'ARIA128-GCM-SHA256', 'DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-CHACHA20-POLY1305']],
    ['a suite said twice is offered once', [0xc02f, 0xc02f], [], ['ECDHE-RSA-AES128-GCM-SHA256']],
  ];
  for (const [device, suites, tls13, upToTls12] of rows) t.same(offerableSuites(suites), { tls13, upToTls12 }, device);
});

t.test('suites we must not offer a server are left out, whatever the device offered', async (t) => {
  const rows: Array<[string, number[]]> = [
    ['RC4 (RSA, ECDHE)', [0x0005, 0xc011]],
    ['3DES (Android 4.4\'s last resort)', [0x000a, 0xc012]],
    ['NULL ciphers', [0x0001, 0x0002, 0x003b, 0xc010]],
    ['anonymous key exchanges (no certificate to check)', [0x0034, 0x00a6, 0xc018]],
    ['export and DES', [0x0003, 0x0009, 0x0015]],
    ['PSK and SRP (no certificate)', [0x008c, 0x00a8, 0xc035, 0xc01d]],
    ['DSS certificates, SEED, IDEA', [0x0032, 0x0096, 0x0007]],
    ['GREASE and signalling values, should one get this far', [0x0a0a, 0x00ff, 0x5600]],
  ];
  for (const [kind, suites] of rows) t.same(offerableSuites(suites), { tls13: [], upToTls12: [] }, kind);
  t.same(offerableSuites([0x000a, 0x002f, 0x0005]), { tls13: [], upToTls12: ['AES128-SHA'] }, 'the rest of a list that has some stays');
});

t.test('every suite in the table is OpenSSL\'s, by the same number', async (t) => {
  const all: number[] = [];
  for (let suite = 0; suite <= 0xffff; suite++) all.push(suite);
  const table = offerableSuites(all);
  const names = [...table.tls13, ...table.upToTls12];
  t.ok(names.length >= 60, `${names.length} suites`);
  const listing = execFileSync('openssl', ['ciphers', '-V', '-ciphersuites', table.tls13.join(':'), 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'], { encoding: 'utf8' });
  const byName = new Map<string, number>();
  for (const line of listing.split('\n')) {
    const match = /^\s*0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)/.exec(line);
    if (match) byName.set(match[3]!, parseInt(match[1]! + match[2]!, 16));
  }
  for (const name of names) {
    const number = byName.get(name);
    t.ok(number !== undefined, `${name} is OpenSSL's`);
    if (number !== undefined) t.same(offerableSuites([number]), name.startsWith('TLS_') ? { tls13: [name], upToTls12: [] } : { tls13: [], upToTls12: [name] }, `${name} is 0x${number.toString(16)}`);
  }
});
