// HTTP/1.x on a connection whose destination is known (inside a CONNECT tunnel, decrypted or not;
// later SOCKS5 and transparent connections): Node's parser reads the requests, the HTTP relay
// forwards them, and each request or WebSocket becomes one flow through the ExchangeRecorder. A
// request head the parser refuses turns the rest of such a connection into a byte stream to the
// same server (#relayRest), one raw flow.
// Absolute-form requests to the proxy port come here too, through exchange().

import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { headerPairs, newFlowId, type CaptureMode, type Endpoint, type TlsRecord } from '../../model/flow.js';
import { limits } from '../../limits.js';
import { describeError } from '../../util/errors.js';
import { normalizeClientIp } from '../access/client-access.js';
import { parseTarget, type Target } from '../access/target.js';
import { upstreamNameOf, upstreamServername, urlAuthority, type ConnectionContext } from '../context.js';
import { tlsRecordFor } from '../tls-record.js';
import { takeFirstConnection } from '../first-connection.js';
import type { FlowTracker } from '../flow-tracker.js';
import { ExchangeRecorder, streamParts, type PartWriting } from '../recorder/exchange-recorder.js';
import { refuse, respondText } from '../replies.js';
import { isReset, noteResetByDevice, resetConnection } from '../connection-reset.js';
import type { ConnectionAgent } from '../connection-agent.js';
import { isWebSocketUpgrade, type HttpRelay } from './relay-plan.js';
import { declineH2cOffer, H2C_DECLINED_TAG, takeDeclinedH2cOffer } from './h2c-upgrade-offer.js';
import { pathOf } from './request-path.js';
import { deviceParserOptions, EVERY_HEADER_LINE } from './http1-leniency.js';
import { AnswersInFlight } from './answers-in-flight.js';
import { noteRequest, takeRefusedRequest, watchRequestFraming } from './requests-as-sent.js';
import { leaveHttpServer } from './leave-http-server.js';
import { endRequestWhereDeviceEnded } from './request-cut-by-device-end.js';

/** How one request arrived and where it goes. */
export interface ExchangeRoute {
  readonly client: Endpoint;
  /** The client connection's id (see Flow.connection). */
  readonly connection?: string;
  readonly mode: CaptureMode;
  readonly target: Target;
  readonly tls: boolean;
  readonly sni?: string;
  /**
   * The name the server is sent, from the device's ClientHello (upstreamServername: its SNI as
   * written, none when it sent none); absent where the device sent no ClientHello to us (an
   * `https://` request to the proxy port in clear), whose server is sent the target's name.
   */
  readonly upstreamServername?: string;
  readonly alpn?: string;
  readonly tlsRecord?: TlsRecord;
  /** The connection's own upstream agent, when it has one. */
  readonly agent?: http.Agent;
  readonly url: string;
  readonly tags: readonly string[];
  /** The device uses phonehome as its HTTP proxy (RelayPlan.sentToUsAsProxy). */
  readonly sentToUsAsProxy: boolean;
  /** The request's fields as the device sent them, where phonehome took some out (h2c-upgrade-offer.ts). */
  readonly deviceRawHeaders?: readonly string[];
}

export interface Http1LayerOptions {
  readonly tracker: FlowTracker;
  readonly relay: HttpRelay;
  readonly bodyLimitBytes: number;
  readonly insecureUpstream: boolean;
  /** A plain connection's own upstream (UpstreamConnector.plainConnectionAgent). */
  readonly plainAgent: (firstConnection?: () => net.Socket | undefined) => ConnectionAgent;
  /** A malformed request on a connection: recorded as a rejected flow. */
  readonly onMalformed: (client: Endpoint, mode: CaptureMode, reason: string, tag: string) => void;
  /**
   * The rest of a device connection, from a request head Node's parser refused (`rest`: what the
   * device sent from that head on), relayed as bytes to its server (RawLayer.relay) on the
   * connection `connect` gives.
   */
  readonly relayRest: (socket: Duplex, rest: Buffer, context: ConnectionContext, why: string, connect: () => Promise<net.Socket>) => void;
}

/** No idle bound of our own between a one-destination connection's requests (see makeHttpServer). */
const SERVER_PACES_IDLE = 0;

export class Http1Layer {
  readonly #options: Http1LayerOptions;
  /** Parses requests on connections whose destination is known. */
  readonly #server: http.Server;
  readonly #contexts = new WeakMap<Duplex, ConnectionContext>();
  /** How WebSockets and gRPC-Web calls still open are written in parts: one for every exchange. */
  readonly #parts: PartWriting;
  /** Answers still being written to devices: a connection whose server is gone ends after them. */
  readonly #answers = new AnswersInFlight();
  /** Connections our parser no longer reads alone: an upgrade took them, or it refused what came. */
  readonly #leftTheParser = new WeakSet<Duplex>();

  constructor(options: Http1LayerOptions) {
    this.#options = options;
    this.#parts = streamParts((part) => options.tracker.record(part));
    this.#server = makeHttpServer((err, socket) => this.#onClientError(err, socket), SERVER_PACES_IDLE);
    this.#server.on('request', (req, res) => this.#onRequest(req, res));
    this.#server.on('upgrade', (req, socket, head) => this.#onUpgrade(req, socket, head));
    this.#server.on('connect', (_req, socket: Duplex) => refuse(socket, 'HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\n\r\n'));
  }

  /** Takes a connection (plain or decrypted) whose destination the context names. */
  handle(socket: Duplex, context: ConnectionContext): void {
    this.#contexts.set(socket, context);
    if (!context.upstreamAgent) {
      // A plain connection gets its own server connection too (a decrypted one got it from the
      // TLS layer), and it goes when the device's does.
      const agent = this.#options.plainAgent(() => takeFirstConnection(context));
      context.upstreamAgent = agent;
      socket.once('close', () => agent.release());
    }
    // And the device's goes when the server's does (makeHttpServer's keepAliveTimeout says why).
    context.upstreamAgent.whenServerGone((reset) => this.#endWithItsServer(socket, reset));
    // The device's end reaches its server after its requests, as direct; not once the connection
    // left our parser (an upgrade, a refused head), whose relay passes the end on itself.
    const agent = context.upstreamAgent;
    socket.once('end', () => {
      if (!this.#leftTheParser.has(socket)) agent.endWritingAfterRequests();
    });
    this.#server.emit('connection', socket);
    // The socket may have been paused for sniffing, and a paused stream does not start flowing
    // when the HTTP parser adds its 'data' listener.
    socket.resume();
  }

  /** Relays one request (absolute-form on the proxy port, or from a tunnel). */
  exchange(req: http.IncomingMessage, res: http.ServerResponse, route: ExchangeRoute): void {
    this.#options.relay.relayRequest(req, res, this.#plan(req, route));
  }

  /**
   * Relays one upgrade request (a WebSocket, or another protocol). `resume` takes the connection
   * back when the server refuses and both sides keep it (by default, this layer's parser).
   */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, route: ExchangeRoute, resume: (socket: Duplex) => void = (s) => this.#parseAgain(s)): void {
    // The relay opens (and verifies) the upstream before it answers the device.
    this.#options.relay.relayUpgrade(req, socket, head, { ...this.#plan(req, route), resume });
  }

  /** A connection read again by the parser, after an upgrade it refused or an h2c offer taken out. */
  #parseAgain(socket: Duplex): void {
    this.#server.emit('connection', socket);
    // Node leaves an upgraded socket neither flowing nor paused; one paused before stays so without this.
    socket.resume();
  }

  close(): void {
    this.#options.relay.close();
  }

  /**
   * The server connection is gone and no request of the device's waits for one: the device's
   * connection ends too, once its answers are written, as the server's close would have ended it
   * direct. A request the device sends after, before it has seen the end, is never read (checked
   * on Node 20, plain and decrypted, by test/integration/server-paced-keep-alive.test.ts): direct,
   * it would have met a closed connection, and the device's client sends it again on a new one.
   * A server that reset its connection resets the device's (connection-reset.ts).
   */
  #endWithItsServer(socket: Duplex, reset: boolean): void {
    if (reset) {
      resetConnection(socket);
      return;
    }
    // An answer still on its way to the device is written whole first (answers-in-flight.ts).
    this.#answers.whenWritten(socket, () => {
      if (!socket.destroyed && !socket.writableEnded) socket.end();
    });
  }

  #onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const context = this.#contexts.get(req.socket);
    if (!context) {
      respondText(res, 500, 'internal error: request without a connection context');
      return;
    }
    context.exchanges++;
    this.#answers.track(req.socket, res);
    const route = routeOf(req, context, 'http');
    const offered = takeDeclinedH2cOffer(req);
    this.exchange(req, res, offered ? { ...route, tags: [...route.tags, H2C_DECLINED_TAG], deviceRawHeaders: offered } : route);
  }

  #onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const context = this.#contexts.get(req.socket);
    // An h2c offer is read again as an ordinary request, without it (h2c-upgrade-offer.ts).
    if (context && declineH2cOffer(req, socket, head, (s) => this.#parseAgain(s))) return;
    this.#leftTheParser.add(req.socket);
    if (!context) {
      refuse(socket, 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      return;
    }
    context.exchanges++;
    this.upgrade(req, socket, head, routeOf(req, context, isWebSocketUpgrade(req) ? 'ws' : 'http'));
  }

  /** A new flow for one request or WebSocket: announced, tracked until recorded, and planned. */
  #plan(req: http.IncomingMessage, route: ExchangeRoute): Parameters<HttpRelay['relayRequest']>[2] {
    const flowId = newFlowId();
    const tracker = this.#options.tracker;
    tracker.begin(flowId, route.client, route.target, 'request');
    const recorder = new ExchangeRecorder(
      { flowId, client: route.client, ...(route.connection ? { connection: route.connection } : {}), mode: route.mode, target: route.target, ...(route.sni ? { sni: route.sni } : {}), ...(route.alpn ? { alpn: route.alpn } : {}), tls: route.tls, ...(route.tlsRecord ? { tlsRecord: route.tlsRecord } : {}), tags: route.tags, bodyLimitBytes: this.#options.bodyLimitBytes },
      { method: req.method ?? 'GET', url: route.url, httpVersion: `HTTP/${req.httpVersion}`, headers: headerPairs(route.deviceRawHeaders ?? req.rawHeaders) },
      (flow) => tracker.end(flow),
      this.#parts,
    );
    return {
      tls: route.tls, host: route.target.host, port: route.target.port,
      // '' sends none: Node's agent would otherwise name the Host header.
      ...(route.tls ? { servername: route.upstreamServername ?? upstreamNameOf(undefined, route.target) ?? '' } : {}),
      sentToUsAsProxy: route.sentToUsAsProxy, insecure: this.#options.insecureUpstream, ...(route.agent ? { agent: route.agent } : {}), observer: recorder,
    };
  }

  #onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    // The device ended its side mid-body: its requests still go through the agent, which passes that end on.
    if (endRequestWhereDeviceEnded(err, socket)) return;
    this.#leftTheParser.add(socket);
    const context = this.#contexts.get(socket);
    const record = (reason: string, tag: string): void => this.#options.onMalformed(context?.client ?? clientOf(socket), context?.mode ?? 'http', reason, tag);
    // A request head the parser refused, on a connection with one destination: the server reads
    // it direct, and answers it its own way (http1-head-refusal.ts decides so for a first head
    // seen whole; this is any later one, or one that came in pieces).
    const rest = isRefusedHead(err) ? takeRefusedRequest(socket) : undefined;
    if (context && rest && leaveHttpServer(socket)) {
      this.#relayRest(socket, rest, context, () => record(`malformed request: ${describeError(err)}; its server's connection ended before it could be relayed`, `client:${err.code ?? 'bad-request'}`));
      return;
    }
    answerClientError(err, socket, record);
  }

  /**
   * Relays the rest of a connection as bytes, from a request head the parser refused, once the
   * answers to the requests before it are written: direct, the server reads those bytes after
   * them, on the same connection, which is the one it goes on here too (ConnectionAgent.takeConnection).
   * A server connection that ended meanwhile ends the device's too, as it would otherwise
   * (#endWithItsServer); what the device sent is then only recorded (`lost`).
   */
  #relayRest(socket: Duplex, rest: Buffer, context: ConnectionContext, lost: () => void): void {
    const agent = context.upstreamAgent;
    let serverGone: { reset: boolean } | undefined;
    agent?.whenServerGone((reset) => { serverGone = { reset }; });
    this.#answers.whenWritten(socket, () => {
      if (!agent || serverGone || socket.destroyed || socket.writableEnded) {
        lost();
        if (serverGone) this.#endWithItsServer(socket, serverGone.reset);
        else if (!socket.destroyed && !socket.writableEnded) socket.end();
        return;
      }
      const target = { host: context.target.host, port: context.target.port, ...(context.tls ? { servername: upstreamServername(context) ?? '' } : {}) };
      this.#options.relayRest(socket, rest, context, 'http1-parser-refuses', () => agent.takeConnection(target));
    });
  }
}

/** A parse error of a request head (not one past our size limit, which has its own answer). */
function isRefusedHead(err: NodeJS.ErrnoException): boolean {
  return typeof err.code === 'string' && err.code.startsWith('HPE_') && err.code !== 'HPE_HEADER_OVERFLOW';
}

/** The route of a request on a connection whose destination is known. */
export function routeOf(req: http.IncomingMessage, context: ConnectionContext, kind: 'http' | 'ws'): ExchangeRoute {
  const secure = context.tls !== undefined;
  const scheme = kind === 'ws' ? (secure ? 'wss' : 'ws') : secure ? 'https' : 'http';
  return {
    client: context.client, connection: context.id, mode: context.mode, target: context.target, tls: secure,
    ...(context.tls?.sni ? { sni: context.tls.sni } : {}), ...(context.tls ? { upstreamServername: upstreamServername(context) ?? '' } : {}), ...(context.tls?.alpn ? { alpn: context.tls.alpn } : {}),
    ...tlsRecordFor(context), ...(context.upstreamAgent ? { agent: context.upstreamAgent.nodeAgent } : {}),
    url: `${scheme}://${urlAuthority(context, req.headers.host)}${pathOf(req.url ?? '/')}`,
    tags: connectionTags(context, req.headers.host), sentToUsAsProxy: context.mode === 'http',
  };
}

/** Tags that tell how a request arrived; a Host (or :authority) that names another server is worth a look. */
export function connectionTags(context: ConnectionContext, authority: string | undefined): string[] {
  const tags = [context.tls ? 'decrypted' : context.mode === 'http' ? 'connect:plain' : 'plain'];
  // The device accepted a leaf as invalid as its server's certificate (tls-layer.ts).
  if (context.tls?.serverUnverified) tags.push(`tls:accepted-invalid-certificate:${context.tls.serverUnverified}`);
  const parsed = authority ? parseTarget(authority, context.target.port) : undefined;
  const sni = context.tls?.sni;
  // Only a named target can be contradicted: a redirected connection (or a client that dialled an
  // address) names no server, so a Host or SNI that differs from its address is the normal case.
  if (context.target.hostKind !== 'dns') return tags;
  if (parsed?.ok && parsed.target.host !== context.target.host && parsed.target.host !== sni) tags.push('host-mismatch');
  if (sni && sni !== context.target.host) tags.push('sni-mismatch');
  return tags;
}

export function clientOf(socket: Duplex | undefined): Endpoint {
  const s = socket as net.Socket | undefined;
  return { ip: normalizeClientIp(s?.remoteAddress), port: s?.remotePort ?? 0 };
}

/**
 * Node's HTTP/1 parser with our timeouts and leniency; it never listens, connections are handed to
 * it. `keepAliveTimeoutMs` bounds an idle connection between requests; 0 leaves it to its server.
 * A device connection with one destination (a tunnel, SOCKS5, transparent, WireGuard) has its own
 * server connection, and direct, how long it stays idle is that server's choice: nginx keeps one
 * 75 s, Apache 5 s, and a client keeps it as long as it likes (OkHttp 5 minutes). The HTTP/1 layer
 * ends the device's connection when its server connection is gone (#endWithItsServer); until
 * 2026-12-06 Node's 15 s ended it instead, and a device that came back after 20 s opened a new
 * connection (a TCP and TLS handshake, a new flow's connection in the capture) where direct it
 * reused one. The proxy port's absolute-form connections reach many servers: 15 s, as before.
 */
export function makeHttpServer(onClientError: (err: NodeJS.ErrnoException, socket: Duplex) => void, keepAliveTimeoutMs: number): http.Server {
  const server = http.createServer({ ...deviceParserOptions, requestTimeout: 0, headersTimeout: limits.headersTimeoutMs, keepAliveTimeout: keepAliveTimeoutMs, maxHeaderSize: limits.http1MaxRequestHeadBytes });
  // Each connection's chunked bodies as the device framed them: these listeners come after Node's
  // own 'connection' one and before any other 'request' one (requests-as-sent.ts).
  server.on('connection', watchRequestFraming);
  server.on('request', noteRequest);
  server.timeout = limits.socketIdleTimeoutMs;
  server.maxHeadersCount = EVERY_HEADER_LINE;
  // A device that closes its side after its request still gets the answer (half-close.ts): Node's
  // server ends the connection after the answer instead of at once. Undocumented, but read by
  // Node 20's server when a device's side ends; the half-close scenario of
  // test/conformance/http1-headers.test.ts pins it.
  (server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  server.on('clientError', onClientError);
  // An Expect header is the server's to answer: Node would send 100 Continue (or 417) itself.
  // As plain requests, it goes upstream and the server's 100 or final answer comes back.
  server.on('checkContinue', (req, res) => server.emit('request', req, res));
  server.on('checkExpectation', (req, res) => server.emit('request', req, res));
  return server;
}

/** Connections already answered with a 4xx by answerClientError. */
const refused = new WeakSet<Duplex>();

/** Malformed HTTP/1: a 4xx when nothing was sent on the socket yet, and a record of why. */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, record: (reason: string, tag: string) => void): void {
  // Refusing drains the socket, and Node's parser may say the rest of an oversized request is
  // malformed too: one answer and one record per connection, and no destroy that would cut the
  // answer still on its way (over TLS it was lost that way).
  if (refused.has(socket)) return;
  // The device reset its connection: a request it was sending is cut by a reset upstream too
  // (http1-request-relay.ts), as its server would have read direct.
  if (isReset(err)) noteResetByDevice(socket);
  const code = err.code ?? '';
  if (code !== 'ECONNRESET' && code !== 'EPIPE' && code !== 'ERR_STREAM_DESTROYED') {
    const status = code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    const why = code === 'HPE_HEADER_OVERFLOW' ? `the request line and headers are larger than ${limits.http1MaxRequestHeadBytes} bytes, phonehome's limit` : undefined;
    record(why ? `malformed request: ${why}` : `malformed request: ${describeError(err)}`, `client:${code || 'bad-request'}`);
    // Answered unless an answer is being written on the connection (a 400 would land inside it).
    // Until 2026-12-07 any byte written before closed it without a word: a CONNECT tunnel's own
    // answer, or a kept connection's earlier exchanges.
    if (socket.writable && !(socket as Duplex & { _httpMessage?: http.ServerResponse | null })._httpMessage) {
      const body = `phonehome: ${status}${why ? `: ${why}` : ''}\n`;
      refused.add(socket);
      refuse(socket, `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
  }
  socket.destroy();
}
