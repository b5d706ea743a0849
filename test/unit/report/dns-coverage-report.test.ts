// The report's coverage section says what DNS showed and what it hid: names seen, encrypted DNS
// not seen, QUIC dropped, Alt-Svc h3 removed; a summary of an older version shows none of it.

import fs from 'node:fs';
import t from 'tap';
import { reportRunFolder } from '../../../src/report/build-report.js';
import { tempDir } from '../../helpers/lab.js';
import { writeRunFolder } from '../../helpers/runs.js';

const base = {
  v: 1, tool: { name: 'phonehome', version: '0.1.0' }, startedAt: '2026-11-27T18:30:00.000Z', endedAt: '2026-11-27T18:40:00.000Z', durationMs: 600_000,
  insecureUpstream: false, options: {}, flows: { seen: 40, dns: 31 }, findings: { total: 0, byCategory: {}, bySeverity: {} }, destinations: [],
};
const ledger = { totals: { flows: { dns: 31 }, bytesUp: 3_000, bytesUpInspected: 2_000, bytesDown: 9_000, bytesDownInspected: 1_000 }, unseenByHost: {} };

async function html(coverage: Record<string, unknown>): Promise<string> {
  const dir = writeRunFolder(tempDir(), { summary: { ...base, coverage }, findings: [], flows: [] });
  return fs.readFileSync((await reportRunFolder(dir)).file, 'utf8');
}

t.test('DNS names seen, encrypted DNS not seen, QUIC dropped, Alt-Svc removed', async (t) => {
  const page = await html({
    ...ledger,
    dns: { queries: 31, names: 12, stripped: 3, encrypted: { flows: 2, hosts: ['dns.google', '<b>x</b>.cloudflare-dns.com'], bytes: 4_096, decrypted: 0 } },
    quic: { dropped: 57, altSvcH3Removed: 4 },
  });
  t.match(page, /<li id="dns-seen">31 DNS question\(s\) answered by phonehome, 12 distinct name\(s\) seen and inspected; 3 HTTPS\/SVCB record\(s\) stripped/);
  t.match(page, /<li id="dns-encrypted"><strong>2 connection\(s\) of encrypted DNS not seen<\/strong> \(DNS over TLS or HTTPS to <code>dns\.google<\/code>, <code>&lt;b&gt;x&lt;\/b&gt;\.cloudflare-dns\.com<\/code>, 4\.1 kB\)/);
  t.match(page, /<li id="quic-dropped">57 QUIC packet\(s\) dropped/);
  t.match(page, /<li id="alt-svc-removed">4 response\(s\) had their HTTP\/3 offer/);
  t.notMatch(page, /<b>x<\/b>/, 'a host name from traffic is escaped');
});

t.test('nothing encrypted, QUIC not counted (no --wireguard)', async (t) => {
  const page = await html({ ...ledger, dns: { queries: 5, names: 5, stripped: 0, encrypted: { flows: 0, hosts: [], bytes: 0, decrypted: 1 } }, quic: { dropped: null, altSvcH3Removed: 0 } });
  t.match(page, /<li id="dns-seen">5 DNS question\(s\) answered by phonehome, 5 distinct name\(s\) seen and inspected<\/li>/);
  t.match(page, /<li id="dns-encrypted">no encrypted DNS/);
  t.notMatch(page, /id="quic-dropped"/);
  t.notMatch(page, /id="alt-svc-removed"/);
});

t.test('a summary of an older version has no DNS lines', async (t) => {
  const page = await html(ledger);
  t.notMatch(page, /DNS and QUIC/);
  t.match(page, /The detectors were given/);
});
