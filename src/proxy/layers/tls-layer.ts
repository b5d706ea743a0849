// TLS towards the device with a leaf from our CA, for the name the client asked for (SNI, else a
// CONNECT or SOCKS name) and the names and kind of key of the server's certificate (ca/leaf-shape.ts).
// Before answering,
// the ClientHello is read and the real server is asked first (mitmproxy's eager strategy): the
// device is offered exactly the ALPN protocol the server chose, so a server that only speaks
// HTTP/1.1 never sees h2 from us and a device never gets h2 we cannot carry; and a server that
// wants a client certificate we do not hold is passed through before we answer, so the device
// keeps working. After the handshake the stack decides again (next-layer-after-tls.ts): HTTP/2,
// HTTP/1, or a decrypted raw stream (SMTPS, IMAPS, MQTT…). Clients that refuse our certificate
// teach the passthrough policy (pinning), and the failure is a flow of its own.

import type net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { EventBus } from '../../flow/events.js';
import type { Flow } from '../../model/flow.js';
import { limits } from '../../limits.js';
import { validateHost } from '../access/target.js';
import { newestForDevice, suiteForDevice, type LeafStore } from '../ca/leaf-store.js';
import { leafShape, mirroredInvalidShape, type LeafShape } from '../ca/leaf-shape.js';
import { deviceOffer, leafServername, NO_OFFER, tlsFactsOfHello, upstreamServername, type ConnectionContext } from '../context.js';
import type { DeviceTlsObserver, TlsConnectionTap } from '../connection-tap.js';
import { takeFirstConnection } from '../first-connection.js';
import { layeredOver, resetConnection } from '../connection-reset.js';
import type { FlowTracker } from '../flow-tracker.js';
import type { PassthroughPolicy } from '../passthrough.js';
import { pinningVerdict, type PinningVerdict } from '../pinning-verdict.js';
import type { UpstreamConnector, UpstreamProbe } from '../upstream.js';
import { beforeTlsWrap, readAgain } from '../socket-peek.js';
import { alertRecord, describeRefusal } from './server-tls-refusal.js';
import { readClientHello } from './read-client-hello.js';
import type { TlsVersionName } from './client-hello.js';
import { decideAfterTls, type LayerAfterTls } from './next-layer-after-tls.js';
import type { ClientQuiet } from './next-layer.js';
import { onServerFirstWord } from './server-first-word.js';
import type { Http1Layer } from './http1-layer.js';
import { upstreamOpener, type Http2Layer, type Http2Upstream } from './http2-layer.js';
import type { RawLayer } from './raw-layer.js';
import { tappedDuplex } from './tapped-duplex.js';
import { withFields } from '../../util/with-fields.js';

export interface TlsLayerOptions {
  readonly events: EventBus;
  readonly tracker: FlowTracker;
  readonly leaves: LeafStore;
  readonly upstream: UpstreamConnector;
  readonly passthrough: PassthroughPolicy;
  readonly http1: Http1Layer;
  readonly http2: Http2Layer;
  readonly raw: RawLayer;
  /** Receives NSS key log lines of the device side (--keylog). */
  readonly keylog?: (line: Buffer) => void;
  /** Sees the device side of every connection we terminate: its TLS bytes and keys (--pcap). */
  readonly deviceTls?: DeviceTlsObserver;
}

/** What we answer the device by ALPN, and the HTTP/2 upstream when it is h2. */
interface AlpnPlan {
  readonly protocols?: string[];
  readonly http2?: Http2Upstream;
  /** The probe's server connection, when it does not carry the HTTP/2 session: the device's traffic rides on it. */
  readonly reserved?: tls.TLSSocket;
}

export class TlsLayer {
  readonly #options: TlsLayerOptions;

  constructor(options: TlsLayerOptions) {
    this.#options = options;
  }

  /**
   * `first`: the bytes already read from the client (they start a ClientHello); `peeked`: they
   * are a whole ClientHello still unread on the socket (socket-peek.ts), left for the TLS stack.
   */
  handle(socket: Duplex, first: Buffer, context: ConnectionContext, peeked = false): void {
    readClientHello(socket, first, (bytes, hello) => {
      if (!peeked) socket.unshift(bytes);
      const sni = hello.kind === 'client-hello' && hello.sni ? validateHost(hello.sni) : undefined;
      context.tls = hello.kind === 'client-hello' ? tlsFactsOfHello(hello, sni?.ok ? sni.host : undefined) : { offered: NO_OFFER };
      // The name decides too: a redirected or SOCKS connection to an address may carry the SNI of
      // a host to pass through (or one learned as pinned). Its mode has already answered the client.
      const passthrough = sni?.ok && sni.host !== context.target.host ? this.#options.passthrough.decide(sni.host) : undefined;
      if (passthrough) {
        this.#passThrough(socket, context, passthrough);
        return;
      }
      const target = context.target;
      void this.#options.upstream.probe(target.host, target.port, upstreamServername(context), deviceOffer(context), () => takeFirstConnection(context)).then((probe) => {
        if (socket.destroyed) {
          if (probe.outcome === 'ok') probe.socket?.destroy();
          return;
        }
        if (probe.outcome === 'client-certificate') {
          // Only the device holds the certificate: it talks to the server itself, and we learn
          // the host so its next connections are not even tried.
          const name = pinnedName(context);
          if (this.#options.passthrough.recordClientCertificate(name, probe.reason)) {
            this.#options.events.log('warn', `${name}:${target.port}: ${probe.reason}, which only the device holds: its connections pass through undecrypted (--client-cert ${name}=CERT.pem,KEY.pem decrypts them)`);
          }
          this.#passThrough(socket, context, 'client-certificate');
          return;
        }
        if (probe.outcome === 'refused') {
          this.#refuseAsItsServerDid(socket, context, probe);
          return;
        }
        let certificate: LeafShape | undefined;
        let serverVersion: TlsVersionName | undefined;
        let serverSuite: string | undefined;
        if (probe.outcome === 'ok' && probe.socket) serverSuite = probe.suite;
        if (probe.outcome === 'ok' || probe.outcome === 'unverified') {
          // The record names this connection's server side: a remembered look made none.
          if (probe.socket && probe.version) context.tls!.upstreamVersion = probe.version;
          if (probe.outcome === 'ok' && probe.cipher) context.tls!.upstreamCipher = probe.cipher;
          certificate = probe.certificate;
          serverVersion = probe.version;
        }
        const usual = leafShape(leafServername(context), target.host, certificate);
        let leaf = usual;
        if (probe.outcome === 'unverified') {
          // The device decides, on a leaf as invalid as the server's certificate: refused, nothing
          // of it leaves, as directly; accepted, its traffic goes to the server unchecked, as its own would.
          context.tls!.serverUnverified = probe.code;
          leaf = mirroredInvalidShape(probe.code, usual, probe.certificate, probe.period);
        }
        this.#terminate(socket, context, planAlpn(context.tls!.offered.alpn, probe), leaf, serverVersion, serverSuite);
      });
    });
  }

  #passThrough(socket: Duplex, context: ConnectionContext, why: Parameters<RawLayer['tunnel']>[3]): void {
    socket.pause();
    readAgain(socket);
    this.#options.raw.tunnel(socket, Buffer.alloc(0), context, why, { established: () => undefined, failed: () => socket.destroy() });
  }

  /**
   * The server refused the device's offer: the device meets the same, before any handshake of ours
   * (server-tls-refusal.ts): the server's alert in clear and the connection closed, a reset, a
   * close, or no answer until it gives up (its flow is then recorded when it does, so that it
   * says how long the device waited). Its ClientHello is read first: a socket closed with bytes
   * unread would be reset, and the alert could be lost with it.
   */
  #refuseAsItsServerDid(socket: Duplex, context: ConnectionContext, probe: Extract<UpstreamProbe, { outcome: 'refused' }>): void {
    readAgain(socket);
    socket.on('data', () => undefined);
    socket.resume();
    const { refusal } = probe;
    const { words, tag } = describeRefusal(refusal);
    const record = (): void => this.#tlsFailedFlow(context, `the server refused the device's TLS offer ${words} (${probe.failure.reason})`, ['tls:server-refused', tag, probe.failure.tag], false, false);
    if (refusal.kind === 'silent') {
      // As long as a home router would keep the connection (limits.socketIdleTimeoutMs).
      const giveUp = setTimeout(() => socket.destroy(), limits.socketIdleTimeoutMs);
      giveUp.unref();
      socket.once('close', () => {
        clearTimeout(giveUp);
        record();
      });
      return;
    }
    if (refusal.kind === 'alert') socket.end(alertRecord(refusal.alert, context.tls?.offered.versions?.newest));
    else if (refusal.kind === 'reset') resetConnection(socket);
    else socket.end();
    record();
  }

  /**
   * `leaf`: what our leaf names, and its kind of key (ca/leaf-shape.ts). `serverVersion`: the TLS
   * version the server agreed on for the device's offer; the device is offered none newer, and
   * `serverSuite`, the suite it agreed on, is agreed on with the device too (leaf-store.ts).
   */
  #terminate(socket: Duplex, context: ConnectionContext, plan: AlpnPlan, leaf: LeafShape, serverVersion: TlsVersionName | undefined, serverSuite: string | undefined): void {
    const { leaves } = this.#options;
    const tlsFacts = context.tls!;
    const tap = this.#tapDevice(context, plan);
    if (tap) readAgain(socket);
    else beforeTlsWrap(socket);
    const carrier = tap ? tappedDuplex(socket, tap) : socket;
    if (carrier !== socket) layeredOver(carrier, socket);
    const tlsSocket = new tls.TLSSocket(carrier as net.Socket, {
      isServer: true,
      secureContext: leaves.contextFor(leaf, newestForDevice(serverVersion, tlsFacts.offered.versions), suiteForDevice(serverSuite, tlsFacts.offered.suites)),
      ...(plan.protocols ? { ALPNProtocols: plan.protocols } : {}),
    });
    layeredOver(tlsSocket, carrier);
    const keylog = this.#options.keylog;
    if (keylog) tlsSocket.on('keylog', (line) => keylog(line));
    if (tap) {
      tlsSocket.on('keylog', (line) => tap.keylog(line));
      tlsSocket.once('secure', () => tap.secure());
    }
    const dropSession = (): void => {
      if (plan.http2 && 'open' in plan.http2) plan.http2.socket?.destroy();
    };
    // Whatever layer takes the connection, its server side goes when the device does.
    tlsSocket.once('close', () => {
      if (!context.upstreamAgent) plan.reserved?.destroy();
      context.upstreamAgent?.release();
    });
    tlsSocket.once('secure', () => {
      // A server-side TLSSocket made by hand keeps secureConnecting set (tls.Server clears it);
      // node:http2 would wait for a 'secureConnect' that never comes.
      (tlsSocket as tls.TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
      tlsFacts.handshakeAtMs = Date.now();
      tlsFacts.alpn = tlsSocket.alpnProtocol || undefined;
      tlsFacts.version = tlsSocket.getProtocol() ?? undefined;
      tlsFacts.cipher = tlsSocket.getCipher()?.standardName;
      if (tlsFacts.alpn !== 'h2') dropSession();
      this.#afterHandshake(tlsSocket, context, plan);
    });
    let handshakeError: unknown;
    tlsSocket.on('error', (err) => {
      if (tlsFacts.handshakeAtMs === undefined) handshakeError ??= err;
    });
    tlsSocket.once('close', () => {
      // The TLS socket sits on the client's TCP socket, which does not close with it by itself.
      socket.destroy();
      const handshakeDone = tlsFacts.handshakeAtMs !== undefined;
      const trusted = (): boolean => this.#options.passthrough.trusts(context.client.ip, pinnedName(context));
      if (!handshakeDone) {
        dropSession();
        this.#judge(context, pinningVerdict({ stage: 'handshake', trustedBefore: trusted(), ...(handshakeError !== undefined ? { error: handshakeError } : {}) }));
        return;
      }
      const ending = { stage: 'after-handshake', clientSpoke: tlsFacts.clientSpoke === true, msAfterHandshake: Date.now() - tlsFacts.handshakeAtMs! } as const;
      if (!pinningVerdict(withFields(ending, { trustedBefore: trusted() })).pinned) return;
      // A browser races two connections to a host and closes the one it did not need, sometimes
      // before the other has said a word: decide a moment later, when the other may have spoken.
      const settled = this.#options.tracker.pending();
      setTimeout(() => {
        this.#judge(context, pinningVerdict(withFields(ending, { trustedBefore: trusted() })));
        settled();
      }, limits.pinnedTrustGraceMs);
    });
  }

  /**
   * The --pcap tap of the device side, when it is on. The server end it names is the server
   * connection made for this one before answering (the probe), else the target when it is an
   * address, else 192.0.2.1 (a documentation address: the name is in the ClientHello's SNI).
   */
  #tapDevice(context: ConnectionContext, plan: AlpnPlan): TlsConnectionTap | undefined {
    const observer = this.#options.deviceTls;
    if (!observer) return undefined;
    const server = plan.reserved ?? (plan.http2 && 'open' in plan.http2 ? plan.http2.socket : undefined);
    const ip = server?.remoteAddress ?? (context.target.hostKind === 'dns' ? '192.0.2.1' : context.target.host);
    const port = server?.remotePort ?? context.target.port;
    try {
      return observer({ id: context.id, client: context.client, server: { ip, port }, ...(context.tls?.sni ? { sni: context.tls.sni } : {}) });
    } catch (error) {
      this.#options.events.log('warn', `${context.id}: not written to the --pcap file: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** The stack decides again on the decrypted stream: ALPN first, else its first bytes (or silence). */
  #afterHandshake(tlsSocket: tls.TLSSocket, context: ConnectionContext, plan: AlpnPlan): void {
    const tlsFacts = context.tls!;
    const decided = (decision: LayerAfterTls, first: Buffer | undefined): void => {
      if (first) tlsSocket.unshift(first);
      this.#dispatch(tlsSocket, context, plan, decision);
    };
    const now = decideAfterTls(tlsFacts.alpn, context.target.port);
    if (now.layer === 'raw') {
      decided(now, undefined);
      return;
    }
    // Wait for the first decrypted bytes: they tell a client that trusts us, and what it speaks
    // (with ALPN http/1.1 too: a request line our parser cannot read is relayed as it is). Without
    // ALPN the client may be waiting for its server instead (implicit-TLS mail on a port of its
    // own): its silence decides, or the server's first bytes on the connection that answered the
    // probe, when they come first (server-first-word.ts).
    const onData = (chunk: Buffer): void => {
      stop();
      tlsSocket.pause();
      this.#deviceSpoke(context);
      decided(decideAfterTls(tlsFacts.alpn, context.target.port, chunk), chunk);
    };
    const quiet = (why: ClientQuiet): void => {
      stop();
      tlsSocket.pause();
      decided(decideAfterTls(undefined, context.target.port, undefined, why), undefined);
    };
    const waits = now.layer === 'wait';
    const timer = waits ? setTimeout(() => quiet('client-silent'), limits.connectSniffTimeoutMs) : undefined;
    const stopListening = waits ? onServerFirstWord(plan.reserved, () => quiet('server-speaks-first')) : () => undefined;
    const stop = (): void => {
      clearTimeout(timer);
      stopListening();
      tlsSocket.off('data', onData);
    };
    tlsSocket.once('data', onData);
    tlsSocket.once('close', stop);
  }

  #dispatch(tlsSocket: tls.TLSSocket, context: ConnectionContext, plan: AlpnPlan, decision: LayerAfterTls): void {
    switch (decision.layer) {
      case 'http2':
        this.#options.http2.handle(tlsSocket, context, plan.http2 ?? { error: 'no upstream HTTP/2 session' });
        return;
      case 'http1':
        context.upstreamAgent = this.#options.upstream.connectionAgent(plan.reserved, deviceOffer(context), () => takeFirstConnection(context));
        this.#options.http1.handle(tlsSocket, context);
        return;
      case 'raw': {
        const target = context.target;
        const reserved = plan.reserved && !plan.reserved.destroyed ? plan.reserved : undefined;
        this.#options.raw.relay(tlsSocket, undefined, context, decision.why, () => (reserved ? Promise.resolve(reserved) : this.#options.upstream.connectTls(target.host, target.port, upstreamServername(context), deviceOffer(context), undefined, takeFirstConnection(context))));
        // Decided before the device said a word (its port, its server's greeting, its silence): a
        // byte it sends later shows it trusted our certificate all the same. Without this, a mail
        // app that waits for its server's greeting and is done within pinnedCloseWindowMs (mbsync
        // over IMAPS: 41 ms) closed as if it had sent nothing, and its host was learned as pinned.
        // Added after the relay paused the socket, so the listener only watches.
        if (!context.tls!.clientSpoke) tlsSocket.once('data', () => this.#deviceSpoke(context));
        return;
      }
      case 'wait':
        tlsSocket.destroy();
    }
  }

  /** The device sent its first decrypted byte: it trusts our certificate for this host. */
  #deviceSpoke(context: ConnectionContext): void {
    context.tls!.clientSpoke = true;
    this.#options.passthrough.recordTrust(context.client.ip, pinnedName(context));
  }

  /** Learns a pinned host when the verdict says so; a failed handshake is a flow of its own either way. */
  #judge(context: ConnectionContext, verdict: PinningVerdict): void {
    const invalid = context.tls?.serverUnverified;
    if (invalid !== undefined && verdict.pinned) {
      this.#refusedInvalid(context, verdict, invalid);
      return;
    }
    const learned = verdict.pinned ? this.#options.passthrough.learnPinned(pinnedName(context), verdict.reason) !== undefined : false;
    if (verdict.failedHandshake || learned) this.#tlsFailedFlow(context, verdict.reason, [...verdict.tags], learned, verdict.pinned);
  }

  /**
   * The device refused a leaf as invalid as its server's certificate (`code`). That is what it
   * would have done directly, not pinning: its connections to the host pass through from now on,
   * to meet the server's own certificate, and nothing is said to be pinned.
   */
  #refusedInvalid(context: ConnectionContext, verdict: PinningVerdict, code: string): void {
    const { reason, tags } = this.#options.passthrough.refusedInvalidCertificate(pinnedName(context), code, verdict.reason);
    this.#tlsFailedFlow(context, reason, [...verdict.tags, ...tags], false, false);
  }

  #tlsFailedFlow(context: ConnectionContext, reason: string, tags: string[], learned: boolean, rejected: boolean): void {
    const now = new Date();
    const sni = context.tls?.sni;
    const flow: Flow = {
      id: context.id, kind: 'tls-failed', startedAt: new Date(context.startedMs).toISOString(), endedAt: now.toISOString(), durationMs: now.getTime() - context.startedMs,
      client: context.client, mode: context.mode, target: { host: context.target.host, port: context.target.port }, ...(sni ? { sni } : {}), scheme: 'tls', bytesUp: 0, bytesDown: 0,
      error: reason, tags: [...tags, ...(rejected ? ['tls:certificate-rejected'] : []), ...(learned ? ['passthrough:learned'] : [])],
    };
    this.#options.tracker.record(flow);
    if (rejected) {
      this.#options.events.emit('tls:failed', { flowId: context.id, time: now.toISOString(), client: context.client, host: context.target.host, port: context.target.port, ...(sni ? { sni } : {}), reason, learnedPassthrough: learned });
    }
  }
}

/**
 * What we answer the device by ALPN: what the server chose from the device's own offer. A server
 * whose TLS we could not complete (its certificate, its TLS version) still lets an HTTP/1.1 device
 * in (its requests then say why in a 502); an h2-only device (gRPC) gets h2, and each request an
 * answer that says why it cannot go on. (One that refused the connection was said to the device
 * before it spoke: first-connection.ts.)
 */
export function planAlpn(offered: readonly string[], probe: UpstreamProbe): AlpnPlan {
  const h1 = offered.includes('http/1.1');
  // An unverified server's connection serves the device that accepts a leaf as invalid (it is
  // closed with the device's connection when the device refuses).
  if (probe.outcome === 'ok' || probe.outcome === 'unverified') {
    if (probe.alpn === 'h2' && probe.socket) {
      const socket = probe.socket;
      return { protocols: ['h2'], http2: upstreamOpener('https://upstream', { createConnection: () => socket }, socket) };
    }
    const reserved = probe.socket ? { reserved: probe.socket } : {};
    if (probe.alpn && offered.includes(probe.alpn)) return { protocols: [probe.alpn], ...reserved };
    // The server chose nothing: HTTP/1.1 if the device can speak it, else no ALPN at all.
    if (h1) return { protocols: ['http/1.1'], ...reserved };
    if (offered.includes('h2')) {
      probe.socket?.destroy();
      return { protocols: ['h2'], http2: { error: 'the server does not speak HTTP/2, and the client offered nothing else' } };
    }
    return reserved;
  }
  if (h1) return { protocols: ['http/1.1'] };
  if (offered.includes('h2')) return { protocols: ['h2'], http2: { error: probe.outcome === 'refused' ? probe.failure.reason : probe.reason } };
  return {};
}

/** The name a pinning client is learned by: its SNI, else the destination. */
function pinnedName(context: ConnectionContext): string {
  return context.tls?.sni ?? context.target.host;
}
