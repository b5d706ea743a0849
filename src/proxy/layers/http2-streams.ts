// What the HTTP/2 relays (requests in http2-layer.ts, extended CONNECT in
// http2-websocket-tunnel.ts) share about a stream: opening the server's with the device's fields,
// passing on how the server's ended, resets of our own (told from the client's, which the
// rapid-reset guard counts), an error answer of the proxy's, and the listeners dropped from a
// stream that has closed.

import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { headerPairs } from '../../model/flow.js';
import type { ExchangeRecorder } from '../recorder/exchange-recorder.js';
import { headerSafe } from '../replies.js';
import { upstreamFailure } from '../upstream.js';
import { sendFields } from './http2-header-fields.js';

const { NGHTTP2_NO_ERROR, NGHTTP2_INTERNAL_ERROR } = http2.constants;

/**
 * The server's stream for a device's: the device's fields as they came, with `options`. A request
 * that cannot be sent gets the device a 502 and gives undefined; errors later are said by the flow.
 */
export function openServerStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, rawHeaders: string[], upstream: http2.ClientHttp2Session, options: http2.ClientSessionRequestOptions, recorder: ExchangeRecorder, fail: (reason: string) => void): http2.ClientHttp2Stream | undefined {
  let upstreamStream: http2.ClientHttp2Stream;
  try {
    upstreamStream = sendFields(headers, rawHeaders, (fields) => upstream.request(fields, options));
  } catch (err) {
    const failure = upstreamFailure(err);
    recorder.tag(failure.tag);
    fail(failure.reason);
    respondError(stream, 502, failure.reason, recorder);
    return undefined;
  }
  upstreamStream.on('error', (err) => {
    // A reset the server sent is passed on, with its code, when the stream closes (passServerClose).
    if ((err as { code?: string }).code === 'ERR_HTTP2_STREAM_ERROR') return;
    const failure = upstreamFailure(err);
    connectionErrors.set(upstreamStream, failure.reason);
    recorder.tag(failure.tag);
    fail(failure.reason);
  });
  return upstreamStream;
}

/** Server streams whose connection failed with an error, with why. */
const connectionErrors = new WeakMap<http2.ClientHttp2Stream, string>();

/**
 * Why a server stream ended with its connection rather than by a reset the server sent; undefined
 * for a reset. A session that ends closes its streams with CANCEL, the code a server's own reset
 * may carry, so the session (`upstream`, which the stream has forgotten by its close) says which
 * it was.
 */
function connectionEnd(upstreamStream: http2.ClientHttp2Stream, upstream: http2.ClientHttp2Session): string | undefined {
  return connectionErrors.get(upstreamStream) ?? (upstream.destroyed ? 'the connection to the server ended before it answered' : undefined);
}

/** Records the server's answer and the address it came from (the upstream session's socket); gives its status. */
export function recordServerAnswer(recorder: ExchangeRecorder, upstream: http2.ClientHttp2Session, headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader, raw: string[]): number {
  const status = Number(headers[':status'] ?? 0);
  const socket = upstream.socket as { remoteAddress?: string; remotePort?: number } | undefined;
  recorder.response({ status, statusText: '', httpVersion: 'HTTP/2.0', headers: headerPairs(raw) }, { ip: socket?.remoteAddress, port: socket?.remotePort });
  return status;
}

/**
 * The server's stream closed while the device's is open. A reset the server sent reaches the device
 * with its code, answered or not: REFUSED_STREAM tells a client it may send the request again
 * (grpc-js does, unseen by the app: test/conformance/clients-grpc.test.ts), CANCEL tells gRPC
 * the call was cancelled, and NO_ERROR before any answer closes the device's stream as it closed
 * the server's. Until 2026-12-06 a device still waiting for its answer got a 502 of ours instead,
 * which told it none of that.
 * A server connection (`upstream`) that is gone under a stream still waiting for its answer (the
 * server died, or closed it without answering) ends the device's connection (`deviceSocket`), with
 * no GOAWAY of ours: direct, the device's connection would have gone with it, and its client then
 * does what it does direct (gRPC: UNAVAILABLE, which it may retry). Until 2026-12-06 the device got
 * a 502 of ours, which it took for the server's answer. One that failed otherwise (the session
 * lives) gets the device a 502 that says why. False when nothing applies (the server ended its
 * answer with NO_ERROR).
 */
export function passServerClose(stream: http2.ServerHttp2Stream, upstreamStream: http2.ClientHttp2Stream, upstream: http2.ClientHttp2Session, deviceSocket: Duplex, recorder: ExchangeRecorder, fail: (reason: string) => void): boolean {
  const code = upstreamStream.rstCode ?? NGHTTP2_NO_ERROR;
  const lost = stream.headersSent ? undefined : connectionEnd(upstreamStream, upstream);
  if (lost !== undefined && upstream.destroyed && !destroyedByProxy.has(upstream)) {
    fail(lost);
    deviceSocket.destroy();
    return true;
  }
  if (lost !== undefined) {
    fail(lost);
    respondError(stream, 502, lost);
    return true;
  }
  if (!stream.headersSent) {
    fail(code === NGHTTP2_NO_ERROR ? 'the server closed the stream without an answer' : `the server reset the stream with code ${code}`);
    recorder.tag(`h2:server-rst-stream-${code}`);
    resetStream(stream, code);
    return true;
  }
  if (code === NGHTTP2_NO_ERROR) return false;
  fail(`the server reset the stream with code ${code}`);
  recorder.tag(`h2:server-rst-stream-${code}`);
  resetStream(stream, code);
  return true;
}

/** Streams we reset ourselves (passing on the server's reset, or failing): not the client's doing. */
export const resetByProxy = new WeakSet<http2.Http2Stream>();

/** Server connections we destroyed ourselves (a device cut off for abuse): no death of the server's. */
export const destroyedByProxy = new WeakSet<http2.ClientHttp2Session>();

/** Errors of a stream are said by its flow; module-level, so the listener holds no flow of its own. */
export function ignoreError(): void {}

/** Events our closures listen to on a stream; each closure reaches the flow and the other stream. */
const OUR_EVENTS = ['data', 'end', 'drain', 'trailers', 'wantTrailers', 'headers', 'response', 'error'] as const;

/**
 * Drops our listeners from a stream that has closed. A closed stream can outlive its 'close' by a
 * long way: Node leaves a native stream whose last frames are still being written to the socket
 * for the garbage collector (nodejs/node#19002), and V8 then keeps its JavaScript object alive
 * through every young-generation collection until a full one. Everything our listeners reach (the
 * flow's recorder, the other side's stream, the headers) would be kept and promoted with it: about
 * 2 kB per HTTP/2 request measured under load, a quarter of what the proxy thread promoted.
 * By name, not removeAllListeners(): that also walks Node's own listeners, at a measured 1.6 % of
 * the proxy thread. Called from a 'close' listener, so 'close' listeners are gone or running.
 */
export function keepNothingAfterClose(stream: http2.Http2Stream): void {
  for (const event of OUR_EVENTS) stream.removeAllListeners(event);
  stream.on('error', ignoreError);
}

export function resetStream(stream: http2.ServerHttp2Stream, code: number): void {
  resetByProxy.add(stream);
  stream.close(code);
}

/**
 * Answers a stream with an error of the proxy's. What the device still sends is read and dropped;
 * `recorder` is given where nothing reads the device's body yet (no relay), so that it is recorded.
 */
export function respondError(stream: http2.ServerHttp2Stream, status: number, reason: string, recorder?: ExchangeRecorder): void {
  if (recorder) stream.on('data', (chunk: Buffer) => recorder.data(true, chunk));
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    resetStream(stream, NGHTTP2_INTERNAL_ERROR);
    return;
  }
  const body = `phonehome: ${reason}\n`;
  stream.respond({ ':status': status, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-phonehome-error': headerSafe(reason) });
  stream.end(body);
  // The request body, if any, is not wanted any more.
  stream.resume();
}
