import t from 'tap';
import { TuiModel, flowRow, parseFilter } from '../../src/sinks/tui/tui-model.js';
import { keymap, commandFor } from '../../src/sinks/tui/keymap.js';
import { RingBuffer } from '../../src/sinks/tui/ring-buffer.js';
import type { Finding } from '../../src/model/finding.js';
import { makeFlow } from '../helpers/flows.js';

function finding(n: number, overrides: Partial<Finding> = {}): Finding {
  return {
    v: 1, id: `f-${n}`, time: `2026-11-27T18:30:${String(n % 60).padStart(2, '0')}.000Z`, flowId: `fl-${n}`, category: 'photo', severity: 'high', direction: 'request', detector: 'photo/jpeg',
    summary: `JPEG photo number ${n}`, host: 'gallery.example.cn', client: { ip: '192.168.1.23' }, destination: { ip: '42.62.48.10', country: 'CN', asn: 23724, org: 'China Telecom' },
    evidence: { path: ['body'], bytes: 1 }, details: {}, canary: null, ...overrides,
  };
}

const model = () => new TuiModel({ capacity: 1000, proxyAddresses: ['192.168.1.5:8080'], insecureUpstream: false, redact: (f) => f });

t.test('the keymap has no key bound twice in one context, and every command is reachable', async (t) => {
  const seen = new Set<string>();
  for (const binding of keymap) for (const context of binding.contexts) for (const key of binding.keys) {
    t.notOk(seen.has(`${context}:${key}`), `${context}:${key}`);
    seen.add(`${context}:${key}`);
  }
  t.equal(commandFor('j', 'main'), 'down');
  t.equal(commandFor('Q', 'detail'), 'quit');
  t.equal(commandFor('f', 'help'), undefined);
});

t.test('the ring buffer keeps the newest and counts what it dropped', async (t) => {
  const ring = new RingBuffer<number>(3);
  for (let i = 1; i <= 5; i++) ring.push(i);
  t.same([...ring.fromNewest()], [5, 4, 3]);
  t.equal(ring.dropped, 2);
});

t.test('shows what to do before a device connects, then findings newest first with country and severity', async (t) => {
  const m = model();
  const empty = m.render(100, 24);
  t.match(empty.header[0]!.text, /proxy: 192\.168\.1\.5:8080 {2}CA: http:\/\/phonehome\.cert\/ {2}waiting for a device/);
  t.match(empty.flows[0]!.text, /no device has connected yet/);
  m.addFinding(finding(1));
  m.addFinding(finding(2, { severity: 'critical', category: 'sms', summary: "2 SMS with +33612…, 'Rendez-vous'" }));
  m.addFlow(flowRow(makeFlow({ url: 'https://gallery.example.cn/upload?x=1' }), 'CN'), '192.168.1.23');
  const view = m.render(100, 24);
  t.match(view.findings[0]!.text, /CRITICAL sms +CN gallery\.example\.cn +2 SMS with/);
  t.equal(view.findings[0]!.style, 'selected');
  t.equal(view.findings[1]!.style, 'sev.high');
  t.match(view.flows[0]!.text, /POST {4}api\.example\.com|POST {4}gallery\.example\.cn/);
  t.match(view.header[1]!.text, /● LIVE {2}flows 1 .*critical 1 · high 1/);
  t.ok(view.findings.every((l) => l.text.length === 100), 'rows are cut to the width');
});

t.test('payload text cannot reach the terminal as control sequences', async (t) => {
  const m = model();
  m.addFinding(finding(1, { summary: 'evil \u001b[2J\u001b]52;c;ZXZpbA==\u0007 {red-fg}fake{/} \u202eenil', host: 'x\u001b[31m.example' }));
  const text = m.render(200, 24).findings[0]!.text;
  t.notMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
  t.match(text, /\\u001b\[2J/);
});

t.test('moving, following and pausing', async (t) => {
  const m = model();
  for (let i = 1; i <= 30; i++) m.addFinding(finding(i));
  m.command('down');
  m.command('down');
  t.equal(m.selectedFinding()?.id, 'f-28');
  m.addFinding(finding(31));
  t.equal(m.selectedFinding()?.id, 'f-28', 'a reader who moved down keeps the same row');
  m.command('top');
  t.equal(m.selectedFinding()?.id, 'f-31');
  m.command('pause');
  m.addFinding(finding(32));
  t.match(m.render(100, 24).header[1]!.text, /❚❚ PAUSED \(1 waiting\)/);
  t.equal(m.selectedFinding()?.id, 'f-31');
  m.command('pause');
  t.equal(m.selectedFinding()?.id, 'f-32', 'following again shows what waited');
  m.command('bottom');
  t.equal(m.selectedFinding()?.id, 'f-1');
});

t.test('filter, search, detail, help and back', async (t) => {
  const m = model();
  m.addFinding(finding(1));
  m.addFinding(finding(2, { category: 'sms', severity: 'medium', summary: 'an sms' }));
  m.addFinding(finding(3, { category: 'identifier', severity: 'high', summary: 'IMEI 35345…' }));
  t.same(parseFilter('cat:photo sev:high host:cn rest'), { words: ['rest'], category: 'photo', severity: 'high', host: 'cn' });
  m.setFilter('sev:high');
  t.equal(m.render(100, 24).findings.length, 2);
  m.setFilter('cat:sms');
  t.match(m.render(100, 24).findings[0]!.text, /an sms/);
  m.command('back');
  t.equal(m.render(100, 24).findings.length, 3, 'back clears the filter');
  m.setSearch('imei');
  t.equal(m.selectedFinding()?.id, 'f-3');
  m.setSearch('nothing like this');
  t.match(m.message, /no match/);
  t.equal(m.command('open'), undefined);
  t.equal(m.view, 'detail');
  t.match(m.render(100, 24).overlay?.map((l) => l.text).join('\n'), /path: body/);
  m.command('back');
  m.command('help');
  t.match(m.render(100, 24).overlay?.map((l) => l.text).join('\n'), /Q, C-c +quit/);
  m.command('back');
  t.equal(m.view, 'main');
  m.command('back'); // clears the search
  m.command('back');
  t.match(m.message, /press Q to quit/);
  t.equal(m.command('quit'), 'quit');
});

t.test('flow detail: headers and a bounded, escaped body preview; binary bodies as hex', async (t) => {
  const row = flowRow(makeFlow({ requestBody: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x1b, 0x5b, 0x32, 0x4a]), requestHeaders: [['Authorization', 'Bearer secret']] }), 'CN');
  const text = row.detail.join('\n');
  t.match(text, /000000 {2}ff d8 ff e0 00 1b 5b 32 4a/);
  t.match(text, /Authorization: \(hidden\)/);
  t.notMatch(text, /\u001b/);
});

t.test('a gRPC flow\'s detail shows its status, trailers and messages (escaped)', async (t) => {
  const flow = makeFlow({
    url: 'https://grpc.example.cn/gallery.Sync/Upload',
    requestHeaders: [['content-type', 'application/grpc']],
    response: { status: 200, statusText: '', httpVersion: 'HTTP/2.0', headers: [[':status', '200']], body: { bytes: Buffer.alloc(0), totalBytes: 0, truncated: false }, trailers: [['grpc-status', '7'], ['grpc-message', 'denied\u001b[2J']] },
    grpc: { flavour: 'grpc', status: 7, message: 'denied\u001b[2J' },
    messages: [{ protocol: 'grpc', time: '2026-11-27T18:30:11.000Z', fromClient: true, binary: true, compressed: true, encoding: 'gzip', data: Buffer.from([1, 2]), totalBytes: 2 }],
  });
  const detail = flowRow(flow, 'CN').detail.join('\n');
  t.match(detail, /grpc call: grpc-status 7 \(denied/);
  t.match(detail, /response trailers/);
  t.match(detail, /1 gRPC message\(s\)/);
  t.match(detail, /→ \(2 bytes binary, gzip\)/);
  t.notMatch(detail, /\u001b/, 'no escape code reaches the terminal');
});
