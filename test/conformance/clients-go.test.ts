// Go's net/http (Debian's Go), with its own HTTP/1.1, HTTP/2 and TLS: the client of many IoT
// agents, updaters and command-line tools, and of Android apps' Go libraries. Direct and through
// the proxy under test, as an HTTP proxy and over SOCKS5: a GET with a header sent twice and one
// in a case Go does not make, a JSON POST, a photo streamed without a length (chunked in HTTP/1.1)
// and a HEAD, to an HTTP/1.1 origin over TLS, an HTTP/2 one, and one in clear. The client is
// test/fixtures/go/conformance_client.go, built at test time. The origin's record and what Go got
// must be the same in every mode.

import path from 'node:path';
import t from 'tap';
import { tempDir } from '../helpers/lab.js';
import { clientProxyArgs, differential, jsonEchoHandler, missingCommand, runClient, startProxyUnderTest, startRecordingOrigin, type KnownDifferences, type RecordingOrigin, type RunContext } from './differential.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const source = path.join(import.meta.dirname, '..', 'fixtures', 'go', 'conformance_client.go');
const skip = missingCommand('go', 'golang-go');

t.test('Go net/http', { skip: skip ?? false }, async (t) => {
  const work = tempDir('conformance-go-');
  const client = path.join(work, 'conformance_client');
  // Go's build cache in the test's own folder: nothing of the machine's is read or left behind.
  const built = await runClient('go', ['build', '-o', client, source], { env: { GOCACHE: path.join(work, 'cache'), GOPATH: path.join(work, 'gopath'), GOFLAGS: '-mod=mod', GO111MODULE: 'off' } });
  t.equal(built.status, 0, `go build: ${built.text}`);
  if (built.status !== 0) return;
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());

  const run = async (context: RunContext): Promise<string> => {
    const { mode, port } = clientProxyArgs(context);
    const { origin } = context;
    const result = await runClient(client, [mode, String(port), context.caFile, `${origin.tls ? 'https' : 'http'}://${origin.hostname}:${origin.port}`]);
    return result.text;
  };
  const origins: Array<[string, string, () => Promise<RecordingOrigin>]> = [
    ['an HTTP/1.1 origin over TLS', 'go net/http (https, HTTP/1.1)', () => startRecordingOrigin({ tls: true, alpn: ['http/1.1'], handler: jsonEchoHandler as never })],
    ['an HTTP/2 origin over TLS', 'go net/http (https, HTTP/2)', () => startRecordingOrigin({ tls: true, alpn: ['h2', 'http/1.1'], handler: jsonEchoHandler as never })],
    ['an origin in clear (absolute-form requests to the HTTP proxy)', 'go net/http (http)', () => startRecordingOrigin({ handler: jsonEchoHandler as never })],
  ];
  for (const [title, name, start] of origins) {
    t.test(title, async (t) => {
      const origin = await start();
      t.teardown(() => origin.close());
      await differential(t, proxy, origin, { name, run }, knownDifferences);
    });
  }
});
