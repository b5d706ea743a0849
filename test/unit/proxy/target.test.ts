import t from 'tap';
import { formatAuthority, parseTarget } from '../../../src/proxy/access/target.js';

const accepted: Array<[string, number | undefined, string, number, string]> = [
  ['api.example.com:443', undefined, 'api.example.com', 443, 'dns'],
  ['API.Example.COM.:8443', undefined, 'api.example.com', 8443, 'dns'],
  ['42.62.48.10:443', undefined, '42.62.48.10', 443, 'ipv4'],
  ['[2001:db8::1]:443', undefined, '2001:db8::1', 443, 'ipv6'],
  ['[::1]:8080', undefined, '::1', 8080, 'ipv6'],
  ['under_score.example.com:443', undefined, 'under_score.example.com', 443, 'dns'],
  ['example.com', 80, 'example.com', 80, 'dns'],
  ['xn--bcher-kva.example:443', undefined, 'xn--bcher-kva.example', 443, 'dns'],
];

for (const [input, defaultPort, host, port, kind] of accepted) {
  t.test(`accepts ${input}`, async (t) => {
    const result = parseTarget(input, defaultPort);
    t.ok(result.ok, JSON.stringify(result));
    if (result.ok) t.same(result.target, { host, port, hostKind: kind });
  });
}

// Hostile or broken targets: each must be refused before it reaches a socket, a file or a log.
const refused: Array<[string, RegExp]> = [
  ['../../x:443', /character or label/],
  ['..%2f..%2fx:443', /character or label/],
  ['x.test:99999', /bad port/],
  ['x.test:0', /bad port/],
  ['x.test:-1', /bad port/],
  ['x.test:443abc', /bad port/],
  ['x.test', /no port/],
  [':443', /empty host/],
  ['a/b:443', /character or label/],
  ['a\\b:443', /character or label/],
  ['a\u0000b:443', /character or label/],
  ['host with space:443', /character or label/],
  [`${'a'.repeat(64)}.example:443`, /character or label/],
  [`${'a.'.repeat(127)}aa:443`, /longer than 253/],
  ['-lead.example:443', /character or label/],
  ['999.1.1.1:443', /numeric host/],
  ['2001:db8::1:443', /IPv6 target without brackets/],
  ['[2001:db8::zz]:443', /bad IPv6/],
  ['[::1]x:443', /junk after/],
  ['[::1:443', /unclosed/],
  ['a..b:443', /character or label/],
];

for (const [input, reason] of refused) {
  t.test(`refuses ${JSON.stringify(input).slice(0, 40)}`, async (t) => {
    const result = parseTarget(input);
    t.notOk(result.ok);
    if (!result.ok) t.match(result.reason, reason);
  });
}

t.test('formats authorities with brackets for IPv6 and without default ports', async (t) => {
  t.equal(formatAuthority({ host: '::1', port: 443 }, 443), '[::1]');
  t.equal(formatAuthority({ host: '::1', port: 8443 }, 443), '[::1]:8443');
  t.equal(formatAuthority({ host: 'a.example', port: 80 }, 80), 'a.example');
});
