// APT (Debian's apt-get), the updater of every Raspberry Pi, set-top box and lab box on Debian or
// Raspberry Pi OS, with an HTTP/1.1 client of its own that pipelines: it writes its next requests
// on a keep-alive connection before the answers to the first have come (five deep here, as
// `Acquire::http::Pipeline-Depth` allows). Direct and through the proxy under test as an HTTP proxy
// (`Acquire::http::Proxy` in clear, absolute-form; `Acquire::https::Proxy` over TLS, CONNECT):
// `apt-get update` reads a flat repository's index, then `apt-get download` fetches six packages,
// each checked by apt against the index's size and SHA-256. APT resolves names itself, so each run
// has its own /etc/hosts (runClientWithTestNames). The origin's record must be the same in every
// mode, and so must what APT did: its exit statuses and the files it saved.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { tempDir } from '../helpers/lab.js';
import { cannotRunWithTestNames, clientProxyArgs, differential, missingCommand, runClientWithTestNames, startProxyUnderTest, startRecordingOrigin, type KnownDifferences, type RecordingOrigin, type RunContext } from './differential.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const skip = missingCommand('apt-get', 'apt') ?? cannotRunWithTestNames;
const HOST = 'deb.example.test';

/** Six packages of different sizes, their bytes drawn from their names (apt checks sizes and hashes, not contents). */
const packages = Array.from({ length: 6 }, (_, i) => {
  const name = `phonehome-test${i + 1}`;
  const file = `${name}_1.0_all.deb`;
  const bytes = Buffer.concat(Array.from({ length: 40 + i * 9 }, (_, block) => crypto.createHash('sha512').update(`${name}/${block}`).digest()));
  return { name, file, bytes };
});
const index = packages.map((p) => [
  `Package: ${p.name}`, 'Version: 1.0', 'Architecture: all', 'Maintainer: Lab <lab@example.test>', `Filename: ./${p.file}`,
  `Size: ${p.bytes.length}`, `SHA256: ${crypto.createHash('sha256').update(p.bytes).digest('hex')}`, `Description: test package ${p.name}`, '',
].join('\n')).join('\n');
const files = new Map<string, Buffer>([['/Packages', Buffer.from(index)], ...packages.map((p): [string, Buffer] => [`/${p.file}`, p.bytes])]);

/** A flat repository (`deb [trusted=yes] URL ./`): no Release file, as a lab's own repository often has none. */
function repository(req: { url?: string; method?: string; on(event: 'data', listener: () => void): unknown }, res: { writeHead(status: number, headers: Record<string, string | number>): unknown; end(body?: Buffer): unknown }): void {
  req.on('data', () => undefined);
  const body = files.get((req.url ?? '').replace(/^\/\.\//, '/'));
  if (!body) {
    res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 9 });
    res.end(Buffer.from('not found'));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length, 'last-modified': 'Sun, 12 Oct 2014 18:30:05 GMT' });
  res.end(body);
}

t.test('APT', { skip: skip ?? false }, async (t) => {
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());

  const runAgainst = (origin: RecordingOrigin) => async (context: RunContext): Promise<string> => {
    const { mode, port } = clientProxyArgs(context);
    const scheme = origin.tls ? 'https' : 'http';
    // A fresh state per run: apt asks again with If-Modified-Since once it has an index.
    const work = tempDir('conformance-apt-');
    for (const dir of ['lists/partial', 'archives/partial', 'downloads']) fs.mkdirSync(path.join(work, dir), { recursive: true });
    fs.writeFileSync(path.join(work, 'sources.list'), `deb [trusted=yes] ${scheme}://${HOST}:${origin.port}/ ./\n`);
    const options = [
      `Dir::Etc::sourcelist=${path.join(work, 'sources.list')}`, 'Dir::Etc::sourceparts=-', `Dir::State::lists=${path.join(work, 'lists')}`,
      `Dir::Cache=${work}`, `Dir::Cache::archives=${path.join(work, 'archives')}`, 'Debug::NoLocking=1', 'APT::Sandbox::User=root', 'Acquire::Languages=none',
      'Acquire::http::Pipeline-Depth=5', 'Acquire::Retries=0', `Acquire::https::CaInfo=${context.caFile}`,
      ...(mode === 'direct' ? [] : [`Acquire::${scheme}::Proxy=http://127.0.0.1:${port}/`]),
    ].flatMap((option) => ['-o', option]);
    const update = await runClientWithTestNames([HOST], 'apt-get', [...options, 'update']);
    // apt-get download saves in the current folder.
    const download = await runClientWithTestNames([HOST], 'sh', ['-c', 'cd "$0" && exec apt-get "$@"', path.join(work, 'downloads'), ...options, 'download', ...packages.map((p) => p.name)]);
    const saved = fs.readdirSync(path.join(work, 'downloads')).sort()
      .map((name) => `${name} ${crypto.createHash('sha256').update(fs.readFileSync(path.join(work, 'downloads', name))).digest('hex')}`);
    // The same failure both ways would compare equal: a run that did not get every package fails.
    if (update.status !== 0 || download.status !== 0 || saved.length !== packages.length) throw new Error(`apt-get ${mode}: update ${update.status}, download ${download.status}, ${saved.length} saved: ${update.stderr}${download.stderr}`);
    // APT's own words carry rates and times: what it did is its statuses and what it saved.
    return [`update: ${update.status}`, `download: ${download.status}`, ...saved, ''].join('\n');
  };

  for (const tlsOrigin of [false, true]) {
    t.test(tlsOrigin ? 'a repository over TLS (CONNECT)' : 'a repository in clear (absolute-form requests to the proxy)', async (t) => {
      const origin = await startRecordingOrigin({ hostname: HOST, ...(tlsOrigin ? { tls: true, alpn: ['http/1.1'] } : {}), handler: repository as never });
      t.teardown(() => origin.close());
      await differential(t, proxy, origin, { name: `apt-get update + download (${tlsOrigin ? 'https' : 'http'})`, run: runAgainst(origin), modes: ['http-proxy'] }, knownDifferences);
    });
  }
});
