// The HTTP/1 relay. We own the sockets, CONNECT parsing, TLS and certificates (modes/ and
// layers/). Requests are relayed by relayHttpRequest (http1-request-relay.ts, our own: the
// library's per-request machinery cost about a quarter of small-request throughput);
// WebSocket upgrades go to http-mitm-proxy, the one module that imports it, which relays their
// messages between the client connection we hand it and the upstream server and tells an
// ExchangeObserver what passed.
//
// Defects of http-mitm-proxy 1.1.0 handled (numbers from shared/notes/proxy-engine.md):
//   #6  backpressure: patched filters (patches/http-mitm-proxy+1.1.0.patch); requests use pipe()
//   #7  client aborts: destroy the other side on an early close (http1-request-relay.ts)
//   #10 console noise and #11 ECONNRESET noise: _onError replaced, nothing goes to console
//   #12 WebSocket subprotocols: patched, protocols offered upstream
//   #13 hook gaps: only global onWebSocket* hooks are used, each tested
//   #14 keep-alive: our own agents with keepAlive
//   the 504 body with internals: replaced with a neutral 502 text

import type http from 'node:http';
import type https from 'node:https';
import type { Duplex } from 'node:stream';
import { Proxy as MitmProxy } from 'http-mitm-proxy';
import { WebSocketServer, type WebSocket } from 'ws';
import { describeError } from '../../util/errors.js';
import type { ExchangeObserver } from '../recorder/exchange-recorder.js';
import type { UpstreamAgents } from '../upstream.js';
import { relayHttpRequest } from './http1-request-relay.js';

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
interface WebSocketContext {
  clientToProxyWebSocket: WebSocket & { upgradeReq: http.IncomingMessage };
  proxyToServerWebSocket?: WebSocket;
  proxyToServerWebSocketOptions: { url: string; headers: Record<string, unknown>; agent?: http.Agent; rejectUnauthorized?: boolean; servername?: string };
  proxyToServerWebSocketProtocols?: string[];
}

interface MitmInternals {
  _onWebSocketServerConnect(isSSL: boolean, ws: WebSocket, req: http.IncomingMessage): void;
  _onError(kind: string, ctx: unknown, err: unknown): void;
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
  keepAlive: boolean;
  options: Record<string, unknown>;
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
    // Only request paths report through _onError, and requests no longer go through the
    // library: whatever still arrives here is socket noise with nobody to tell (#10, #11).
    this.#mitm._onError = () => undefined;
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
    relayHttpRequest(req, res, plan, this.#agents);
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
}
