// Mail (SMTP, IMAP, POP3) and XMPP streams that switch to TLS half-way (STARTTLS). The plaintext
// dialogue is relayed byte for byte and captured, as any raw stream; when the client asks for TLS
// and the server agrees, the agreement reaches the device, TLS is set up with the server over the
// same connection (verified, like every upstream), and only then with the device using our CA; the
// decrypted continuation is relayed and captured into the same flow, tagged `starttls`. Whatever
// the watcher cannot follow, and every host passed through, is relayed as it is: a witness never
// alters the dialogue. A device that refuses our certificate teaches the passthrough policy. A
// server whose certificate does not verify is shown to the device as it is, by a leaf as invalid
// (as the TLS layer does): a mail app that checks refuses it, one that does not goes on.

import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { BodyCapture } from '../../flow/body-capture.js';
import type { EventBus } from '../../flow/events.js';
import type { Flow } from '../../model/flow.js';
import { limits } from '../../limits.js';
import { describeError } from '../../util/errors.js';
import { validateHost } from '../access/target.js';
import { newestForDevice, suiteForDevice, type LeafStore } from '../ca/leaf-store.js';
import { leafShape, mirroredInvalidShape, shapeOfServerCertificate, type LeafShape } from '../ca/leaf-shape.js';
import { deviceOffer, leafServername, tlsFactsOfHello, upstreamServername, type ConnectionContext } from '../context.js';
import { takeFirstConnection } from '../first-connection.js';
import { isReset, layeredOver, resetConnection } from '../connection-reset.js';
import type { FlowTracker } from '../flow-tracker.js';
import type { PassthroughPolicy } from '../passthrough.js';
import { pinningVerdict } from '../pinning-verdict.js';
import { upstreamFailure, type UpstreamConnector } from '../upstream.js';
import { beforeTlsWrap, readAgain } from '../socket-peek.js';
import { parseClientHello, tlsVersionNamed, type ClientHelloResult, type TlsVersionName } from './client-hello.js';
import { decideNextLayer, type NextLayer } from './next-layer.js';
import { peekClientHello, readClientHello } from './read-client-hello.js';
import { StartTlsWatcher, type GiveUpCode, type MailProtocol } from './starttls-watcher.js';

export interface StartTlsLayerOptions {
  readonly events: EventBus;
  readonly tracker: FlowTracker;
  readonly leaves: LeafStore;
  readonly upstream: UpstreamConnector;
  readonly passthrough: PassthroughPolicy;
  readonly lookup?: net.LookupFunction;
  /** Receives NSS key log lines of the device side (--keylog). */
  readonly keylog?: (line: Buffer) => void;
}

export class StartTlsLayer {
  readonly #options: StartTlsLayerOptions;

  constructor(options: StartTlsLayerOptions) {
    this.#options = options;
  }

  /**
   * `protocol`: what the port says, or undefined to learn it from the server's greeting.
   * `why`: how the connection came here (`server-speaks-first`, `client-silent`…), for the tags.
   * `handBack`: for a client that was only slow (its silence ran out the sniff window): should its
   * first bytes come before the server's and be TLS or HTTP, the connection goes back to the layer
   * stack with them (and the server connection opened for a greeting is closed unused), instead
   * of being relayed as a stream. A phone's first TLS handshake, or a JVM's, can take longer than
   * the window; relayed as a stream it was passed through undecrypted.
   */
  handle(socket: Duplex, first: Buffer | undefined, context: ConnectionContext, protocol: MailProtocol | undefined, why: string, handBack?: HandBack): void {
    new StartTlsConnection(this.#options, socket, context, new StartTlsWatcher(protocol), why, handBack).start(first);
  }
}

/** Gives a connection back to the layer stack with the client's first bytes and what they are. */
export type HandBack = (first: Buffer, next: NextLayer) => void;

/**
 * A connection whose first bytes have not yet said whose it is (StartTlsLayer.handle): where it
 * would go back to, and the tracker's count that holds it open meanwhile (its flow not begun).
 */
interface Undecided {
  readonly handBack: HandBack;
  readonly settle: () => void;
}

/** Forwards `from` to `to` with backpressure until stopped; `onChunk` sees every chunk first. */
function forward(from: Duplex, to: Duplex, onChunk: (chunk: Buffer) => 'write' | 'stop'): { stop(): void } {
  let stopped = false;
  const onData = (chunk: Buffer): void => {
    if (onChunk(chunk) === 'stop') return;
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => {
        if (!stopped) from.resume();
      });
    }
  };
  // A clean end travels on as a half-close; a destroyed side is handled by the connection.
  const onEnd = (): void => {
    if (!stopped) to.end();
  };
  from.on('data', onData);
  from.once('end', onEnd);
  from.resume();
  return {
    stop(): void {
      stopped = true;
      from.pause();
      from.off('data', onData);
      from.off('end', onEnd);
    },
  };
}

class StartTlsConnection {
  readonly #options: StartTlsLayerOptions;
  readonly #device: Duplex;
  readonly #context: ConnectionContext;
  readonly #watcher: StartTlsWatcher;
  readonly #tags: string[];
  readonly #up = new BodyCapture(limits.rawStreamCaptureBytes);
  readonly #down = new BodyCapture(limits.rawStreamCaptureBytes);
  readonly #server: net.Socket;
  /** The sockets carrying the dialogue now: the TCP ones, then the two TLS ones. */
  #deviceSide: Duplex;
  #serverSide: Duplex;
  #pumps: Array<{ stop(): void }> = [];
  #destination: { ip: string; port: number } | undefined;
  /** Cleared once the dialogue is past STARTTLS (or opaque): nothing is looked at any more. */
  #watching = true;
  /** Decrypted bytes from the device: none after a handshake tells of a pin check. */
  #decryptedUp = 0;
  #error: string | undefined;
  #closed = 0;
  #finished = false;
  #undecided: Undecided | undefined;
  readonly #onDeviceError = (err: Error): void => this.#failDevice(err);
  readonly #onDeviceClose = (): void => {
    this.#serverSide.destroy();
    this.#server.destroy();
    this.#onClose();
  };

  constructor(options: StartTlsLayerOptions, device: Duplex, context: ConnectionContext, watcher: StartTlsWatcher, why: string, handBack?: HandBack) {
    this.#options = options;
    if (handBack) this.#undecided = { handBack, settle: options.tracker.pending() };
    this.#device = device;
    this.#deviceSide = device;
    this.#context = context;
    this.#watcher = watcher;
    this.#tags = ['stream:raw', `stream:${why}`];
    device.pause();
    // The server's connection made before the device was answered, if no layer took it yet (first-connection.ts).
    const connected = takeFirstConnection(context);
    if (connected) connected.allowHalfOpen = true;
    this.#server = connected ?? net.connect({ host: context.target.host, port: context.target.port, allowHalfOpen: true, noDelay: true, ...(options.lookup ? { lookup: options.lookup } : {}) });
    this.#serverSide = this.#server;
  }

  start(first: Buffer | undefined): void {
    const { tracker } = this.#options;
    const context = this.#context;
    if (!this.#undecided) tracker.begin(context.id, context.client, context.target, 'connect');
    const server = this.#server;
    this.#device.on('error', this.#onDeviceError);
    server.on('error', (err) => this.#failUpstream(err));
    // A device that is gone can receive nothing more: the server goes too. The other way, the
    // server's clean end reaches the device as an end after the last byte.
    this.#device.on('close', this.#onDeviceClose);
    server.on('close', () => this.#onClose());
    server.setTimeout(limits.socketIdleTimeoutMs, () => this.#fail(`idle for ${limits.socketIdleTimeoutMs} ms`));
    const onConnect = (): void => {
      this.#destination = { ip: server.remoteAddress ?? context.target.host, port: server.remotePort ?? context.target.port };
      if (first && first.length > 0 && this.#fromDevice(first) === 'write') server.write(first);
      this.#relayPlain();
    };
    if (server.connecting) server.once('connect', onConnect);
    else onConnect();
  }

  #relayPlain(): void {
    this.#pumps = [
      forward(this.#device, this.#server, (chunk) => this.#fromDevice(chunk)),
      forward(this.#server, this.#device, (chunk) => {
        this.#decided();
        this.#down.push(chunk);
        if (!this.#watching) return 'write';
        const verdict = this.#watcher.serverSent(chunk);
        if (verdict.kind === 'refused') this.#tag('starttls:refused');
        if (verdict.kind === 'gave-up') this.#gaveUp(verdict.code);
        if (verdict.kind !== 'upgrade') return 'write';
        this.#watching = false;
        // The agreement reaches the device, then nothing else in clear text: both sides stop here.
        for (const pump of this.#pumps) pump.stop();
        // The peek starts before the go-ahead is written: the device cannot have sent its
        // ClientHello yet, so none of it has been read.
        const peeking = this.#peekClientHello();
        this.#device.write(chunk);
        if (!peeking) this.#readClientHello();
        return 'stop';
      }),
    ];
  }

  #fromDevice(chunk: Buffer): 'write' | 'stop' {
    const undecided = this.#undecided;
    if (undecided && chunk.length > 0) {
      const next = decideNextLayer(chunk, this.#context.target.port);
      if (next.layer === 'tls' || next.layer === 'http1' || next.layer === 'http2') {
        this.#giveBack(chunk, next, undecided);
        return 'stop';
      }
      this.#decided();
    }
    this.#up.push(chunk);
    if (!this.#watching) return 'write';
    const verdict = this.#watcher.clientSent(chunk);
    if (verdict.kind === 'gave-up') this.#gaveUp(verdict.code);
    return 'write';
  }

  /** The connection stays here: its flow begins (see StartTlsLayer.handle). */
  #decided(): void {
    const undecided = this.#undecided;
    if (!undecided) return;
    this.#undecided = undefined;
    const context = this.#context;
    this.#options.tracker.begin(context.id, context.client, context.target, 'connect');
    undecided.settle();
  }

  /** The slow client spoke first, in TLS or HTTP: the stack takes it, with nothing recorded here. */
  #giveBack(first: Buffer, next: NextLayer, undecided: Undecided): void {
    this.#finished = true;
    for (const pump of this.#pumps) pump.stop();
    this.#device.off('error', this.#onDeviceError);
    this.#device.off('close', this.#onDeviceClose);
    this.#server.removeAllListeners('close');
    this.#server.on('error', () => undefined);
    this.#server.destroy();
    this.#undecided = undefined;
    undecided.settle();
    undecided.handBack(first, next);
  }

  /** The watcher lost the thread: the stream goes on as it is, and the flow says why for mail. */
  #gaveUp(code: GiveUpCode): void {
    this.#watching = false;
    if (code !== 'not-mail') this.#tag(`starttls:${code}`);
  }

  /**
   * The device's ClientHello after the agreement, looked at where it waits and left there for the
   * TLS stack, as the layer stack does for a connection that starts with TLS (socket-peek.ts: a
   * ClientHello read here and handed back made Node read the rest of a mail upload in 1 and 16 KB
   * pieces). False when this socket cannot be peeked: #readClientHello reads it instead.
   */
  #peekClientHello(): boolean {
    const device = this.#device;
    return peekClientHello(device, limits.clientHelloTimeoutMs, ({ bytes, outcome }) => {
      if (outcome === 'failed') {
        device.destroy(); // reset before its ClientHello was whole: as a read would have
        return;
      }
      const hello = outcome === 'enough' ? parseClientHello(bytes) : undefined;
      if (hello?.kind === 'client-hello') {
        this.#upgrade(bytes, hello, true);
        return;
      }
      // Not TLS after all, silent, or stopped short: relayed as it is, read from here on.
      readAgain(device);
      this.#relayOpaque(Buffer.alloc(0), hello?.kind === 'invalid' ? 'starttls:not-tls' : 'starttls:no-client-hello');
    });
  }

  /** The device's ClientHello after the agreement: its SNI names the leaf and what to pass through. */
  #readClientHello(): void {
    const device = this.#device;
    readClientHello(device, Buffer.alloc(0), (bytes, hello) => {
      if (hello.kind === 'client-hello') this.#upgrade(bytes, hello);
      else if (!device.destroyed) this.#relayOpaque(bytes, hello.kind === 'invalid' ? 'starttls:not-tls' : 'starttls:no-client-hello');
    });
  }

  /** Relays the rest as it is (passthrough, or a client that did not start TLS after all). */
  #relayOpaque(pending: Buffer, tag: string): void {
    this.#tag(tag);
    if (pending.length > 0) this.#fromDevice(pending);
    this.#server.write(pending);
    this.#relayPlain();
  }

  /** `peeked`: the ClientHello's bytes are still unread in the socket (#peekClientHello). */
  #upgrade(helloBytes: Buffer, hello: ClientHelloResult & { kind: 'client-hello' }, peeked = false): void {
    const context = this.#context;
    const sni = hello.sni ? validateHost(hello.sni) : undefined;
    context.tls = tlsFactsOfHello(hello, sni?.ok ? sni.host : undefined);
    const name = context.tls.sni ?? context.target.host;
    const passthrough = this.#options.passthrough.decide(name);
    if (passthrough) {
      if (peeked) readAgain(this.#device);
      this.#relayOpaque(peeked ? Buffer.alloc(0) : helloBytes, `passthrough:${passthrough}`);
      return;
    }
    const servername = upstreamServername(context);
    // The server first: a device's TLS is completed only for a server we verified, or with a leaf
    // as invalid as the certificate of one we could not (secureExisting).
    this.#options.upstream.secureExisting(this.#server, context.target.host, servername, deviceOffer(context)).then(({ socket: serverTls, unverified }) => {
      if (this.#device.destroyed) {
        serverTls.destroy();
        return;
      }
      this.#serverSide = serverTls;
      serverTls.on('error', (err) => this.#failUpstream(err));
      // As on the device side, the TCP socket under TLS does not close by itself; and its idle
      // timer would not see the traffic that now passes through the TLS socket.
      serverTls.once('close', () => this.#server.destroy());
      this.#server.setTimeout(0);
      serverTls.setTimeout(limits.socketIdleTimeoutMs, () => this.#fail(`idle for ${limits.socketIdleTimeoutMs} ms`));
      if (!peeked) this.#device.unshift(helloBytes);
      let leaf = leafShape(leafServername(context), context.target.host, shapeOfServerCertificate(serverTls.getPeerCertificate()));
      if (unverified) {
        // As the TLS layer does: the device decides on a leaf as invalid as the server's
        // certificate. Nothing is sent on the server's TLS until it has accepted one.
        context.tls!.serverUnverified = unverified.code;
        leaf = mirroredInvalidShape(unverified.code, leaf, unverified.certificate, unverified.period);
      }
      this.#terminateDevice(name, leaf, tlsVersionNamed(serverTls.getProtocol()), serverTls.getCipher()?.name);
    }, (error: unknown) => {
      // A device that left meanwhile took the server connection with it: not the server's fault.
      if (this.#device.destroyed) return;
      this.#tag('starttls:upstream-failed');
      this.#failUpstream(error);
    });
  }

  /**
   * `name`: the one a refusal is learned by (SNI, else the target); `leaf`: what our leaf looks
   * like (ca/leaf-shape.ts); `serverVersion`: the server's TLS version, the newest the device is
   * offered; `serverSuite`: the server's suite, agreed on with the device too (leaf-store.ts).
   */
  #terminateDevice(name: string, leaf: LeafShape, serverVersion: TlsVersionName | undefined, serverSuite: string | undefined): void {
    const { leaves, keylog } = this.#options;
    const facts = this.#context.tls!;
    let handshakeError: unknown;
    beforeTlsWrap(this.#device);
    const deviceTls = new tls.TLSSocket(this.#device as net.Socket, { isServer: true, secureContext: leaves.contextFor(leaf, newestForDevice(serverVersion, facts.offered.versions), suiteForDevice(serverSuite, facts.offered.suites)) });
    layeredOver(deviceTls, this.#device);
    this.#deviceSide = deviceTls;
    if (keylog) deviceTls.on('keylog', (line) => keylog(line));
    deviceTls.on('error', (err) => {
      if (facts.handshakeAtMs === undefined) handshakeError ??= err;
      else this.#failDevice(err);
    });
    deviceTls.once('close', () => {
      // The TLS socket sits on the device's TCP socket, which does not close with it by itself.
      this.#device.destroy();
      // The same rules as for any decrypted connection: an alert about our certificate, or a
      // close right after the handshake without a byte sent, is a refusal (pinning).
      const handshakeDone = facts.handshakeAtMs !== undefined;
      const verdict = pinningVerdict(handshakeDone
        ? { stage: 'after-handshake', clientSpoke: this.#decryptedUp > 0, msAfterHandshake: Date.now() - facts.handshakeAtMs! }
        : { stage: 'handshake', ...(handshakeError !== undefined ? { error: handshakeError } : {}) });
      const invalid = facts.serverUnverified;
      if (invalid !== undefined && verdict.pinned) {
        // What it would have done directly, not pinning (PassthroughPolicy.refusedInvalidCertificate).
        const refused = this.#options.passthrough.refusedInvalidCertificate(name, invalid, verdict.reason);
        this.#refusal(name, refused.reason, [...verdict.tags, ...refused.tags], false, false);
        return;
      }
      const learned = verdict.pinned ? this.#options.passthrough.learnPinned(name, verdict.reason) !== undefined : false;
      if (verdict.failedHandshake || learned) this.#refusal(name, verdict.reason, [...verdict.tags], learned, verdict.pinned);
    });
    deviceTls.once('secure', () => {
      facts.handshakeAtMs = Date.now();
      this.#tag('starttls', `starttls:${this.#watcher.protocol ?? 'unknown'}`);
      if (facts.serverUnverified !== undefined) this.#tag(`tls:accepted-invalid-certificate:${facts.serverUnverified}`);
      this.#pumps = [
        forward(deviceTls, this.#serverSide, (chunk) => {
          this.#decryptedUp += chunk.length;
          this.#up.push(chunk);
          return 'write';
        }),
        forward(this.#serverSide, deviceTls, (chunk) => {
          this.#down.push(chunk);
          return 'write';
        }),
      ];
    });
  }

  /** The device's TLS failed (or it refused our certificate): the flow says so, and the bus hears a refusal as any pinning. */
  #refusal(name: string, reason: string, tags: string[], learned: boolean, rejected: boolean): void {
    this.#error ??= reason;
    this.#tag('starttls:tls-failed', ...tags, ...(rejected ? ['tls:certificate-rejected'] : []), ...(learned ? ['passthrough:learned'] : []));
    this.#serverSide.destroy();
    this.#server.destroy();
    if (!rejected) return;
    const context = this.#context;
    const sni = context.tls?.sni;
    this.#options.events.emit('tls:failed', {
      flowId: context.id, time: new Date().toISOString(), client: context.client, host: context.target.host, port: context.target.port,
      ...(sni ? { sni } : {}), reason: `${reason} (after STARTTLS, as ${name})`, learnedPassthrough: learned,
    });
  }

  #tag(...tags: string[]): void {
    for (const tag of tags) if (!this.#tags.includes(tag)) this.#tags.push(tag);
  }

  /** The device's side failed; its reset reaches the server as one (connection-reset.ts), on the TCP connection under our TLS. */
  #failDevice(err: unknown): void {
    if (isReset(err)) resetConnection(this.#server);
    this.#fail(`client: ${describeError(err)}`);
  }

  #failUpstream(err: unknown): void {
    const failure = upstreamFailure(err);
    if (this.#error === undefined) this.#tag(failure.tag);
    // A server's reset reaches the device as one (connection-reset.ts).
    if (isReset(err)) resetConnection(this.#deviceSide);
    this.#fail(failure.reason);
  }

  #fail(reason: string): void {
    this.#error ??= reason;
    this.#deviceSide.destroy();
    this.#device.destroy();
    this.#serverSide.destroy();
    this.#server.destroy();
  }

  #onClose(): void {
    if (++this.#closed < 2 || this.#finished) return;
    this.#decided();
    this.#finished = true;
    const context = this.#context;
    const now = Date.now();
    const up = this.#up.result();
    const down = this.#down.result();
    if (up.truncated || down.truncated) this.#tag('inspected:partial');
    const flow: Flow = {
      id: context.id, kind: 'raw', scheme: 'tcp', startedAt: new Date(context.startedMs).toISOString(), endedAt: new Date(now).toISOString(), durationMs: now - context.startedMs,
      client: context.client, mode: context.mode, target: { host: context.target.host, port: context.target.port },
      ...(context.tls?.sni ? { sni: context.tls.sni } : {}),
      ...(this.#destination ? { destination: this.#destination } : {}),
      stream: { up, down }, bytesUp: up.totalBytes, bytesDown: down.totalBytes,
      ...(this.#error ? { error: this.#error } : {}), tags: this.#tags,
    };
    this.#options.tracker.end(flow);
  }
}
