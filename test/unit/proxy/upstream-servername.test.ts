// The server name sent upstream for a decrypted connection, and the one our leaf names: the
// device's SNI as it wrote it; the target's name when the device's hello named something we could
// not take; none when its hello named nothing at all. A table, no sockets.

import t from 'tap';
import { leafServername, newConnectionContext, tlsFactsOfHello, upstreamServername } from '../../../src/proxy/context.js';
import type { Target } from '../../../src/proxy/access/target.js';

const byName: Target = { host: 'shop.example.test', port: 443, hostKind: 'dns' };
const byAddress: Target = { host: '192.0.2.7', port: 443, hostKind: 'ipv4' };

function context(target: Target, helloSni: string | undefined, validated: string | undefined) {
  const connection = newConnectionContext('http', { ip: '192.168.1.23', port: 50_000 }, target);
  connection.tls = tlsFactsOfHello({ kind: 'client-hello', alpn: [], versions: { oldest: 'TLSv1', newest: 'TLSv1.2' }, suites: [0xc02f], ...(helloSni !== undefined ? { sni: helloSni } : {}) }, validated);
  return connection;
}

const rows: Array<[string, Target, string | undefined, string | undefined, string | undefined, string | undefined]> = [
  ['an SNI: sent as it is', byName, 'shop.example.test', 'shop.example.test', 'shop.example.test', 'shop.example.test'],
  ['an SNI in upper case with a trailing dot: sent as written, the leaf names it validated', byName, 'SHOP.example.test.', 'shop.example.test', 'SHOP.example.test.', 'shop.example.test'],
  ['no SNI, a CONNECT by name: none sent (until 2026-12-07 the name was), the leaf names the target', byName, undefined, undefined, undefined, 'shop.example.test'],
  ['no SNI, an address: none sent, the leaf names none of its own', byAddress, undefined, undefined, undefined, undefined],
  ['an SNI we could not take (not a host name): the target\'s name instead', byName, 'not a name!', undefined, 'shop.example.test', 'shop.example.test'],
];

for (const [name, target, helloSni, validated, upstream, leaf] of rows) {
  t.test(name, async (t) => {
    const connection = context(target, helloSni, validated);
    t.equal(upstreamServername(connection), upstream, 'sent upstream');
    t.equal(leafServername(connection), leaf, 'named by our leaf');
  });
}
