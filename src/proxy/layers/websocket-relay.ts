// WebSocket upgrades, relayed with ws on both sides, upstream first: the device's upgrade request
// is held (its socket not read) while we open the upstream WebSocket with the device's own offer —
// its subprotocols, its permessage-deflate parameters, its headers. Only when the server has
// answered 101 is the device answered, with the subprotocol and the extension parameters the
// server accepted. So a device that writes its first messages as soon as it reads 101 (most send
// their auth or subscribe at once), or even before (pipelined behind the request), finds the
// upstream ready; nothing it sends is dropped. The server reads the device's upgrade head as the
// device wrote it, but for its key (websocket-device-head.ts). A server that refuses the upgrade
// is heard by the device as it answered (its status, headers and body); one that cannot be
// reached or verified gets the device a 502 that says why. Every way a WebSocket ends records the
// flow once.
//
// Messages go through a MessagePipe each way (hold, backpressure); pings and pongs are relayed,
// not answered by us; a close is passed on with its code and reason. Known limit: ws answers a
// close frame itself at once, so the device hears its own close code echoed, not the server's.

import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { headerPairs } from '../../model/flow.js';
import { limits } from '../../limits.js';
import { describeError } from '../../util/errors.js';
import type { ExchangeObserver } from '../recorder/exchange-recorder.js';
import { headerSafe, refuse } from '../replies.js';
import { upstreamFailure, type UpstreamAgents } from '../upstream.js';
import type { RelayPlan } from './relay-plan.js';
import { pathOf } from './request-path.js';
import { MessagePipe } from './websocket-pipe.js';
import { setDeviceHead } from './websocket-device-head.js';
import { acceptedDeflate, offeredProtocols, upstreamDeflateOffer } from './websocket-negotiation.js';

/** Headers of a refusing answer that describe its framing, which we redo (close-delimited). */
const NOT_RELAYED_BACK = /^(connection|keep-alive|transfer-encoding|content-length|proxy-connection)$/i;

export class WebSocketRelay {
  readonly #agents: UpstreamAgents;
  /** Everything open or opening, so close() can end it. */
  readonly #live = new Set<() => void>();

  constructor(agents: UpstreamAgents) {
    this.#agents = agents;
  }

  relay(req: http.IncomingMessage, socket: Duplex, head: Buffer, plan: RelayPlan): void {
    new WebSocketSession(req, socket, head, plan, this.#agents, this.#live).start();
  }

  /** Ends every WebSocket still open (the proxy is stopping). */
  close(): void {
    for (const end of [...this.#live]) end();
  }
}

/** One WebSocket: its handshake on both sides, then its two pipes, until both sides have closed. */
class WebSocketSession {
  readonly #req: http.IncomingMessage;
  readonly #socket: Duplex;
  readonly #head: Buffer;
  readonly #plan: RelayPlan;
  readonly #observer: ExchangeObserver;
  readonly #agents: UpstreamAgents;
  readonly #live: Set<() => void>;
  readonly #end = (): void => this.#terminate('phonehome stopped');
  #upstream: WebSocket | undefined;
  /** Where the server's 101 came from, and its Sec-WebSocket-Extensions (what it accepted). */
  #upstreamAddress: { ip?: string; port?: number } = {};
  #acceptedExtensions: string | undefined;
  #device: WebSocket | undefined;
  /** The first reason the WebSocket ended badly; recorded as the flow's error. */
  #failure: string | undefined;
  #closedSides = 0;
  #finished = false;

  constructor(req: http.IncomingMessage, socket: Duplex, head: Buffer, plan: RelayPlan, agents: UpstreamAgents, live: Set<() => void>) {
    this.#req = req;
    this.#socket = socket;
    this.#head = head;
    this.#plan = plan;
    this.#observer = plan.observer;
    this.#agents = agents;
    this.#live = live;
  }

  start(): void {
    const req = this.#req;
    const invalid = invalidUpgrade(req);
    if (invalid) {
      this.#refuse(400, 'Bad Request', `not a valid WebSocket upgrade: ${invalid}`);
      return;
    }
    let protocols: string[];
    let deflate: ReturnType<typeof upstreamDeflateOffer>;
    try {
      protocols = offeredProtocols(req.headers['sec-websocket-protocol']);
      deflate = upstreamDeflateOffer(req.headers['sec-websocket-extensions']);
    } catch (error) {
      this.#refuse(400, 'Bad Request', `not a valid WebSocket upgrade: ${describeError(error)}`);
      return;
    }
    this.#live.add(this.#end);
    // Until the server has answered, the device's socket is not read (Node leaves an upgraded
    // socket unread): whatever it sends waits in its socket, after `head`.
    this.#socket.on('error', this.#onEarlySocketError);
    this.#socket.once('close', this.#onEarlySocketClose);

    const plan = this.#plan;
    const host = plan.host.includes(':') ? `[${plan.host}]` : plan.host;
    const url = `${plan.tls ? 'wss' : 'ws'}://${host}:${plan.port}${pathOf(req.url ?? '/')}`;
    let upstream: WebSocket;
    try {
      upstream = new WebSocket(url, protocols, {
        agent: plan.agent ?? (plan.tls ? (plan.insecure ? this.#agents.insecureHttps : this.#agents.https) : this.#agents.http),
        ...(plan.tls && plan.servername ? { servername: plan.servername } : {}),
        // The head the server reads is the device's (websocket-device-head.ts).
        finishRequest: (request: http.ClientRequest) => {
          setDeviceHead(request, req.rawHeaders);
          request.end();
        },
        perMessageDeflate: deflate,
        handshakeTimeout: limits.upstreamConnectTimeoutMs,
        // A witness passes text frames on as they came, valid UTF-8 or not, and answers no ping itself.
        skipUTF8Validation: true,
        autoPong: false,
      });
    } catch (error) {
      this.#refuse(502, 'Bad Gateway', `the WebSocket could not be opened: ${describeError(error)}`);
      return;
    }
    this.#upstream = upstream;
    upstream.once('upgrade', (response: http.IncomingMessage) => {
      this.#upstreamAddress = { ip: response.socket?.remoteAddress, port: response.socket?.remotePort };
      this.#acceptedExtensions = response.headers['sec-websocket-extensions'];
    });
    upstream.once('unexpected-response', (_request: http.ClientRequest, response: http.IncomingMessage) => this.#relayRefusal(response));
    upstream.on('error', (error: Error) => {
      if (this.#finished) return; // our own abort of a handshake that was already answered
      const failure = upstreamFailure(error);
      this.#observer.tag(failure.tag);
      if (!this.#device) {
        this.#refuse(502, 'Bad Gateway', `the WebSocket could not be opened: ${failure.reason}`);
        return;
      }
      this.#failure ??= failure.reason;
    });
    upstream.once('open', () => this.#openDevice(upstream));
  }

  readonly #onEarlySocketError = (): void => undefined;

  readonly #onEarlySocketClose = (): void => {
    if (this.#device) return;
    this.#failure ??= 'the device went away before the server answered the upgrade';
    this.#upstream?.terminate();
    this.#finish();
  };

  /** The server said 101: the device is answered with what the server accepted, then relayed. */
  #openDevice(upstream: WebSocket): void {
    const socket = this.#socket;
    if (socket.destroyed) {
      upstream.terminate();
      return;
    }
    this.#observer.webSocketOpen(this.#upstreamAddress);
    const toDevice = new MessagePipe(upstream, (held) => this.#overflow('server', held));
    upstream.on('message', (data: Buffer, binary: boolean) => {
      this.#observer.webSocketMessage(false, data, binary);
      toDevice.push(data, binary);
    });

    const accepted = acceptedDeflate(this.#acceptedExtensions);
    const deviceSide = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      // ws would otherwise answer with the device's first offer plus ws's own choices.
      perMessageDeflate: accepted !== undefined ? {} : false,
      handleProtocols: () => upstream.protocol || false,
      skipUTF8Validation: true,
      autoPong: false,
    });
    socket.off('error', this.#onEarlySocketError);
    socket.off('close', this.#onEarlySocketClose);
    deviceSide.handleUpgrade(withOffer(this.#req, accepted), socket, this.#head, (device) => {
      this.#device = device;
      const toServer = new MessagePipe(device, (held) => this.#overflow('device', held));
      device.on('message', (data: Buffer, binary: boolean) => {
        this.#observer.webSocketMessage(true, data, binary);
        toServer.push(data, binary);
      });
      toServer.connect(upstream);
      toDevice.connect(device);
      this.#relayControl(device, upstream);
      this.#relayControl(upstream, device);
      device.on('error', (error: Error) => { this.#failure ??= `device: ${describeError(error)}`; });
    });
    if (!this.#device) {
      // ws refused the device's side after all (it answered 400 and closed the socket).
      this.#failure ??= 'the device side of the WebSocket could not be completed';
      upstream.close(1011);
      this.#finish();
    }
  }

  /** Pings, pongs and the close, from `from` to `to`. */
  #relayControl(from: WebSocket, to: WebSocket): void {
    from.on('ping', (data: Buffer) => { if (to.readyState === WebSocket.OPEN) to.ping(data); });
    from.on('pong', (data: Buffer) => { if (to.readyState === WebSocket.OPEN) to.pong(data); });
    from.once('close', (code: number, reason: Buffer) => {
      passClose(to, code, reason);
      this.#closedSides++;
      if (this.#closedSides === 2) this.#finish();
    });
  }

  #overflow(sender: 'device' | 'server', heldBytes: number): void {
    const reason = `the ${sender === 'device' ? 'server' : 'device'} did not take the ${sender}'s messages: ${heldBytes} bytes held, past the limit of ${limits.webSocketHeldBytes}`;
    this.#failure ??= reason;
    for (const side of [this.#device, this.#upstream]) if (side?.readyState === WebSocket.OPEN) side.close(1013, 'phonehome: messages held past the limit');
  }

  /** The server answered the upgrade with something else than 101: the device hears that answer. */
  #relayRefusal(response: http.IncomingMessage): void {
    const status = response.statusCode ?? 502;
    this.#failure ??= `upstream answered the WebSocket upgrade with ${status}`;
    this.#observer.response({ status, statusText: response.statusMessage ?? '', httpVersion: `HTTP/${response.httpVersion}`, headers: headerPairs(response.rawHeaders) }, { ip: response.socket?.remoteAddress, port: response.socket?.remotePort });
    const socket = this.#socket;
    response.once('close', () => this.#finish());
    if (socket.destroyed) {
      response.destroy();
      return;
    }
    let head = `HTTP/1.1 ${status} ${response.statusMessage ?? ''}\r\n`;
    const raw = response.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) if (!NOT_RELAYED_BACK.test(raw[i]!)) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
    socket.write(`${head}Connection: close\r\n\r\n`);
    response.on('data', (chunk: Buffer) => this.#observer.data(false, chunk));
    response.on('error', () => socket.destroy());
    socket.once('close', () => response.destroy());
    response.once('end', () => refuse(socket));
    response.pipe(socket, { end: false });
  }

  /** A one-line HTTP answer to the device, before any handshake. */
  #refuse(status: number, statusText: string, reason: string): void {
    this.#failure ??= reason;
    const body = `phonehome: ${reason}\n`;
    if (!this.#socket.destroyed) {
      refuse(this.#socket, `HTTP/1.1 ${status} ${statusText}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Phonehome-Error: ${headerSafe(reason)}\r\nConnection: close\r\n\r\n${body}`);
    }
    this.#finish();
  }

  #terminate(reason: string): void {
    this.#failure ??= reason;
    this.#device?.terminate();
    this.#upstream?.terminate();
    if (!this.#device) this.#socket.destroy();
    this.#finish();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#live.delete(this.#end);
    // A handshake still under way (answered already, or no longer wanted) is abandoned.
    if (this.#upstream?.readyState === WebSocket.CONNECTING) this.#upstream.terminate();
    this.#observer.done(this.#failure);
  }
}

/** Why an upgrade request is not one ws can answer (the checks ws makes, before we go upstream). */
function invalidUpgrade(req: http.IncomingMessage): string | undefined {
  if (req.method !== 'GET') return `method ${req.method}`;
  if (!/^[+/0-9A-Za-z]{22}==$/.test(req.headers['sec-websocket-key'] ?? '')) return 'missing or invalid Sec-WebSocket-Key';
  const version = req.headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') return 'missing or unsupported Sec-WebSocket-Version';
  return undefined;
}

/**
 * The device's request as the device-side ws server reads it: its Sec-WebSocket-Extensions replaced
 * by the server's accepted parameters (or removed), the request itself left as it came.
 */
function withOffer(req: http.IncomingMessage, accepted: string | undefined): http.IncomingMessage {
  const headers: http.IncomingHttpHeaders = { ...req.headers };
  if (accepted === undefined) delete headers['sec-websocket-extensions'];
  else headers['sec-websocket-extensions'] = accepted;
  return Object.create(req, { headers: { value: headers, enumerable: true } }) as http.IncomingMessage;
}

/** A close from one side, passed to the other with its code and reason where it has one. */
function passClose(to: WebSocket, code: number, reason: Buffer): void {
  if (to.readyState === WebSocket.CLOSED) return;
  if (code === 1006) {
    // The other side vanished without a close frame: so does this one.
    to.terminate();
  } else if (to.readyState === WebSocket.OPEN) {
    // 1005 means no code was given: none is sent on either.
    if (code === 1005) to.close();
    else to.close(code, reason);
  }
}
