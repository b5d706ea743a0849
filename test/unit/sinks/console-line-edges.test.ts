// The console's lines at their edges (issue #23, planted bugs): a flow's request is whole at 200
// characters and cut at 201, its error at 160 and 161; a DNS flow shows its first three answers;
// a finding's destination is whole at 80 and its summary at 300; the columns keep their widths.

import t from 'tap';
import { findingLine, flowLine } from '../../../src/sinks/console-sink.js';
import { dnsFlow } from '../../helpers/dns-flows.js';
import { makeFlow } from '../../helpers/flows.js';
import { makeFinding } from '../../helpers/runs.js';

t.test("a flow's line: the request whole at 200 characters, cut at 201; the error whole at 160, cut at 161", async (t) => {
  const url = (length: number): string => `https://a.example/${'u'.repeat(length - 'POST https://a.example/'.length)}`;
  const at200 = flowLine(makeFlow({ url: url(200), endedAt: '2026-11-27T18:30:11.512Z', bytesUp: 7, bytesDown: 9 }));
  t.equal(at200, `18:30:11     flow -    POST ${url(200)} ↑7 ↓9`, 'no response, no error: "-" padded to four');
  const at201 = flowLine(makeFlow({ url: url(201), bytesUp: 7, bytesDown: 9 }));
  t.equal(at201, `18:30:11     flow -    POST ${url(201).slice(0, 200 - 'POST '.length)}… ↑7 ↓9`);
  const failed = (error: string) => flowLine(makeFlow({ url: 'https://a.example/', error, bytesUp: 1, bytesDown: 0 }));
  t.equal(failed('E'.repeat(160)), `18:30:11     flow ERR  POST https://a.example/ ↑1 ↓0  (${'E'.repeat(160)})`);
  t.equal(failed('E'.repeat(161)), `18:30:11     flow ERR  POST https://a.example/ ↑1 ↓0  (${'E'.repeat(160)}…)`);
});

t.test('a DNS flow shows its first three answers, not a fourth', async (t) => {
  const answer = (data: string) => ({ name: 'many.example.test', type: 'A', ttl: 60, data });
  const three = flowLine(dnsFlow('many.example.test', { dns: { answers: ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map(answer) } }));
  t.match(three, / DNS A many\.example\.test → 10\.0\.0\.1, 10\.0\.0\.2, 10\.0\.0\.3 ↑/);
  const four = flowLine(dnsFlow('many.example.test', { dns: { answers: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map(answer) } }));
  t.match(four, / → 10\.0\.0\.1, 10\.0\.0\.2, 10\.0\.0\.3 ↑/);
  t.notMatch(four, /10\.0\.0\.4/);
});

t.test("a finding's line: columns of 3, 8 and 10; the destination whole at 80, the summary at 300", async (t) => {
  const host = (length: number): string => `${'h'.repeat(length - '.example'.length)}.example`;
  const line = (hostLength: number, summaryLength: number, severity: 'info' | 'critical' = 'critical') =>
    findingLine(makeFinding(1, { severity, category: 'sms', host: host(hostLength), summary: 'S'.repeat(summaryLength), destination: { ip: '192.0.2.1', port: 443 }, time: '2026-11-27T18:30:11.000Z' }));
  t.equal(line(80, 300), `18:30:11 !!! CRITICAL sms        ${host(80)}  ${'S'.repeat(300)}`);
  t.equal(line(81, 301), `18:30:11 !!! CRITICAL sms        ${host(81).slice(0, 80)}…  ${'S'.repeat(300)}…`);
  t.equal(line(20, 5, 'info'), `18:30:11 ·   INFO     sms        ${host(20)}  SSSSS`);
});
