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
