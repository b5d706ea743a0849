// The upstream of one device connection, for the HTTP/1 and WebSocket relays: one server connection
// at a time, kept alive between requests. For a decrypted connection it starts with the probe's
// connection when there is one and offers the device's own ALPN list; for a plain one it is a TCP
// connection (`plain`). The server sees one connection for one device connection, as it would
// without us: a shared pool would hand one device's requests to a connection another device
// opened, and an origin that ties state to its connection (NTLM, a per-connection session) would
// take the one for the other.
//
// Why not an https.Agent: Node's agent is a pool keyed by origin, and it pays for that on every
// request. addRequest merges the request's options with the agent's into a new dictionary object
// and builds the pool key by concatenating some twenty options; the 'free' handler builds it twice
// more. A profile of small keep-alive requests put that at about a tenth of the proxy thread and a
// sixth of what it allocates (issue 24). A device connection needs none of it: it has one
// destination and one socket. This is the part of the agent's contract that ClientRequest uses
// (addRequest, the socket's 'free' and 'agentRemove' events, keepAlive, maxSockets) for that case.
//
// What Node's agent does and this one does too, because it shows on the wire:
//   - a request that arrives while the connection is busy (a device that pipelines) waits for it;
//   - a connection is kept only when the exchange allows it (neither side said close);
//   - a connection is reused only for the same TLS name;
//   - an idle connection does not keep the process alive, and one that fails while idle is dropped.
// Node's agent would open a second connection at once for a request naming another server; this
// one finishes the exchange in flight first (the order the device sent them in).
// Where it differs on purpose: a device that sent no SNI to an address sends none through us
// either (Node's agent would send the Host header's name, and a server that routes by SNI could
// answer as another host than the device reached). And a kept connection lasts until the server
// or the device ends it, whatever the server's Keep-Alive hint says, and the device's connection
// is told when its server connection is gone (whenServerGone) so that it ends too. The two
// connections then live and end as the device's one would have direct, and the device's client,
// which reads the hint itself, decides when to send on it. Until 2026-12-06 this agent closed a kept connection a second before
// the hint ran out (Node's agent's margin, so that a request is not sent on a connection the server
// is closing), while the device's connection stayed open for Node's 15 s: the server saw a new
// connection where direct the device reused one, or none where the device had closed. The race
// the margin avoided is the device's own, as direct: a server that closes under a request ends
// the device's connection, and its client sends the request again (serverHungUp).

import type http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { UpstreamSessions } from './upstream-sessions.js';
import { identityCheckFor } from './upstream-identity.js';
import { isReset } from './connection-reset.js';
import { connectTlsOverTcp } from './tls-over-tcp.js';

/** How one device connection's server connections are made (UpstreamConnector.connectionAgent). */
export interface ConnectionAgentOptions {
  /** Plain TCP to the server (http:, ws:) instead of TLS; the TLS options below are then unused. */
  readonly plain?: boolean;
  readonly rejectUnauthorized: boolean;
  /** The device's ALPN offer, passed on; empty when it made none. */
  readonly alpn: readonly string[];
  /** Ask the server to staple an OCSP response, as the device did (DeviceOffer.asksOcsp). */
  readonly requestOcsp?: boolean;
  readonly lookup?: net.LookupFunction;
  readonly contextFor: (host: string | undefined) => tls.SecureContext | undefined;
  readonly sessions: UpstreamSessions;
  /** The probe's connection, already secure: the first request rides on it. */
  readonly reserved?: tls.TLSSocket;
  /** The TCP connection made before the device was answered, if no one took it yet (first-connection.ts). */
  readonly firstConnection?: () => net.Socket | undefined;
  readonly keylog?: (line: Buffer) => void;
  /** The server chose h2 on a connection of ours for HTTP/1.1: what the connector learned of it is out of date. */
  readonly serverChoseHttp2?: (host: string, port: number) => void;
}

/** What ClientRequest hands addRequest: the options of http.request. */
export interface RequestTarget {
  readonly host?: string | null;
  readonly port?: number | string | null;
  readonly servername?: string;
}

/** Node's fields on a socket and a request that its agent reads and writes (not in the typings). */
type AgentSocket = tls.TLSSocket & { _httpMessage: (http.ClientRequest & { shouldKeepAlive: boolean; res?: http.IncomingMessage }) | null };
type PooledRequest = http.ClientRequest & { reusedSocket: boolean; onSocket(socket: net.Socket, error?: Error): void };

interface Waiting {
  readonly req: PooledRequest;
  readonly target: RequestTarget;
  readonly servername: string;
}

/** TCP keep-alive probes on a kept connection start after this long idle (Node's agent default). */
const TCP_KEEP_ALIVE_DELAY_MS = 1000;

export class ConnectionAgent {
  // What ClientRequest reads of its agent.
  readonly protocol: 'http:' | 'https:';
  readonly defaultPort: number;
  readonly maxSockets = 1;
  readonly options: { readonly timeout?: number } = {};
  keepAlive = true;

  readonly #options: ConnectionAgentOptions;
  #reserved: tls.TLSSocket | undefined;
  /** The one server connection, in use or idle. */
  #socket: AgentSocket | undefined;
  /** The name it was opened with ('' for none), which a request must share to reuse it. */
  #servername = '';
  #idle = false;
  readonly #waiting: Waiting[] = [];
  /** Sockets whose TCP keep-alive is already on. */
  readonly #keptAlive = new WeakSet<net.Socket>();
  #onServerGone: ((reset: boolean) => void) | undefined;
  /** The device ended its side: the server connection's ends once the device's requests are written (endWritingAfterRequests). */
  #deviceEnded = false;

  constructor(options: ConnectionAgentOptions) {
    this.#options = options;
    this.#reserved = options.reserved;
    this.protocol = options.plain ? 'http:' : 'https:';
    this.defaultPort = options.plain ? 80 : 443;
  }

  /** This agent as the `agent` option of http.request and ws (which only call what is above). */
  get nodeAgent(): http.Agent {
    return this as unknown as http.Agent;
  }

  /** Called by ClientRequest for each request made with this agent. */
  addRequest(request: http.ClientRequest, target: RequestTarget): void {
    const req = request as PooledRequest;
    // A plain connection has no TLS name.
    const servername = this.#options.plain ? '' : serverNameOf(target);
    const socket = this.#socket;
    if (socket && !this.#idle) {
      this.#waiting.push({ req, target, servername });
      return;
    }
    if (socket && socket.writable && !socket.destroyed && servername === this.#servername) {
      this.#idle = false;
      socket.off('error', destroyOnIdleError);
      socket.ref();
      req.reusedSocket = true;
      this.#give(req, socket);
      return;
    }
    socket?.destroy();
    this.#open(req, target, servername);
  }

  /**
   * `listener` is called each time the server connection is gone with no request waiting for
   * one: closed by the server (idle, or after an answer), not kept after an exchange, or failed;
   * `reset` when the server reset it (connection-reset.ts). Not when an upgrade takes it, nor
   * after release().
   */
  whenServerGone(listener: (reset: boolean) => void): void {
    this.#onServerGone = listener;
  }

  /**
   * The device ended its side of its connection (a FIN: it sends nothing more, and may still read).
   * Direct, its server would read that end after the device's last request; here the server
   * connection's writing side ends once every request given to this agent has been written to it
   * (the one in flight, and those waiting behind it), and the answer is still read. Until
   * 2026-12-07 the server never read it: one that answers only then, or ends a request its client
   * left (nginx's 499, a long poll), kept waiting, and the device's connection stayed half-open
   * with it. Call it only while the device's requests all go through this agent (not once an
   * upgrade or a refused head has taken the connection): the HTTP/1 layer says when.
   */
  endWritingAfterRequests(): void {
    this.#deviceEnded = true;
    this.#endWritingIfDone();
  }

  /**
   * The server connection for what the device sends next, taken from this agent for good (the rest
   * of a device connection relayed as bytes, after a request our parser refused): the kept one
   * when there is one, as direct the device would send on it; else a new one (the probe's when it
   * is still unused), offering the device's ALPN list without h2 (the device speaks HTTP/1 on it).
   * Resolved once it can carry bytes. The agent serves no more requests, and no longer tells of a
   * server connection gone. `target` as a request's: the server, and the TLS name planned.
   */
  takeConnection(target: RequestTarget): Promise<net.Socket> {
    this.keepAlive = false;
    this.#onServerGone = undefined;
    const kept = this.#socket;
    if (kept && this.#idle && kept.writable && !kept.destroyed) {
      this.#socket = undefined;
      this.#idle = false;
      kept.removeAllListeners('free');
      kept.removeAllListeners('agentRemove');
      kept.off('error', destroyOnIdleError);
      kept.ref();
      return Promise.resolve(kept);
    }
    kept?.destroy();
    this.#socket = undefined;
    const reserved = this.#takeReserved();
    if (reserved) return Promise.resolve(reserved);
    const servername = this.#options.plain ? '' : serverNameOf(target);
    const socket = this.#connect(target, servername, this.#options.alpn.filter((protocol) => protocol !== 'h2'));
    return new Promise((resolve, reject) => {
      const ready = this.#options.plain ? 'connect' : 'secureConnect';
      const onReady = (): void => {
        socket.off('error', reject);
        resolve(socket);
      };
      // A TCP connection made before (first-connection.ts) is connected already.
      if (this.#options.plain && !socket.connecting) onReady();
      else {
        socket.once(ready, onReady);
        socket.once('error', reject);
      }
    });
  }

  /**
   * The device connection is gone: an idle server connection goes now, a busy one when its
   * exchange is over (a relayed close frame or the rest of a response still has to pass).
   */
  release(): void {
    this.#reserved?.destroy();
    this.#reserved = undefined;
    this.keepAlive = false;
    if (this.#idle) this.#socket?.destroy();
  }

  #open(req: PooledRequest, target: RequestTarget, servername: string): void {
    const reserved = this.#takeReserved();
    if (reserved) {
      this.#adopt(reserved as AgentSocket, servername);
      this.#give(req, reserved);
      return;
    }
    const alpn = this.#options.alpn;
    const socket = this.#connect(target, servername, alpn);
    this.#adopt(socket, servername);
    if (alpn.includes('h2')) this.#giveOnceHttp1(req, target, servername, socket);
    else this.#give(req, socket);
  }

  /** The connection the agent now serves requests on. */
  #adopt(socket: AgentSocket, servername: string): void {
    this.#socket = socket;
    this.#servername = servername;
    this.#idle = false;
    socket.on('free', () => this.#onFree(socket));
    let reset = false;
    socket.on('error', (error) => { reset ||= isReset(error); });
    socket.on('close', () => this.#onGone(socket, true, reset));
    // An upgrade (WebSocket) takes the connection for itself.
    socket.on('agentRemove', () => {
      socket.removeAllListeners('free');
      this.#onGone(socket, false);
    });
  }

  /**
   * The device was given HTTP/1.1 and offered h2, and so does this connection: the request waits
   * for the handshake. Should the server choose h2 (it chose HTTP/1.1 when asked first, and was
   * upgraded since, or another server took its port), the connector forgets what it learned, and
   * the request goes on a new connection that offers the device's list without h2, instead of
   * failing: written for HTTP/1.1, it cannot go on an h2 connection.
   */
  #giveOnceHttp1(req: PooledRequest, target: RequestTarget, servername: string, socket: AgentSocket): void {
    let handshaking = true;
    let failure: Error | undefined;
    const onError = (error: Error): void => { failure = error; };
    const onClose = (): void => {
      handshaking = false;
      socket.off('secureConnect', onSecure);
      req.onSocket(socket, failure ?? new Error('the server closed the connection during the TLS handshake'));
    };
    const onSecure = (): void => {
      handshaking = false;
      socket.off('error', onError);
      socket.off('close', onClose);
      if (socket.alpnProtocol !== 'h2') {
        this.#give(req, socket);
        return;
      }
      const { host, port } = this.#addressOf(target);
      this.#options.serverChoseHttp2?.(host, port);
      const again = this.#connect(target, servername, this.#options.alpn.filter((protocol) => protocol !== 'h2'));
      this.#adopt(again, servername);
      socket.destroy();
      this.#give(req, again);
    };
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.once('secureConnect', onSecure);
    // A timeout the request set (ws's handshake timeout) runs from now, as it would had the request
    // been given the socket at once.
    const timeout = this.#ownTimeout(req);
    if (timeout !== undefined) {
      socket.setTimeout(timeout);
      socket.once('timeout', () => {
        if (handshaking) req.emit('timeout');
      });
    }
  }

  /** The request gets the connection, with its own timeout when it set one (ws's handshake timeout). */
  #give(req: PooledRequest, socket: net.Socket): void {
    req.onSocket(socket);
    const timeout = this.#ownTimeout(req);
    if (timeout !== undefined) socket.setTimeout(timeout);
    if (this.#deviceEnded) req.once('finish', () => this.#endWritingIfDone());
  }

  /**
   * Ends the server connection's writing side once the device has ended its own and the last of
   * its requests is written (endWritingAfterRequests). A request not yet given the connection (one
   * waiting, or one waiting for its TLS handshake) comes back here from #give.
   */
  #endWritingIfDone(): void {
    const socket = this.#socket;
    if (!this.#deviceEnded || this.#waiting.length > 0 || !socket || socket.destroyed || socket.writableEnded) return;
    if (this.#idle) {
      socket.end();
      return;
    }
    const req = socket._httpMessage;
    if (!req) return;
    if (req.writableFinished) socket.end();
    else req.once('finish', () => this.#endWritingIfDone());
  }

  /** The timeout a request set for itself, when it differs from the agent's. */
  #ownTimeout(req: PooledRequest): number | undefined {
    const timeout = (req as { timeout?: number }).timeout;
    return timeout !== undefined && timeout !== (this.options.timeout ?? 0) ? timeout : undefined;
  }

  /** Where a request's connection goes: Node's defaults for what it left out. */
  #addressOf(target: RequestTarget): { host: string; port: number } {
    return { host: target.host || 'localhost', port: Number(target.port) || this.defaultPort };
  }

  #takeReserved(): tls.TLSSocket | undefined {
    const reserved = this.#reserved;
    this.#reserved = undefined;
    return reserved && !reserved.destroyed ? reserved : undefined;
  }

  #connect(target: RequestTarget, servername: string, alpn: readonly string[]): AgentSocket {
    const { host, port } = this.#addressOf(target);
    const connected = this.#options.firstConnection?.();
    if (this.#options.plain) {
      if (connected) return connected as unknown as AgentSocket;
      const lookup = this.#options.lookup;
      const socket = net.connect({ host, port, ...(lookup ? { lookup } : {}) });
      socket.setNoDelay(true);
      return socket as unknown as AgentSocket;
    }
    const { rejectUnauthorized, lookup, sessions, keylog } = this.#options;
    const secureContext = this.#options.contextFor(servername || host);
    const key = { host, port, servername: servername || undefined, context: secureContext, verified: rejectUnauthorized };
    const session = sessions.get(key);
    const checkIdentity = identityCheckFor(host, servername);
    const socket = connectTlsOverTcp({
      servername, rejectUnauthorized, ...(checkIdentity ? { checkServerIdentity: checkIdentity } : {}),
      ...(alpn.length > 0 ? { ALPNProtocols: [...alpn] } : {}), ...(this.#options.requestOcsp ? { requestOCSP: true } : {}),
      ...(secureContext ? { secureContext } : {}), ...(session ? { session } : {}),
    }, { host, port, lookup }, connected);
    // Nagle against delayed ACKs held a request body's last TLS record back by 40 ms.
    socket.setNoDelay(true);
    sessions.remember(socket, key);
    socket.once('error', () => sessions.forget(key));
    if (keylog) socket.on('keylog', keylog);
    return socket as AgentSocket;
  }

  /** ClientRequest is done with the connection: the next waiting request gets it, or it is kept, or closed. */
  #onFree(socket: AgentSocket): void {
    if (socket !== this.#socket || !socket.writable) {
      socket.destroy();
      return;
    }
    const next = this.#waiting.shift();
    if (next) {
      if (next.servername === this.#servername) this.#give(next.req, socket);
      else {
        socket.destroy();
        this.#open(next.req, next.target, next.servername);
      }
      return;
    }
    const req = socket._httpMessage;
    if (!req || !req.shouldKeepAlive || !this.keepAlive) {
      socket.destroy();
      return;
    }
    // A timeout the request set for itself (ws's handshake timeout) ends with it.
    if (socket.timeout) socket.setTimeout(0);
    if (!this.#keptAlive.has(socket)) {
      this.#keptAlive.add(socket);
      socket.setKeepAlive(true, TCP_KEEP_ALIVE_DELAY_MS);
    }
    socket.unref();
    socket._httpMessage = null;
    socket.once('error', destroyOnIdleError);
    this.#idle = true;
  }

  /** The connection closed or was taken: a waiting request gets a new one; else the device connection is told a closed one is gone. */
  #onGone(socket: AgentSocket, closed: boolean, reset = false): void {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    this.#idle = false;
    const next = this.#waiting.shift();
    if (next) this.#open(next.req, next.target, next.servername);
    else if (closed && this.keepAlive) this.#onServerGone?.(reset);
  }
}

/** An idle connection that fails is dropped (its 'close' then tells the agent). */
function destroyOnIdleError(this: net.Socket): void {
  this.destroy();
}

/**
 * The TLS name for a request: the one planned (the device's SNI, its target's DNS name, or '' when
 * it gave only an address), else the host when it is a name; never an address ('' sends no SNI).
 * Not the Host header's name, as Node's own agent takes: a device that sent no SNI sends none
 * through us either, on every connection (upstream-identity.ts says what is checked then).
 */
function serverNameOf(target: RequestTarget): string {
  if (target.servername !== undefined) return target.servername;
  const host = target.host ?? '';
  return net.isIP(host) !== 0 ? '' : host;
}
