// Go's net/http (Debian's Go), with its own HTTP/1.1, HTTP/2 and TLS: the client of many IoT
// agents, updaters and command-line tools, and of Android apps' Go libraries. Direct and through
// the proxy under test, as an HTTP proxy and over SOCKS5: a GET with a header sent twice and one
// in a case Go does not make, a JSON POST, a photo streamed without a length (chunked in HTTP/1.1)
// and a HEAD, to an HTTP/1.1 origin over TLS, an HTTP/2 one, and one in clear. The client is
// test/fixtures/go/conformance_client.go, built at test time. The origin's record and what Go got
// must be the same in every mode; an HTTP/2 request's fields are compared sorted by name, as Go
// sends them in an order of its own that changes from run to run (h2FieldsSorted).

import path from 'node:path';
import t from 'tap';
import { tempDir } from '../helpers/lab.js';
import { clientProxyArgs, differentialPerOrigin, jsonEchoHandler, missingCommand, runClient, startProxyUnderTest, startRecordingOrigin, type KnownDifferences, type RunContext } from './differential.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const source = path.join(import.meta.dirname, '..', 'fixtures', 'go', 'conformance_client.go');

/**
 * An HTTP/2 record with each request's fields sorted by name (values of one name kept in their
 * order), its pseudo-headers left first as sent: Go's HTTP/2 client writes a request's headers in
 * its map's order, which Go makes random from run to run (its HTTP/1 client sorts them).
 */
function h2FieldsSorted(transcript: string): string {
  const lines = transcript.split('\n');
  const out: string[] = [];
  let fields: string[] | undefined;
  for (const line of lines) {
    if (line === 'h2 request') {
      out.push(line);
      fields = [];
    } else if (fields && (line.startsWith('body ') || line.startsWith('--- '))) {
      out.push(...fields.sort((a, b) => nameOf(a).localeCompare(nameOf(b))), line);
      fields = undefined;
    } else if (fields && !line.startsWith(':')) {
      fields.push(line);
    } else {
      out.push(line);
    }
  }
  return [...out, ...(fields ?? [])].join('\n');
}

function nameOf(field: string): string {
  return field.slice(0, field.indexOf(':'));
}
const skip = missingCommand('go', 'golang-go');

t.test('Go net/http', { skip: skip ?? false }, async (t) => {
  const work = tempDir('conformance-go-');
  const client = path.join(work, 'conformance_client');
  // Go's build cache in the test's own folder: nothing of the machine's is read or left behind.
  const built = await runClient('go', ['build', '-o', client, source], { env: { GOCACHE: path.join(work, 'cache'), GOPATH: path.join(work, 'gopath'), GO111MODULE: 'off' } });
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
  differentialPerOrigin(t, proxy, [
    { title: 'an HTTP/1.1 origin over TLS', start: () => startRecordingOrigin({ tls: true, alpn: ['http/1.1'], handler: jsonEchoHandler as never }), scenario: { name: 'go net/http (https, HTTP/1.1)', run } },
    { title: 'an HTTP/2 origin over TLS', start: () => startRecordingOrigin({ tls: true, alpn: ['h2', 'http/1.1'], handler: jsonEchoHandler as never }), scenario: { name: 'go net/http (https, HTTP/2)', run, originView: h2FieldsSorted } },
    { title: 'an origin in clear (absolute-form requests to the HTTP proxy)', start: () => startRecordingOrigin({ handler: jsonEchoHandler as never }), scenario: { name: 'go net/http (http)', run } },
  ], knownDifferences);
});

t.test('h2FieldsSorted sorts each HTTP/2 request\'s fields by name, keeping pseudo-headers first and one name\'s values in order', async (t) => {
  const record = ['--- connection 1 h2', 'h2 request', ':method: GET', ':path: /', 'x-seen: one', 'accept: */*', 'x-seen: two', 'body ', '--- connection 1 h2', 'h2 request', ':method: POST', 'b: 1', 'a: 2', 'body x'].join('\n');
  t.equal(h2FieldsSorted(record), ['--- connection 1 h2', 'h2 request', ':method: GET', ':path: /', 'accept: */*', 'x-seen: one', 'x-seen: two', 'body ', '--- connection 1 h2', 'h2 request', ':method: POST', 'a: 2', 'b: 1', 'body x'].join('\n'));
});
