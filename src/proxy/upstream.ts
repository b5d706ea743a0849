// Everything that connects to real servers: the keep-alive agents of the HTTP/1 relay, and direct
// TLS connections that ask the server which application protocol it speaks (ALPN) before we
// answer the device. Upstream certificates are verified unless --insecure-upstream says otherwise,
// with the same roots everywhere. TLS keys of every upstream connection go to the key log, when on.

import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import tls from 'node:tls';
import { limits } from '../limits.js';
import { describeError } from '../util/errors.js';

export interface UpstreamAgents {
  readonly http: http.Agent;
  readonly https: https.Agent;
  /** An agent that does not verify upstream certificates, used only with --insecure-upstream. */
  readonly insecureHttps: https.Agent;
}

export interface UpstreamOptions {
  /** Extra PEM roots trusted for upstream servers, besides Node's bundled Mozilla roots. */
  readonly upstreamCaPems: readonly string[];
  readonly insecureUpstream: boolean;
  readonly lookup?: net.LookupFunction;
  /** Receives NSS key log lines of every upstream TLS connection (--keylog). */
  readonly keylog?: (line: Buffer) => void;
}

export type AlpnAnswer =
  /** The server chose h2: this connection carries the HTTP/2 session. */
  | { readonly protocol: 'h2'; readonly socket: tls.TLSSocket }
  /** The server chose HTTP/1.1, or no ALPN at all (which means HTTP/1.1). */
  | { readonly protocol: 'http/1.1' }
  /** The server could not be reached or verified; `reason` is one line. */
  | { readonly protocol: 'none'; readonly reason: string };

const TLS_VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED', 'CERT_REVOKED', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_SIGNATURE_FAILURE',
]);

/** One line that says what went wrong upstream, with the verification failures named as such. */
export function describeUpstreamError(err: unknown): string {
  const code = (err as { code?: string } | null)?.code;
  if (code && TLS_VERIFY_CODES.has(code)) return `upstream certificate verification failed (${code}): ${(err as Error).message}`;
  return `upstream: ${describeError(err)}`;
}

export class UpstreamConnector {
  readonly agents: UpstreamAgents;
  readonly #options: UpstreamOptions;
  readonly #secureContext: tls.SecureContext | undefined;
  /** Servers known to answer HTTP/1.1 to an h2 offer: no need to ask them again for a while. */
  readonly #http1Only = new Map<string, number>();

  constructor(options: UpstreamOptions) {
    this.#options = options;
    const agentOptions = { keepAlive: true, noDelay: true, maxSockets: limits.upstreamMaxSocketsPerHost, maxFreeSockets: limits.upstreamMaxFreeSockets, lookup: options.lookup };
    // Extra upstream roots go into one SecureContext built here, not into `ca`: https.Agent turns
    // `ca` into its pool key on every request (all ~140 root PEMs concatenated: it was 56% of the
    // CPU under small requests) and parses it again for every new upstream connection.
    // An explicit CA list replaces Node's default store, so the bundled roots are listed too.
    this.#secureContext = options.upstreamCaPems.length > 0 ? tls.createSecureContext({ ca: [...tls.rootCertificates, ...options.upstreamCaPems] }) : undefined;
    this.agents = {
      http: new http.Agent(agentOptions),
      https: new https.Agent({ ...agentOptions, ...(this.#secureContext ? { secureContext: this.#secureContext } : {}), rejectUnauthorized: !options.insecureUpstream }),
      insecureHttps: new https.Agent({ ...agentOptions, rejectUnauthorized: false }),
    };
    const keylog = options.keylog;
    if (keylog) {
      this.agents.https.on('keylog', (line: Buffer) => keylog(line));
      this.agents.insecureHttps.on('keylog', (line: Buffer) => keylog(line));
    }
  }

  get insecure(): boolean {
    return this.#options.insecureUpstream;
  }

  /**
   * Connects to the server with the client's ALPN offer (h2 and/or http/1.1) and tells what the
   * server chose: mitmproxy's approach, so a device is only offered h2 when the server speaks it.
   */
  async negotiate(host: string, port: number, servername: string | undefined, offer: readonly string[]): Promise<AlpnAnswer> {
    const key = `${host}|${port}|${servername ?? ''}`;
    const known = this.#http1Only.get(key);
    if (known !== undefined && known > Date.now()) return { protocol: 'http/1.1' };
    let socket: tls.TLSSocket;
    try {
      socket = await this.connectTls(host, port, servername, offer);
    } catch (error) {
      // A server that speaks only HTTP/1.1 may refuse an h2-only offer outright (TLS alert 120).
      if ((error as { code?: string }).code !== 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL') return { protocol: 'none', reason: describeUpstreamError(error) };
      this.#rememberHttp1Only(key);
      return { protocol: 'http/1.1' };
    }
    if (socket.alpnProtocol === 'h2') return { protocol: 'h2', socket };
    socket.destroy();
    this.#rememberHttp1Only(key);
    return { protocol: 'http/1.1' };
  }

  #rememberHttp1Only(key: string): void {
    this.#http1Only.delete(key);
    this.#http1Only.set(key, Date.now() + limits.http1OnlyMemoryMs);
    if (this.#http1Only.size > limits.http1OnlyMemoryEntries) this.#http1Only.delete(this.#http1Only.keys().next().value!);
  }

  /** A verified (unless --insecure-upstream) TLS connection, resolved once the handshake is done. */
  connectTls(host: string, port: number, servername: string | undefined, alpn: readonly string[]): Promise<tls.TLSSocket> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host, port, ...(servername ? { servername } : {}), ALPNProtocols: [...alpn],
        rejectUnauthorized: !this.#options.insecureUpstream,
        ...(this.#secureContext && !this.#options.insecureUpstream ? { secureContext: this.#secureContext } : {}),
        ...(this.#options.lookup ? { lookup: this.#options.lookup } : {}),
      });
      // Nagle against delayed ACKs stalls small requests by ~40 ms (see the listener).
      socket.setNoDelay(true);
      const keylog = this.#options.keylog;
      if (keylog) socket.on('keylog', (line) => keylog(line));
      const timer = setTimeout(() => socket.destroy(new Error(`no TLS handshake within ${limits.upstreamConnectTimeoutMs} ms`)), limits.upstreamConnectTimeoutMs);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  destroy(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
    this.agents.insecureHttps.destroy();
  }
}
