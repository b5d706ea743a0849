// DNS tunnelling: many distinct long encoded labels under one domain make one finding per run;
// CDN shards, mail-authentication and ACME lookups, reverse lookups, mDNS, a UUID host once and a
// few hash-named hosts do not.

import t from 'tap';
import crypto from 'node:crypto';
import { DnsTunnelWatch, looksEncoded } from '../../../src/inspect/dns/dns-tunnel-watch.js';
import { FindingPipeline } from '../../../src/app/finding-pipeline.js';
import { EventBus } from '../../../src/flow/events.js';
import { defaultDetectors } from '../../../src/inspect/detect/registry.js';
import type { Finding } from '../../../src/model/finding.js';
import type { Flow } from '../../../src/model/flow.js';
import { dnsFlow } from '../../helpers/dns-flows.js';
import { makeFlow } from '../../helpers/flows.js';

const start = Date.parse('2026-11-27T18:30:00.000Z');
/** A deterministic "random" label: the hex of a hash, so every run of the test sees the same names. */
const hexLabel = (seed: string, chars = 40) => crypto.createHash('sha256').update(seed).digest('hex').slice(0, chars);
const base32Label = (seed: string) => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return [...crypto.createHash('sha512').update(seed).digest()].slice(0, 52).map((b) => alphabet[b % 32]).join('');
};

/** Names in order, `every` ms apart; the drafts the watch made, with the index of the query that made each. */
function watch(names: string[], every = 2_000, type = 'A', w = new DnsTunnelWatch()) {
  const made: Array<{ at: number; summary: string; path: readonly string[]; details: Record<string, unknown> }> = [];
  names.forEach((name, i) => {
    const draft = w.observe(dnsFlow(name, { type, at: new Date(start + i * every).toISOString() }));
    if (draft) made.push({ at: i, summary: draft.summary, path: draft.evidence.path, details: draft.details as Record<string, unknown> });
  });
  return made;
}
const range = (n: number) => [...Array(n).keys()];

t.test('what a tunnel label looks like', async (t) => {
  t.ok(looksEncoded(hexLabel('a')), 'hex, 40 characters');
  t.ok(looksEncoded(base32Label('a')), 'base32, 52 characters');
  t.notOk(looksEncoded(hexLabel('a', 16)), 'too short');
  t.notOk(looksEncoded('clientservicesgoogleapis'), 'a word: no digits');
  t.notOk(looksEncoded('aaaaaaaaaaaaaaaaaaaaaaaa1'), 'low entropy');
  t.notOk(looksEncoded('a23-45-67-89'), 'an Akamai shard is short');
});

t.test('tunnels are found, once per domain', async (t) => {
  const rows: Array<[string, string[], string, number, string?]> = [
    ['hex labels under t.example.net', range(24).map((i) => `${hexLabel(`h${i}`)}.t.example.net`), 't.example.net', 7],
    ['base32 TXT queries (iodine-like)', range(10).map((i) => `${base32Label(`b${i}`)}.x.tunnel.example.org`), 'x.tunnel.example.org', 7, 'TXT'],
    ['dnscat-like: two data labels and a session', range(9).map((i) => `${hexLabel(`d${i}`, 63)}.${hexLabel(`e${i}`, 20)}.c2.example.com`), 'c2.example.com', 7],
  ];
  for (const [what, names, zone, index, type] of rows) {
    const made = watch(names, 2_000, type ?? 'A');
    t.equal(made.length, 1, `${what}: one finding`);
    t.equal(made[0]?.at, index, `${what}: at the 8th distinct query`);
    t.match(made[0]?.summary, new RegExp(`^DNS tunnelling suspected: 8 queries with long random labels under ${zone.replace(/\./g, '\\.')}`), what);
    t.same(made[0]?.path, ['dns:query', 'tunnel'], `${what}: path`);
    t.match(made[0]?.details, { queries: 8, types: { [type ?? 'A']: 8 } }, `${what}: details`);
  }
});

t.test('look-alikes are not tunnels', async (t) => {
  const rows: Array<[string, string[], number?]> = [
    ['Akamai shards', range(30).map((i) => `a23-45-${60 + i}-89.deploy.static.akamaitechnologies.com`)],
    ['YouTube video shards', range(30).map((i) => `r${i % 9}---sn-4g5e6n${hexLabel(`y${i}`, 2)}z.googlevideo.com`)],
    ['CloudFront once', ['d1a2b3c4d5e6f7.cloudfront.net']],
    ['DKIM selectors (TXT)', range(20).map((i) => `${hexLabel(`k${i}`)}._domainkey.example.com`)],
    ['ACME challenges', range(20).map((i) => `_acme-challenge.${hexLabel(`a${i}`, 24)}.example.com`)],
    ['DMARC', range(20).map((i) => `_dmarc.${hexLabel(`m${i}`, 24)}.example.com`)],
    ['reverse lookups', range(30).map((i) => `${i}.${i + 1}.168.192.in-addr.arpa`)],
    ['mDNS names', range(20).map((i) => `${hexLabel(`l${i}`)}.local`)],
    ['a UUID-named host once', ['6f1c7a2e-0d3b-4c55-9a8e-2b1f4d6c7e90.example.com']],
    ['a few hash-named hosts under one CDN', range(5).map((i) => `${hexLabel(`c${i}`, 32)}.cdn.example.net`)],
    ['one long IoT endpoint, asked again and again', range(30).map(() => 'a1b2c3d4e5f6g7h8i9j0-ats.iot.eu-west-1.amazonaws.com')],
    ['long words without digits', range(20).map((i) => `${['clientservices', 'connectivitycheck', 'firebaseinstallations'][i % 3]}${'abcdefghijklmnopqrst'.slice(0, i)}x.example.com`)],
    ['eight names spread over more than the window', range(8).map((i) => `${hexLabel(`s${i}`)}.t.example.net`), 2 * 60_000],
  ];
  for (const [what, names, every] of rows) t.same(watch(names, every ?? 2_000), [], what);
});

t.test('only DNS flows count, and the state is bounded', async (t) => {
  const w = new DnsTunnelWatch();
  t.equal(w.observe(makeFlow({ target: { host: `${hexLabel('x')}.t.example.net`, port: 443 } })), undefined, 'an HTTP flow');
  // Three domains taking turns with room for two: each is forgotten before it reaches the count.
  const names = range(30).map((i) => `${hexLabel(`r${i}`)}.t.example${i % 3}.net`);
  t.same(watch(names, 1_000, 'A', new DnsTunnelWatch({ maxDomains: 2 })), [], 'forgotten, not grown');
  t.equal(watch(names, 1_000, 'A', new DnsTunnelWatch({ maxDomains: 3 })).length, 3, 'with room, each domain once');
});

t.test('the finding pipeline reports a tunnel once per run, with the mode and the peer', async (t) => {
  const bus = new EventBus();
  const findings: Finding[] = [];
  bus.on('finding', (f) => findings.push(f));
  const pipeline = new FindingPipeline(bus, { detectors: defaultDetectors });
  for (const i of range(20)) {
    const flow: Flow = dnsFlow(`${hexLabel(`p${i}`)}.t.example.net`, { type: 'TXT', at: new Date(start + i * 500).toISOString() });
    bus.emit('flow:end', flow);
  }
  await pipeline.close();
  const tunnels = findings.filter((f) => f.detector === 'dns/tunnel');
  t.equal(tunnels.length, 1);
  t.match(tunnels[0], { category: 'opaque', severity: 'low', direction: 'request', mode: 'wireguard', client: { name: 'phone' }, evidence: { path: ['dns:query', 'tunnel'] } });
  t.equal(findings.length, 1, 'random labels are not themselves findings');
});

t.test('the shipped rules raise a DNS tunnel to medium, and say so on the finding', async (t) => {
  const { loadRules } = await import('../../../src/enrich/rules.js');
  const { defaultRulesDir } = await import('../../../src/app/options.js');
  const bus = new EventBus();
  const findings: Finding[] = [];
  bus.on('finding', (f) => findings.push(f));
  const pipeline = new FindingPipeline(bus, { detectors: defaultDetectors, rules: loadRules(defaultRulesDir(), true) });
  for (const i of range(20)) bus.emit('flow:end', dnsFlow(`${hexLabel(`r${i}`)}.t.example.org`, { type: 'TXT', at: new Date(start + i * 500).toISOString() }));
  await pipeline.close();
  t.match(findings.find((f) => f.detector === 'dns/tunnel'), { category: 'opaque', severity: 'medium', rules: ['dns-tunnel'] });
});
