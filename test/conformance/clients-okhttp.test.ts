// OkHttp 3 (Debian's libokhttp-java on the Debian JDK), the HTTP client of many Android apps,
// direct and through the proxy under test as an HTTP proxy and as a SOCKS5 proxy: a GET and a JSON
// POST over TLS to an origin offering h2 and HTTP/1.1 (with an RSA and with an ECDSA certificate),
// to one speaking HTTP/1.1 only, and in clear. The client in test/fixtures/okhttp/ is compiled with javac into a temporary folder. The origin's record and what OkHttp got (protocol,
// status, headers, body) must be the same in every mode.

import t from 'tap';
import { clientProxyArgs, differential, jsonEchoHandler, runClient, startProxyUnderTest, startRecordingOrigin, type KnownDifferences, type RecordingOrigin, type RunContext } from './differential.js';
import { compileJava, okhttpJars, okhttpMissing } from './java-clients.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const skip = okhttpMissing;

t.test('OkHttp', { skip: skip ?? false }, async (t) => {
  const classPath = await compileJava(t, ['okhttp/ConformanceClient.java', 'okhttp/OkHttpClients.java', 'java/PemTrust.java'], okhttpJars);
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const runAgainst = (origin: RecordingOrigin) => async (context: RunContext): Promise<string> => {
    const { mode, port } = clientProxyArgs(context);
    return (await runClient('java', ['-cp', classPath, 'ConformanceClient', mode, String(port), context.caFile, `${origin.tls ? 'https' : 'http'}://${origin.hostname}:${origin.port}`])).text;
  };

  t.test('an origin offering h2 and HTTP/1.1', async (t) => {
    const origin = await startRecordingOrigin({ tls: true, alpn: ['h2', 'http/1.1'], handler: jsonEchoHandler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'okhttp GET + JSON POST (h2)', run: runAgainst(origin) }, knownDifferences);
  });

  t.test('an origin in clear', async (t) => {
    const origin = await startRecordingOrigin({ handler: jsonEchoHandler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'okhttp GET + JSON POST (http)', run: runAgainst(origin) }, knownDifferences);
  });

  t.test('an origin with an ECDSA certificate (our leaf is ECDSA too, signed by our RSA CA)', async (t) => {
    const origin = await startRecordingOrigin({ tls: true, alpn: ['h2', 'http/1.1'], keyType: 'ec', handler: jsonEchoHandler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'okhttp GET + JSON POST (h2, ECDSA)', run: runAgainst(origin) }, knownDifferences);
  });

  t.test('a SHOUTcast radio stream (`ICY 200 OK`), in clear and over TLS: a radio app\'s player reads it through phonehome as directly', async (t) => {
    const classPath = await compileJava(t, ['okhttp/GetClient.java', 'okhttp/OkHttpClients.java', 'java/PemTrust.java'], okhttpJars);
    const shoutcast = (received: Buffer): Buffer | undefined => received.includes('\r\n\r\n')
      ? Buffer.from('ICY 200 OK\r\nicy-notice1: <BR>This stream requires Winamp<BR>\r\nicy-name: Radio Conformance\r\nicy-metaint: 8192\r\ncontent-type: audio/mpeg\r\n\r\nID3-and-then-mp3-frames', 'latin1')
      : undefined;
    for (const secure of [false, true]) {
      const origin = await startRecordingOrigin({ tls: secure, hostname: 'radio.example.test', script: shoutcast, closeAfterScript: true });
      t.teardown(() => origin.close());
      await differential(t, proxy, origin, {
        name: `okhttp SHOUTcast stream (${secure ? 'https' : 'http'})`,
        closesConnections: true,
        run: async (context) => {
          const { mode, port } = clientProxyArgs(context);
          const result = await runClient('java', ['-cp', classPath, 'GetClient', mode, String(port), context.caFile, `${secure ? 'https' : 'http'}://${origin.hostname}:${origin.port}/stream`, 'Icy-MetaData', '1', 'User-Agent', 'radio-conformance']);
          // Two equal failures are not fidelity: the player must have read the stream.
          if (!/^http\/1\.0 200 OK\n[^]*ID3-and-then-mp3-frames/.test(result.stdout.toString())) throw new Error(`the player did not read the stream: ${result.text}`);
          return result.text;
        },
      }, knownDifferences);
    }
  });

  t.test('a camera\'s web server that repeats its Content-Length (NanoHTTPD) and puts a space before a colon: the app reads the snapshot through phonehome as directly', async (t) => {
    const classPath = await compileJava(t, ['okhttp/GetClient.java', 'okhttp/OkHttpClients.java', 'java/PemTrust.java'], okhttpJars);
    const nanohttpd = (received: Buffer): Buffer | undefined => received.includes('\r\n\r\n')
      ? Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nDate: Fri, 7 Oct 2016 07:08:40 GMT\r\nContent-Length: 8\r\nConnection: keep-alive\r\nServer : camera/1.0\r\nContent-Length: 8\r\n\r\nsnapshot')
      : undefined;
    for (const secure of [false, true]) {
      const origin = await startRecordingOrigin({ tls: secure, hostname: 'camera.example.test', script: nanohttpd });
      t.teardown(() => origin.close());
      await differential(t, proxy, origin, {
        name: `okhttp repeated Content-Length (${secure ? 'https' : 'http'})`,
        run: async (context) => {
          const { mode, port } = clientProxyArgs(context);
          const result = await runClient('java', ['-cp', classPath, 'GetClient', mode, String(port), context.caFile, `${secure ? 'https' : 'http'}://${origin.hostname}:${origin.port}/snapshot.jpg`]);
          if (!/^http\/1\.1 200 OK\n[^]*\n\nsnapshot\n$/.test(result.stdout.toString())) throw new Error(`the app did not read the snapshot: ${result.text}`);
          return result.text;
        },
      }, knownDifferences);
    }
  });

  t.test('an origin speaking HTTP/1.1 only', async (t) => {
    const origin = await startRecordingOrigin({ tls: true, alpn: ['http/1.1'], handler: jsonEchoHandler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, { name: 'okhttp GET + JSON POST (http/1.1)', run: runAgainst(origin) }, knownDifferences);
  });
});
