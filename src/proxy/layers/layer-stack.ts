// Where every mode hands over: a connection whose destination is known is sniffed (its first
// bytes, or its silence) and given to the TLS, HTTP/1, HTTP/2 or raw layer. Whatever a mode is,
// what follows is the same.

import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { limits } from '../../limits.js';
import { formatAuthority } from '../access/target.js';
import type { CaptureMode } from '../../model/flow.js';
import type { ConnectionContext } from '../context.js';
import { openFirstConnection, takeFirstConnection } from '../first-connection.js';
import { readAgain } from '../socket-peek.js';
import { refuse } from '../replies.js';
import { upstreamFailure } from '../upstream.js';
import { peekClientHello, peekedClientHello } from './read-client-hello.js';
import { decideNextLayer, type ClientQuiet, type NextLayer } from './next-layer.js';
import { onServerFirstWord } from './server-first-word.js';
import type { Http1Layer } from './http1-layer.js';
import { upstreamOpener, type Http2Layer } from './http2-layer.js';
import type { PassthroughPolicy } from '../passthrough.js';
import type { RawLayer, TunnelReply } from './raw-layer.js';
import type { StartTlsLayer } from './starttls-layer.js';
import type { TlsLayer } from './tls-layer.js';

export interface Layers {
  readonly tls: TlsLayer;
  readonly http1: Http1Layer;
  readonly http2: Http2Layer;
  readonly raw: RawLayer;
  readonly starttls: StartTlsLayer;
}

/**
 * Modes where a server's greeting may reach the device as soon as it comes. A redirected device
 * (transparent, WireGuard) was told nothing: it connected to the server itself. A SOCKS5 reply's
 * length is set by its address type, and clients read exactly that much (curl, Java's socket, the
 * tun2socks of VPN apps), as they must: a SOCKS server relays a greeting right behind its reply.
 * A CONNECT's 200 is a head of any length, which a client may read through a buffer and lose what
 * came with it (openssl s_client -proxy waits then for a greeting it already had: the STARTTLS
 * conformance tests); there the client's silence still decides.
 */
const MODES_WHERE_A_GREETING_PASSES_AT_ONCE: ReadonlySet<CaptureMode> = new Set(['transparent', 'wireguard', 'socks5']);

/**
 * A connection whose client has not spoken yet, and what decides it: its first bytes (read, or a
 * ClientHello left unread), its silence, or its server's first bytes (`serverSpoke`).
 */
interface Waiting {
  readonly serverSpoke?: AbortSignal;
  readonly quiet: (why: ClientQuiet) => void;
  readonly spoke: (first: Buffer) => void;
  readonly hello: (bytes: Buffer) => void;
}

export class LayerStack {
  readonly #layers: Layers;
  readonly #lookup: net.LookupFunction | undefined;
  readonly #passthrough: PassthroughPolicy;

  constructor(layers: Layers, passthrough: PassthroughPolicy, lookup?: net.LookupFunction) {
    this.#layers = layers;
    this.#passthrough = passthrough;
    this.#lookup = lookup;
  }

  /**
   * Where every mode hands over, once it knows the destination. Passthrough is decided here, by
   * target, for every mode (and by SNI in the TLS layer). Either way the device is told yes only
   * once its server has accepted a connection, and no when it has not (first-connection.ts); the
   * layers then take that connection when they know what the client speaks. `reply` is the mode's
   * way to say yes or no (a CONNECT 200 or 502, a SOCKS reply; for a redirected connection,
   * nothing, or a reset).
   */
  enter(socket: Duplex, context: ConnectionContext, head: Buffer, reply: TunnelReply): void {
    const passthrough = this.#passthrough.decide(context.target.host);
    if (passthrough) {
      this.#layers.raw.tunnel(socket, head, context, passthrough, reply);
      return;
    }
    openFirstConnection(context, this.#lookup, limits.upstreamConnectTimeoutMs).then((server) => {
      if (socket.destroyed) {
        server.destroy();
        return;
      }
      context.firstConnection = server;
      // Not taken by the time the device is gone (it never spoke, or went): it goes too.
      socket.once('close', () => takeFirstConnection(context)?.destroy());
      reply.established();
      this.start(socket, context, head);
    }, (error: unknown) => {
      this.#layers.raw.unreachable(context, error);
      if (socket.destroyed) return;
      reply.failed(upstreamFailure(error).reason);
      // Drained and closed, as a passthrough tunnel whose server could not be reached is.
      if (!socket.destroyed) refuse(socket);
    });
  }

  /** `head`: bytes the client already sent (after a CONNECT, or a SOCKS request); may be empty. */
  start(socket: Duplex, context: ConnectionContext, head: Buffer): void {
    const decision = decideNextLayer(head.length > 0 ? head : undefined, context.target.port);
    if (decision.layer !== 'wait') {
      this.#run(decision, socket, head, context);
      return;
    }
    // The client's first bytes decide, or its silence; or, where the mode lets a greeting pass at
    // once (above), its server's first bytes when they come first (server-first-word.ts): the
    // client waits for that greeting.
    const serverSpoke = MODES_WHERE_A_GREETING_PASSES_AT_ONCE.has(context.mode) && context.firstConnection ? new AbortController() : undefined;
    const stopListening = serverSpoke ? onServerFirstWord(context.firstConnection, () => serverSpoke.abort()) : () => undefined;
    const port = context.target.port;
    const waiting: Waiting = {
      ...(serverSpoke ? { serverSpoke: serverSpoke.signal } : {}),
      quiet: (why) => {
        stopListening();
        this.#run(decideNextLayer(undefined, port, why), socket, Buffer.alloc(0), context);
      },
      spoke: (first) => {
        stopListening();
        this.#run(decideNextLayer(first, port), socket, first, context);
      },
      hello: (bytes) => {
        stopListening();
        this.#layers.tls.handle(socket, bytes, context, true);
      },
    };
    if (!this.#peek(socket, waiting)) this.#read(socket, waiting);
  }

  /**
   * Looks at the client's first bytes where they wait, without reading them (socket-peek.ts): a
   * whole ClientHello goes to the TLS layer still unread, so that the TLS stack reads it itself.
   * Anything else is read as before. False when this socket cannot be peeked.
   */
  #peek(socket: Duplex, waiting: Waiting): boolean {
    return peekClientHello(socket, limits.connectSniffTimeoutMs, (result) => {
      const { bytes, outcome } = result;
      if (outcome === 'failed') {
        socket.destroy(); // reset before it said enough: as a read would have, with the error
        return;
      }
      if (peekedClientHello(result)) {
        waiting.hello(bytes);
        return;
      }
      readAgain(socket);
      if (outcome === 'silence') waiting.quiet('client-silent');
      else if (outcome === 'stopped' && bytes.length === 0) waiting.quiet('server-speaks-first');
      // What the client did send (not a ClientHello, or one cut short) is read, and decides.
      else this.#read(socket, waiting);
    }, waiting.serverSpoke);
  }

  /** Reads the client's first bytes (or learns its silence, or that its server spoke first) and decides. */
  #read(socket: Duplex, waiting: Waiting): void {
    const { serverSpoke } = waiting;
    const onData = (chunk: Buffer): void => {
      stop();
      socket.pause();
      waiting.spoke(chunk);
    };
    const onServerSpoke = (): void => {
      stop();
      waiting.quiet('server-speaks-first');
    };
    const stop = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      serverSpoke?.removeEventListener('abort', onServerSpoke);
    };
    const timer = setTimeout(() => {
      stop();
      waiting.quiet('client-silent');
    }, limits.connectSniffTimeoutMs);
    socket.once('close', () => clearTimeout(timer));
    if (serverSpoke?.aborted) {
      onServerSpoke();
      return;
    }
    serverSpoke?.addEventListener('abort', onServerSpoke);
    socket.once('data', onData);
    socket.resume();
  }

  #run(decision: NextLayer, socket: Duplex, first: Buffer, context: ConnectionContext): void {
    switch (decision.layer) {
      case 'tls':
        this.#layers.tls.handle(socket, first, context);
        return;
      case 'http1':
        socket.unshift(first);
        this.#layers.http1.handle(socket, context);
        return;
      case 'http2': {
        // Clear-text HTTP/2 with prior knowledge: the server is spoken to the same way.
        socket.unshift(first);
        const server = takeFirstConnection(context);
        const connect = server ? { createConnection: () => server } : this.#lookup ? { lookup: this.#lookup } : {};
        this.#layers.http2.handle(socket, context, upstreamOpener(`http://${formatAuthority(context.target)}`, connect, server));
        return;
      }
      case 'raw':
        this.#layers.raw.relay(socket, first.length > 0 ? first : undefined, context, decision.why);
        return;
      case 'starttls': {
        // A client that was only slow gets a second look when it speaks first after all.
        const handBack = decision.why === 'client-silent' ? (late: Buffer, next: NextLayer) => this.#run(next, socket, late, context) : undefined;
        this.#layers.starttls.handle(socket, first.length > 0 ? first : undefined, context, decision.protocol, decision.why, handBack);
        return;
      }
      case 'wait':
        // decideNextLayer only says wait without bytes and without silence; start() handles both.
        socket.destroy();
    }
  }
}

