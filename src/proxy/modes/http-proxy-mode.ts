// The HTTP proxy mode: devices configured with phonehome as their HTTP proxy. It only learns where
// a connection is going — from a CONNECT target or an absolute-form URL — checks who may ask, and
// hands over: CONNECT tunnels to the layer stack (which decides passthrough),
// absolute-form requests to the HTTP/1 layer. Requests for the proxy's own address get the CA
// install page.
//
// An absolute-form `https://` URL (`GET https://host/ HTTP/1.1`, sent in clear to the proxy) asks
// the proxy to make the TLS connection itself. Squid and mitmproxy do, and clients send it: axios
// in Node did for every https URL behind an HTTP proxy, and so do small HTTP stacks that have no
// CONNECT. phonehome answered it with a 400 of its own; now it connects over TLS, verified as any
// upstream, and the flow says the device sent it in clear (HTTPS_SENT_IN_CLEAR).

import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { CertificateAuthority } from '../ca/certificate-authority.js';
import { limits } from '../../limits.js';
import type { ConnectionAgent } from '../connection-agent.js';
import { INSTALL_HOST, serveInstallPage } from '../install-page.js';
import type { ProxyAuth } from '../access/proxy-auth.js';
import { formatAuthority, parseTarget, type Target } from '../access/target.js';
import { newConnectionContext } from '../context.js';
import type { FlowTracker } from '../flow-tracker.js';
import { answerClientError, clientOf, makeHttpServer, type Http1Layer } from '../layers/http1-layer.js';
import { declineH2cOffer, H2C_DECLINED_TAG, takeDeclinedH2cOffer } from '../layers/h2c-upgrade-offer.js';
import type { LayerStack } from '../layers/layer-stack.js';
import { isWebSocketUpgrade } from '../layers/relay-plan.js';
import { refuse, respondText } from '../replies.js';
import type { WireguardInfo } from '../../model/wireguard-info.js';
import { ProxyConnectionUpstreams } from './proxy-connection-upstreams.js';
import { endRequestWhereDeviceEnded } from '../layers/request-cut-by-device-end.js';

export interface HttpProxyModeOptions {
  readonly tracker: FlowTracker;
  readonly ca: CertificateAuthority;
  readonly auth?: ProxyAuth;
  readonly layers: LayerStack;
  readonly http1: Http1Layer;
  /** True when a target is this proxy itself (it would talk to itself forever). */
  readonly isSelf: (target: Target) => boolean;
  /** A new upstream for one server of one device connection (UpstreamConnector.plainConnectionAgent). */
  readonly plainAgent: () => ConnectionAgent;
  /** The same over TLS, for an absolute-form https:// URL (UpstreamConnector.connectionAgent). */
  readonly tlsAgent: () => ConnectionAgent;
  /** The running WireGuard endpoint, for the install page's /wireguard (--wireguard). */
  readonly wireguard?: () => WireguardInfo | undefined;
}

const PROXY_AUTH_REQUIRED = 'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="phonehome"\r\nConnection: close\r\n\r\n';
const ABSOLUTE_HTTP_URL = /^http:\/\/([^/?#]*)([^#]*)/i;
/** An absolute-form URL a request may name: http, or https for TLS that phonehome makes. */
const ABSOLUTE_URL = /^(https?):\/\/([^/?#]*)([^#]*)/i;
/** The tag of a request whose https:// URL the device sent in clear, for phonehome to make the TLS connection. */
export const HTTPS_SENT_IN_CLEAR = 'proxy:https-sent-in-clear';

export class HttpProxyMode {
  readonly #options: HttpProxyModeOptions;
  /** Parses requests on connections from devices (absolute-form requests and CONNECT). */
  readonly #server: http.Server;
  /** Absolute-form requests reach their servers on connections of their device connection's own. */
  readonly #upstreams: ProxyConnectionUpstreams;

  constructor(options: HttpProxyModeOptions) {
    this.#options = options;
    this.#upstreams = new ProxyConnectionUpstreams((tls) => (tls ? options.tlsAgent() : options.plainAgent()));
    this.#server = makeHttpServer((err, socket) => {
      // The device ended its side mid-body: its servers read that end after its requests (ProxyConnectionUpstreams).
      if (endRequestWhereDeviceEnded(err, socket)) return;
      this.#upstreams.leftTheParser(socket);
      answerClientError(err, socket, (reason, tag) => options.tracker.rejected(clientOf(socket), 'http', { host: '', port: 0 }, reason, [tag]));
    }, limits.keepAliveTimeoutMs);
    this.#server.on('request', (req, res) => this.#onRequest(req, res));
    this.#server.on('connect', (req, socket, head) => this.#onConnect(req, socket, head));
    this.#server.on('upgrade', (req, socket, head) => this.#onUpgrade(req, socket, head));
  }

  /** A device's connection to the proxy port that speaks HTTP (also one given back after a declined h2c offer or a refused upgrade). */
  handle(socket: Duplex): void {
    this.#server.emit('connection', socket);
    // It was paused while its first byte told HTTP from SOCKS.
    socket.resume();
  }

  #authorized(req: http.IncomingMessage): boolean {
    return !this.#options.auth || this.#options.auth.accepts(req.headers['proxy-authorization']);
  }

  #rejected(req: http.IncomingMessage, target: { host: string; port: number }, reason: string, tag: string): void {
    // A refused CONNECT is recorded as a connection; a refused absolute-URL request as that request.
    const request = req.method === 'CONNECT' ? undefined : { method: req.method ?? 'GET', url: (req.url ?? '').slice(0, 2048), httpVersion: `HTTP/${req.httpVersion}` };
    this.#options.tracker.rejected(clientOf(req.socket), 'http', target, reason, [tag], request);
  }

  #onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const offered = takeDeclinedH2cOffer(req);
    const url = req.url ?? '';
    if (url.startsWith('/')) {
      // Someone opened the proxy's own address in a browser: show how to install the CA. A browser
      // sends no Proxy-Authorization to a page it opens directly, so --proxy-auth is asked for
      // with Authorization (401) before the WireGuard keys are shown.
      const auth = this.#options.auth;
      const authorized = !auth || auth.accepts(req.headers['proxy-authorization']) || auth.accepts(req.headers.authorization);
      serveInstallPage(this.#options.ca, url, res, { ...this.#installPage(), authorized });
      return;
    }
    if (!this.#authorized(req)) {
      respondText(res, 407, 'proxy authentication required', { 'proxy-authenticate': 'Basic realm="phonehome"' });
      return;
    }
    const absolute = ABSOLUTE_URL.exec(url);
    if (!absolute) {
      this.#rejected(req, { host: '', port: 0 }, `unsupported request target ${JSON.stringify(url.slice(0, 80))}`, 'client:bad-target');
      respondText(res, 400, 'phonehome expects absolute http:// or https:// URLs, or CONNECT');
      return;
    }
    const tls = absolute[1]!.toLowerCase() === 'https';
    const defaultPort = tls ? 443 : 80;
    const authority = absolute[2]!;
    const parsed = authority.includes('@') ? { ok: false as const, reason: 'credentials in the URL authority' } : parseTarget(authority, defaultPort);
    if (!parsed.ok) {
      this.#rejected(req, { host: '', port: 0 }, `bad target: ${parsed.reason}`, 'client:bad-target');
      respondText(res, 400, `bad target: ${parsed.reason}`);
      return;
    }
    const target = parsed.target;
    if (target.host === INSTALL_HOST && !tls) {
      serveInstallPage(this.#options.ca, absolute[3] || '/', res, { ...this.#installPage(), authorized: true });
      return;
    }
    if (this.#options.isSelf(target)) {
      this.#rejected(req, target, 'request to the proxy itself', 'client:loop');
      respondText(res, 508, 'the target is this proxy');
      return;
    }
    const client = clientOf(req.socket);
    const agent = this.#upstreams.agentFor(req.socket, target, tls).nodeAgent;
    const tags = [...(tls ? [HTTPS_SENT_IN_CLEAR] : []), ...(offered ? [H2C_DECLINED_TAG] : [])];
    this.#options.http1.exchange(req, res, {
      client, connection: proxyConnectionId(req.socket), mode: 'http', target, tls, agent, sentToUsAsProxy: true,
      url: `${tls ? 'https' : 'http'}://${formatAuthority(target, defaultPort)}${absolute[3] || '/'}`, tags, ...(offered ? { deviceRawHeaders: offered } : {}),
    });
  }

  #installPage(): { wireguard?: () => WireguardInfo | undefined } {
    return this.#options.wireguard ? { wireguard: this.#options.wireguard } : {};
  }

  #onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    // An h2c offer is read again as an ordinary request, without it (h2c-upgrade-offer.ts).
    if (declineH2cOffer(req, socket, head, (again) => this.handle(again))) return;
    this.#upstreams.leftTheParser(req.socket);
    const absolute = ABSOLUTE_HTTP_URL.exec(req.url ?? '');
    const parsed = absolute ? parseTarget(absolute[1]!, 80) : undefined;
    if (!this.#authorized(req)) {
      refuse(socket, PROXY_AUTH_REQUIRED);
      return;
    }
    if (!absolute || !parsed?.ok || this.#options.isSelf(parsed.target)) {
      refuse(socket, 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      return;
    }
    const agent = this.#upstreams.agentFor(req.socket, parsed.target).nodeAgent;
    const scheme = isWebSocketUpgrade(req) ? 'ws' : 'http';
    // A refused upgrade's connection comes back here: its next request is one to the proxy again.
    this.#options.http1.upgrade(req, socket, head, { client: clientOf(req.socket), connection: proxyConnectionId(req.socket), mode: 'http', target: parsed.target, tls: false, agent, sentToUsAsProxy: true, url: `${scheme}://${formatAuthority(parsed.target, 80)}${absolute[2] || '/'}`, tags: [] }, (resumed) => this.handle(resumed));
  }

  #onConnect(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#upstreams.leftTheParser(req.socket);
    socket.on('error', () => undefined);
    if (!this.#authorized(req)) {
      refuse(socket, PROXY_AUTH_REQUIRED);
      return;
    }
    const parsed = parseTarget(req.url ?? '');
    if (!parsed.ok) {
      // Never let such a value reach a socket, a certificate or a file name.
      this.#rejected(req, { host: '', port: 0 }, `bad CONNECT target: ${parsed.reason}`, 'client:bad-target');
      refuse(socket, `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nphonehome: bad CONNECT target: ${parsed.reason}\n`);
      return;
    }
    const target = parsed.target;
    if (this.#options.isSelf(target)) {
      this.#rejected(req, target, 'CONNECT to the proxy itself', 'client:loop');
      refuse(socket, 'HTTP/1.1 508 Loop Detected\r\nConnection: close\r\n\r\n');
      return;
    }
    const context = newConnectionContext('http', clientOf(req.socket), target);
    this.#options.layers.enter(socket, context, head, {
      established: () => socket.write('HTTP/1.1 200 Connection Established\r\n\r\n'),
      failed: (reason) => socket.write(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nphonehome: ${reason}\n`),
    });
  }
}

/**
 * Plain requests a device sends to the proxy in absolute form share one client connection without a
 * connection-level flow; they get an id of their own (`proxy-N`) so their flows can still be grouped.
 */
const proxyConnectionIds = new WeakMap<object, string>();
let nextProxyConnection = 1;

function proxyConnectionId(socket: object): string {
  let id = proxyConnectionIds.get(socket);
  if (!id) {
    id = `proxy-${nextProxyConnection++}`;
    proxyConnectionIds.set(socket, id);
  }
  return id;
}
