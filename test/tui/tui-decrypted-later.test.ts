// The live view marks findings `phonehome decrypt` made from ciphertext recorded earlier (a fleet's
// watch shows every node's findings); live findings carry no mark.

import t from 'tap';
import { TuiModel } from '../../src/sinks/tui/tui-model.js';
import type { Finding } from '../../src/model/finding.js';

const finding = (n: number, overrides: Partial<Finding> = {}): Finding => ({
  v: 1, id: `f-${n}`, time: '2026-12-02T10:00:0' + n + '.000Z', flowId: `fl-${n}`, category: 'photo', severity: 'high', direction: 'request', detector: 'photo/jpeg',
  summary: `JPEG camera photo ${n}`, host: 'pinned.example.test', client: { ip: '127.0.0.1' }, destination: { ip: '127.0.0.1', country: null, asn: null, org: 'loopback' },
  evidence: { path: ['body', 'multipart:photo', 'image/jpeg'], bytes: 1 }, details: {}, canary: null, ...overrides,
});

t.test('a decrypted-later finding says so before its summary; a live one does not', async (t) => {
  const m = new TuiModel({ capacity: 100, proxyAddresses: ['127.0.0.1:8080'], insecureUpstream: false, redact: (f) => f });
  m.addFinding(finding(1));
  m.addFinding(finding(2, { decryptedLater: true }));
  const lines = m.render(120, 24).findings.map((line) => line.text);
  t.match(lines[0], /pinned\.example\.test +\[decrypted later\] JPEG camera photo 2/);
  t.notMatch(lines[1], /decrypted later/);
  t.match(lines[1], /JPEG camera photo 1/);
});
