// OkHttp 3's WebSocket (Debian's libokhttp-java), the WebSocket of many Android chat and push apps,
// direct and through the proxy under test as an HTTP proxy and as a SOCKS5 proxy, over wss:// and
// ws://. The client (test/fixtures/okhttp/WebSocketClient.java, compiled with javac) sends four
// messages before its handshake has completed, which OkHttp writes right behind the upgrade
// request: the case where a proxy that reads the upgrade and then re-plumbs the connection loses
// them. What the server received (the upgrade request's head, every message, the close) and what
// the client saw must be the same in every mode. Frames are masked with random keys, so the server
// records messages, not bytes.

import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import t from 'tap';
import { WebSocketServer } from 'ws';
import { getOriginCa, tempDir, within } from '../helpers/lab.js';
import { clientProxyArgs, differential, runClient, startProxyUnderTest, type KnownDifferences, type RecordingOrigin, type RunContext } from './differential.js';
import { compileJava, okhttpJars, okhttpMissing } from './java-clients.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const skip = okhttpMissing;

/**
 * A WebSocket server that echoes ("echo:" before a text, a binary as it came) and records, per
 * connection, the upgrade request's head (its key left out: random in every run), the messages and
 * the close it got.
 */
async function startWebSocketOrigin(secure: boolean): Promise<RecordingOrigin> {
  const hostname = 'ws.example.test';
  const ca = getOriginCa();
  const caFile = path.join(tempDir('conformance-ws-origin-'), 'origin-ca.pem');
  fs.writeFileSync(caFile, ca.certPem);
  const leaf = ca.issueLeaf(hostname);
  const server = secure ? https.createServer({ key: leaf.keyPem, cert: leaf.certPem }) : http.createServer();
  // The second protocol offered, so that a proxy answering on its own would show.
  const wss = new WebSocketServer({ server, handleProtocols: (offered) => [...offered][1] ?? false });
  let lines: string[] = [];
  let open = 0;
  let wakeWhenClosed: Array<() => void> = [];
  wss.on('connection', (ws, request) => {
    open++;
    const record = (line: string): void => { lines.push(line); };
    record(`${request.method} ${request.url} HTTP/${request.httpVersion}`);
    for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
      if (request.rawHeaders[i]!.toLowerCase() !== 'sec-websocket-key') record(`${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}`);
    }
    ws.on('message', (data: Buffer, binary) => {
      record(binary ? `binary ${data.toString('hex')}` : `text ${data.toString('utf8')}`);
      ws.send(binary ? data : `echo:${data.toString('utf8')}`, { binary });
    });
    ws.on('close', (code, reason) => {
      record(`close ${code} ${reason.toString('utf8')}`);
      open--;
      if (open === 0) for (const wake of wakeWhenClosed.splice(0)) wake();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    hostname,
    tls: secure,
    caPem: ca.certPem,
    caFile,
    transcript: () => lines.join('\n'),
    reset: async () => {
      lines = [];
      wakeWhenClosed = [];
    },
    allClosed: () => (open === 0 && lines.length > 0 ? Promise.resolve() : new Promise<void>((resolve) => { wakeWhenClosed.push(resolve); })),
    close: () => new Promise<void>((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

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
