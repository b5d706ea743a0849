#!/usr/bin/env node
// The conformance suite's table (issue 19): runs the real-client scenarios of test/conformance/
// through mitmproxy (mitmdump 8, `apt-get install mitmproxy`; not in CI) and through phonehome,
// every comparison included (CONFORMANCE_ALL=1, so the ones known to differ run too), and prints
// scenario x mode -> identical / different with the first difference, so both proxies can be set
// side by side. Run from anywhere: `node scripts/conformance-mitmproxy.mjs [mitmproxy|phonehome]`
// (default: both). The test files do the work: this only sets CONFORMANCE_PROXY and
// CONFORMANCE_TABLE for them and reads the rows they append.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const files = ['curl', 'chromium', 'okhttp', 'okhttp-websocket', 'jdk-httpclient', 'jdk-websocket', 'jdk-urlconnection', 'apache-httpclient', 'undici', 'axios', 'python', 'httpx', 'wget', 'busybox', 'mbedtls', 'bearssl', 'wolfssl', 'go', 'grpc', 'mqtt', 'firefox', 'qt', 'soup', 'ffmpeg', 'apt'].map((name) => `test/conformance/clients-${name}.test.ts`);
const wanted = process.argv[2] ? [process.argv[2]] : ['mitmproxy', 'phonehome'];
for (const proxy of wanted) {
  if (proxy !== 'mitmproxy' && proxy !== 'phonehome') {
    console.error(`conformance-mitmproxy: unknown proxy ${JSON.stringify(proxy)}: use mitmproxy or phonehome`);
    process.exit(2);
  }
}

/** Runs the scenario files with the proxy chosen; resolves with the rows they appended. */
async function table(proxy) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'conformance-table-')), 'rows.jsonl');
  fs.writeFileSync(file, '');
  const child = spawn('npx', ['tap', '--disable-coverage', '--reporter=silent', '-j1', ...files], {
    cwd: root, stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, CONFORMANCE_PROXY: proxy, CONFORMANCE_TABLE: file, CONFORMANCE_ALL: '1' },
  });
  await new Promise((resolve) => child.once('close', resolve));
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

function print(proxy, rows) {
  console.log(`\n${proxy}: ${rows.filter((r) => r.identical).length} of ${rows.length} identical\n`);
  const cells = rows.map((r) => [r.scenario, r.mode, r.identical ? 'identical' : 'different',
    r.error ? `error: ${r.error}` : [r.origin && `origin ${r.origin}`, r.client && `client ${r.client}`].filter(Boolean).join('; ')]);
  const header = ['scenario', 'mode', 'result', 'first difference'];
  const widths = header.slice(0, 3).map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => `| ${c.slice(0, 3).map((v, i) => v.padEnd(widths[i])).join(' | ')} | ${truncate(c[3], 160)} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|---|`);
  for (const c of cells) console.log(line(c));
}

const truncate = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s).replaceAll('|', '\\|');

if (wanted.includes('mitmproxy') && spawnSync('sh', ['-c', 'command -v mitmdump']).status !== 0) {
  console.error('conformance-mitmproxy: mitmdump is not installed (apt-get install mitmproxy)');
  process.exit(2);
}
for (const proxy of wanted) print(proxy, await table(proxy));
