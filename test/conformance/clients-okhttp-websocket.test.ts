// OkHttp 3's WebSocket (Debian's libokhttp-java), the WebSocket of many Android chat and push apps,
// direct and through the proxy under test as an HTTP proxy and as a SOCKS5 proxy, over wss:// and
// ws://. The client (test/fixtures/okhttp/WebSocketClient.java, compiled with javac) sends four
// messages before its handshake has completed, which OkHttp writes right behind the upgrade
// request: the case where a proxy that reads the upgrade and then re-plumbs the connection loses
// them. What the server received (the upgrade request's head, every message, the close) and what
// the client saw must be the same in every mode. Frames are masked with random keys, so the server
// records messages, not bytes.

import t from 'tap';
import { within } from '../helpers/lab.js';
import { clientProxyArgs, differential, runClient, startProxyUnderTest, type KnownDifferences, type RecordingOrigin, type RunContext } from './differential.js';
import { compileJava, okhttpJars, okhttpMissing } from './java-clients.js';
import { startWebSocketOrigin } from './websocket-origin.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const skip = okhttpMissing;

t.test('OkHttp WebSocket', { skip: skip ?? false }, async (t) => {
  const classPath = await compileJava(t, ['okhttp/WebSocketClient.java', 'okhttp/OkHttpClients.java', 'java/PemTrust.java'], okhttpJars);
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const runAgainst = (origin: RecordingOrigin) => async (context: RunContext): Promise<string> => {
    const { mode, port } = clientProxyArgs(context);
    const url = `${origin.tls ? 'wss' : 'ws'}://${origin.hostname}:${origin.port}/chat?room=7`;
    const run = await runClient('java', ['-cp', classPath, 'WebSocketClient', mode, String(port), context.caFile, url]);
    return `exit ${run.status}\n${run.text}`;
  };

  for (const secure of [true, false]) {
    t.test(secure ? 'wss://' : 'ws://', async (t) => {
      const origin = await startWebSocketOrigin(secure);
      t.teardown(() => origin.close());
      await within(differential(t, proxy, origin, { name: `okhttp websocket (${secure ? 'wss' : 'ws'})`, run: runAgainst(origin), closesConnections: true }, knownDifferences), 120_000, 'the scenario');
    });
  }
});
