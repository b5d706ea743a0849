// Request lines Node's HTTP/1 parser cannot carry as written, with curl, direct and through the
// proxy under test (a CONNECT tunnel, and SOCKS5): they must reach the server as the client wrote
// them, and its answer the client, as a byte stream (src/proxy/layers/http1-request-line.ts).
// - RTSP, as an IP camera's player starts it: curl's `OPTIONS * RTSP/1.0` (VLC and ffmpeg send
//   `OPTIONS rtsp://cam/stream RTSP/1.0`, in the unit table) was read as HTTP and sent on as
//   HTTP/1.0, and the camera's `RTSP/1.0 200 OK` could not be read back: the player got an error.
// - An HTTP method the parser does not know (`BREW`), over TLS with ALPN http/1.1: the client got
//   a 400 of ours where the server answers it.
// - A device with an HTTP proxy of its own behind phonehome (a proxy setting, under a transparent
//   or WireGuard capture): its absolute-form request went on as a path, which that proxy would
//   take for a request to itself, and its CONNECT got a 405 of ours.
// - Firmware that writes a UTF-8 path as it is: llhttp refuses the byte, and the device got a 400.
// The same for a first head the parser refuses even when lenient (src/proxy/layers/http1-head-refusal.ts),
// which curl sends as it is told to: a space before a header's colon or inside its name, over TLS,
// and `Content-Length` twice, in clear. The device got a 400 of ours where its server answered.

import net from 'node:net';
import { once } from 'node:events';
import t from 'tap';
import type { Flow } from '../../src/model/flow.js';
import { differential, missingCommand, runClient, startProxyUnderTest, startRecordingOrigin, type RunContext, type ScriptAnswer } from './differential.js';
import { socks5Connect, startLab, within } from '../helpers/lab.js';
import { runProgram } from '../helpers/run-client.js';

const skip = missingCommand('curl', 'curl');

/** curl's arguments for a mode: direct pins the name to 127.0.0.1, the proxied modes name the proxy (a tunnel for any protocol). */
function route(context: RunContext): string[] {
  const { port, hostname } = context.origin;
  if (context.mode === 'direct') return ['--resolve', `${hostname}:${port}:127.0.0.1`];
  return context.mode === 'http-proxy'
    ? ['--proxy', `http://127.0.0.1:${context.proxy.httpPort}`, '--proxytunnel', '--suppress-connect-headers']
    : ['--proxy', `socks5h://127.0.0.1:${context.proxy.socksPort}`];
}

/** An RTSP server's answer to each whole request, with its CSeq sent back. */
function rtspAnswer(received: Buffer): Buffer | undefined {
  const text = received.toString('latin1');
  if (!text.includes('\r\n\r\n')) return undefined;
  const cseq = /^CSeq: *(\d+)/im.exec(text)?.[1] ?? '0';
  return Buffer.from(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nPublic: OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE\r\n\r\n`, 'latin1');
}

/**
 * curl to its end. A run that did not end as the scenario expects (a success, or the complaint
 * `fails`) fails, so that two equal failures are not taken for fidelity.
 */
async function curl(args: readonly string[], fails?: RegExp): Promise<string> {
  const result = await runClient('curl', ['-q', '-sS', '-i', '--max-time', '20', ...args]);
  if (fails ? !fails.test(result.stderr) : result.status !== 0) throw new Error(`curl did not end as expected: ${result.text}`);
  return result.text;
}

t.test('RTSP with curl (a camera player\'s first request, OPTIONS): it reaches the camera as written, and the camera\'s answer the player', { skip }, async (t) => {
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const origin = await startRecordingOrigin({ hostname: 'cam.example.test', script: rtspAnswer });
  t.teardown(() => origin.close());
  await differential(t, proxy, origin, {
    name: 'curl RTSP OPTIONS',
    closesConnections: true,
    run: (context) => curl([...route(context), `rtsp://${origin.hostname}:${origin.port}/stream`]),
  });
});

/** Answers a whole request with a teapot: the server's own answer to a method it knows. */
function teapot(received: Buffer): Buffer | undefined {
  return received.includes('\r\n\r\n') ? Buffer.from('HTTP/1.1 418 I am a teapot\r\nContent-Length: 4\r\nConnection: close\r\n\r\ntea\n') : undefined;
}

t.test('an HTTP method the parser does not know, over TLS (curl -X BREW): the server\'s answer, not ours', { skip }, async (t) => {
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const origin = await startRecordingOrigin({ tls: true, hostname: 'pot.example.test', script: teapot });
  t.teardown(() => origin.close());
  await differential(t, proxy, origin, {
    name: 'curl -X BREW https',
    closesConnections: true,
    run: (context) => curl(['--http1.1', '--cacert', context.caFile, ...route(context), '-X', 'BREW', `https://${origin.hostname}:${origin.port}/pot`]),
  });
});

t.test('the RTSP dialogue is captured as a stream and says why it was not read as HTTP', { skip }, async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const origin = await startRecordingOrigin({ hostname: 'cam.example.test', script: rtspAnswer });
  t.teardown(() => origin.close());
  const run = await runProgram('curl', ['-q', '-sS', '--max-time', '20', '--proxy', `socks5h://127.0.0.1:${lab.port}`, `rtsp://cam.example.test:${origin.port}/stream`], '', 30_000);
  t.equal(run.code, 0, `curl: ${run.stderr}`);
  const flow: Flow = await lab.next('flow:end', (f) => f.target.host === 'cam.example.test');
  t.equal(flow.kind, 'raw');
  t.ok(flow.tags.includes('stream:not-tls-or-http'), `tagged (${flow.tags})`);
  t.match(flow.stream?.up.bytes.toString('latin1'), /^OPTIONS \* RTSP\/1\.0\r\nCSeq: 1\r\n/, 'the request as curl wrote it');
  t.match(flow.stream?.down.bytes.toString('latin1'), /^RTSP\/1\.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS/, 'the camera\'s answer');
});

/** Answers a whole request as a device's own proxy would: a page for a GET, a refusal for a CONNECT. */
function devicesProxy(received: Buffer): Buffer | undefined {
  const text = received.toString('latin1');
  if (!text.includes('\r\n\r\n')) return undefined;
  return Buffer.from(text.startsWith('CONNECT ')
    ? 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
    : `HTTP/1.1 200 OK\r\nContent-Length: ${text.indexOf(' HTTP/')}\r\nConnection: close\r\n\r\n${text.slice(0, text.indexOf(' HTTP/'))}`);
}

t.test('a device with a proxy of its own, behind phonehome (curl --preproxy through SOCKS5): its absolute-form GET and its CONNECT reach that proxy as written', { skip }, async (t) => {
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const origin = await startRecordingOrigin({ hostname: 'office-proxy.example.test', script: devicesProxy });
  t.teardown(() => origin.close());
  // The device's proxy is the origin; phonehome is between them, as a transparent or WireGuard
  // capture would be (curl's --preproxy: its connection to the proxy goes through SOCKS5).
  const viaDevicesProxy = (context: RunContext, url: string) => [
    '--proxy', `http://127.0.0.1:${origin.port}`, ...(context.mode === 'direct' ? [] : ['--preproxy', `socks5h://127.0.0.1:${context.proxy.socksPort}`]), url,
  ];
  await differential(t, proxy, origin, {
    name: 'curl GET through a proxy of its own',
    modes: ['socks5'],
    closesConnections: true,
    run: (context) => curl(viaDevicesProxy(context, 'http://news.example.test/today?edition=1')),
  });
  await differential(t, proxy, origin, {
    name: 'curl CONNECT to a proxy of its own that refuses',
    modes: ['socks5'],
    closesConnections: true,
    run: (context) => curl(viaDevicesProxy(context, 'https://news.example.test/'), /CONNECT tunnel failed, response 403/),
  });
});

t.test('firmware that writes a UTF-8 path as it is (no client of ours does; curl percent-encodes): the server answers it, as directly', async (t) => {
  const origin = await startRecordingOrigin({ hostname: 'thermostat.example.test', script: teapot, closeAfterScript: true });
  t.teardown(() => origin.close());
  const lab = await startLab();
  t.teardown(() => lab.close());
  const request = Buffer.from('GET /r\u00e9glages HTTP/1.1\r\nHost: thermostat.example.test\r\n\r\n', 'utf8');
  const exchange = async (socket: net.Socket): Promise<string> => {
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    socket.resume();
    socket.write(request);
    await within(once(socket, 'close'), 10_000, 'the answer and the close');
    return Buffer.concat(received).toString('latin1');
  };
  const directSocket = net.connect(origin.port, '127.0.0.1');
  await once(directSocket, 'connect');
  const direct = await exchange(directSocket);
  const directRecord = origin.transcript();
  await origin.reset();
  const { socket, reply } = await socks5Connect(lab.port, { host: 'thermostat.example.test', port: origin.port });
  t.equal(reply, 0, 'SOCKS5 connected');
  const proxied = await exchange(socket);
  t.match(direct, /^HTTP\/1\.1 418 /, 'directly, the server\'s answer');
  t.equal(proxied, direct, 'through phonehome, the same bytes');
  t.equal(origin.transcript(), directRecord, 'and the server read the same bytes');
});

/** Answers a whole request, its body read by its first Content-Length, with what the server read of it. */
function lengthReader(received: Buffer): Buffer | undefined {
  const text = received.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const length = Number(/^Content-Length: *(\d+)/im.exec(text)?.[1] ?? '0');
  if (received.length < end + 4 + length) return undefined;
  const body = `read ${length} bytes of body\n`;
  return Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`, 'latin1');
}

t.test('a head our parser refuses even when lenient, from curl: the server reads it as curl wrote it, and curl gets its answer', { skip }, async (t) => {
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const tlsOrigin = await startRecordingOrigin({ tls: true, hostname: 'legacy.example.test', script: teapot });
  t.teardown(() => tlsOrigin.close());
  await differential(t, proxy, tlsOrigin, {
    name: 'curl, a space before a colon and in a name, https',
    closesConnections: true,
    run: (context) => curl(['--http1.1', '--cacert', context.caFile, ...route(context), '-H', 'X-Device-Id : 7', '-H', 'X Build: 2', `https://${tlsOrigin.hostname}:${tlsOrigin.port}/status`]),
  });
  const origin = await startRecordingOrigin({ hostname: 'meter.example.test', script: lengthReader });
  t.teardown(() => origin.close());
  await differential(t, proxy, origin, {
    name: 'curl, Content-Length twice, http',
    closesConnections: true,
    run: (context) => curl([...route(context), '-H', 'Content-Length: 9', '-H', 'Content-Length: 9', '--data-binary', 'kwh=12.5\n', `http://${origin.hostname}:${origin.port}/reading`]),
  });
});

/**
 * A server that keeps its connections: each whole request (its body read by its first
 * Content-Length) is answered with its request line, as read, and the connection kept.
 */
function keptConnectionServer(received: Buffer): ScriptAnswer | undefined {
  const end = received.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = received.toString('latin1', 0, end);
  const length = Number(/^Content-Length: *(\d+)/im.exec(head)?.[1] ?? '0');
  if (received.length < end + 4 + length) return undefined;
  const body = `read ${JSON.stringify(head.slice(0, head.indexOf('\r\n')))} and ${length} bytes of body\n`;
  return { answer: Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`, 'latin1'), used: end + 4 + length };
}

t.test('a later request on a kept connection whose head our parser refuses, from curl (--next): the server reads it on the same connection, and curl gets its answer', { skip }, async (t) => {
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const tlsOrigin = await startRecordingOrigin({ tls: true, hostname: 'legacy.example.test', script: keptConnectionServer });
  t.teardown(() => tlsOrigin.close());
  await differential(t, proxy, tlsOrigin, {
    name: 'curl --next, a space before a colon in the second request, https',
    closesConnections: true,
    run: (context) => {
      const each = ['--http1.1', '--cacert', context.caFile, ...route(context)];
      const url = `https://${tlsOrigin.hostname}:${tlsOrigin.port}`;
      return curl([...each, `${url}/status`, '--next', ...each, '-H', 'X-Device-Id : 7', `${url}/report`, '--next', ...each, `${url}/status`]);
    },
  });
  const origin = await startRecordingOrigin({ hostname: 'meter.example.test', script: keptConnectionServer });
  t.teardown(() => origin.close());
  await differential(t, proxy, origin, {
    name: 'curl --next, Content-Length twice in the second request, http',
    closesConnections: true,
    run: (context) => {
      const url = `http://${origin.hostname}:${origin.port}`;
      return curl([...route(context), `${url}/config`, '--next', ...route(context), '-H', 'Content-Length: 9', '-H', 'Content-Length: 9', '--data-binary', 'kwh=12.5\n', `${url}/reading`]);
    },
  });
});

t.test('a refused later request is captured as a stream after the connection\'s HTTP flows, from its head on, and one pipelined behind a request waits for that request\'s answer', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const origin = await startRecordingOrigin({ hostname: 'meter.example.test', script: keptConnectionServer });
  t.teardown(() => origin.close());
  // A hand-written device: curl does not pipeline. Both requests in one write, then a third.
  const { socket, reply } = await socks5Connect(lab.port, { host: 'meter.example.test', port: origin.port });
  t.equal(reply, 0, 'SOCKS5 connected');
  let received = '';
  socket.on('data', (c: Buffer) => { received += c.toString('latin1'); });
  socket.resume();
  const answers = (n: number): Promise<void> => within(new Promise<void>((resolve) => {
    const check = (): void => { if ((received.match(/HTTP\/1\.1 200 OK/g) ?? []).length >= n) { socket.off('data', check); resolve(); } };
    socket.on('data', check);
    check();
  }), 10_000, `${n} answers`);
  socket.write('GET /config HTTP/1.1\r\nHost: meter.example.test\r\n\r\nPOST /reading HTTP/1.1\r\nHost: meter.example.test\r\nContent-Length: 9\r\nContent-Length: 9\r\n\r\nkwh=12.5\n');
  await answers(2);
  socket.write('GET /status HTTP/1.1\r\nHost: meter.example.test\r\n\r\n');
  await answers(3);
  t.match(received, /read "GET \/config HTTP\/1\.1"[^]*read "POST \/reading HTTP\/1\.1" and 9 bytes[^]*read "GET \/status HTTP\/1\.1"/, 'the server\'s three answers, in order');
  t.equal(origin.transcript().match(/^--- connection/gm)?.length, 1, 'all on the one server connection, as direct');
  const first: Flow = await lab.next('flow:end', (f) => f.target.host === 'meter.example.test');
  t.equal(first.kind, 'http', 'the request before it is an HTTP flow');
  t.equal(first.request?.url, `http://meter.example.test:${origin.port}/config`);
  socket.end();
  const rest: Flow = await lab.next('flow:end', (f) => f.target.host === 'meter.example.test' && f.kind === 'raw');
  t.ok(rest.tags.includes('stream:http1-parser-refuses'), `the rest is a stream that says why (${rest.tags})`);
  t.match(rest.stream?.up.bytes.toString('latin1'), /^POST \/reading HTTP\/1\.1\r\n[^]*Content-Length: 9\r\nContent-Length: 9\r\n\r\nkwh=12\.5\nGET \/status HTTP\/1\.1\r\n/, 'from the refused head on, as the device wrote it');
  t.match(rest.stream?.down.bytes.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n[^]*read "POST \/reading/, 'with the server\'s answers from then on');
});

t.test('such a connection is captured as a stream that says why, with the head as curl wrote it', { skip }, async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const origin = await startRecordingOrigin({ hostname: 'meter.example.test', script: lengthReader });
  t.teardown(() => origin.close());
  const run = await runProgram('curl', ['-q', '-sS', '--max-time', '20', '--proxy', `socks5h://127.0.0.1:${lab.port}`, '-H', 'Content-Length: 9', '-H', 'Content-Length: 9', '--data-binary', 'kwh=12.5\n', `http://meter.example.test:${origin.port}/reading`], '', 30_000);
  t.equal(run.code, 0, `curl: ${run.stderr}`);
  t.equal(run.stdout, 'read 9 bytes of body\n', 'the server\'s answer');
  const flow: Flow = await lab.next('flow:end', (f) => f.target.host === 'meter.example.test');
  t.equal(flow.kind, 'raw');
  t.ok(flow.tags.includes('stream:http1-parser-refuses'), `tagged (${flow.tags})`);
  t.match(flow.stream?.up.bytes.toString('latin1'), /^POST \/reading HTTP\/1\.1\r\n[^]*Content-Length: 9\r\nContent-Length: 9\r\n[^]*\r\n\r\nkwh=12\.5\n$/, 'the request as curl wrote it');
  t.match(flow.stream?.down.bytes.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n/, 'the server\'s answer');
});
