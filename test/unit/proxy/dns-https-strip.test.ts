import t from 'tap';
import dnsPacket, { type Answer } from 'dns-packet';
import { truncatedResponse, udpAnswerLimit, withoutServiceBindings } from '../../../src/proxy/dns/dns-https-strip.js';
import { answersOf, questionOf, typeName } from '../../../src/proxy/dns/dns-records.js';
import { httpsRecordData } from '../../helpers/dns-server.js';

const name = 'cloud.example.test';
const https = (section = name): Answer => ({ name: section, type: 'UNKNOWN_65' as 'NULL', ttl: 300, data: httpsRecordData() });
const svcb = (owner: string): Answer => ({ name: owner, type: 'UNKNOWN_64' as 'NULL', ttl: 300, data: httpsRecordData() });
const opt: Answer = { name: '.', type: 'OPT', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: dnsPacket.DNSSEC_OK, flag_do: true, options: [] };
const flags = dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE;

function response(type: 'A' | 'UNKNOWN_65', answers: Answer[], extra: { authorities?: Answer[]; additionals?: Answer[]; rcode?: number } = {}): Buffer {
  return dnsPacket.encode({ id: 0x4242, type: 'response', flags: flags | (extra.rcode ?? 0), questions: [{ name, type: type as 'A', class: 'IN' }], answers, authorities: extra.authorities ?? [], additionals: extra.additionals ?? [] });
}

t.test('an answer without HTTPS/SVCB is the very same buffer', async (t) => {
  const bytes = response('A', [{ name, type: 'A', ttl: 60, data: '127.0.0.1' }, { name, type: 'AAAA', ttl: 60, data: '::1' }], { additionals: [opt] });
  const result = withoutServiceBindings(bytes, dnsPacket.decode(bytes));
  t.equal(result.stripped, 0);
  t.equal(result.message, bytes, 'not copied, not re-encoded');
});

t.test('an HTTPS answer loses its records and keeps id, flags, question and EDNS', async (t) => {
  const bytes = response('UNKNOWN_65', [https(), https()], { additionals: [opt] });
  const result = withoutServiceBindings(bytes, dnsPacket.decode(bytes));
  t.equal(result.stripped, 2);
  const out = dnsPacket.decode(result.message);
  t.equal(out.id, 0x4242);
  t.equal(out.flags, dnsPacket.decode(bytes).flags, 'flags (RD, RA, rcode) as they were');
  t.equal(out.type, 'response');
  t.same(out.questions, [{ name, type: 'UNKNOWN_65', class: 'IN' }]);
  t.same(out.answers, []);
  const keptOpt = out.additionals?.find((record) => record.type === 'OPT');
  t.ok(keptOpt && 'udpPayloadSize' in keptOpt && keptOpt.udpPayloadSize === 1232 && keptOpt.flag_do, 'the OPT record (payload size, DO bit) survives');
  t.notOk(result.message.includes(Buffer.from('fake-ech-config-list')), 'no ECH bytes reach the device');
});

t.test('HTTPS and SVCB in every section go; the other records stay in order', async (t) => {
  const a: Answer = { name, type: 'A', ttl: 60, data: '127.0.0.9' };
  const ns: Answer = { name: 'example.test', type: 'NS', ttl: 60, data: 'ns1.example.test' };
  const glue: Answer = { name: 'ns1.example.test', type: 'A', ttl: 60, data: '127.0.0.53' };
  const bytes = response('A', [https(), a, svcb(`_dns.${name}`)], { authorities: [svcb('example.test'), ns], additionals: [https(), glue, opt] });
  const result = withoutServiceBindings(bytes, dnsPacket.decode(bytes));
  t.equal(result.stripped, 4);
  const out = dnsPacket.decode(result.message);
  t.same(out.answers?.map((r) => [r.type, r.name]), [['A', name]]);
  t.same(out.authorities?.map((r) => [r.type, r.name]), [['NS', 'example.test']]);
  t.same(out.additionals?.map((r) => r.type), ['A', 'OPT']);
});

t.test('a DNSSEC signature over the HTTPS set goes with it (not counted); others stay', async (t) => {
  const sig = (typeCovered: string): Answer => ({ name, type: 'RRSIG', ttl: 300, data: { typeCovered, algorithm: 13, labels: 3, originalTTL: 300, expiration: 2_000_000_000, inception: 1_700_000_000, keyTag: 1234, signersName: 'example.test', signature: Buffer.alloc(64, 7) } });
  const bytes = response('UNKNOWN_65', [https(), sig('UNKNOWN_65'), sig('A')]);
  const result = withoutServiceBindings(bytes, dnsPacket.decode(bytes));
  t.equal(result.stripped, 1);
  const out = dnsPacket.decode(result.message);
  t.same(out.answers?.map((r) => (r.type === 'RRSIG' ? `RRSIG ${r.data.typeCovered}` : r.type)), ['RRSIG A']);
});

t.test('the response code survives stripping (NXDOMAIN with an SVCB in authority)', async (t) => {
  const bytes = response('A', [], { authorities: [svcb('example.test')], rcode: 3 });
  const result = withoutServiceBindings(bytes, dnsPacket.decode(bytes));
  t.equal(result.stripped, 1);
  t.equal((dnsPacket.decode(result.message) as { rcode?: string }).rcode, 'NXDOMAIN');
});

t.test('a truncated response keeps the question, sets TC, carries no records', async (t) => {
  const bytes = response('A', [{ name, type: 'A', ttl: 60, data: '127.0.0.1' }]);
  const out = dnsPacket.decode(truncatedResponse(dnsPacket.decode(bytes)));
  t.ok(out.flag_tc);
  t.equal(out.id, 0x4242);
  t.same(out.questions?.map((q) => q.name), [name]);
  t.same(out.answers, []);
});

t.test('the UDP limit is the query\'s EDNS buffer, else 512', async (t) => {
  const query = (additionals: Answer[]) => dnsPacket.decode(dnsPacket.encode({ id: 1, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A' }], additionals }));
  t.equal(udpAnswerLimit(query([])), 512);
  t.equal(udpAnswerLimit(query([opt])), 1232);
  t.equal(udpAnswerLimit(query([{ ...opt, udpPayloadSize: 100 } as Answer])), 512, 'never below 512');
  t.equal(udpAnswerLimit(undefined), 512);
});

const typeRows: Array<[string, string]> = [['A', 'A'], ['UNKNOWN_65', 'HTTPS'], ['UNKNOWN_64', 'SVCB'], ['UNKNOWN_999', 'TYPE999'], ['TXT', 'TXT']];
for (const [raw, named] of typeRows) t.test(`type ${raw} is recorded as ${named}`, async (t) => t.equal(typeName(raw), named));

t.test('answers are recorded as text, lower-case names, no final dot (the question also as sent)', async (t) => {
  const bytes = dnsPacket.encode({
    id: 7, type: 'response', flags,
    questions: [{ name: 'WWW.Example.TEST', type: 'A' }],
    answers: [
      { name: 'WWW.Example.TEST', type: 'CNAME', ttl: 30, data: 'Cloud.Example.TEST' },
      { name: 'cloud.example.test', type: 'A', ttl: 300, data: '127.0.0.1' },
      { name: 'cloud.example.test', type: 'AAAA', ttl: 300, data: '::1' },
      { name: 'cloud.example.test', type: 'MX', ttl: 300, data: { preference: 10, exchange: 'mx.example.test' } },
      { name: 'cloud.example.test', type: 'TXT', ttl: 300, data: ['v=spf1 -all', 'second'] },
      { name: 'cloud.example.test', type: 'SRV', ttl: 300, data: { priority: 1, weight: 2, port: 443, target: 'svc.example.test' } },
      https('cloud.example.test'),
    ],
  });
  const decoded = dnsPacket.decode(bytes);
  t.same(questionOf(decoded), { name: 'www.example.test', asked: 'WWW.Example.TEST', type: 'A', class: 'IN' }, 'the name as sent is kept beside it when its case differs');
  t.same(questionOf(dnsPacket.decode(dnsPacket.encode({ id: 8, type: 'query', questions: [{ name: 'plain.example.test', type: 'A' }] }))), { name: 'plain.example.test', type: 'A', class: 'IN' }, 'and only then');
  t.same(answersOf(decoded), [
    { name: 'www.example.test', type: 'CNAME', ttl: 30, data: 'cloud.example.test' },
    { name: 'cloud.example.test', type: 'A', ttl: 300, data: '127.0.0.1' },
    { name: 'cloud.example.test', type: 'AAAA', ttl: 300, data: '::1' },
    { name: 'cloud.example.test', type: 'MX', ttl: 300, data: '10 mx.example.test' },
    { name: 'cloud.example.test', type: 'TXT', ttl: 300, data: '"v=spf1 -all" "second"' },
    { name: 'cloud.example.test', type: 'SRV', ttl: 300, data: '1 2 443 svc.example.test' },
    { name: 'cloud.example.test', type: 'HTTPS', ttl: 300, data: `\\# ${httpsRecordData().length} ${httpsRecordData().toString('hex')}` },
  ]);
});

t.test('a long TXT record is bounded in the flow', async (t) => {
  const bytes = dnsPacket.encode({ id: 7, type: 'response', questions: [{ name, type: 'TXT' }], answers: [{ name, type: 'TXT', ttl: 1, data: Array.from({ length: 20 }, () => 'y'.repeat(200)) }] });
  const [answer] = answersOf(dnsPacket.decode(bytes));
  t.ok(answer && answer.data.length <= 1_025 && answer.data.endsWith('…'));
});
