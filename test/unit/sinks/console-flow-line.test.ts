// The console's one line per flow (the live view without a terminal UI): a DNS flow says what was
// asked and what came back, not the resolver's address.

import t from 'tap';
import { flowLine } from '../../../src/sinks/console-sink.js';
import { dnsFlow } from '../../helpers/dns-flows.js';

t.test('a DNS flow: type, name, the first answers and the response code', async (t) => {
  const answered = dnsFlow('cloud.example.test', { dns: { answers: [{ name: 'cloud.example.test', type: 'A', ttl: 300, data: '10.232.2.2' }] } });
  t.match(flowLine(answered), /flow NOERROR DNS A cloud\.example\.test → 10\.232\.2\.2 ↑\d+ ↓\d+$/);
  const missing = dnsFlow('nothing.example.test', { dns: { rcode: 'NXDOMAIN' } });
  t.match(flowLine(missing), /flow NXDOMAIN DNS A nothing\.example\.test ↑/);
  t.notMatch(flowLine(missing), /10\.64\.0\.1:53/, 'the resolver address is not what the line is about');
});

t.test('a name with control characters is shown escaped, never raw', async (t) => {
  const hostile = dnsFlow('evil\u001b[2J.example.test');
  t.notMatch(flowLine(hostile), /\u001b/);
});

t.test("a finding's line names the app that sent it and the company that got it, escaped", async (t) => {
  const { findingLine } = await import('../../../src/sinks/console-sink.js');
  const base = {
    v: 1 as const, id: 'f-000001', time: '2026-12-02T21:00:00.000Z', flowId: 'fl-000001', category: 'photo' as const, severity: 'high' as const, direction: 'request' as const,
    detector: 'photo/jpeg', summary: 'JPEG photo', host: 'api.micloud.example', client: { ip: '192.168.1.23' },
    destination: { ip: '42.62.48.10', port: 443, country: 'CN', asn: null, org: null }, evidence: { path: ['body'], bytes: 1 }, details: {}, canary: null,
  };
  t.match(findingLine(base), /photo +api\.micloud\.example \[CN\]  JPEG photo$/, 'without app or company: as before');
  const named = { ...base, app: { id: 'com.miui.gallery', confidence: 'high' as const, evidence: 'X-Requested-With' }, destination: { ...base.destination, entity: 'Xiaomi', purpose: 'vendor cloud', firstParty: true } };
  t.match(findingLine(named), /photo +com\.miui\.gallery → api\.micloud\.example \[CN\] Xiaomi \(vendor cloud, first party\)  JPEG photo$/);
  const hostile = { ...named, app: { ...named.app, id: 'com.evil\u001b[2J' } };
  t.notMatch(findingLine(hostile), /\u001b/, 'an app id comes from a header: escaped like the rest');
});
