// TLS towards the device with a leaf from our CA, for the name the client asked for (SNI, else
// the destination). Before answering, the ClientHello is read: when the device offers h2, the real
// server is asked first (mitmproxy's approach) and the device is offered exactly what the server
// chose, so a server that only speaks HTTP/1.1 never sees h2 from us and a device never gets h2 we
// cannot carry. Then HTTP/2 or HTTP/1 takes over. Clients that refuse our certificate teach the
// passthrough policy (pinning), and the failure is a flow of its own.

import http2 from 'node:http2';
import type net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { EventBus } from '../../flow/events.js';
import type { Flow } from '../../model/flow.js';
import { limits } from '../../limits.js';
import { validateHost } from '../access/target.js';
import type { LeafStore } from '../ca/leaf-store.js';
import type { ConnectionContext } from '../context.js';
import type { FlowTracker } from '../flow-tracker.js';
import type { PassthroughPolicy } from '../passthrough.js';
import type { UpstreamConnector } from '../upstream.js';
import { parseClientHello, type ClientHelloResult } from './client-hello.js';
import type { Http1Layer } from './http1-layer.js';
import type { Http2Layer, Http2Upstream } from './http2-layer.js';
import type { RawLayer } from './raw-layer.js';
import { classifyHandshakeError, type HandshakeFailure } from './tls-alerts.js';

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
}

/** What we answer the device by ALPN, and the HTTP/2 upstream when it is h2. */
interface AlpnPlan {
  readonly protocols?: string[];
  readonly http2?: Http2Upstream;
}

export class TlsLayer {
  readonly #options: TlsLayerOptions;

  constructor(options: TlsLayerOptions) {
    this.#options = options;
  }

  /** `first`: the bytes already read from the client (they start a ClientHello). */
  handle(socket: Duplex, first: Buffer, context: ConnectionContext): void {
    readClientHello(socket, first, (bytes, hello) => {
      socket.unshift(bytes);
      const sni = hello.kind === 'client-hello' && hello.sni ? validateHost(hello.sni) : undefined;
      context.tls = { clientAlpn: hello.kind === 'client-hello' ? hello.alpn : [], ...(sni?.ok ? { sni: sni.host } : {}) };
      // The name decides too: a redirected or SOCKS connection to an address may carry the SNI of
      // a host to pass through (or one learned as pinned). Its mode has already answered the client.
      const passthrough = sni?.ok && sni.host !== context.target.host ? this.#options.passthrough.decide(sni.host) : undefined;
      if (passthrough) {
        socket.pause();
        this.#options.raw.tunnel(socket, Buffer.alloc(0), context, passthrough, { established: () => undefined, failed: () => socket.destroy() });
        return;
      }
      void this.#planAlpn(context).then((plan) => {
        if (socket.destroyed) {
          if (plan.http2 && 'session' in plan.http2) plan.http2.session.destroy();
          return;
        }
        this.#terminate(socket, context, plan);
      });
    });
  }

  async #planAlpn(context: ConnectionContext): Promise<AlpnPlan> {
    const offered = context.tls?.clientAlpn ?? [];
    const h1 = offered.includes('http/1.1');
    if (!offered.includes('h2')) return h1 ? { protocols: ['http/1.1'] } : {};
    const target = context.target;
    const servername = context.tls?.sni ?? (target.hostKind === 'dns' ? target.host : undefined);
    const answer = await this.#options.upstream.negotiate(target.host, target.port, servername, h1 ? ['h2', 'http/1.1'] : ['h2']);
    if (answer.protocol === 'h2') {
      const session = http2.connect(`https://${servername ?? 'upstream'}`, { createConnection: () => answer.socket, settings: { enablePush: false } });
      session.on('error', () => undefined); // reported on the streams that use it
      return { protocols: ['h2'], http2: { session } };
    }
    // The device may speak HTTP/1.1: let it, and the HTTP/1 relay says what went wrong, if anything.
    if (h1) return { protocols: ['http/1.1'] };
    // An h2-only device (gRPC): it gets h2, and each request an answer that says why it cannot go on.
    const error = answer.protocol === 'none' ? answer.reason : 'the server does not speak HTTP/2, and the client offered nothing else';
    return { protocols: ['h2'], http2: { error } };
  }

  #terminate(socket: Duplex, context: ConnectionContext, plan: AlpnPlan): void {
    const { leaves } = this.#options;
    const tlsFacts = context.tls!;
    let failure: HandshakeFailure | undefined;
    const tlsSocket = new tls.TLSSocket(socket as net.Socket, {
      isServer: true,
      secureContext: leaves.contextFor(tlsFacts.sni ?? context.target.host),
      ...(plan.protocols ? { ALPNProtocols: plan.protocols } : {}),
    });
    const keylog = this.#options.keylog;
    if (keylog) tlsSocket.on('keylog', (line) => keylog(line));
    tlsSocket.once('secure', () => {
      // A server-side TLSSocket made by hand keeps secureConnecting set (tls.Server clears it);
      // node:http2 would wait for a 'secureConnect' that never comes.
      (tlsSocket as tls.TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
      tlsFacts.handshakeAtMs = Date.now();
      tlsFacts.alpn = tlsSocket.alpnProtocol || undefined;
      if (tlsFacts.alpn === 'h2') this.#options.http2.handle(tlsSocket, context, plan.http2 ?? { error: 'no upstream HTTP/2 session' });
      else {
        if (plan.http2 && 'session' in plan.http2) plan.http2.session.destroy();
        this.#options.http1.handle(tlsSocket, context);
      }
    });
    tlsSocket.on('error', (err) => {
      if (tlsFacts.handshakeAtMs === undefined) failure ??= classifyHandshakeError(err);
    });
    tlsSocket.once('close', () => {
      // The TLS socket sits on the client's TCP socket, which does not close with it by itself.
      socket.destroy();
      if (tlsFacts.handshakeAtMs === undefined) {
        if (plan.http2 && 'session' in plan.http2) plan.http2.session.destroy();
        this.#handshakeFailed(context, failure ?? { certificateRejected: true, reason: 'client closed the connection during the TLS handshake' });
      } else if (context.exchanges === 0) {
        const ms = Date.now() - tlsFacts.handshakeAtMs;
        const learned = this.#options.passthrough.recordRejection(pinnedName(context), { kind: 'closed-without-request', msAfterHandshake: ms });
        if (learned) this.#tlsFailedFlow(context, learned.reason, ['tls:closed-without-request'], true, true);
      }
    });
  }

  #handshakeFailed(context: ConnectionContext, why: HandshakeFailure): void {
    const tags = why.alertTag ? [why.alertTag] : [];
    const learned = why.certificateRejected
      ? this.#options.passthrough.recordRejection(pinnedName(context), { kind: 'handshake-error', reason: why.reason }) !== undefined
      : false;
    this.#tlsFailedFlow(context, why.reason, tags, learned, why.certificateRejected);
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

/** The name a pinning client is learned by: its SNI, else the destination. */
function pinnedName(context: ConnectionContext): string {
  return context.tls?.sni ?? context.target.host;
}

/**
 * Reads until the whole ClientHello is in (it may arrive in pieces), then calls `done` with every
 * byte read so far. A ClientHello we cannot read is left to the TLS library to refuse.
 */
function readClientHello(socket: Duplex, first: Buffer, done: (bytes: Buffer, hello: ClientHelloResult) => void): void {
  let bytes = first;
  let hello = parseClientHello(bytes);
  if (hello.kind !== 'partial') {
    done(bytes, hello);
    return;
  }
  const finish = (): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', finish);
    socket.pause();
    done(bytes, hello);
  };
  const onData = (chunk: Buffer): void => {
    bytes = Buffer.concat([bytes, chunk]);
    hello = parseClientHello(bytes);
    if (hello.kind !== 'partial') finish();
  };
  const timer = setTimeout(finish, limits.clientHelloTimeoutMs);
  socket.on('data', onData);
  socket.once('close', finish);
  socket.resume();
}
