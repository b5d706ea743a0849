// HTTP/2 towards the device and towards the server. Each client connection gets its own upstream
// HTTP/2 session, on the connection the TLS layer made while asking the server for h2, opened once
// the device's SETTINGS have come (each side is told the other's), so GOAWAY and PING can be
// passed on both ways. Each stream is one flow: request and response bodies are piped with
// HTTP/2 flow control (a slow reader stalls its stream, not the connection or our memory),
// trailers are relayed, RST_STREAM is passed on with its code, server push is refused, and a
// client that resets streams faster than a bound (CVE-2023-44487, "rapid reset") is cut off.
// Extended CONNECT (WebSockets over HTTP/2) goes through when the server allows it
// (http2-websocket-tunnel.ts).
// Header fields (and trailers) go as they came, a repeated name as its fields
// (http2-header-fields.ts).

import http2 from 'node:http2';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { EventBus } from '../../flow/events.js';
import { headerPairs, newFlowId } from '../../model/flow.js';
import { altSvcH3RemovedTag, dropHttp3FromHeaders } from './alt-svc.js';
import { relayBody } from './body-relay.js';
import { sendFields } from './http2-header-fields.js';
import { limits } from '../../limits.js';
import { connectionWindowToGive, DEVICE_SETTINGS_AT_FIRST, deviceSessionOptions, deviceSettingsToTell, SERVER_SETTINGS_AT_FIRST, serverSettingsToTell, upstreamSessionOptions } from './http2-session-options.js';
import { describeError } from '../../util/errors.js';
import { isReset, resetConnection } from '../connection-reset.js';
import { installLeanAsyncResourceBind } from '../../util/lean-async-resource-bind.js';
import { urlAuthority, type ConnectionContext } from '../context.js';
import { tlsRecordFor } from '../tls-record.js';
import type { FlowTracker } from '../flow-tracker.js';
import { ExchangeRecorder, streamParts, type PartWriting } from '../recorder/exchange-recorder.js';
import { connectionTags } from './http1-layer.js';
import { destroyedByProxy, ignoreError, keepNothingAfterClose, openServerStream, passServerClose, recordServerAnswer, resetByProxy, resetStream, respondError } from './http2-streams.js';
import { allowsExtendedConnect, relayExtendedConnect } from './http2-websocket-tunnel.js';
import { withFields } from '../../util/with-fields.js';

const { NGHTTP2_NO_ERROR, NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

/**
 * The server side of a device's HTTP/2 connection: how to open its session (over `socket`, the
 * connection phonehome made, which a device's reset resets), or why there is none. The session is
 * opened once the device's SETTINGS have come, so that the server's first SETTINGS are the
 * device's (upstreamOpener).
 */
export type Http2Upstream = { readonly open: (settings: http2.Settings) => http2.ClientHttp2Session; readonly socket?: net.Socket } | { readonly error: string };

/**
 * An Http2Upstream that opens a session to `url` with `options` (a connection already made:
 * `createConnection` and its `socket`). Until 2026-12-07 the session was opened before the device
 * was answered, and the server saw Node's SETTINGS first, the device's in a second frame after.
 */
export function upstreamOpener(url: string, options: http2.ClientSessionOptions, socket?: net.Socket): Http2Upstream {
  const open = (settings: http2.Settings): http2.ClientHttp2Session => {
    const session = http2.connect(url, { ...upstreamSessionOptions, ...options, settings: { ...upstreamSessionOptions.settings, ...settings } });
    session.on('error', () => undefined); // reported on the streams that use it
    return session;
  };
  return socket ? { open, socket } : { open };
}

interface Connection {
  readonly context: ConnectionContext;
  /** The device's connection under the session: it ends when the server's is lost under a stream. */
  readonly socket: Duplex;
  readonly session: http2.ServerHttp2Session;
  readonly upstream: Http2Upstream;
  /** Token bucket of client stream resets (rapid-reset guard). */
  resetTokens: number;
  resetRefilledMs: number;
  resetsSeen: number;
  closedForAbuse: boolean;
  /** The server was given the device's connection window (#giveServerTheDeviceWindow). */
  windowGiven: boolean;
  /** The server's session, once opened (#serverOf). */
  server: http2.ClientHttp2Session | undefined;
}

export class Http2Layer {
  readonly #tracker: FlowTracker;
  readonly #events: EventBus;
  readonly #bodyLimitBytes: number;
  /** How gRPC calls still open are written in parts: one for every stream. */
  readonly #parts: PartWriting;
  readonly #server: http2.Http2Server;
  readonly #connections = new WeakMap<http2.Http2Session, Connection>();
  #pending: Omit<Connection, 'session'> | undefined;

  constructor(tracker: FlowTracker, events: EventBus, bodyLimitBytes: number) {
    this.#tracker = tracker;
    this.#events = events;
    this.#bodyLimitBytes = bodyLimitBytes;
    this.#parts = streamParts((part) => tracker.record(part));
    // ClientHttp2Session.request binds through AsyncResource; Node 20's bind kept every upstream
    // stream alive until a full collection (lean-async-resource-bind.ts).
    installLeanAsyncResourceBind();
    // Never listens: decrypted sockets are handed to it. Its limits are what devices get.
    this.#server = http2.createServer(deviceSessionOptions);
    this.#server.on('session', (session) => this.#onSession(session));
    this.#server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => this.#onStream(stream, headers, flags, rawHeaders));
  }

  /** Takes a connection on which the device speaks HTTP/2 (ALPN h2, or h2c with prior knowledge). */
  handle(socket: Duplex, context: ConnectionContext, upstream: Http2Upstream): void {
    // 'session' is emitted synchronously inside 'connection': that is how the session meets its context.
    this.#pending = { context, socket, upstream, resetTokens: limits.h2ClientResetBurst, resetRefilledMs: Date.now(), resetsSeen: 0, closedForAbuse: false, windowGiven: false, server: undefined };
    try {
      this.#server.emit('connection', socket);
    } finally {
      this.#pending = undefined;
    }
  }

  #onSession(session: http2.ServerHttp2Session): void {
    const pending = this.#pending;
    if (!pending) {
      session.destroy();
      return;
    }
    const connection: Connection = withFields(pending, { session });
    this.#connections.set(session, connection);
    session.setTimeout(limits.socketIdleTimeoutMs, () => session.close());
    session.on('error', (error) => this.#events.log('debug', `HTTP/2 client session: ${describeError(error)}`));
    const upstream = connection.upstream;
    if (!('open' in upstream)) return;
    // A device that reset its connection resets the server's, as it would have direct; a graceful
    // close (GOAWAY, then the end) would say the device left in good order.
    const underServer = upstream.socket;
    if (underServer) connection.socket.once('error', (error) => { if (isReset(error)) resetConnection(underServer); });
    // The server's session opens with the device's SETTINGS (or at its first stream, should that
    // come first); a device that leaves before takes the server's connection with it.
    session.once('remoteSettings', () => this.#serverOf(connection));
    session.once('close', () => { if (!connection.server) underServer?.destroy(); });
  }

  /**
   * The server's session of `connection`, opened now when it is not yet, with the device's SETTINGS
   * as its first (bounded: serverSettingsToTell); undefined when there is none (`upstream.error`).
   */
  #serverOf(connection: Connection): http2.ClientHttp2Session | undefined {
    if (connection.server) return connection.server;
    const upstream = connection.upstream;
    if (!('open' in upstream)) return undefined;
    const { session } = connection;
    const firstSettings = session.remoteSettings.maxFrameSize === undefined ? undefined : serverSettingsToTell(SERVER_SETTINGS_AT_FIRST, session.remoteSettings);
    const server = upstream.open(firstSettings ?? {});
    connection.server = server;
    server.on('error', (error) => {
      this.#events.log('debug', `HTTP/2 upstream session: ${describeError(error)}`);
      // A server that reset its connection resets the device's: direct, every stream on it would
      // have died with it, not closed gracefully (connection-reset.ts).
      if (isReset(error)) resetConnection(connection.socket);
    });
    server.setTimeout(limits.socketIdleTimeoutMs, () => server.close());
    // GOAWAY both ways: the side that stays gets a graceful close, so open streams can finish.
    server.on('goaway', (code) => {
      if (session.closed || session.destroyed) return;
      if (code !== NGHTTP2_NO_ERROR) session.goaway(code);
      session.close();
    });
    session.on('goaway', () => {
      if (!server.closed && !server.destroyed) server.close();
    });
    session.on('close', () => {
      if (!server.destroyed) server.close();
    });
    server.on('close', () => {
      if (!session.closed && !session.destroyed) session.close();
    });
    // Server push is refused when offered anyway (we advertised enablePush: false).
    server.on('stream', (pushed) => pushed.close(NGHTTP2_REFUSED_STREAM));
    // Each side is told the other's SETTINGS once they come (http2-session-options.ts): the device
    // its server's limits, and WebSockets over HTTP/2 (RFC 8441) when, and once, the server allows
    // them, so that a browser opens its WebSockets on this connection as it would direct, instead
    // of on a connection of their own in HTTP/1.1 (http2-websocket-tunnel.ts); the server the
    // device's windows, without which a download from a distant server came 64 KiB a round trip.
    passSettings(server, session, DEVICE_SETTINGS_AT_FIRST, deviceSettingsToTell);
    passSettings(session, server, { ...SERVER_SETTINGS_AT_FIRST, ...firstSettings }, serverSettingsToTell);
    // PINGs go on to the other side, with their payload (Node answers each itself): a gRPC server
    // that enforces its keepalive policy sees the device's pings and may send GOAWAY
    // too_many_pings as it would direct, and a device sees its server's liveness checks.
    passPings(session, server);
    passPings(server, session);
    // And the device is given the server's connection window, once the server's WINDOW_UPDATE,
    // which follows its SETTINGS, has been read (after the read that brought them).
    server.once('remoteSettings', () => setImmediate(() => {
      const window = connectionWindowToGive(DEVICE_SETTINGS_AT_FIRST.initialWindowSize!, server.state.remoteWindowSize ?? 0);
      if (window !== undefined && !session.destroyed) session.setLocalWindowSize(window);
    }));
    return server;
  }

  /**
   * Gives the server the device's connection window, once, at the device's first stream: the
   * device's WINDOW_UPDATE follows its SETTINGS, and by its first request it has come (nothing has
   * been sent to the device yet, so what we may send it is its whole window).
   */
  #giveServerTheDeviceWindow(connection: Connection, server: http2.ClientHttp2Session): void {
    if (connection.windowGiven) return;
    connection.windowGiven = true;
    const window = connectionWindowToGive(SERVER_SETTINGS_AT_FIRST.initialWindowSize!, connection.session.state.remoteWindowSize ?? 0);
    if (window !== undefined && !server.destroyed) server.setLocalWindowSize(window);
  }

  #onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]): void {
    const connection = this.#connections.get(stream.session!);
    if (!connection) {
      resetStream(stream, http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const { context } = connection;
    context.exchanges++;
    stream.on('error', ignoreError); // the flow says what went wrong
    const method = String(headers[':method'] ?? 'GET');
    const authority = typeof headers[':authority'] === 'string' ? headers[':authority'] : undefined;
    const secure = context.tls !== undefined;
    const url = `${secure ? 'https' : 'http'}://${urlAuthority(context, authority)}${String(headers[':path'] ?? '/')}`;
    const flowId = newFlowId();
    this.#tracker.begin(flowId, context.client, context.target, 'request');
    const recorder = new ExchangeRecorder(
      { flowId, client: context.client, connection: context.id, mode: context.mode, target: context.target, ...(context.tls?.sni ? { sni: context.tls.sni } : {}), alpn: context.tls?.alpn ?? 'h2c', tls: secure, ...tlsRecordFor(context), tags: connectionTags(context, authority), bodyLimitBytes: this.#bodyLimitBytes },
      { method, url, httpVersion: 'HTTP/2.0', headers: headerPairs(rawHeaders) },
      (flow) => this.#tracker.end(flow),
      this.#parts,
    );
    let error: string | undefined;
    const fail = (reason: string): void => {
      error ??= reason;
    };
    stream.on('trailers', (_trailers: http2.IncomingHttpHeaders, _flags: number, raw: string[]) => recorder.trailers(true, headerPairs(raw)));

    const server = this.#serverOf(connection);
    if (server) this.#giveServerTheDeviceWindow(connection, server);
    if (method === 'CONNECT' && headers[':protocol'] !== undefined && server && allowsExtendedConnect(server)) {
      relayExtendedConnect(stream, headers, rawHeaders, server, connection.socket, recorder, fail);
    } else if (method === 'CONNECT') {
      // A plain CONNECT is a proxy request, which we do not serve inside a connection to a server.
      fail('CONNECT inside HTTP/2 is not supported');
      respondError(stream, 405, 'CONNECT inside HTTP/2 is not supported', recorder);
    } else if (!server) {
      const why = 'error' in connection.upstream ? connection.upstream.error : 'no upstream HTTP/2 session';
      fail(why);
      respondError(stream, 502, why, recorder);
    } else {
      // A request whose HEADERS ended the stream (a GET) has no body to wait for.
      const endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      this.#relay(stream, headers, rawHeaders, endStream, server, connection, recorder, fail);
    }

    stream.once('close', () => {
      const code = stream.rstCode ?? NGHTTP2_NO_ERROR;
      if (code !== NGHTTP2_NO_ERROR && error === undefined) {
        fail(code === NGHTTP2_CANCEL ? 'the stream was cancelled before it completed' : `the stream was reset with code ${code}`);
        recorder.tag(`h2:rst-stream-${code}`);
      }
      // Only the client's own resets count toward the rapid-reset guard, never the ones we pass on.
      if (code !== NGHTTP2_NO_ERROR && !resetByProxy.has(stream)) this.#countReset(connection);
      recorder.done(error);
      keepNothingAfterClose(stream);
    });
  }

  #relay(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, rawHeaders: string[], endStream: boolean, upstream: http2.ClientHttp2Session, connection: Connection, recorder: ExchangeRecorder, fail: (reason: string) => void): void {
    const upstreamStream = openServerStream(stream, headers, rawHeaders, upstream, endStream ? { endStream: true } : { waitForTrailers: true }, recorder, fail);
    if (!upstreamStream) return;
    let clientTrailers: { headers: http2.IncomingHttpHeaders; raw: string[] } | undefined;
    stream.on('trailers', (trailers: http2.IncomingHttpHeaders, _flags: number, raw: string[]) => {
      clientTrailers = { headers: trailers, raw };
    });
    upstreamStream.on('wantTrailers', () => {
      if (clientTrailers) sendFields(clientTrailers.headers, clientTrailers.raw, (fields) => upstreamStream.sendTrailers(fields));
      else upstreamStream.sendTrailers({});
    });
    // The device's body to the server, each chunk recorded on its way, with backpressure. A device
    // stream left paused when the server's closes is ended by the 'close' listener below: with the
    // server's reset code, answered or not (a 502 when the server's connection failed before an
    // answer), or NO_ERROR after an early answer.
    if (endStream) stream.resume();
    else relayBody(stream, upstreamStream, (chunk) => recorder.data(true, chunk));

    // Informational answers (100 Continue, 103 Early Hints) reach the device as they come, as they
    // would direct: a device that sent Expect: 100-continue waits for the 100 before its body, and
    // a browser preloads what a 103 names. Until 2026-12-06 they were dropped, so such a device
    // waited out its own timeout (a second for curl) and a browser preloaded nothing.
    upstreamStream.on('headers', (info: http2.IncomingHttpHeaders, _flags: number, raw: string[]) => {
      if (stream.headersSent || stream.closed) return;
      try {
        sendFields(info, raw, (fields) => stream.additionalHeaders(fields));
      } catch {
        // An informational block Node will not send on: the final answer still goes.
      }
    });
    let serverTrailers: { headers: http2.IncomingHttpHeaders; raw: string[] } | undefined;
    upstreamStream.on('response', (responseHeaders: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader, _flags: number, raw: string[]) => {
      recordServerAnswer(recorder, upstream, responseHeaders, raw);
      if (stream.destroyed || stream.closed) return;
      try {
        // sendDate: false: the device gets the server's headers, not a Date of ours (the option respond()
        // shares with the compatibility API's response.sendDate).
        // Alt-Svc goes without its HTTP/3 alternatives (alt-svc.ts says why); the record keeps the server's.
        const h3Dropped = sendFields(responseHeaders, raw, (headersForDevice) => {
          const dropped = dropHttp3FromHeaders(headersForDevice);
          stream.respond(headersForDevice, { waitForTrailers: true, sendDate: false } as http2.ServerStreamResponseOptions);
          return dropped;
        });
        if (h3Dropped) recorder.tag(altSvcH3RemovedTag);
      } catch (err) {
        fail(`response headers could not be relayed: ${describeError(err)}`);
        resetStream(stream, http2.constants.NGHTTP2_INTERNAL_ERROR);
        return;
      }
      // keepNothingAfterClose drops the relay's listeners; a device stream that closes while the
      // server's is paused closes that one too (the 'close' listener below).
      relayBody(upstreamStream, stream, (chunk) => recorder.data(false, chunk));
    });
    upstreamStream.on('trailers', (trailers: http2.IncomingHttpHeaders, _flags: number, raw: string[]) => {
      serverTrailers = { headers: trailers, raw };
      recorder.trailers(false, headerPairs(raw));
    });
    // A server may answer before the device's body has all come, and then ask it to stop sending
    // with RST_STREAM NO_ERROR (RFC 9113 section 8.1; a gRPC status ends such answers). The device
    // is asked the same, once the whole answer, trailers included, has gone out to it: in the next
    // turn after the trailers, which Node sends in a turn of their own. Without this the device
    // went on sending its whole body, for nothing (measured: all 16 MiB, where direct it stopped).
    let stopDeviceAfterAnswer = false;
    const stopDevice = (): void => {
      setImmediate(() => {
        if (!stream.closed) stream.close(NGHTTP2_NO_ERROR);
      });
    };
    stream.on('wantTrailers', () => {
      if (serverTrailers) sendFields(serverTrailers.headers, serverTrailers.raw, (fields) => stream.sendTrailers(fields));
      else stream.sendTrailers({});
      if (stopDeviceAfterAnswer) stopDevice();
    });

    // RST_STREAM both ways, with the code the other side chose.
    upstreamStream.once('close', () => {
      keepNothingAfterClose(upstreamStream);
      if (stream.closed || passServerClose(stream, upstreamStream, upstream, connection.socket, recorder, fail)) return;
      const code = upstreamStream.rstCode ?? NGHTTP2_NO_ERROR;
      if (!stream.readableEnded) {
        // An early answer while the device is still sending (above).
        recorder.tag(`h2:server-rst-stream-${code}`);
        if (stream.sentTrailers !== undefined) stopDevice();
        else stopDeviceAfterAnswer = true;
      }
    });
    stream.once('close', () => {
      const code = stream.rstCode ?? NGHTTP2_NO_ERROR;
      if (!upstreamStream.closed) upstreamStream.close(code === NGHTTP2_NO_ERROR ? NGHTTP2_CANCEL : code);
    });
  }

  /** Rapid-reset guard: a token bucket per connection; a client that empties it is cut off. */
  #countReset(connection: Connection): void {
    if (connection.closedForAbuse) return;
    const now = Date.now();
    connection.resetTokens = Math.min(limits.h2ClientResetBurst, connection.resetTokens + ((now - connection.resetRefilledMs) / 1000) * limits.h2ClientResetsPerSecond);
    connection.resetRefilledMs = now;
    connection.resetsSeen++;
    connection.resetTokens -= 1;
    if (connection.resetTokens >= 0) return;
    connection.closedForAbuse = true;
    const reason = `HTTP/2 rapid reset: the client reset ${connection.resetsSeen} streams, faster than ${limits.h2ClientResetsPerSecond}/s after a burst of ${limits.h2ClientResetBurst}; connection closed`;
    this.#events.log('warn', `${connection.context.client.ip}: ${reason}`);
    const { context } = connection;
    this.#tracker.rejected(context.client, context.mode, context.target, reason, ['h2:rapid-reset']);
    // GOAWAY, then a graceful close: measured on Node 20, destroy() in the middle of a reset flood
    // closed our TLS socket but left the TCP connection open. The timer catches a client that
    // keeps streams open after the GOAWAY.
    const { session } = connection;
    session.goaway(NGHTTP2_ENHANCE_YOUR_CALM);
    session.close();
    setTimeout(() => session.destroy(), limits.stopGraceMs).unref();
    if (connection.server) {
      destroyedByProxy.add(connection.server);
      connection.server.destroy();
    } else if ('open' in connection.upstream) {
      connection.upstream.socket?.destroy();
    }
  }
}

/**
 * Tells `to` the SETTINGS that `toTell` makes of `from`'s (`atFirst`: what `to` was told when its
 * session began), now and each time `from` sends new ones; only what changed goes.
 */
function passSettings(from: http2.Http2Session, to: http2.Http2Session, atFirst: Readonly<http2.Settings>, toTell: (told: Readonly<http2.Settings>, peer: Readonly<http2.Settings>) => http2.Settings | undefined): void {
  let told = atFirst;
  const tell = (): void => {
    // Empty until `from`'s SETTINGS came (they may have before this session began).
    if (to.destroyed || from.remoteSettings.maxFrameSize === undefined) return;
    const changed = toTell(told, from.remoteSettings);
    if (!changed) return;
    to.settings(changed);
    told = { ...told, ...changed };
  };
  tell();
  from.on('remoteSettings', tell);
}

/** Each PING `from` receives is sent on to `to` with the same payload (its answer is not waited for: Node has answered `from`). */
function passPings(from: http2.Http2Session, to: http2.Http2Session): void {
  from.on('ping', (payload: Buffer) => {
    if (to.destroyed || to.closed) return;
    try {
      to.ping(payload, () => undefined);
    } catch {
      // Too many pings still unanswered on `to` (Node keeps at most 10): this one is not passed on.
    }
  });
}
