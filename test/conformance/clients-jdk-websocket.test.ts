// The JDK's WebSocket client (java.net.http.WebSocket; test/fixtures/jdk-httpclient/WebSocketClient.java,
// compiled with javac), direct and through the proxy under test as an HTTP proxy (the JDK has no
// SOCKS support), over wss:// and ws://. It sends a text in three fragments and a binary in two,
// as an app streaming a message may: the origin records each frame's shape as it arrived, so a
// proxy that reassembles messages and frames them again shows. What the server received (the
// upgrade request's head, the frames, every message, the close) and what the client saw (echoes,
// the pong, the server's close) must be the same in every mode.

import t from 'tap';
import { tempDir, within } from '../helpers/lab.js';
import { clientProxyArgs, differential, startProxyUnderTest, type KnownDifferences, type RecordingOrigin, type RunContext } from './differential.js';
import { compileJava, jdkMissing, runJava } from './java-clients.js';
import { startWebSocketOrigin } from './websocket-origin.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

t.test('the JDK WebSocket', { skip: jdkMissing ?? false }, async (t) => {
  const classPath = await compileJava(t, ['jdk-httpclient/WebSocketClient.java', 'java/PemTrust.java']);
  const work = tempDir('conformance-jdk-websocket-');
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const runAgainst = (origin: RecordingOrigin) => (context: RunContext): Promise<string> => {
    const { mode, port } = clientProxyArgs(context);
    return runJava(work, classPath, origin, 'WebSocketClient', [mode, String(port), context.caFile, `${origin.tls ? 'wss' : 'ws'}://${origin.hostname}:${origin.port}/chat?room=7`]);
  };

  for (const secure of [true, false]) {
    t.test(secure ? 'wss://' : 'ws://', async (t) => {
      const origin = await startWebSocketOrigin(secure);
      t.teardown(() => origin.close());
      await within(differential(t, proxy, origin, { name: `jdk websocket (${secure ? 'wss' : 'ws'})`, run: runAgainst(origin), modes: ['http-proxy'], closesConnections: true }, knownDifferences), 120_000, 'the scenario');
    });
  }
});
