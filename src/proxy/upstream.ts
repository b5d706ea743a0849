// Everything that connects to real servers: the keep-alive agents of the HTTP/1 relay, and direct
// TLS connections that ask the server which application protocol it speaks (ALPN) before we
// answer the device. Upstream certificates are verified unless --insecure-upstream says otherwise,
// with the same roots everywhere. TLS keys of every upstream connection go to the key log, when on.

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { Duplex } from 'node:stream';
import { limits } from '../limits.js';
import { describeError } from '../util/errors.js';
import { ServerHandshakeWatcher } from './layers/server-handshake-watcher.js';
import { HANDSHAKE_TIMEOUT, serverRefusal, type ServerRefusal } from './layers/server-tls-refusal.js';
import { UpstreamSessions } from './upstream-sessions.js';
import { ConnectionAgent } from './connection-agent.js';
import { withFields } from '../util/with-fields.js';
import { shapeOfServerCertificate, type LeafShape } from './ca/leaf-shape.js';
import { identityCheckFor } from './upstream-identity.js';
import { connectTlsOverTcp, type UpstreamTlsOptions } from './tls-over-tcp.js';
import { UpstreamContexts, versionsKey, type ClientCertificate, type UpstreamTlsMin } from './upstream-contexts.js';
import { tlsVersionNamed, type TlsVersionName, type TlsVersionRange } from './layers/client-hello.js';
import type { ServerKeyKind } from './layers/server-key-kind.js';

export type { ClientCertificate, UpstreamTlsMin } from './upstream-contexts.js';

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
  /** Default TLSv1.2: older servers only when a lab asks (--upstream-tls-min). */
  readonly tlsMin?: UpstreamTlsMin;
  /** Client certificates by lower-case host name (--client-cert). */
  readonly clientCertificates?: ReadonlyMap<string, ClientCertificate>;
}

/**
 * What the device's ClientHello offered that our connection to its server follows: its ALPN list
 * (the server chooses from it, as it would have), and the TLS versions it speaks (which ones we
 * speak to its server: upstream-contexts.ts).
 */
export interface DeviceOffer {
  readonly alpn: readonly string[];
  readonly versions?: TlsVersionRange;
  /** The only kind of server key the device can verify, when it cannot verify both: the server is asked for that kind (server-key-kind.ts). */
  readonly serverKey?: ServerKeyKind;
  /** The device's cipher suites by IANA number, in its order: the server is offered them (upstream-cipher-suites.ts). */
  readonly suites?: readonly number[];
  /** The device's signature schemes and groups, the same way (upstream-hello-extensions.ts). */
  readonly schemes?: readonly number[];
  readonly groups?: readonly number[];
  /** The device asks its server to staple an OCSP response: so do we (the staple is not shown to the device, whose leaf is ours). */
  readonly asksOcsp?: boolean;
  /**
   * The device accepted a certificate as invalid as its server's (ca/leaf-shape.ts,
   * mirroredInvalidShape): it does not check, so its server connections are not checked either,
   * as its own would not have been.
   */
  readonly acceptsUnverified?: boolean;
}

/** What an eager look at the server found, before we answer the device's ClientHello. */
export type UpstreamProbe =
  /**
   * The server finished its handshake; `alpn` is what it chose from the device's offer, `version`
   * the TLS version it agreed on, `certificate` the names and kind of key of its certificate
   * (ca/leaf-shape.ts), when its handshake was seen; `cipher` the suite it agreed on (IANA name, for
   * the record) and `suite` the same by OpenSSL's name (for the device side: leaf-store.ts). Without
   * `socket`, these are remembered from the last look (no connection was made for this one), and
   * `cipher` and `suite` are absent.
   */
  | {
    readonly outcome: 'ok'; readonly alpn?: string; readonly version?: TlsVersionName; readonly cipher?: string; readonly suite?: string; readonly certificate?: LeafShape;
    readonly socket?: tls.TLSSocket;
  }
  /**
   * The server's certificate did not verify, and a connection that did not check it is `socket`:
   * the device is shown a leaf as invalid, and decides.
   */
  | ({ readonly outcome: 'unverified'; readonly alpn?: string; readonly version?: TlsVersionName; readonly socket: tls.TLSSocket } & UnverifiedServer)
  /** The server asked for a client certificate we do not hold: only the device can talk to it. */
  | { readonly outcome: 'client-certificate'; readonly reason: string }
  /**
   * The server refused the device's offer before any handshake of its own, with an alert, a reset,
   * a close or silence (layers/server-tls-refusal.ts): the device meets the same. `failure` says
   * it for the record.
   */
  | { readonly outcome: 'refused'; readonly refusal: ServerRefusal; readonly failure: UpstreamFailure }
  /** Unreachable, unverifiable, or a TLS it and we do not share; `reason` is one line. */
  | { readonly outcome: 'failed'; readonly reason: string };

/**
 * A server whose certificate did not verify, as a connection that did not check it saw it: why
 * (`code`, as Node names it; `reason`, one line), and its certificate's names, kind of key and
 * validity, for a leaf as invalid in the same way (ca/leaf-shape.ts, mirroredInvalidShape).
 */
export interface UnverifiedServer {
  readonly code: string;
  readonly reason: string;
  readonly certificate: LeafShape;
  readonly period: { readonly notBefore: string; readonly notAfter: string };
}

/** A TLS connection made over one already open (STARTTLS); `unverified` when the server's certificate did not verify. */
export interface ExistingConnectionSecured {
  readonly socket: tls.TLSSocket;
  readonly unverified?: UnverifiedServer;
}

const TLS_VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED', 'CERT_REVOKED', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_SIGNATURE_FAILURE',
]);

/**
 * What went wrong upstream, twice: a tag for machines (`upstream:ECONNREFUSED`, `upstream:dns`,
 * `upstream:certificate:DEPTH_ZERO_SELF_SIGNED_CERT`, `upstream:tls-version`) that flows carry and
 * the console's notices read, and one line for people. Made once, where the error happens, so
 * nothing downstream parses the sentence again.
 */
export interface UpstreamFailure {
  readonly tag: string;
  readonly reason: string;
}

export function upstreamFailure(err: unknown): UpstreamFailure {
  const code = (err as { code?: string } | null)?.code;
  if (code && TLS_VERIFY_CODES.has(code)) return { tag: `upstream:certificate:${code}`, reason: `upstream certificate verification failed (${code}): ${(err as Error).message}` };
  if ((code && LEGACY_TLS_CODES.has(code)) || LEGACY_TLS_MESSAGE.test((err as Error | null)?.message ?? '')) {
    return { tag: 'upstream:tls-version', reason: `upstream: the server speaks only a TLS version older than we allow (${code}); for an old lab server, run with --upstream-tls-min 1.0` };
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return { tag: 'upstream:dns', reason: `upstream: ${describeError(err)}` };
  return { tag: `upstream:${code && /^[A-Z0-9_]{1,64}$/.test(code) ? code : 'error'}`, reason: `upstream: ${describeError(err)}` };
}

/** One line that says what went wrong upstream, with the verification failures named as such. */
export function describeUpstreamError(err: unknown): string {
  return upstreamFailure(err).reason;
}

/** What OpenSSL says when a server offers only TLS 1.0/1.1 (or cipher suites of that age). */
const LEGACY_TLS_CODES = new Set([
  'ERR_SSL_UNSUPPORTED_PROTOCOL', 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
]);

/** The same, when OpenSSL's error reaches us through a write (code EPROTO) rather than the handshake. */
const LEGACY_TLS_MESSAGE = /alert protocol version|unsupported protocol|wrong version number|no protocols available/i;

/** The alerts a server sends when it wanted a client certificate and got none (TLS 1.3; TLS 1.2 is told by the watcher). */
const CLIENT_CERT_REQUIRED_CODES = new Set(['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED']);

/** Alerts a TLS 1.2 server sends for a missing client certificate, among other reasons. */
const AMBIGUOUS_HANDSHAKE_CODES = new Set(['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED', 'ECONNRESET']);

/** What a server had sent when our handshake with it failed (undefined: its TCP connection never opened), by the handshake's error. */
const serverBytesAtFailures = new WeakMap<object, number | undefined>();

/**
 * Keeps, for a failed handshake, how many bytes its server had sent (the TCP socket's count: what
 * TLS read), or that its TCP connection never opened.
 */
function noteServerBytesOnFailure(secure: tls.TLSSocket, tcp: net.Socket): void {
  let opened = !tcp.connecting;
  if (!opened) tcp.once('connect', () => { opened = true; });
  secure.once('error', (error: unknown) => {
    if (typeof error === 'object' && error !== null) serverBytesAtFailures.set(error, opened ? tcp.bytesRead : undefined);
  });
}

function serverBytesAtFailure(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null ? serverBytesAtFailures.get(error) : undefined;
}

/** Whether the server had asked for a client certificate in the clear when our handshake with it failed, by the handshake's error; absent when we never learned. */
const certificateRequestsAtFailures = new WeakMap<object, boolean>();

/**
 * Learns whether the server asks for a client certificate in the clear part of its handshake
 * (TLS 1.2 and older), for the error should the handshake fail: a server that wanted one and got
 * none fails it with a generic alert. Node has no event for the request, but a client derives
 * its keys (Node's 'keylog') only once it has read the server's whole first flight, a
 * CertificateRequest included, and OpenSSL shares signature schemes with a server only when it
 * asked (askedForClientCertificate). In TLS 1.3 the first keys come right after the ServerHello,
 * before the request, which is encrypted: a server's clear part never holds one there.
 */
function noteCertificateRequestOnFailure(secure: tls.TLSSocket): void {
  let asked: boolean | undefined;
  secure.once('keylog', () => { asked = askedForClientCertificate(secure); });
  secure.once('error', (error: unknown) => {
    if (asked !== undefined && typeof error === 'object' && error !== null) certificateRequestsAtFailures.set(error, asked);
  });
}

/** The size of a TLS record holding one alert: its 5-byte header, a level and a description. */
const ALERT_RECORD_BYTES = 7;

/** Whether a server's whole answer to our ClientHello was one alert, or nothing (no ServerHello). */
function refusedBeforeAnyHandshake(error: unknown): boolean {
  const bytes = serverBytesAtFailure(error);
  return bytes !== undefined && bytes <= ALERT_RECORD_BYTES;
}

/** What a probe's memory key starts with: one server's entries, whatever the SNI and the offer. */
function probeKeyPrefix(host: string, port: number): string {
  return `${host}|${port}|`;
}

export class UpstreamConnector {
  readonly agents: UpstreamAgents;
  readonly #options: UpstreamOptions;
  readonly #contexts: UpstreamContexts;
  /** Servers whose last probe was plain (no h2, no client certificate): not probed again for a while. */
  readonly #probed = new Map<string, { until: number; alpn?: string; version: TlsVersionName | undefined; certificate: LeafShape | undefined }>();
  /** Sessions of the servers we spoke to: the next connection to one resumes (probe and relays alike). */
  readonly sessions = new UpstreamSessions();
  /** Given to every connection agent (one function, not one per device connection). */
  readonly #forgetProbes = (host: string, port: number): void => this.forgetProbes(host, port);

  constructor(options: UpstreamOptions) {
    this.#options = options;
    const agentOptions = { keepAlive: true, noDelay: true, maxSockets: limits.upstreamMaxSocketsPerHost, maxFreeSockets: limits.upstreamMaxFreeSockets, lookup: options.lookup };
    this.#contexts = new UpstreamContexts(options.upstreamCaPems, options.tlsMin, options.clientCertificates);
    const contextFor = (host: string | undefined): tls.SecureContext | undefined => this.#contexts.for(host);
    this.agents = {
      http: new http.Agent(agentOptions),
      https: new UpstreamHttpsAgent({ ...agentOptions, rejectUnauthorized: !options.insecureUpstream }, contextFor, this.sessions),
      insecureHttps: new UpstreamHttpsAgent({ ...agentOptions, rejectUnauthorized: false }, contextFor, this.sessions),
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
   * Looks at the server before we answer the device (mitmproxy's eager connection strategy): does it
   * answer, which of the device's ALPN protocols does it choose, does it want a client certificate?
   * The connection that answered is handed back for the device's traffic; a server that answered
   * an ALPN offer without h2 is not asked first again for a while (later answers carry no socket).
   * A device that offers no ALPN gets that connection every time (what is remembered only spares
   * it the wait for a client certificate request): it may be waiting for its server to speak first
   * (a mail, IRC or IoT server on a port of its own), and only a connection made before it is
   * answered hears that greeting (server-first-word.ts). Without one, the greeting waited for the
   * device's silence (500 ms) on every connection but the first.
   * `firstConnection` gives the TCP connection already made to the server, when there is one
   * (first-connection.ts); it is asked for only when the server is asked.
   */
  async probe(host: string, port: number, servername: string | undefined, offer: DeviceOffer, firstConnection?: () => net.Socket | undefined): Promise<UpstreamProbe> {
    const key = `${probeKeyPrefix(host, port)}${servername ?? ''}|${offer.alpn.join(',')}|${versionsKey(this.#contexts.versionsFor(offer.versions))}|${offer.serverKey ?? ''}|${offer.suites?.join(',') ?? ''}|${offer.schemes?.join(',') ?? ''}|${offer.groups?.join(',') ?? ''}`;
    const known = this.#probed.get(key);
    const remembered = known && known.until > Date.now() ? known : undefined;
    if (remembered && offer.alpn.length > 0) return { outcome: 'ok', ...(remembered.certificate ? { certificate: remembered.certificate } : {}), ...(remembered.alpn ? { alpn: remembered.alpn } : {}), ...(remembered.version ? { version: remembered.version } : {}) };
    let socket: tls.TLSSocket;
    try {
      // Checked after the handshake: a server that does not verify is looked at on this same
      // connection, which then serves a device that accepts a leaf as invalid (until 2026-12-07 a
      // second connection did, and the server saw two for each of the device's).
      socket = await this.connectTls(host, port, servername, offer, undefined, firstConnection?.(), true);
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (CLIENT_CERT_REQUIRED_CODES.has(code)) return { outcome: 'client-certificate', reason: `the server asks for a client certificate (${code})` };
      // TLS 1.2: a server that wanted a certificate fails the handshake with a generic alert. The
      // handshake that failed says whether it asked (noteCertificateRequestOnFailure). Where it
      // could not (ours failed before its key exchange), ask again, this time reading the
      // server's handshake, to tell that from a real failure; unless its answer was that alert
      // alone, or a reset with nothing before it: no handshake of its own could have asked. Each
      // ClientHello more is one the server would not have seen direct: until 2026-12-07 every
      // such failure was asked twice.
      if (AMBIGUOUS_HANDSHAKE_CODES.has(code) && !this.#contexts.hasCertificate(servername ?? host) && !refusedBeforeAnyHandshake(error)) {
        const asked = certificateRequestsAtFailures.get(error as object);
        if (asked === true) return { outcome: 'client-certificate', reason: `the server asks for a client certificate (${code})` };
        if (asked === undefined) {
          const watcher = new ServerHandshakeWatcher();
          await this.connectTls(host, port, servername, offer, watcher).then((again) => again.destroy(), () => undefined);
          if (watcher.certificateRequested) return { outcome: 'client-certificate', reason: `the server asks for a client certificate (${code})` };
        }
      }
      // A server that speaks only HTTP/1.1 may refuse an h2-only offer outright (TLS alert 120).
      if (code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL') return { outcome: 'ok', alpn: 'http/1.1' };
      const refusal = serverRefusal(error, serverBytesAtFailure(error));
      if (refusal) return { outcome: 'refused', refusal, failure: upstreamFailure(error) };
      return { outcome: 'failed', reason: describeUpstreamError(error) };
    }
    const failure = this.#verifies(offer) ? verificationFailure(socket, host, servername) : undefined;
    if (failure) return lookUnverified(socket, failure);
    const agreed = socket.getCipher();
    const facts = withFields(socket.alpnProtocol ? { alpn: socket.alpnProtocol } : {}, {
      version: tlsVersionNamed(socket.getProtocol()), cipher: agreed?.standardName, suite: agreed?.name, certificate: this.sessions.certificateOf(socket),
    });
    // TLS 1.3 sends the CertificateRequest encrypted, and a server that required a certificate
    // says so only after our Finished: wait for its first word (a session ticket, data, or the
    // certificate_required alert), bounded for servers that send no tickets. Only a server that
    // asked is waited for, which is rare: the rest cost the device no round trip more than direct.
    // One that took us without a certificate lately is not waited for again.
    if (!remembered && socket.getProtocol() === 'TLSv1.3' && askedForClientCertificate(socket) && !this.#contexts.hasCertificate(servername ?? host)) {
      const refused = await firstWordAfterHandshake(socket);
      if (refused) {
        socket.destroy();
        return { outcome: 'client-certificate', reason: `the server asks for a client certificate (${refused})` };
      }
      if (socket.destroyed) return { outcome: 'failed', reason: 'upstream: the server closed the connection right after the TLS handshake' };
    }
    if (facts.alpn !== 'h2' && !remembered) {
      // Asked once; the next device connections to it are answered without a look first.
      this.#probed.delete(key);
      this.#probed.set(key, { until: Date.now() + limits.probeMemoryMs, version: facts.version, certificate: facts.certificate, ...(facts.alpn ? { alpn: facts.alpn } : {}) });
      if (this.#probed.size > limits.probeMemoryEntries) this.#probed.delete(this.#probed.keys().next().value!);
    }
    // The connection that answered is the one the device's traffic then rides on: the server sees
    // one connection per device connection, with the device's own ALPN offer, as it would directly.
    return { outcome: 'ok', ...facts, socket };
  }

  /** The TLS context for a server of a device that offered `offer`: its versions, suites, signature schemes and groups, and the one kind of server key it can verify. */
  #contextFor(host: string | undefined, offer: DeviceOffer): tls.SecureContext | undefined {
    return this.#contexts.for(host, withFields({ versions: this.#contexts.versionsFor(offer.versions) }, {
      serverKey: offer.serverKey, deviceSuites: offer.suites, deviceSchemes: offer.schemes, deviceGroups: offer.groups,
    }));
  }

  /** The upstream of one decrypted device connection, for the HTTP/1 and WebSocket relays (connection-agent.ts). */
  connectionAgent(reserved: tls.TLSSocket | undefined, offer: DeviceOffer, firstConnection?: () => net.Socket | undefined): ConnectionAgent {
    return new ConnectionAgent({
      rejectUnauthorized: this.#verifies(offer), alpn: offer.alpn, contextFor: (host) => this.#contextFor(host, offer), sessions: this.sessions, serverChoseHttp2: this.#forgetProbes,
      ...(offer.asksOcsp ? { requestOcsp: true } : {}),
      ...(reserved ? { reserved } : {}), ...(firstConnection ? { firstConnection } : {}), ...(this.#options.lookup ? { lookup: this.#options.lookup } : {}), ...(this.#options.keylog ? { keylog: this.#options.keylog } : {}),
    });
  }

  /** The upstream of one plain device connection (or of one server behind an HTTP proxy connection): TCP, one connection at a time. */
  plainConnectionAgent(firstConnection?: () => net.Socket | undefined): ConnectionAgent {
    return new ConnectionAgent({
      plain: true, rejectUnauthorized: true, alpn: [], contextFor: () => undefined, sessions: this.sessions, ...(firstConnection ? { firstConnection } : {}),
      ...(this.#options.lookup ? { lookup: this.#options.lookup } : {}),
    });
  }

  /**
   * The server at host:port chose HTTP/2 where a probe had seen it choose something else: what was
   * learned of it is wrong now (a server upgraded, or another one took the port), so the next device
   * connection to it is probed again instead of being told HTTP/1.1 for the rest of the memory's time.
   */
  forgetProbes(host: string, port: number): void {
    const prefix = probeKeyPrefix(host, port);
    for (const key of this.#probed.keys()) if (key.startsWith(prefix)) this.#probed.delete(key);
  }

  /**
   * A verified (unless --insecure-upstream) TLS connection, resolved once the handshake is done.
   * `checkedAfter`: the handshake completes whatever the server's certificate, and the caller checks
   * it (`socket.authorized`, verificationFailure): a server that does not verify is then looked at
   * on the same connection (probe).
   */
  connectTls(host: string, port: number, servername: string | undefined, offer: DeviceOffer, watcher?: ServerHandshakeWatcher, connected?: net.Socket, checkedAfter = false): Promise<tls.TLSSocket> {
    const secureContext = this.#contextFor(servername ?? host, offer);
    const alpn = offer.alpn;
    // Built by assignment, once per upstream connection: a literal that begins with a spread and
    // adds keys makes a hidden class per object (util/with-fields.ts).
    const verify = this.#verifies(offer);
    const connectOptions: UpstreamTlsOptions = { rejectUnauthorized: verify && !checkedAfter };
    if (servername) connectOptions.servername = servername;
    const checkIdentity = identityCheckFor(host, servername);
    if (checkIdentity) connectOptions.checkServerIdentity = checkIdentity;
    if (alpn.length > 0) connectOptions.ALPNProtocols = [...alpn];
    if (secureContext) connectOptions.secureContext = secureContext;
    if (offer.asksOcsp) connectOptions.requestOCSP = true;
    // The watched connection reads the server's bytes through JavaScript (slower), so it is
    // only used to tell why a handshake failed, in full; every other one is native end to end
    // and resumes the server's last session when there is one.
    let socket: tls.TLSSocket;
    if (watcher) {
      connectOptions.socket = watchedConnection(host, port, this.#options.lookup, watcher);
      socket = tls.connect(connectOptions);
    } else {
      const key = { host, port, servername, context: secureContext, verified: verify };
      // For a device that accepted an invalid certificate, connections start afresh: the look at
      // its server is for the server's certificate, and a resumed connection shows none.
      const resumable = offer.acceptsUnverified !== true;
      const session = resumable ? this.sessions.get(key) : undefined;
      if (session) connectOptions.session = session;
      // Over the connection made before the device was answered (first-connection.ts), if given.
      socket = connectTlsOverTcp(connectOptions, { host, port, lookup: this.#options.lookup }, connected);
      noteServerBytesOnFailure(socket, connectOptions.socket as net.Socket);
      // A probe's failure may have to say whether its server wanted a client certificate.
      if (checkedAfter) noteCertificateRequestOnFailure(socket);
      if (resumable) {
        this.sessions.remember(socket, key);
        socket.once('error', () => this.sessions.forget(key));
        // Its sessions are kept as verified ones only if it was.
        if (verify && checkedAfter) socket.once('secureConnect', () => { if (!socket.authorized) this.sessions.disown(socket, key); });
      }
    }
    // Nagle against delayed ACKs stalls small requests by ~40 ms (see the listener).
    socket.setNoDelay(true);
    return this.#whenSecure(socket);
  }


  /** Whether a server connection for `offer` checks the server's certificate. */
  #verifies(offer: DeviceOffer): boolean {
    return !this.#options.insecureUpstream && offer.acceptsUnverified !== true;
  }

  destroy(): void {
    this.#probed.clear();
    this.sessions.clear();
    this.agents.http.destroy();
    this.agents.https.destroy();
    this.agents.insecureHttps.destroy();
  }

  /**
   * TLS over a connection already open to the server (STARTTLS), with the same roots and checks as
   * connectTls; resolved once the handshake is done. Without a `servername`, `host` is what the
   * server's certificate must name.
   *
   * A certificate that does not verify for a reason a device would see too (out of date, other
   * names, an unknown CA) resolves with `unverified`, as a probe does: there is no second
   * connection to look at it with, as the dialogue before the switch cannot be played again, so
   * this one does not stop at the check, and the caller sends nothing on it unless the device
   * accepts a leaf as invalid. Any other failure, or an invalid certificate with a flaw we cannot
   * mirror, rejects as before.
   */
  async secureExisting(socket: net.Socket, host: string, servername: string | undefined, offer: DeviceOffer): Promise<ExistingConnectionSecured> {
    const secureContext = this.#contextFor(servername ?? host, offer);
    const checkIdentity = identityCheckFor(host, servername);
    const options: UpstreamTlsOptions = {
      socket, host, ...(servername ? { servername } : {}), ...(checkIdentity ? { checkServerIdentity: checkIdentity } : {}), rejectUnauthorized: false, ...(secureContext ? { secureContext } : {}),
      ...(offer.asksOcsp ? { requestOCSP: true } : {}),
    };
    const secured = await this.#whenSecure(tls.connect(options));
    const failure = this.#options.insecureUpstream ? undefined : verificationFailure(secured, host, servername);
    if (!failure) return { socket: secured };
    const seen = unverifiedServer(secured, failure);
    if (!seen) {
      secured.destroy();
      throw failure;
    }
    return { socket: secured, unverified: seen };
  }

  /** Our side of every upstream handshake: keys to the key log, a deadline, resolved once secure. */
  #whenSecure(socket: tls.TLSSocket): Promise<tls.TLSSocket> {
    return new Promise((resolve, reject) => {
      const keylog = this.#options.keylog;
      if (keylog) socket.on('keylog', (line) => keylog(line));
      const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`no TLS handshake within ${limits.upstreamConnectTimeoutMs} ms`), { code: HANDSHAKE_TIMEOUT })), limits.upstreamConnectTimeoutMs);
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

}

/**
 * Why a connection checked after its handshake (connectTls's `checkedAfter`) did not verify, as
 * tls.connect would have failed it: OpenSSL's verdict on the chain, then the names. Undefined
 * when it verified.
 */
function verificationFailure(socket: tls.TLSSocket, host: string, servername: string | undefined): Error | undefined {
  if (socket.authorized) return undefined;
  // Node keeps only the code on the socket; its handle still has the chain's error with OpenSSL's
  // words (what tls.connect itself reads), and the names are checked as tls.connect does.
  const handle = (socket as unknown as { _handle?: { verifyError?: () => Error | null } })._handle;
  const chain = handle?.verifyError?.();
  if (chain) return chain;
  const names = (identityCheckFor(host, servername) ?? tls.checkServerIdentity)(servername ?? host, socket.getPeerCertificate());
  return names ?? Object.assign(new Error('the certificate did not verify'), { code: String(socket.authorizationError) });
}

/**
 * A server whose certificate did not verify, as its connection shows it: the certificate, for a
 * leaf as invalid (ca/leaf-shape.ts), when the flaw is one a device would see too; else failed.
 */
function lookUnverified(socket: tls.TLSSocket, failure: Error): UpstreamProbe {
  const seen = unverifiedServer(socket, failure);
  if (!seen) {
    socket.destroy();
    return { outcome: 'failed', reason: describeUpstreamError(failure) };
  }
  const version = tlsVersionNamed(socket.getProtocol());
  return { outcome: 'unverified', ...seen, socket, ...(socket.alpnProtocol ? { alpn: socket.alpnProtocol } : {}), ...(version ? { version } : {}) };
}

/**
 * What a connection shows of a server whose certificate failed its check (`failure`, from
 * verificationFailure); undefined when the flaw is not one a leaf can mirror (TLS_VERIFY_CODES)
 * or the certificate's dates cannot be read.
 */
function unverifiedServer(socket: tls.TLSSocket, failure: Error): UnverifiedServer | undefined {
  const code = (failure as { code?: string }).code ?? '';
  if (!TLS_VERIFY_CODES.has(code)) return undefined;
  const reason = describeUpstreamError(failure);
  const peer = socket.getPeerCertificate();
  const notBefore = new Date(peer.valid_from);
  const notAfter = new Date(peer.valid_to);
  if (!peer.valid_from || Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) return undefined;
  return { code, reason, certificate: shapeOfServerCertificate(peer), period: { notBefore: notBefore.toISOString(), notAfter: notAfter.toISOString() } };
}

/** A TCP connection whose incoming bytes the watcher sees before TLS does. */
function watchedConnection(host: string, port: number, lookup: net.LookupFunction | undefined, watcher: ServerHandshakeWatcher): Duplex {
  const tcp = net.connect({ host, port, noDelay: true, lookup });
  const tap: Duplex = new Duplex({
    read: () => tcp.resume(),
    write: (chunk: Buffer, _encoding, callback) => tcp.write(chunk, callback),
    final: (callback) => tcp.end(callback),
    destroy: (error, callback) => {
      tcp.destroy();
      callback(error);
    },
  });
  tcp.on('data', (chunk: Buffer) => {
    if (!watcher.done) watcher.push(chunk);
    if (!tap.push(chunk)) tcp.pause();
  });
  tcp.once('end', () => tap.push(null));
  tcp.once('error', (error) => tap.destroy(error));
  return tap;
}

/**
 * The https.Agent of the relay, with the context each server needs: the shared roots, or the
 * lab's client certificate for that host. (An agent's own `secureContext` would be one for all.)
 */
class UpstreamHttpsAgent extends https.Agent {
  readonly #contextFor: (host: string | undefined) => tls.SecureContext | undefined;
  readonly #sessions: UpstreamSessions;

  constructor(options: https.AgentOptions, contextFor: (host: string | undefined) => tls.SecureContext | undefined, sessions: UpstreamSessions) {
    super(options);
    this.#contextFor = contextFor;
    this.#sessions = sessions;
  }

  override createConnection(options: tls.ConnectionOptions, callback?: (err: Error | null, socket: net.Socket) => void): net.Socket {
    const secureContext = this.#contextFor(options.servername || options.host);
    const create = https.Agent.prototype.createConnection as (this: https.Agent, o: tls.ConnectionOptions, cb?: unknown) => net.Socket;
    // The connector's sessions, not only this agent's own cache: the probe and the device
    // connections' agents (connection-agent.ts) resume from the same ones.
    const key = { host: options.host ?? 'localhost', port: options.port ?? 443, servername: options.servername || undefined, context: secureContext, verified: options.rejectUnauthorized !== false };
    const session = options.session ?? this.#sessions.get(key);
    const chosen: { secureContext?: tls.SecureContext; session?: Buffer } = {};
    if (secureContext) chosen.secureContext = secureContext;
    if (session) chosen.session = session;
    const socket = create.call(this, withFields(options, chosen), callback) as tls.TLSSocket;
    // tls.connect does not apply the agent's `noDelay` to the TCP connection it makes. With Nagle
    // left on, a request body of more than one TLS record (over 16 KB) waited for the server's
    // delayed ACK before its last record went: 40 ms added to every such upload.
    socket.setNoDelay(true);
    this.#sessions.remember(socket, key);
    return socket;
  }
}

/**
 * Whether the server sent a CertificateRequest in the handshake just made. A client learns the
 * server's signature algorithms only from that message (its signature_algorithms extension), and
 * OpenSSL lists the ones both sides share from it: an empty list means no request. (A request whose
 * algorithms share none with ours reads as none; OpenSSL offers every common one, so a server that
 * could verify a certificate at all shares some.)
 */
function askedForClientCertificate(socket: tls.TLSSocket): boolean {
  return socket.getSharedSigalgs().length > 0;
}

/**
 * After a TLS 1.3 handshake, the server's first word: resolves with the alert code when it refused
 * us for lack of a client certificate, else undefined (a ticket, data, a close, or nothing in time).
 */
function firstWordAfterHandshake(socket: tls.TLSSocket): Promise<string | undefined> {
  // No 'data' listener: it would start the flow of bytes an HTTP/2 session must read itself.
  // OpenSSL reads tickets and alerts as they arrive all the same.
  return new Promise((resolve) => {
    const finish = (answer: string | undefined): void => {
      clearTimeout(timer);
      socket.off('session', onSession);
      socket.off('error', onError);
      socket.off('close', onClose);
      resolve(answer);
    };
    const onSession = (): void => finish(undefined);
    const onClose = (): void => finish(undefined);
    const onError = (error: Error & { code?: string }): void => finish(CLIENT_CERT_REQUIRED_CODES.has(error.code ?? '') ? error.code : undefined);
    const timer = setTimeout(() => finish(undefined), limits.clientCertificateProbeMs);
    socket.on('session', onSession);
    socket.once('error', onError);
    socket.once('close', onClose);
  });
}
