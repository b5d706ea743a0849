// The proxy: one listening socket for devices; CONNECT parsed and validated here; TLS terminated
// here with our own leaves (no per-host servers, no loopback hop); the first bytes inside a CONNECT
// decide between TLS, plain HTTP and a raw stream; HTTP and WebSocket relaying is delegated to
// MitmRelay. Everything that happens becomes a Flow on the event bus.

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { EventBus } from '../../flow/events.js';
import { newFlowId, type Endpoint, type Flow } from '../../flow/flow.js';
import { limits } from '../../limits.js';
import { describeError } from '../../util/errors.js';
import type { CertificateAuthority } from '../ca/certificate-authority.js';
import { normalizeClientIp, type ClientAccess } from '../access/client-access.js';
import type { ProxyAuth } from '../access/proxy-auth.js';
import { formatAuthority, parseTarget, validateHost, type Target } from '../access/target.js';
import { INSTALL_HOST, serveInstallPage } from '../install-page.js';
import type { PassthroughPolicy } from '../passthrough.js';
import { HttpExchangeRecorder } from './http-exchange-recorder.js';
import { LeafStore } from './leaf-store.js';
import { MitmRelay, type RelayAgents, type RelayPlan } from './mitm-relay.js';
import { relayStream, type StreamRelayResult } from './stream-relay.js';
import { classifyHandshakeError } from './tls-alerts.js';

export interface InterceptingProxyOptions {
  readonly listenHost: string;
  readonly listenPort: number;
  readonly ca: CertificateAuthority;
  readonly events: EventBus;
  readonly bodyLimitBytes: number;
  /** Extra PEM roots trusted for upstream servers, besides Node's bundled Mozilla roots. */
  readonly upstreamCaPems: readonly string[];
  readonly insecureUpstream: boolean;
  readonly passthrough: PassthroughPolicy;
  readonly access: ClientAccess;
  readonly auth?: ProxyAuth;
  /** Resolver for upstream names (tests, benchmarks and the demo map names to loopback). */
  readonly lookup?: net.LookupFunction;
}

/** Where a connection inside a CONNECT tunnel was meant to go. */
interface TunnelInfo {
  readonly connectFlowId: string;
  readonly client: Endpoint;
  readonly target: Target;
  readonly tls: boolean;
  sni?: string;
  handshakeAtMs?: number;
  requests: number;
}

/** How a request arrived and where it goes. */
interface ExchangeHow {
  readonly client: Endpoint;
  readonly target: Target;
  readonly tls: boolean;
  readonly sni?: string;
  readonly url: string;
  readonly tags: string[];
}

/** Ports where the server speaks first, so a client sends nothing we could sniff. */
const SERVER_FIRST_PORTS = new Set([21, 22, 23, 25, 110, 143, 587, 2525]);
const HTTP_REQUEST_LINE = /^[A-Z]{3,12} \S/;

export class InterceptingProxy {
  readonly #options: InterceptingProxyOptions;
  readonly #events: EventBus;
  readonly #leaves: LeafStore;
  readonly #agents: RelayAgents;
  readonly #relay: MitmRelay;
  readonly #listener: net.Server;
  /** Parses requests on connections from devices (absolute-form requests and CONNECT). */
  readonly #frontServer: http.Server;
  /** Parses requests inside CONNECT tunnels, decrypted or plain. */
  readonly #tunnelServer: http.Server;
  readonly #tunnels = new WeakMap<Duplex, TunnelInfo>();
  readonly #sockets = new Set<net.Socket>();
  #ownAddresses = new Set<string>();
  #port = 0;
  #inFlight = 0;
  #idleWaiters: Array<() => void> = [];

  constructor(options: InterceptingProxyOptions) {
    this.#options = options;
    this.#events = options.events;
    this.#leaves = new LeafStore(options.ca);
    const agentOptions = { keepAlive: true, noDelay: true, maxSockets: limits.upstreamMaxSocketsPerHost, maxFreeSockets: limits.upstreamMaxFreeSockets, lookup: options.lookup };
    // Extra upstream roots go into one SecureContext built here, not into `ca`: https.Agent turns
    // `ca` into its pool key on every request (all ~140 root PEMs concatenated: it was 56% of the
    // CPU under small requests) and parses it again for every new upstream connection.
    // An explicit CA list replaces Node's default store, so the bundled roots are listed too.
    const secureContext = options.upstreamCaPems.length > 0 ? tls.createSecureContext({ ca: [...tls.rootCertificates, ...options.upstreamCaPems] }) : undefined;
    this.#agents = {
      http: new http.Agent(agentOptions),
      https: new https.Agent({ ...agentOptions, ...(secureContext ? { secureContext } : {}), rejectUnauthorized: !options.insecureUpstream }),
      insecureHttps: new https.Agent({ ...agentOptions, rejectUnauthorized: false }),
    };
    this.#relay = new MitmRelay(this.#agents);

    // noDelay: a plain net.Server leaves Nagle on (http.Server does not), and Nagle against the
    // client's delayed ACK stalled every TLS handshake and small response by ~40 ms.
    this.#listener = net.createServer({ noDelay: true }, (socket) => this.#onConnection(socket));
    this.#listener.maxConnections = limits.maxConnections;
    this.#frontServer = this.#makeHttpServer();
    this.#frontServer.on('request', (req, res) => this.#onFrontRequest(req, res));
    this.#frontServer.on('connect', (req, socket, head) => this.#onConnect(req, socket, head));
    this.#frontServer.on('upgrade', (req, socket, head) => this.#onFrontUpgrade(req, socket, head));
    this.#tunnelServer = this.#makeHttpServer();
    this.#tunnelServer.on('request', (req, res) => this.#onTunnelRequest(req, res));
    this.#tunnelServer.on('upgrade', (req, socket, head) => this.#onTunnelUpgrade(req, socket, head));
    this.#tunnelServer.on('connect', (_req, socket: Duplex) => refuse(socket, 'HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\n\r\n'));
  }

  get port(): number {
    return this.#port;
  }

  get leafStats(): { issued: number; cached: number } {
    return { issued: this.#leaves.issuedCount, cached: this.#leaves.cachedCount };
  }

  async start(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.#listener.once('error', reject);
      this.#listener.listen({ host: this.#options.listenHost, port: this.#options.listenPort }, () => {
        this.#listener.off('error', reject);
        resolve();
      });
    });
    this.#listener.on('error', (err) => this.#events.log('error', `listener: ${describeError(err)}`));
    this.#port = (this.#listener.address() as net.AddressInfo).port;
    this.#ownAddresses = collectOwnAddresses(this.#options.listenHost);
    return { host: this.#options.listenHost, port: this.#port };
  }

  /** Stops accepting, closes every connection, and resolves when every open flow was emitted. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#listener.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    this.#relay.close();
    await closed;
    await this.#whenIdle();
    this.#agents.http.destroy();
    this.#agents.https.destroy();
    this.#agents.insecureHttps.destroy();
  }

  /** Resolves when every open flow was emitted, or after a bounded wait (then says how many were not). */
  #whenIdle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#events.log('warn', `stopped with ${this.#inFlight} flow(s) still closing; they are not in the output`);
        resolve();
      }, limits.stopGraceMs);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #makeHttpServer(): http.Server {
    const server = http.createServer({ requestTimeout: 0, headersTimeout: limits.headersTimeoutMs, keepAliveTimeout: limits.keepAliveTimeoutMs });
    server.timeout = limits.socketIdleTimeoutMs;
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.#onClientError(err, socket));
    return server;
  }

  // ---- connections and access --------------------------------------------------------------

  #onConnection(socket: net.Socket): void {
    socket.on('error', () => undefined); // failures surface on the flow that owns the socket
    if (!this.#options.access.allows(socket.remoteAddress)) {
      this.#events.log('warn', `refused client ${normalizeClientIp(socket.remoteAddress)}: not in --allow-client ranges`);
      refuse(socket, 'HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nphonehome: this client address may not use the proxy (see --allow-client)\n');
      return;
    }
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    this.#frontServer.emit('connection', socket);
  }

  #authorized(req: http.IncomingMessage): boolean {
    return !this.#options.auth || this.#options.auth.accepts(req.headers['proxy-authorization']);
  }

  #clientOf(socket: Duplex | undefined): Endpoint {
    const s = socket as net.Socket | undefined;
    return { ip: normalizeClientIp(s?.remoteAddress), port: s?.remotePort ?? 0 };
  }

  /** A target that is this proxy itself would make it talk to itself forever. */
  #isSelf(target: Target): boolean {
    return target.port === this.#port && (this.#ownAddresses.has(target.host) || target.host === 'localhost');
  }

  #onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    const code = err.code ?? '';
    if (code !== 'ECONNRESET' && code !== 'EPIPE' && code !== 'ERR_STREAM_DESTROYED') {
      const status = code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      this.#rejected(this.#clientOf(socket), { host: '', port: 0 }, `malformed request: ${describeError(err)}`, [`client:${code || 'bad-request'}`]);
      if (socket.writable && !(socket as net.Socket).bytesWritten) {
        refuse(socket, `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nphonehome: ${status}\n`);
        return;
      }
    }
    socket.destroy();
  }

  // ---- plain proxy requests ------------------------------------------------------------------

  #onFrontRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const client = this.#clientOf(req.socket);
    const url = req.url ?? '';
    if (url.startsWith('/')) {
      // Someone opened the proxy's own address in a browser: show how to install the CA.
      serveInstallPage(this.#options.ca, url, res);
      return;
    }
    if (!this.#authorized(req)) {
      respondText(res, 407, 'proxy authentication required', { 'proxy-authenticate': 'Basic realm="phonehome"' });
      return;
    }
    const absolute = /^http:\/\/([^/?#]*)([^#]*)/i.exec(url);
    if (!absolute) {
      this.#rejected(client, { host: '', port: 0 }, `unsupported request target ${JSON.stringify(url.slice(0, 80))}`, ['client:bad-target']);
      respondText(res, 400, 'phonehome expects absolute http:// URLs, or CONNECT for https');
      return;
    }
    const authority = absolute[1]!;
    const parsed = authority.includes('@') ? { ok: false as const, reason: 'credentials in the URL authority' } : parseTarget(authority, 80);
    if (!parsed.ok) {
      this.#rejected(client, { host: '', port: 0 }, `bad target: ${parsed.reason}`, ['client:bad-target']);
      respondText(res, 400, `bad target: ${parsed.reason}`);
      return;
    }
    const target = parsed.target;
    if (target.host === INSTALL_HOST) {
      serveInstallPage(this.#options.ca, absolute[2] || '/', res);
      return;
    }
    if (this.#isSelf(target)) {
      this.#rejected(client, target, 'request to the proxy itself', ['client:loop']);
      respondText(res, 508, 'the target is this proxy');
      return;
    }
    const path = absolute[2] || '/';
    this.#relayHttp(req, res, { client, target, tls: false, url: `http://${formatAuthority(target, 80)}${path}`, tags: [] });
  }

  #onFrontUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = req.url ?? '';
    const absolute = /^http:\/\/([^/?#]*)([^#]*)/i.exec(url);
    const parsed = absolute ? parseTarget(absolute[1]!, 80) : undefined;
    if (!this.#authorized(req) || !absolute || !parsed?.ok || req.headers.upgrade?.toLowerCase() !== 'websocket' || this.#isSelf(parsed.target)) {
      refuse(socket, `HTTP/1.1 ${this.#authorized(req) ? '400 Bad Request' : '407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="phonehome"'}\r\nConnection: close\r\n\r\n`);
      return;
    }
    this.#relayWebSocket(req, socket, head, { client: this.#clientOf(req.socket), target: parsed.target, tls: false, url: `ws://${formatAuthority(parsed.target, 80)}${absolute[2] || '/'}`, tags: [] });
  }

  // ---- CONNECT -------------------------------------------------------------------------------

  #onConnect(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const client = this.#clientOf(req.socket);
    socket.on('error', () => undefined);
    if (!this.#authorized(req)) {
      refuse(socket, 'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="phonehome"\r\nConnection: close\r\n\r\n');
      return;
    }
    const parsed = parseTarget(req.url ?? '');
    if (!parsed.ok) {
      // Never let such a value reach a socket, a certificate or a file name.
      this.#rejected(client, { host: '', port: 0 }, `bad CONNECT target: ${parsed.reason}`, ['client:bad-target']);
      refuse(socket, `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nphonehome: bad CONNECT target: ${parsed.reason}\n`);
      return;
    }
    const target = parsed.target;
    if (this.#isSelf(target)) {
      this.#rejected(client, target, 'CONNECT to the proxy itself', ['client:loop']);
      refuse(socket, 'HTTP/1.1 508 Loop Detected\r\nConnection: close\r\n\r\n');
      return;
    }
    const flowId = newFlowId();
    this.#emitStart(flowId, client, target, 'connect');
    const passthrough = this.#options.passthrough.decide(target.host);
    if (passthrough) {
      this.#tunnelOpaque(socket, head, flowId, client, target, passthrough);
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) {
      this.#dispatchTunnel(socket, head, flowId, client, target);
      return;
    }
    if (SERVER_FIRST_PORTS.has(target.port)) {
      this.#relayRaw(socket, undefined, flowId, client, target);
      return;
    }
    // Wait for the client's first bytes: TLS, HTTP, or something else. A client that says nothing
    // is waiting for a server that speaks first (SMTP, IMAP, POP3 on unusual ports).
    const onData = (chunk: Buffer): void => {
      clearTimeout(timer);
      (socket as net.Socket).pause();
      this.#dispatchTunnel(socket, chunk, flowId, client, target);
    };
    const timer = setTimeout(() => {
      socket.off('data', onData);
      this.#relayRaw(socket, undefined, flowId, client, target);
    }, limits.connectSniffTimeoutMs);
    socket.once('data', onData);
    socket.once('close', () => clearTimeout(timer));
    (socket as net.Socket).resume();
  }

  #dispatchTunnel(socket: Duplex, first: Buffer, flowId: string, client: Endpoint, target: Target): void {
    if (first[0] === 0x16) this.#terminateTls(socket, first, flowId, client, target);
    else if (HTTP_REQUEST_LINE.test(first.subarray(0, 16).toString('latin1'))) {
      socket.unshift(first);
      this.#tunnels.set(socket, { connectFlowId: flowId, client, target, tls: false, requests: 0 });
      this.#tunnelServer.emit('connection', socket);
      // The socket was paused for sniffing, and a paused stream does not start flowing when the
      // HTTP parser adds its 'data' listener.
      (socket as net.Socket).resume();
    } else this.#relayRaw(socket, first, flowId, client, target);
  }

  #terminateTls(socket: Duplex, first: Buffer, flowId: string, client: Endpoint, target: Target): void {
    const info: TunnelInfo = { connectFlowId: flowId, client, target, tls: true, requests: 0 };
    socket.unshift(first);
    const startedMs = Date.now();
    let failure: ReturnType<typeof classifyHandshakeError> | undefined;
    const tlsSocket = new tls.TLSSocket(socket as net.Socket, {
      isServer: true,
      secureContext: this.#leaves.contextFor(target.host),
      SNICallback: (servername, cb) => {
        const valid = validateHost(servername);
        if (!valid.ok) {
          cb(null, undefined); // keep the CONNECT host's leaf
          return;
        }
        info.sni = valid.host;
        cb(null, this.#leaves.contextFor(valid.host));
      },
    });
    tlsSocket.once('secure', () => {
      info.handshakeAtMs = Date.now();
      this.#tunnels.set(tlsSocket, info);
      this.#tunnelServer.emit('connection', tlsSocket);
    });
    tlsSocket.on('error', (err) => {
      if (info.handshakeAtMs === undefined) failure ??= classifyHandshakeError(err);
    });
    tlsSocket.once('close', () => {
      if (info.handshakeAtMs === undefined) {
        const why = failure ?? { certificateRejected: true, reason: 'client closed the connection during the TLS handshake' };
        this.#handshakeFailed(flowId, client, target, info.sni, startedMs, why);
      } else if (info.requests === 0) {
        const ms = Date.now() - info.handshakeAtMs;
        const learned = this.#options.passthrough.recordRejection(target.host, { kind: 'closed-without-request', msAfterHandshake: ms });
        if (learned) this.#tlsFailedFlow(flowId, client, target, info.sni, startedMs, learned.reason, ['tls:closed-without-request'], true);
      }
    });
  }

  #handshakeFailed(flowId: string, client: Endpoint, target: Target, sni: string | undefined, startedMs: number, why: ReturnType<typeof classifyHandshakeError>): void {
    const tags = why.alertTag ? [why.alertTag] : [];
    const learned = why.certificateRejected
      ? this.#options.passthrough.recordRejection(target.host, { kind: 'handshake-error', reason: why.reason }) !== undefined
      : false;
    this.#tlsFailedFlow(flowId, client, target, sni, startedMs, why.reason, tags, learned, why.certificateRejected);
  }

  #tlsFailedFlow(flowId: string, client: Endpoint, target: Target, sni: string | undefined, startedMs: number, reason: string, tags: string[], learned: boolean, rejected = true): void {
    const now = new Date();
    const flow: Flow = {
      id: flowId, kind: 'tls-failed', startedAt: new Date(startedMs).toISOString(), endedAt: now.toISOString(), durationMs: now.getTime() - startedMs,
      client, target: { host: target.host, port: target.port }, ...(sni ? { sni } : {}), scheme: 'tls', bytesUp: 0, bytesDown: 0,
      error: reason, tags: [...tags, ...(rejected ? ['tls:certificate-rejected'] : []), ...(learned ? ['passthrough:learned'] : [])],
    };
    this.#events.emit('flow:end', flow);
    if (rejected) {
      this.#events.emit('tls:failed', { flowId, time: now.toISOString(), client, host: target.host, port: target.port, ...(sni ? { sni } : {}), reason, learnedPassthrough: learned });
    }
  }

  #tunnelOpaque(socket: Duplex, head: Buffer, flowId: string, client: Endpoint, target: Target, why: 'configured' | 'learned'): void {
    this.#trackFlow();
    const startedMs = Date.now();
    relayStream(socket, {
      host: target.host, port: target.port, firstBytes: head, captureBytes: 0, idleTimeoutMs: limits.socketIdleTimeoutMs, lookup: this.#options.lookup,
      onConnected: () => socket.write('HTTP/1.1 200 Connection Established\r\n\r\n'),
      onConnectFailed: (reason) => socket.write(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nphonehome: ${reason}\n`),
    }, (result) => {
      const flow = this.#streamFlow('tunnel', 'tls', flowId, client, target, startedMs, result, [`passthrough:${why}`]);
      this.#events.emit('flow:end', flow);
      this.#events.emit('tunnel:end', flow);
      this.#untrackFlow();
    });
  }

  #relayRaw(socket: Duplex, first: Buffer | undefined, flowId: string, client: Endpoint, target: Target): void {
    this.#trackFlow();
    const startedMs = Date.now();
    relayStream(socket, {
      host: target.host, port: target.port, firstBytes: first, captureBytes: limits.rawStreamCaptureBytes, idleTimeoutMs: limits.socketIdleTimeoutMs, lookup: this.#options.lookup,
    }, (result) => {
      const tags = ['stream:raw'];
      if (result.up?.truncated || result.down?.truncated) tags.push('inspected:partial');
      this.#events.emit('flow:end', this.#streamFlow('raw', 'tcp', flowId, client, target, startedMs, result, tags));
      this.#untrackFlow();
    });
  }

  #streamFlow(kind: 'tunnel' | 'raw', scheme: 'tls' | 'tcp', flowId: string, client: Endpoint, target: Target, startedMs: number, result: StreamRelayResult, tags: string[]): Flow {
    const now = Date.now();
    return {
      id: flowId, kind, scheme, startedAt: new Date(startedMs).toISOString(), endedAt: new Date(now).toISOString(), durationMs: now - startedMs,
      client, target: { host: target.host, port: target.port },
      ...(result.destination ? { destination: result.destination } : {}),
      ...(result.up && result.down ? { stream: { up: result.up, down: result.down } } : {}),
      bytesUp: result.bytesUp, bytesDown: result.bytesDown,
      ...(result.error ? { error: result.error } : {}), tags,
    };
  }

  // ---- requests inside tunnels ---------------------------------------------------------------

  #onTunnelRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const info = this.#tunnels.get(req.socket);
    if (!info) {
      respondText(res, 500, 'internal error: request without a tunnel');
      return;
    }
    info.requests++;
    const defaultPort = info.tls ? 443 : 80;
    const path = (req.url ?? '/').startsWith('/') ? (req.url ?? '/') : pathOf(req.url ?? '/');
    this.#relayHttp(req, res, { client: info.client, target: info.target, tls: info.tls, sni: info.sni, url: `${info.tls ? 'https' : 'http'}://${formatAuthority(info.target, defaultPort)}${path}`, tags: this.#tunnelTags(req, info) });
  }

  #onTunnelUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const info = this.#tunnels.get(req.socket);
    if (!info || req.headers.upgrade?.toLowerCase() !== 'websocket') {
      refuse(socket, 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      return;
    }
    info.requests++;
    const defaultPort = info.tls ? 443 : 80;
    this.#relayWebSocket(req, socket, head, { client: info.client, target: info.target, tls: info.tls, sni: info.sni, url: `${info.tls ? 'wss' : 'ws'}://${formatAuthority(info.target, defaultPort)}${pathOf(req.url ?? '/')}`, tags: this.#tunnelTags(req, info) });
  }

  /** Tags that tell how the request arrived; a Host that names another server is worth a look. */
  #tunnelTags(req: http.IncomingMessage, info: TunnelInfo): string[] {
    const tags = [info.tls ? 'decrypted' : 'connect:plain'];
    const hostHeader = req.headers.host;
    const hostParsed = hostHeader ? parseTarget(hostHeader, info.target.port) : undefined;
    if (hostParsed?.ok && hostParsed.target.host !== info.target.host && hostParsed.target.host !== info.sni) tags.push('host-mismatch');
    if (info.sni && info.sni !== info.target.host) tags.push('sni-mismatch');
    return tags;
  }

  // ---- hand-off to the relay -----------------------------------------------------------------

  #relayHttp(req: http.IncomingMessage, res: http.ServerResponse, how: ExchangeHow): void {
    this.#relay.relayRequest(req, res, this.#startExchange(req, how));
  }

  #relayWebSocket(req: http.IncomingMessage, socket: Duplex, head: Buffer, how: ExchangeHow): void {
    this.#relay.relayUpgrade(req, socket, head, this.#startExchange(req, how));
  }

  /** A new flow for one request or WebSocket: announced, tracked until recorded, and planned. */
  #startExchange(req: http.IncomingMessage, how: ExchangeHow): RelayPlan {
    const flowId = newFlowId();
    this.#emitStart(flowId, how.client, how.target, 'request');
    this.#trackFlow();
    const recorder = new HttpExchangeRecorder({ flowId, client: how.client, target: how.target, ...(how.sni ? { sni: how.sni } : {}), tls: how.tls, url: how.url, tags: how.tags, bodyLimitBytes: this.#options.bodyLimitBytes }, req, (flow) => {
      this.#events.emit('flow:end', flow);
      this.#untrackFlow();
    });
    return this.#plan(how, recorder);
  }

  #plan(how: { target: Target; tls: boolean; sni?: string }, observer: HttpExchangeRecorder): RelayPlan {
    return {
      tls: how.tls, host: how.target.host, port: how.target.port,
      ...(how.tls ? { servername: how.sni ?? (how.target.hostKind === 'dns' ? how.target.host : undefined) } : {}),
      insecure: this.#options.insecureUpstream, observer,
    };
  }

  // ---- bookkeeping ---------------------------------------------------------------------------

  #emitStart(id: string, client: Endpoint, target: Target, how: 'connect' | 'request'): void {
    if (this.#events.listenerCount('flow:start') === 0) return;
    this.#events.emit('flow:start', { id, time: new Date().toISOString(), client, target: { host: target.host, port: target.port }, how });
  }

  #rejected(client: Endpoint, target: { host: string; port: number }, reason: string, tags: string[]): void {
    const now = new Date().toISOString();
    this.#events.emit('flow:end', { id: newFlowId(), kind: 'rejected', startedAt: now, endedAt: now, durationMs: 0, client, target, scheme: 'http', bytesUp: 0, bytesDown: 0, error: reason, tags });
  }

  #trackFlow(): void {
    this.#inFlight++;
  }

  #untrackFlow(): void {
    this.#inFlight--;
    if (this.#inFlight === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }
}

/**
 * Answers on a raw socket and closes it. The socket must also be drained: one that is never read
 * never sees the client's FIN, so it would stay open and keep the listener from closing.
 */
function refuse(socket: Duplex, response: string): void {
  socket.end(response);
  socket.resume();
  (socket as net.Socket).setTimeout?.(5_000, () => socket.destroy());
}

function respondText(res: http.ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = `phonehome: ${text}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close', ...headers });
  res.end(body);
}

function pathOf(url: string): string {
  if (url.startsWith('/')) return url;
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^#]*)/i.exec(url);
  return match?.[1] || '/';
}

function collectOwnAddresses(listenHost: string): Set<string> {
  const own = new Set<string>(['127.0.0.1', '::1', '0.0.0.0', '::', listenHost.toLowerCase()]);
  for (const list of Object.values(os.networkInterfaces())) for (const entry of list ?? []) own.add(entry.address.toLowerCase());
  return own;
}
