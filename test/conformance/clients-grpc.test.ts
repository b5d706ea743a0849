// grpc-js, direct and through the proxy under test (grpc-js reaches a proxy by HTTP CONNECT from
// grpc_proxy, as an app's would; it has no SOCKS5): a unary call and a bidirectional stream over
// TLS with metadata, and two calls the server resets (REFUSED_STREAM, then CANCEL). The origin's record (HTTP/2 requests: headers in order, body, trailers) and
// what the client got (messages, response metadata, status) must be the same in both modes.

import grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import t from 'tap';
import { differential, startProxyUnderTest, startRecordingOrigin, type KnownDifferences, type RunContext } from './differential.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. None since b268f5f (HTTP/2 Date). */
const knownDifferences: KnownDifferences = {};

/** gRPC's length-prefixed messages (uncompressed), both ways. */
const frame = (payload: Buffer): Buffer => Buffer.concat([Buffer.from([0]), Buffer.from(Uint32Array.of(payload.length).buffer).reverse(), payload]);
function unframe(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + 5 <= bytes.length;) {
    const length = bytes.readUInt32BE(at + 1);
    out.push(bytes.subarray(at + 5, at + 5 + length));
    at += 5 + length;
  }
  return out;
}

/** Calls to /contacts.Sync/Busy so far: every other one is refused (one each run, and its retry). */
let busyCalls = 0;

/**
 * A gRPC server written on the origin's HTTP/2 handler: echoes each message, then status 0. Once
 * the request is read, /contacts.Sync/Busy is refused every other time (RST_STREAM REFUSED_STREAM,
 * which grpc-js answers by sending the call again, unseen by the app), /contacts.Sync/Drop is
 * reset with CANCEL (the app sees CANCELLED), and /contacts.Sync/Crash takes the server's
 * connection down with it, unanswered (grpc-js connects again for the calls after).
 */
function grpcHandler(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void {
  const body: Buffer[] = [];
  req.on('data', (c: Buffer) => body.push(c));
  req.on('end', () => {
    if (req.url === '/contacts.Sync/Busy' && busyCalls++ % 2 === 0) return void req.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    if (req.url === '/contacts.Sync/Drop') return void req.stream.close(http2.constants.NGHTTP2_CANCEL);
    // A reset connection, without a GOAWAY: a crashed server, or a middlebox that dropped it.
    if (req.url === '/contacts.Sync/Crash') return void (req.socket as unknown as { resetAndDestroy(): void }).resetAndDestroy();
    res.writeHead(200, { 'content-type': 'application/grpc+proto', 'x-served-by': 'conformance' });
    for (const message of unframe(Buffer.concat(body))) res.write(frame(Buffer.concat([Buffer.from('echo '), message])));
    res.addTrailers({ 'grpc-status': '0', 'grpc-message': 'done' });
    res.end();
  });
}

const raw = { serialize: (b: Buffer): Buffer => b, deserialize: (b: Buffer): Buffer => b };

async function runGrpc(context: RunContext): Promise<string> {
  const { origin, mode, proxy } = context;
  const authority = `${origin.hostname}:${origin.port}`;
  // grpc-js reads grpc_proxy when the channel is made; direct, it dials 127.0.0.1 under the name.
  const previous = process.env['grpc_proxy'];
  if (mode === 'http-proxy') process.env['grpc_proxy'] = `http://127.0.0.1:${proxy.httpPort}`;
  else delete process.env['grpc_proxy'];
  const client = mode === 'direct'
    ? new grpc.Client(`127.0.0.1:${origin.port}`, grpc.credentials.createSsl(Buffer.from(context.caPem)), { 'grpc.default_authority': authority, 'grpc.ssl_target_name_override': origin.hostname })
    : new grpc.Client(authority, grpc.credentials.createSsl(Buffer.from(context.caPem)));
  if (previous === undefined) delete process.env['grpc_proxy'];
  else process.env['grpc_proxy'] = previous;
  const lines: string[] = [];
  const metadata = new grpc.Metadata();
  metadata.set('x-device-id', 'conformance-1');
  metadata.set('x-blob-bin', Buffer.from([0, 1, 2, 255]));
  try {
    await new Promise<void>((resolve) => {
      const call = client.makeUnaryRequest('/contacts.Sync/Upload', raw.serialize, raw.deserialize, Buffer.from('Ada +44 20 7946 0000'), metadata, (err, reply) => {
        lines.push(err ? `unary error ${err.code} ${err.details}` : `unary reply ${reply!.toString()}`);
        resolve();
      });
      call.on('metadata', (m) => lines.push(`unary metadata ${JSON.stringify(asSent(m))}`));
      call.on('status', (s) => lines.push(`unary status ${s.code} ${s.details} ${JSON.stringify(asSent(s.metadata))}`));
    });
    for (const method of ['/contacts.Sync/Busy', '/contacts.Sync/Drop', '/contacts.Sync/Crash']) {
      await new Promise<void>((resolve) => {
        client.makeUnaryRequest(method, raw.serialize, raw.deserialize, Buffer.from('Grace +1 555 0100'), new grpc.Metadata(), (err, reply) => {
          lines.push(err ? `${method} error ${err.code} ${err.details}` : `${method} reply ${reply!.toString()}`);
          resolve();
        });
      });
    }
    await new Promise<void>((resolve) => {
      const call = client.makeBidiStreamRequest('/contacts.Sync/Chat', raw.serialize, raw.deserialize, metadata);
      call.on('data', (m: Buffer) => lines.push(`stream message ${m.toString()}`));
      call.on('metadata', (m) => lines.push(`stream metadata ${JSON.stringify(asSent(m))}`));
      call.on('status', (s) => { lines.push(`stream status ${s.code} ${s.details}`); resolve(); });
      call.on('error', () => undefined);
      for (const word of ['one', 'two', 'three']) call.write(Buffer.from(word));
      call.end();
    });
  } finally {
    client.close();
  }
  return lines.join('\n');
}

/** The metadata as received: grpc-js adds nothing, so a header here that the origin did not send came from the relay. */
function asSent(metadata: grpc.Metadata): Record<string, unknown> {
  return metadata.toJSON();
}

t.test('grpc-js', async (t) => {
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const origin = await startRecordingOrigin({ tls: true, alpn: ['h2'], handler: grpcHandler as never });
  t.teardown(() => origin.close());
  await differential(t, proxy, origin, { name: 'grpc-js unary + bidi stream', modes: ['http-proxy'], run: runGrpc }, knownDifferences);
});
