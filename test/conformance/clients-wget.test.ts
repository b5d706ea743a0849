// GNU Wget (Debian's, on GnuTLS), the fetcher of shell scripts, firmware updaters and many an IoT
// image, direct and through the proxy under test as an HTTP proxy (wget has no SOCKS): a GET with a
// header sent twice and one in mixed case, a form POST from a file and a PUT of a photo, over TLS
// to an HTTP/1.1 origin and in clear (absolute-form requests to the proxy). wget has no option to
// resolve a name to an address, so each run has its own mount namespace where /etc/hosts sends the
// suite's names (*.test) to 127.0.0.1 (unshare; root). The origin's record and what wget saved
// (the response heads with --save-headers, and the bodies) must be the same in every mode.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { tempDir } from '../helpers/lab.js';
import { cannotRunWithTestNames, clientProxyArgs, differential, jsonEchoHandler, missingCommand, runClientWithTestNames, startProxyUnderTest, startRecordingOrigin, type KnownDifferences, type RecordingOrigin, type RunContext } from './differential.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const skip = missingCommand('wget', 'wget') ?? cannotRunWithTestNames;

t.test('GNU Wget', { skip: skip ?? false }, async (t) => {
  const work = tempDir('conformance-wget-');
  const form = path.join(work, 'form.txt');
  fs.writeFileSync(form, 'name=Ada&phone=%2B44+20+7946+0000&note=caf%C3%A9');
  const photo = path.join(work, 'IMG_0001.jpg');
  fs.writeFileSync(photo, Buffer.concat([Buffer.from('ffd8ffe000104a46494600', 'hex'), Buffer.alloc(40_000, 0x5a)]));
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());

  const runAgainst = (origin: RecordingOrigin) => async (context: RunContext): Promise<string> => {
    const { mode, port } = clientProxyArgs(context);
    const scheme = origin.tls ? 'https' : 'http';
    const base = `${scheme}://${origin.hostname}:${origin.port}`;
    const proxyArgs = mode === 'direct' ? ['--no-proxy'] : ['-e', 'use_proxy=on', '-e', `${scheme}_proxy=http://127.0.0.1:${port}`];
    const calls: string[][] = [
      ['--header=X-Device: wget-conformance', '--header=x-Trace-ID: c3', '--header=X-Seen: one', '--header=X-Seen: two', `${base}/profile?id=42`],
      [`--post-file=${form}`, `${base}/contacts`],
      ['--method=PUT', `--body-file=${photo}`, '--header=Content-Type: image/jpeg', `${base}/photos/IMG_0001.jpg`],
    ];
    let out = '';
    for (const call of calls) {
      const wget = ['--no-config', '--quiet', '--save-headers', '-O', '-', '--tries=1', '--timeout=30', `--ca-certificate=${context.caFile}`, ...proxyArgs, ...call];
      const run = await runClientWithTestNames([origin.hostname], 'wget', wget);
      out += `${run.text}\n`;
    }
    return out;
  };

  t.test('an origin over TLS (HTTP/1.1)', async (t) => {
    const origin = await startRecordingOrigin({ tls: true, alpn: ['http/1.1'], handler: jsonEchoHandler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'wget GET + POST + PUT (https)', run: runAgainst(origin), modes: ['http-proxy'] }, knownDifferences);
  });

  t.test('an origin in clear (absolute-form requests to the proxy)', async (t) => {
    const origin = await startRecordingOrigin({ handler: jsonEchoHandler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'wget GET + POST + PUT (http)', run: runAgainst(origin), modes: ['http-proxy'] }, knownDifferences);
  });
});
