// The proxy: one listening socket for devices, who may use it (client access), and the wiring of
// modes and layers. A mode learns where a connection was going (the HTTP proxy mode: CONNECT or an
// absolute URL; the SOCKS mode, on the same port, told apart by the first byte); the shared
// layers take it from there — TLS with our CA and ALPN, HTTP/1,
// HTTP/2 (gRPC included), WebSocket, raw streams — and every exchange becomes a Flow on the bus.

import net from 'node:net';
import os from 'node:os';
import type { EventBus } from '../flow/events.js';
import { limits } from '../limits.js';
import { describeError } from '../util/errors.js';
import { normalizeClientIp, type ClientAccess } from './access/client-access.js';
import type { ProxyAuth } from './access/proxy-auth.js';
import type { Target } from './access/target.js';
import type { CertificateAuthority, IssuedLeaf } from './ca/certificate-authority.js';
import { LeafStore } from './ca/leaf-store.js';
import type { LeafShape } from './ca/leaf-shape.js';
import { FlowTracker } from './flow-tracker.js';
import { Http1Layer } from './layers/http1-layer.js';
import { RequestOrUpgradeRelay } from './layers/request-or-upgrade-relay.js';
import { Http2Layer } from './layers/http2-layer.js';
import { LayerStack } from './layers/layer-stack.js';
import { RawLayer } from './layers/raw-layer.js';
import { StartTlsLayer } from './layers/starttls-layer.js';
import { TlsLayer } from './layers/tls-layer.js';
import { HttpProxyMode } from './modes/http-proxy-mode.js';
import { SocksMode } from './modes/socks-mode.js';
import { SOCKS4, SOCKS5 } from './modes/socks-protocol.js';
import { TransparentMode } from './modes/transparent-mode.js';
import type { WireguardInfo } from '../model/wireguard-info.js';
import type { DeviceTlsObserver, TunnelObserver } from './connection-tap.js';
import type { PassthroughPolicy } from './passthrough.js';
import { refuse } from './replies.js';
import { UpstreamConnector, type ClientCertificate, type UpstreamTlsMin } from './upstream.js';

export interface InterceptingProxyOptions {
  readonly listenHost: string;
  readonly listenPort: number;
  readonly ca: CertificateAuthority;
  readonly events: EventBus;
  readonly bodyLimitBytes: number;
  /** Extra PEM roots trusted for upstream servers, besides Node's bundled Mozilla roots. */
  readonly upstreamCaPems: readonly string[];
  readonly insecureUpstream: boolean;
  /** Oldest TLS spoken to servers (--upstream-tls-min); TLS 1.2 when absent. */
  readonly upstreamTlsMin?: UpstreamTlsMin;
  /** Client certificates for servers that require one (--client-cert), by lower-case host. */
  readonly clientCertificates?: ReadonlyMap<string, ClientCertificate>;
  readonly passthrough: PassthroughPolicy;
  readonly access: ClientAccess;
  readonly auth?: ProxyAuth;
  /** Resolver for upstream names (tests, benchmarks and the demo map names to loopback). */
  readonly lookup?: net.LookupFunction;
  /** Receives NSS key log lines of both sides of every decrypted connection (--keylog). */
  readonly keylog?: (line: Buffer) => void;
  /** A second listener for connections the OS redirected to us (--transparent HOST:PORT). */
  readonly transparent?: { readonly host: string; readonly port: number };
  /** The WireGuard peer a redirected connection's client address belongs to (--wireguard). */
  readonly peerOf?: (ip: string) => string | undefined;
  /** The name a DNS answer gave the device for an address (DNS on): names flows that only have an address. */
  readonly nameOf?: (address: string, atMs: number) => string | undefined;
  /** The running WireGuard endpoint (--wireguard): the install page shows its phones' configurations at /wireguard. */
  readonly wireguard?: () => WireguardInfo | undefined;
  /** Sees the ciphertext of every passthrough tunnel as it passes (opaque.pcapng: OpaqueRecorder.observe). */
  readonly opaqueObserver?: TunnelObserver;
  /** Sees the device side (TLS bytes and keys) of every decrypted connection (--pcap: DeviceTlsRecorder.observe). */
  readonly deviceTlsObserver?: DeviceTlsObserver;
  /** Told of every leaf this proxy issues (--threads: the other proxy loops adopt it). */
  readonly leafIssued?: (shape: LeafShape, leaf: IssuedLeaf) => void;
}

export class InterceptingProxy {
  readonly #options: InterceptingProxyOptions;
  readonly #events: EventBus;
  readonly #leaves: LeafStore;
  readonly #upstream: UpstreamConnector;
  readonly #tracker: FlowTracker;
  readonly #http1: Http1Layer;
  readonly #httpMode: HttpProxyMode;
  readonly #socksMode: SocksMode;
  readonly #transparentMode: TransparentMode;
  readonly #transparentListener: net.Server | undefined;
  #transparentPort = 0;
  readonly #listener: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #ownAddresses = new Set<string>();
  #port = 0;

  constructor(options: InterceptingProxyOptions) {
    this.#options = options;
    this.#events = options.events;
    this.#leaves = new LeafStore(options.ca, options.leafIssued);
    this.#tracker = new FlowTracker(options.events);
    this.#tracker.nameOf = options.nameOf;
    this.#upstream = new UpstreamConnector({
      upstreamCaPems: options.upstreamCaPems, insecureUpstream: options.insecureUpstream, ...(options.lookup ? { lookup: options.lookup } : {}), ...(options.keylog ? { keylog: options.keylog } : {}),
      ...(options.upstreamTlsMin ? { tlsMin: options.upstreamTlsMin } : {}), ...(options.clientCertificates ? { clientCertificates: options.clientCertificates } : {}),
    });
    const tracker = this.#tracker;
    const raw = new RawLayer(tracker, options.events, options.lookup, options.opaqueObserver);
    this.#http1 = new Http1Layer({
      tracker, relay: new RequestOrUpgradeRelay(this.#upstream.agents), bodyLimitBytes: options.bodyLimitBytes, insecureUpstream: options.insecureUpstream,
      plainAgent: (firstConnection) => this.#upstream.plainConnectionAgent(firstConnection),
      onMalformed: (client, mode, reason, tag) => tracker.rejected(client, mode, { host: '', port: 0 }, reason, [tag]),
      relayRest: (socket, rest, context, why, connect) => raw.relay(socket, rest, context, why, connect),
    });
    const http2 = new Http2Layer(tracker, options.events, options.bodyLimitBytes);
    const tls = new TlsLayer({
      events: options.events, tracker, leaves: this.#leaves, upstream: this.#upstream, passthrough: options.passthrough, http1: this.#http1, http2, raw, ...(options.keylog ? { keylog: options.keylog } : {}),
      ...(options.deviceTlsObserver ? { deviceTls: options.deviceTlsObserver } : {}),
    });
    const starttls = new StartTlsLayer({ events: options.events, tracker, leaves: this.#leaves, upstream: this.#upstream, passthrough: options.passthrough, ...(options.lookup ? { lookup: options.lookup } : {}), ...(options.keylog ? { keylog: options.keylog } : {}) });
    const layers = new LayerStack({ tls, http1: this.#http1, http2, raw, starttls }, options.passthrough, options.lookup);
    this.#httpMode = new HttpProxyMode({
      tracker, ca: options.ca, ...(options.auth ? { auth: options.auth } : {}), layers, http1: this.#http1, isSelf: (target) => this.#isSelf(target),
      plainAgent: () => this.#upstream.plainConnectionAgent(),
      // No ALPN: what a client that speaks HTTP/1.1 over its own TLS offers (axios, curl --http1.1).
      tlsAgent: () => this.#upstream.connectionAgent(undefined, { alpn: [] }),
      ...(options.wireguard ? { wireguard: options.wireguard } : {}),
    });
    this.#socksMode = new SocksMode({ tracker, ...(options.auth ? { auth: options.auth } : {}), layers, isSelf: (target) => this.#isSelf(target) });
    this.#transparentMode = new TransparentMode({ tracker, layers, isSelf: (target) => this.#isSelf(target), ...(options.peerOf ? { peerOf: options.peerOf } : {}) });
    if (options.transparent) {
      this.#transparentListener = net.createServer(DEVICE_SOCKET_OPTIONS, (socket) => this.#accept(socket, () => this.#transparentMode.handle(socket)));
      this.#transparentListener.maxConnections = limits.maxConnections;
    }

    this.#listener = net.createServer(DEVICE_SOCKET_OPTIONS, (socket) => this.#onConnection(socket));
    this.#listener.maxConnections = limits.maxConnections;
  }

  get port(): number {
    return this.#port;
  }

  /** The transparent listener's port (0 when there is none). */
  get transparentPort(): number {
    return this.#transparentPort;
  }

  get leafStats(): { issued: number; cached: number } {
    return { issued: this.#leaves.issuedCount, cached: this.#leaves.cachedCount };
  }

  /** A leaf another proxy loop issued (--threads): used here without signing again. */
  adoptLeaf(shape: LeafShape, leaf: IssuedLeaf): void {
    this.#leaves.adopt(shape, leaf);
  }

  async start(): Promise<{ host: string; port: number }> {
    await listen(this.#listener, this.#options.listenHost, this.#options.listenPort);
    this.#listener.on('error', (err) => this.#events.log('error', `listener: ${describeError(err)}`));
    this.#port = (this.#listener.address() as net.AddressInfo).port;
    const transparent = this.#options.transparent;
    if (this.#transparentListener && transparent) {
      const listener = this.#transparentListener;
      try {
        await listen(listener, transparent.host, transparent.port);
      } catch (error) {
        this.#listener.close();
        throw Object.assign(error as Error, { listener: 'transparent' });
      }
      listener.on('error', (err) => this.#events.log('error', `transparent listener: ${describeError(err)}`));
      this.#transparentPort = (listener.address() as net.AddressInfo).port;
    }
    this.#ownAddresses = collectOwnAddresses(this.#options.listenHost);
    if (transparent) this.#ownAddresses.add(transparent.host.toLowerCase());
    return { host: this.#options.listenHost, port: this.#port };
  }

  /** Stops accepting, closes every connection, and resolves when every open flow was emitted. */
  async stop(): Promise<void> {
    const closed = Promise.all([this.#listener, this.#transparentListener].map((listener) => listener && new Promise<void>((resolve) => listener.close(() => resolve()))));
    for (const socket of this.#sockets) socket.destroy();
    this.#http1.close();
    await closed;
    await this.#tracker.whenIdle();
    this.#upstream.destroy();
  }

  /** Every listener: who may connect, and the bookkeeping that lets stop() close every socket. */
  #accept(socket: net.Socket, then: () => void): void {
    socket.on('error', () => undefined); // failures surface on the flow that owns the socket
    if (!this.#options.access.allows(socket.remoteAddress)) {
      // Said on the console (rate-limited) by the notices, not here: a scan would flood it.
      this.#events.emit('client:refused', { time: new Date().toISOString(), ip: normalizeClientIp(socket.remoteAddress) });
      refuse(socket, 'HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nphonehome: this client address may not use the proxy (see --allow-client)\n');
      return;
    }
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    then();
  }

  #onConnection(socket: net.Socket): void {
    this.#accept(socket, () => this.#sniffMode(socket));
  }

  #sniffMode(socket: net.Socket): void {
    // One port for every device: the first byte tells SOCKS (4 or 5) from HTTP (a letter).
    const timer = setTimeout(() => socket.destroy(), limits.headersTimeoutMs);
    socket.once('data', (first: Buffer) => {
      clearTimeout(timer);
      socket.pause();
      socket.unshift(first);
      if (first[0] === SOCKS5 || first[0] === SOCKS4) this.#socksMode.handle(socket);
      else this.#httpMode.handle(socket);
    });
    socket.once('close', () => clearTimeout(timer));
  }

  /** A target that is this proxy itself (either listener) would make it talk to itself forever. */
  #isSelf(target: Target): boolean {
    const ours = target.port === this.#port || (this.#transparentPort !== 0 && target.port === this.#transparentPort);
    return ours && (this.#ownAddresses.has(target.host) || target.host === 'localhost');
  }
}

/**
 * How device connections are accepted. noDelay: a plain net.Server leaves Nagle on (http.Server
 * does not), and Nagle against the client's delayed ACK stalled every TLS handshake and small
 * response by ~40 ms. keepAlive: relays wait out hours of silence (limits.socketIdleTimeoutMs), so
 * a phone that left the network without closing its connections is found by TCP keepalive
 * probes (which its apps never see) rather than held for hours.
 */
const DEVICE_SOCKET_OPTIONS: net.ServerOpts = { noDelay: true, keepAlive: true, keepAliveInitialDelay: limits.deviceKeepAliveDelayMs };

function listen(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function collectOwnAddresses(listenHost: string): Set<string> {
  const own = new Set<string>(['127.0.0.1', '::1', '0.0.0.0', '::', listenHost.toLowerCase()]);
  for (const list of Object.values(os.networkInterfaces())) for (const entry of list ?? []) own.add(entry.address.toLowerCase());
  return own;
}
