// The HTTP/1 relay: the one module that imports http-mitm-proxy. We own the sockets, CONNECT
// parsing, TLS and certificates (modes/ and layers/); the library relays HTTP/1.x requests and
// WebSocket messages between a client connection we hand it and the upstream server, and tells
// an ExchangeObserver what passed.
//
// Defects of http-mitm-proxy 1.1.0 handled here (numbers from shared/notes/proxy-engine.md):
//   #6  backpressure: patched filters (patches/http-mitm-proxy+1.1.0.patch)
//   #7  client aborts: destroy the other side on an early close (below)
//   #10 console noise and #11 ECONNRESET noise: _onError replaced, nothing goes to console
//   #12 WebSocket subprotocols: patched, protocols offered upstream
//   #13 hook gaps: only global onRequest/onResponse/onWebSocket* hooks are used, each tested
//   #14 keep-alive: our own agents with keepAlive
//   the 504 body with internals: replaced with a neutral 502 text

import type http from 'node:http';
import type https from 'node:https';
import type { Duplex } from 'node:stream';
import { Proxy as MitmProxy } from 'http-mitm-proxy';
import { WebSocketServer, type WebSocket } from 'ws';
import { headerPairs } from '../../model/flow.js';
import { describeError } from '../../util/errors.js';
import type { ExchangeObserver } from '../recorder/exchange-recorder.js';
import { headerSafe } from '../replies.js';
import { describeUpstreamError, type UpstreamAgents } from '../upstream.js';

/** What the engine decided for one request or upgrade, and how it wants to hear about it. */
export interface RelayPlan {
  readonly tls: boolean;
  /** Upstream host (DNS name or IP) and port: the validated CONNECT target or absolute URL. */
  readonly host: string;
  readonly port: number;
  /** TLS server name to send and verify upstream (the client's SNI when it gave one). */
  readonly servername?: string;
  /** Skip upstream certificate verification for this request (only with --insecure-upstream). */
  readonly insecure: boolean;
  readonly observer: ExchangeObserver;
}

/** Relays HTTP/1.x requests and WebSocket upgrades to the planned upstream. */
export interface HttpRelay {
  relayRequest(req: http.IncomingMessage, res: http.ServerResponse, plan: RelayPlan): void;
  relayUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, plan: RelayPlan): void;
  close(): void;
}

// The parts of the library's context objects we touch; its own types stay inside this module.
interface RequestContext {
  clientToProxyRequest: http.IncomingMessage;
  proxyToClientResponse: http.ServerResponse;
  proxyToServerRequest?: http.ClientRequest;
  serverToProxyResponse?: http.IncomingMessage;
  proxyToServerRequestOptions: http.RequestOptions & https.RequestOptions;
  onErrorHandlers: Array<(ctx: RequestContext, err: unknown, kind: string) => void>;
}

interface WebSocketContext {
  clientToProxyWebSocket: WebSocket & { upgradeReq: http.IncomingMessage };
  proxyToServerWebSocket?: WebSocket;
  proxyToServerWebSocketOptions: { url: string; headers: Record<string, unknown>; agent?: http.Agent; rejectUnauthorized?: boolean; servername?: string };
  proxyToServerWebSocketProtocols?: string[];
}

interface MitmInternals {
  _onHttpServerRequest(isSSL: boolean, req: http.IncomingMessage, res: http.ServerResponse): void;
  _onWebSocketServerConnect(isSSL: boolean, ws: WebSocket, req: http.IncomingMessage): void;
  _onError(kind: string, ctx: RequestContext | null, err: unknown): void;
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
  keepAlive: boolean;
  options: Record<string, unknown>;
  onRequest(fn: (ctx: RequestContext, cb: (err?: Error) => void) => void): void;
  onResponse(fn: (ctx: RequestContext, cb: (err?: Error) => void) => void): void;
  onWebSocketConnection(fn: (ctx: WebSocketContext, cb: (err?: Error) => void) => void): void;
  onWebSocketFrame(fn: (ctx: WebSocketContext, type: string, fromServer: boolean, data: Buffer, flags: boolean, cb: (err: Error | null, data: Buffer, flags: boolean) => void) => void): void;
  onWebSocketClose(fn: (ctx: WebSocketContext, code: number, message: Buffer, cb: (err?: Error | null) => void) => void): void;
  onWebSocketError(fn: (ctx: WebSocketContext, err: unknown) => void): void;
}

export class MitmRelay implements HttpRelay {
  readonly #mitm: MitmInternals;
  readonly #agents: UpstreamAgents;
  readonly #plans = new WeakMap<http.IncomingMessage, RelayPlan>();
  readonly #webSocketServer = new WebSocketServer({
    noServer: true,
    // The library has no way to wait for upstream's choice; the first offered protocol is what
    // servers pick in practice, and the same list is offered upstream.
    handleProtocols: (protocols) => protocols.values().next().value ?? false,
    // permessage-deflate (RFC 7692) is accepted when the device offers it, with the parameters it
    // asks for, so its traffic is not altered; ws hands us every message whole and inflated.
    perMessageDeflate: true,
  });

  constructor(agents: UpstreamAgents) {
    this.#agents = agents;
    this.#mitm = new MitmProxy() as unknown as MitmInternals;
    // listen() is never called: it would create the library's own CA and servers. Set what
    // listen() would have set, with our agents.
    this.#mitm.options = {};
    this.#mitm.keepAlive = true;
    this.#mitm.httpAgent = agents.http;
    this.#mitm.httpsAgent = agents.https;
    this.#mitm._onError = (kind, ctx, err) => this.#onError(kind, ctx, err);
    this.#mitm.onRequest((ctx, cb) => this.#onRequest(ctx, cb));
    this.#mitm.onResponse((ctx, cb) => this.#onResponse(ctx, cb));
    this.#mitm.onWebSocketConnection((ctx, cb) => this.#onWebSocketConnection(ctx, cb));
    this.#mitm.onWebSocketFrame((ctx, type, fromServer, data, flags, cb) => {
      if (type === 'message') this.#wsObserver(ctx)?.webSocketMessage(!fromServer, Buffer.isBuffer(data) ? data : Buffer.from(data), flags);
      cb(null, data, flags);
    });
    this.#mitm.onWebSocketClose((ctx, _code, _message, cb) => {
      this.#finishWebSocket(ctx);
      cb(null);
    });
    this.#mitm.onWebSocketError((ctx, err) => this.#finishWebSocket(ctx, describeError(err)));
  }

  relayRequest(req: http.IncomingMessage, res: http.ServerResponse, plan: RelayPlan): void {
    this.#plans.set(req, plan);
    this.#mitm._onHttpServerRequest(plan.tls, req, res);
  }

  relayUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, plan: RelayPlan): void {
    this.#plans.set(req, plan);
    this.#webSocketServer.handleUpgrade(req, socket, head, (ws) => {
      (ws as WebSocket & { upgradeReq: http.IncomingMessage }).upgradeReq = req;
      this.#mitm._onWebSocketServerConnect(plan.tls, ws, req);
    });
  }

  close(): void {
    this.#webSocketServer.close();
  }

  #onRequest(ctx: RequestContext, cb: (err?: Error) => void): void {
    const plan = this.#plans.get(ctx.clientToProxyRequest);
    if (!plan) {
      cb(new Error('request reached the relay without a plan'));
      return;
    }
    const options = ctx.proxyToServerRequestOptions;
    // Upstream is the validated target, never the raw Host header.
    options.host = plan.host;
    options.port = plan.port;
    if (plan.tls) {
      if (plan.servername) options.servername = plan.servername;
      if (plan.insecure) options.agent = this.#agents.insecureHttps;
    }
    const req = ctx.clientToProxyRequest;
    const res = ctx.proxyToClientResponse;
    let finished = false;
    let upstreamError: string | undefined;
    const done = (error?: string): void => {
      if (finished) return;
      finished = true;
      plan.observer.done(upstreamError ?? error);
    };
    // A passive tap: the request is paused here, so listening does not change its flow.
    req.on('data', (chunk: Buffer) => plan.observer.data(true, chunk));
    req.on('close', () => {
      // #7: the client went away mid-upload: stop sending upstream.
      if (!req.complete) ctx.proxyToServerRequest?.destroy();
    });
    res.on('finish', () => done());
    res.on('close', () => {
      if (!res.writableFinished) {
        // #7, the other way: the client stopped reading the response.
        ctx.serverToProxyResponse?.destroy();
        ctx.proxyToServerRequest?.destroy();
        done('client closed the connection before the response was complete');
      }
    });
    ctx.onErrorHandlers.push((_ctx, err) => {
      upstreamError ??= describeUpstreamError(err);
    });
    cb();
  }

  #onResponse(ctx: RequestContext, cb: (err?: Error) => void): void {
    const plan = this.#plans.get(ctx.clientToProxyRequest);
    const upstream = ctx.serverToProxyResponse;
    if (plan && upstream) {
      const socket = upstream.socket;
      plan.observer.response({ status: upstream.statusCode ?? 0, statusText: upstream.statusMessage ?? '', httpVersion: `HTTP/${upstream.httpVersion}`, headers: headerPairs(upstream.rawHeaders) }, { ip: socket?.remoteAddress, port: socket?.remotePort });
      upstream.on('data', (chunk: Buffer) => plan.observer.data(false, chunk));
      // Chunked responses may end with trailers (gRPC-Web servers and some APIs use them).
      upstream.once('end', () => {
        if (upstream.rawTrailers.length > 0) plan.observer.trailers(false, headerPairs(upstream.rawTrailers));
      });
    }
    cb();
  }

  #onWebSocketConnection(ctx: WebSocketContext, cb: (err?: Error) => void): void {
    const req = ctx.clientToProxyWebSocket.upgradeReq;
    const plan = this.#plans.get(req);
    if (!plan) {
      cb(new Error('WebSocket reached the relay without a plan'));
      return;
    }
    const host = plan.host.includes(':') ? `[${plan.host}]` : plan.host;
    const path = req.url?.startsWith('/') ? req.url : new URL(req.url ?? '/', 'http://x').pathname + new URL(req.url ?? '/', 'http://x').search;
    const options = ctx.proxyToServerWebSocketOptions;
    options.url = `${plan.tls ? 'wss' : 'ws'}://${host}:${plan.port}${path}`;
    options.agent = plan.tls ? (plan.insecure ? this.#agents.insecureHttps : this.#agents.https) : this.#agents.http;
    if (plan.tls && plan.servername) options.servername = plan.servername;
    // Hop-by-hop and proxy headers are not the upstream's business. (The library already leaves
    // out Sec-WebSocket-*: ws writes its own, and offers permessage-deflate itself.)
    for (const name of Object.keys(options.headers)) {
      if (/^(proxy-|host$|connection$|upgrade$)/i.test(name)) delete options.headers[name];
    }
    const offered = req.headers['sec-websocket-protocol'];
    if (offered) ctx.proxyToServerWebSocketProtocols = offered.split(',').map((p) => p.trim()).filter(Boolean);
    cb();
    const upstream = ctx.proxyToServerWebSocket;
    upstream?.once('upgrade', (response: http.IncomingMessage) => {
      plan.observer.webSocketOpen({ ip: response.socket?.remoteAddress, port: response.socket?.remotePort });
    });
    // The library only learns of an upstream failure through 'error'; it must also end our side.
    upstream?.once('unexpected-response', (_r: unknown, response: http.IncomingMessage) => {
      this.#finishWebSocket(ctx, `upstream answered the WebSocket upgrade with ${response.statusCode}`);
      ctx.clientToProxyWebSocket.close(1014, 'bad gateway');
    });
  }

  #wsObserver(ctx: WebSocketContext): ExchangeObserver | undefined {
    return this.#plans.get(ctx.clientToProxyWebSocket.upgradeReq)?.observer;
  }

  #finishWebSocket(ctx: WebSocketContext, error?: string): void {
    const req = ctx.clientToProxyWebSocket.upgradeReq;
    const plan = this.#plans.get(req);
    if (!plan) return;
    this.#plans.delete(req);
    plan.observer.done(error);
    if (error) {
      // Close both sides: a half-dead WebSocket would otherwise stay open forever.
      ctx.clientToProxyWebSocket.terminate();
      ctx.proxyToServerWebSocket?.terminate();
    }
  }

  #onError(kind: string, ctx: RequestContext | null, err: unknown): void {
    if (!ctx) return; // socket-level noise without a request: nothing to report to anyone
    const reason = describeUpstreamError(err);
    for (const handler of ctx.onErrorHandlers) handler(ctx, err, kind);
    const res = ctx.proxyToClientResponse;
    if (!res.headersSent && !res.destroyed) {
      const body = `phonehome: the request could not be completed: ${reason}\n`;
      res.writeHead(502, 'Bad Gateway', { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-phonehome-error': headerSafe(reason) });
      res.end(body);
    } else if (!res.writableFinished) {
      // Mid-body failure: the client must see a broken response, not a short one that looks whole.
      res.destroy();
    }
  }
}
