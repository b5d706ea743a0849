import t from 'tap';
import { DnsNames, dnsLesson, dnsNameGraceMs } from '../../../src/proxy/dns/dns-names.js';
import type { DnsAnswer, Flow } from '../../../src/model/flow.js';
import { dnsFlow } from '../../helpers/dns-flows.js';
import { makeFlow } from '../../helpers/flows.js';

const a = (name: string, data: string, ttl = 60): DnsAnswer => ({ name, type: 'A', ttl, data });
const aaaa = (name: string, data: string, ttl = 60): DnsAnswer => ({ name, type: 'AAAA', ttl, data });
const cname = (name: string, data: string, ttl = 60): DnsAnswer => ({ name, type: 'CNAME', ttl, data });

interface Row {
  readonly what: string;
  readonly learn: ReadonlyArray<readonly [name: string, answers: DnsAnswer[], atMs: number]>;
  readonly ask: string;
  readonly atMs: number;
  readonly expect: string | undefined;
  readonly canonical?: string;
}

const t0 = 1_700_000_000_000;
const rows: Row[] = [
  { what: 'an A record names its address', learn: [['api.example.com', [a('api.example.com', '93.184.216.34')], t0]], ask: '93.184.216.34', atMs: t0 + 1, expect: 'api.example.com' },
  { what: 'an AAAA record names its address in any spelling', learn: [['v6.example.com', [aaaa('v6.example.com', '2001:db8:0:0:0:0:0:1')], t0]], ask: '2001:DB8::1', atMs: t0, expect: 'v6.example.com' },
  { what: 'an IPv4-mapped address finds the IPv4 answer', learn: [['m.example.com', [a('m.example.com', '10.0.0.7')], t0]], ask: '::ffff:10.0.0.7', atMs: t0, expect: 'm.example.com' },
  { what: 'the name is lower-case and without the final dot', learn: [['WWW.Example.COM.', [a('www.example.com', '1.2.3.4')], t0]], ask: '1.2.3.4', atMs: t0, expect: 'www.example.com' },
  { what: 'an unknown address has no name', learn: [['api.example.com', [a('api.example.com', '1.2.3.4')], t0]], ask: '1.2.3.5', atMs: t0, expect: undefined },
  {
    what: 'a CNAME chain gives the address the name the device asked for, the canonical name kept',
    learn: [['www.shop.example', [cname('www.shop.example', 'shop.cdn.example.net'), cname('shop.cdn.example.net', 'edge-7.cdn.example.net'), a('edge-7.cdn.example.net', '203.0.113.9')], t0]],
    ask: '203.0.113.9', atMs: t0, expect: 'www.shop.example', canonical: 'edge-7.cdn.example.net',
  },
  {
    what: 'a CNAME chain given out of order is still followed',
    learn: [['www.shop.example', [a('edge.cdn.example.net', '203.0.113.10'), cname('mid.cdn.example.net', 'edge.cdn.example.net'), cname('www.shop.example', 'mid.cdn.example.net')], t0]],
    ask: '203.0.113.10', atMs: t0, expect: 'www.shop.example', canonical: 'edge.cdn.example.net',
  },
  { what: 'a record off the chain names nothing', learn: [['a.example', [a('a.example', '1.1.1.1'), a('other.example', '2.2.2.2')], t0]], ask: '2.2.2.2', atMs: t0, expect: undefined },
  { what: 'a CNAME loop ends', learn: [['loop.example', [cname('loop.example', 'x.example'), cname('x.example', 'loop.example'), a('x.example', '5.5.5.5')], t0]], ask: '5.5.5.5', atMs: t0, expect: 'loop.example' },
  { what: 'still named within TTL + grace', learn: [['short.example', [a('short.example', '9.9.9.9', 30)], t0]], ask: '9.9.9.9', atMs: t0 + 30_000 + dnsNameGraceMs, expect: 'short.example' },
  { what: 'no longer named after TTL + grace', learn: [['short.example', [a('short.example', '9.9.9.9', 30)], t0]], ask: '9.9.9.9', atMs: t0 + 30_000 + dnsNameGraceMs + 1, expect: undefined },
  { what: 'TTL 0 still gets the grace', learn: [['zero.example', [a('zero.example', '9.9.9.8', 0)], t0]], ask: '9.9.9.8', atMs: t0 + dnsNameGraceMs, expect: 'zero.example' },
  { what: 'not named before the answer was learned (a flow that started earlier)', learn: [['late.example', [a('late.example', '7.7.7.7')], t0]], ask: '7.7.7.7', atMs: t0 - 1, expect: undefined },
  {
    what: 'a shared address: the most recent name wins',
    learn: [['one.example', [a('one.example', '8.8.4.4')], t0], ['two.example', [a('two.example', '8.8.4.4')], t0 + 1000]],
    ask: '8.8.4.4', atMs: t0 + 2000, expect: 'two.example',
  },
  {
    what: 'a shared address asked at a time between the two answers: the one known then',
    learn: [['one.example', [a('one.example', '8.8.4.4')], t0], ['two.example', [a('two.example', '8.8.4.4')], t0 + 1000]],
    ask: '8.8.4.4', atMs: t0 + 500, expect: 'one.example',
  },
  {
    what: 'a shared address whose newest name expired: the older one still valid',
    learn: [['long.example', [a('long.example', '4.4.4.4', 86_400)], t0], ['brief.example', [a('brief.example', '4.4.4.4', 1)], t0 + 1000]],
    ask: '4.4.4.4', atMs: t0 + 1000 + 1000 + dnsNameGraceMs + 1, expect: 'long.example',
  },
  {
    what: 'learning a name again refreshes it',
    learn: [['one.example', [a('one.example', '3.3.3.3')], t0], ['two.example', [a('two.example', '3.3.3.3')], t0 + 1000], ['one.example', [a('one.example', '3.3.3.3')], t0 + 2000]],
    ask: '3.3.3.3', atMs: t0 + 3000, expect: 'one.example',
  },
  { what: 'non-address records name nothing', learn: [['txt.example', [{ name: 'txt.example', type: 'TXT', ttl: 60, data: '1.2.3.4' }], t0]], ask: '1.2.3.4', atMs: t0, expect: undefined },
  { what: 'an A record whose data is not an address is ignored', learn: [['bad.example', [a('bad.example', 'not-an-ip')], t0]], ask: 'not-an-ip', atMs: t0, expect: undefined },
];

for (const row of rows) {
  t.test(row.what, async (t) => {
    const names = new DnsNames();
    for (const [name, answers, atMs] of row.learn) names.learn(name, answers, atMs);
    t.equal(names.nameOf(row.ask, row.atMs), row.expect);
    if (row.canonical !== undefined) t.equal(names.canonicalOf(row.ask, row.atMs), row.canonical);
  });
}

t.test('the map is bounded: the oldest pair goes first', async (t) => {
  const names = new DnsNames({ maxEntries: 3 });
  for (let i = 1; i <= 5; i++) names.learn(`h${i}.example`, [a(`h${i}.example`, `10.0.0.${i}`)], t0 + i);
  t.equal(names.size, 3);
  t.equal(names.nameOf('10.0.0.1', t0 + 10), undefined);
  t.equal(names.nameOf('10.0.0.2', t0 + 10), undefined);
  t.equal(names.nameOf('10.0.0.3', t0 + 10), 'h3.example');
  t.equal(names.nameOf('10.0.0.5', t0 + 10), 'h5.example');
});

t.test('one address keeps a bounded number of names', async (t) => {
  const names = new DnsNames();
  for (let i = 0; i < 100; i++) names.learn(`n${i}.example`, [a(`n${i}.example`, '192.0.2.1')], t0 + i);
  t.ok(names.size <= 16, `${names.size} names for one address`);
  t.equal(names.nameOf('192.0.2.1', t0 + 100), 'n99.example');
});

t.test('nameOf defaults to now', async (t) => {
  const names = new DnsNames();
  names.learn('now.example', [a('now.example', '198.51.100.1')], Date.now());
  t.equal(names.nameOf('198.51.100.1'), 'now.example');
});

t.test('the map learns from dns flows: an answer with addresses teaches, anything else does not', async (t) => {
  const at = '2026-11-27T18:30:11.000Z';
  const rows: ReadonlyArray<readonly [what: string, flow: Flow, lesson: boolean]> = [
    ['an answer with an address', dnsFlow('photos.example.com', { at, dns: { answers: [a('photos.example.com', '203.0.113.5')] } }), true],
    ['NXDOMAIN', dnsFlow('photos.example.com', { at, dns: { rcode: 'NXDOMAIN', answers: [a('photos.example.com', '203.0.113.5')] } }), false],
    ['NOERROR with no answers (NODATA)', dnsFlow('photos.example.com', { at }), false],
    ['a malformed question (no name)', dnsFlow('', { at, dns: { answers: [a('x.example.com', '203.0.113.5')] } }), false],
    ['SERVFAIL', dnsFlow('photos.example.com', { at, dns: { rcode: 'SERVFAIL' } }), false],
    ['an HTTP flow', makeFlow({ kind: 'http' }), false],
  ];
  for (const [what, flow, teaches] of rows) {
    const lesson = dnsLesson(flow);
    t.equal(lesson !== undefined, teaches, what);
    const names = new DnsNames();
    names.learnFrom(flow);
    t.equal(names.nameOf('203.0.113.5', Date.parse(at)), teaches ? 'photos.example.com' : undefined, `${what}: the map`);
  }
  t.same(dnsLesson(rows[0]![1]), { name: 'photos.example.com', answers: [a('photos.example.com', '203.0.113.5')], atMs: Date.parse(at) }, 'learned as of the moment the answer left');
});
