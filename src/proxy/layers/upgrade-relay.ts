// HTTP/1.1 upgrades (WebSockets, and any other protocol a server switches to with 101), relayed
// as the two sides wrote them: the device's upgrade request goes to the server as the device
// wrote it (its order, names' case, values, its own Sec-WebSocket-Key and every extension it
// offered; only Proxy-* stay with us), the server's answer comes back as the server wrote it, and
// after a 101 the bytes pass both ways as they are. For a WebSocket the server gets the device's
// masked frames as the device framed them, the device the server's; fragment boundaries,
// per-frame compression, pings and close frames are the two sides' own, and each side checks the
// other's handshake itself (the device the server's Sec-WebSocket-Accept).
//
// Until 2026-12-06 WebSockets were terminated here with ws on both sides: messages were rebuilt
// whole and sent again, ws answered a close frame itself (the device heard its own code echoed,
// not the server's), and only a permessage-deflate offer ws could speak was passed on; any other
// upgrade was refused. The WebSocket over HTTP/2 (http2-websocket-tunnel.ts) had shown that
// watching is enough. (An offer of h2c alone never gets here: h2c-upgrade-offer.ts declines it.)
//
// The server is asked first, with what the device sent behind its request in the same read
// (`head`: a body, or frames a client sends before the 101) right behind it, as direct; the rest
// of the device's socket is not read until the server has answered (Node leaves an upgraded
// socket unread), then follows. Backpressure is TCP's own: a side that does not read stops the
// other's reads.
// A server that refuses is heard by the device as it answered (status, headers, body, framing),
// and the connection goes on as it would direct; one that cannot be reached or verified gets the
// device a 502 that says why.
//
// For the record, a WebSocket's frames are only watched (WebSocketFrameReader, one per
// direction): messages unmasked, reassembled and inflated when the server accepted
// permessage-deflate; frames a reader cannot read (another extension, a malformed frame) stop the
// reading, never the bytes, and the flow is tagged `websocket:frames-unread`. Another protocol's
// bytes are recorded as the exchange's two bodies (bounded like any body, and inspected like one),
// and the flow is tagged `http:upgraded`. Every way an upgrade ends records the flow once.

import type http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { acceptsDeflate, watchWebSocket } from '../../flow/websocket-frame-reader.js';
import { headerPairs } from '../../model/flow.js';
import { limits } from '../../limits.js';
import { describeError } from '../../util/errors.js';
import type { ExchangeObserver } from '../recorder/exchange-recorder.js';
import { headerSafe, refuse } from '../replies.js';
import { keepOpenAfterDeviceEnds } from '../half-close.js';
import { upstreamFailure, type UpstreamAgents } from '../upstream.js';
import { relayBody } from './body-relay.js';
import { isReset, resetConnection } from '../connection-reset.js';
import { fieldLines, serverHungUp, storeRequestHead, upstreamRequest } from './http1-request-relay.js';
import { takeUpgradeHeadAsSent } from './requests-as-sent.js';
import { takeAnswerHead, type AnswerHead } from './answer-head-watch.js';
import { isWebSocketUpgrade, type RelayPlan } from './relay-plan.js';
import { upstreamTarget } from './request-path.js';

export class UpgradeRelay {
  readonly #agents: UpstreamAgents;
  /** Everything open or opening, so close() can end it. */
  readonly #live = new Set<() => void>();

  constructor(agents: UpstreamAgents) {
    this.#agents = agents;
  }

  relay(req: http.IncomingMessage, socket: Duplex, head: Buffer, plan: RelayPlan): void {
    new UpgradeTunnel(req, socket, head, plan, this.#agents, this.#live).start();
  }

  /** Ends every upgraded connection still open (the proxy is stopping). */
  close(): void {
    for (const end of [...this.#live]) end();
  }
}

/** One upgrade: the server's answer to the device's request, then the bytes both ways until both sides have closed. */
class UpgradeTunnel {
  readonly #req: http.IncomingMessage;
  readonly #socket: Duplex;
  readonly #head: Buffer;
  readonly #plan: RelayPlan;
  readonly #observer: ExchangeObserver;
  readonly #agents: UpstreamAgents;
  readonly #live: Set<() => void>;
  readonly #webSocket: boolean;
  readonly #end = (): void => this.#terminate('phonehome stopped');
  #upstream: http.ClientRequest | undefined;
  #serverSocket: Duplex | undefined;
  /** The server answered with something else than 101, and that answer is going to the device. */
  #refusalRelayed = false;
  /** Bytes of the request's announced body not yet passed on (they come after its head). */
  #bodyLeft = 0;
  /** The first reason the connection ended badly; recorded as the flow's error. */
  #failure: string | undefined;
  /** Takes the watch for a device's end before the answer away (#watchForEarlyEnd). */
  #stopWatchingForEarlyEnd: () => void = () => undefined;
  #finished = false;

  constructor(req: http.IncomingMessage, socket: Duplex, head: Buffer, plan: RelayPlan, agents: UpstreamAgents, live: Set<() => void>) {
    this.#req = req;
    this.#socket = socket;
    this.#head = head;
    this.#plan = plan;
    this.#observer = plan.observer;
    this.#agents = agents;
    this.#live = live;
    this.#webSocket = isWebSocketUpgrade(req);
  }

  start(): void {
    const req = this.#req;
    const plan = this.#plan;
    this.#live.add(this.#end);
    // A device may end its side right after its request and the bytes behind it, and read what
    // the server sends after the 101, as it would direct.
    keepOpenAfterDeviceEnds(this.#socket);
    this.#socket.on('error', this.#onEarlySocketError);
    this.#socket.once('close', this.#onEarlySocketClose);

    const path = upstreamTarget(req.method, req.url ?? '/', plan.sentToUsAsProxy);
    const upstream = upstreamRequest(plan, this.#agents, req.method, path);
    this.#upstream = upstream;
    // A server that accepts the connection and never answers the upgrade is given up on.
    upstream.setTimeout(limits.upstreamConnectTimeoutMs, () => upstream.destroy(new Error(`the server did not answer the upgrade within ${limits.upstreamConnectTimeoutMs} ms`)));
    upstream.once('upgrade', (response: http.IncomingMessage, serverSocket: net.Socket, serverHead: Buffer) => this.#open(response, serverSocket, serverHead));
    upstream.once('response', (response: http.IncomingMessage) => this.#relayRefusal(response));
    upstream.on('error', (error: Error) => {
      if (this.#finished || this.#serverSocket) return;
      const failure = upstreamFailure(error);
      this.#observer.tag(failure.tag);
      // A server that hung up without answering: the device's connection ends too, as with a request.
      if (!this.#refusalRelayed && serverHungUp(error)) return void this.#terminate(`the server ended the connection before it answered the upgrade: ${failure.reason}`);
      if (!this.#refusalRelayed) {
        this.#refuse(502, 'Bad Gateway', `the ${this.#protocol} could not be opened: ${failure.reason}`);
        return;
      }
      // The server's refusal is on its way to the device: it is cut, not followed by a 502.
      this.#failure ??= failure.reason;
      this.#socket.destroy();
    });
    try {
      storeRequestHead(upstream, req, path, plan.sentToUsAsProxy, takeUpgradeHeadAsSent(req));
    } catch (error) {
      upstream.destroy();
      this.#refuse(400, 'Bad Request', `the upgrade request could not be relayed: ${describeError(error)}`);
      return;
    }
    // What the device sent behind its request goes behind it, as it would direct (a body the
    // server reads before it answers; frames a client sends before the 101).
    if (this.#head.length > 0) {
      upstream.write(this.#head);
      // A WebSocket's first frames are read as frames once the 101 says how (its extensions).
      if (!this.#webSocket) this.#observer.data(true, this.#head);
    }
    // The rest of an announced body follows as the device sends it: a server may read the whole
    // body before it answers (Docker's attach posts its options). Bytes past the body belong to
    // the new protocol and wait in the device's socket for the 101, as a server reads them after.
    this.#bodyLeft = Math.max(0, announcedBodyBytes(req) - this.#head.length);
    if (this.#bodyLeft === 0) {
      upstream.end();
      this.#watchForEarlyEnd();
      return;
    }
    // Node sends a request's head with its first body bytes; the server must have it now.
    if (this.#head.length === 0) upstream.flushHeaders();
    this.#socket.on('data', this.#passBody);
  }

  /** A chunk of the request's body that did not come with its head: to the server, up to the body's end. */
  readonly #passBody = (chunk: Buffer): void => {
    const socket = this.#socket;
    const upstream = this.#upstream!;
    const body = chunk.length > this.#bodyLeft ? chunk.subarray(0, this.#bodyLeft) : chunk;
    this.#bodyLeft -= body.length;
    this.#observer.data(true, body);
    const flowing = upstream.write(body);
    if (this.#bodyLeft === 0) {
      this.#stopPassingBody();
      if (body.length < chunk.length) socket.unshift(chunk.subarray(body.length));
      upstream.end();
      this.#watchForEarlyEnd();
    } else if (!flowing) {
      socket.pause();
      upstream.once('drain', this.#resumeBody);
    }
  };

  readonly #resumeBody = (): void => void this.#socket.resume();

  /**
   * Until the server answers, the device's socket is not read: what follows the request belongs
   * to the new protocol, or to the next request. A device that ends its side meanwhile, having
   * sent nothing more (one that gives up on a slow handshake), has that end passed on at once,
   * as direct, where a server may answer only then, or drop a client that left. It is seen where
   * the socket's end is pushed (its read of the FIN), which happens whether or not anyone reads.
   * Until 2026-12-08 the server read it only once its answer had come whole, and one that waited
   * for it kept the device waiting until our 15 s.
   */
  #watchForEarlyEnd(): void {
    const socket = this.#socket as Duplex & { push(chunk: unknown, encoding?: BufferEncoding): boolean };
    const push = socket.push;
    const watched = (chunk: unknown, encoding?: BufferEncoding): boolean => {
      if (chunk === null) {
        this.#stopWatchingForEarlyEnd();
        if (socket.readableLength === 0) this.#endServerWritingEarly();
      }
      return push.call(socket, chunk, encoding);
    };
    socket.push = watched;
    this.#stopWatchingForEarlyEnd = () => {
      if (socket.push === watched) socket.push = push;
      this.#stopWatchingForEarlyEnd = () => undefined;
    };
  }

  /** The server connection's writing side ends once the request is written, before any answer. */
  #endServerWritingEarly(): void {
    const upstream = this.#upstream;
    if (!upstream) return;
    const end = (): void => {
      const server = upstream.socket;
      if (server && !server.destroyed && !server.writableEnded && !this.#serverSocket && !this.#refusalRelayed) server.end();
    };
    if (upstream.writableFinished) end();
    else upstream.once('finish', end);
  }

  /** The device's socket is read no more until the 101 (or the refusal's end) hands it on. */
  #stopPassingBody(): void {
    this.#socket.off('data', this.#passBody);
    this.#upstream?.off('drain', this.#resumeBody);
    this.#socket.pause();
  }

  readonly #onEarlySocketError = (): void => undefined;

  /** What the device asked for, as a log line names it. */
  get #protocol(): string {
    return this.#webSocket ? 'WebSocket' : `${JSON.stringify((this.#req.headers.upgrade ?? '').slice(0, 64))} connection`;
  }

  readonly #onEarlySocketClose = (): void => {
    if (this.#serverSocket) return;
    this.#failure ??= 'the device went away before the server answered the upgrade';
    this.#upstream?.destroy();
    this.#finish();
  };

  /** The server said 101: its answer to the device as it came, then the bytes both ways. */
  #open(response: http.IncomingMessage, serverSocket: net.Socket, serverHead: Buffer): void {
    this.#stopWatchingForEarlyEnd();
    const socket = this.#socket;
    this.#serverSocket = serverSocket;
    socket.off('error', this.#onEarlySocketError);
    socket.off('close', this.#onEarlySocketClose);
    this.#stopPassingBody();
    if (socket.destroyed) {
      serverSocket.destroy();
      this.#failure ??= 'the device went away before the server answered the upgrade';
      this.#finish();
      return;
    }
    const observer = this.#observer;
    const address = { ip: serverSocket.remoteAddress, port: serverSocket.remotePort };
    const head = takeAnswerHead(response);
    const answer = { status: 101, statusText: response.statusMessage ?? '', httpVersion: `HTTP/${response.httpVersion}`, headers: headerPairs(head.fields) };
    let fromClient: (chunk: Buffer) => void;
    let fromServer: (chunk: Buffer) => void;
    if (this.#webSocket) {
      observer.webSocketOpen(address, answer);
      const watch = watchWebSocket(observer, acceptsDeflate(response.headers['sec-websocket-extensions']));
      fromClient = (chunk) => watch.fromClient.push(chunk);
      fromServer = (chunk) => watch.fromServer.push(chunk);
    } else {
      observer.response(answer, address);
      observer.tag('http:upgraded');
      fromClient = (chunk) => observer.data(true, chunk);
      fromServer = (chunk) => observer.data(false, chunk);
    }

    // Long quiet stretches are normal on an upgraded connection; each side's own timeouts apply.
    serverSocket.setTimeout(0);
    (socket as net.Socket).setTimeout?.(0);
    socket.write(responseHead(response, head));
    // The device's `head` went with its request; the server's comes with its 101.
    if (this.#webSocket && this.#head.length > 0) fromClient(this.#head);
    if (serverHead.length > 0) {
      fromServer(serverHead);
      socket.write(serverHead);
    }
    for (const [from, to, seen, side] of [[socket, serverSocket, fromClient, 'device'], [serverSocket, socket, fromServer, 'server']] as const) {
      // Each side is read as it sends, up to a limit waiting for the other (limits.upgradedReadAheadBytes).
      relayBody(from, to, seen, undefined, limits.upgradedReadAheadBytes);
      from.on('error', (error: Error) => {
        this.#failure ??= side === 'server' ? upstreamFailure(error).reason : `device: ${describeError(error)}`;
        // A reset reaches the other side as one (connection-reset.ts).
        if (isReset(error)) resetConnection(to);
        else to.destroy();
      });
      from.once('close', () => {
        // The other side is told the end (relayBody ends it on an 'end'; a side cut without one
        // ends it here), and one that does not close in time is closed, so a half-open
        // connection cannot stay for good.
        if (!to.destroyed) {
          if (!to.writableEnded) to.end();
          (to as net.Socket).setTimeout?.(limits.socketIdleTimeoutMs, () => to.destroy());
        }
        if (socket.destroyed && serverSocket.destroyed) this.#finish();
      });
    }
    // A device that ended its side before the 101 came (its 'end' went by before anyone listened
    // for it here) has that end passed on now.
    if (socket.readableEnded && !serverSocket.writableEnded) serverSocket.end();
    socket.resume();
  }

  /**
   * The server answered the upgrade with something else than 101: the device hears that answer as
   * the server wrote and framed it (its status line, its fields, its length or chunks and
   * trailers). When both sides keep the connection, it then goes back to the HTTP/1 parser for the
   * device's next request, as it would direct; an answer delimited by the close, or a side that
   * said `Connection: close`, ends it.
   */
  #relayRefusal(response: http.IncomingMessage): void {
    this.#stopWatchingForEarlyEnd();
    const req = this.#req;
    const status = response.statusCode ?? 502;
    this.#failure ??= `upstream answered the ${this.#protocol} upgrade with ${status}`;
    const head = takeAnswerHead(response);
    this.#observer.response({ status, statusText: response.statusMessage ?? '', httpVersion: `HTTP/${response.httpVersion}`, headers: headerPairs(head.fields) }, { ip: response.socket?.remoteAddress, port: response.socket?.remotePort });
    const socket = this.#socket;
    this.#refusalRelayed = true;
    response.once('close', () => this.#finish());
    if (socket.destroyed) {
      response.destroy();
      return;
    }
    const chunked = /(^|,)\s*chunked\s*$/i.test(String(response.headers['transfer-encoding'] ?? ''));
    const bodiless = req.method === 'HEAD' || status === 204 || status === 304;
    const delimited = bodiless || chunked || response.headers['content-length'] !== undefined;
    const resume = this.#plan.resume;
    const keep = resume !== undefined && delimited && response.httpVersion === '1.1' && req.httpVersion === '1.1' && !saysClose(response.headers.connection) && !saysClose(req.headers.connection);
    // A WebSocket's frames sent before the answer went with the request (#head); with no 101 they
    // are read as the request's body, like any other bytes the device sent.
    if (this.#webSocket && this.#head.length > 0) this.#observer.data(true, this.#head);
    // An answer after which the connection ends (until its close, or a side said close): what the
    // device sends from here on, and its end, go on to the server as they come, as direct, where a
    // server may end such an answer only once its client has ended. Until 2026-12-08 they waited
    // unread, and such a server and the device both waited for good.
    const server = response.socket;
    if (!keep && this.#bodyLeft === 0 && server) {
      const endServer = (): void => { if (!server.destroyed && !server.writableEnded) server.end(); };
      relayBody(socket, server, (chunk) => this.#observer.data(true, chunk), endServer);
      // An end read while the body passed, before anyone listened for it here.
      if (socket.readableEnded) endServer();
      socket.resume();
    }
    socket.write(responseHead(response, head));
    response.on('data', (chunk: Buffer) => {
      this.#observer.data(false, chunk);
      if (socket.destroyed) return;
      if (socket.write(chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, CRLF]) : chunk)) return;
      response.pause();
      socket.once('drain', () => response.resume());
    });
    response.on('error', () => socket.destroy());
    socket.once('close', () => response.destroy());
    response.once('end', () => {
      if (socket.destroyed) return;
      if (chunked) {
        if (response.rawTrailers.length > 0) this.#observer.trailers(false, headerPairs(response.rawTrailers));
        socket.write(`0\r\n${fieldLines(response.rawTrailers)}\r\n`);
      }
      // A body still coming would be read as the next request: the connection ends instead.
      const bodyPassed = this.#bodyLeft === 0;
      this.#stopPassingBody();
      if (!keep || !bodyPassed) {
        refuse(socket);
        return;
      }
      socket.off('error', this.#onEarlySocketError);
      socket.off('close', this.#onEarlySocketClose);
      resume(socket);
    });
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
    this.#upstream?.destroy();
    this.#serverSocket?.destroy();
    this.#socket.destroy();
    this.#finish();
  }

  #finish(): void {
    this.#stopWatchingForEarlyEnd();
    if (this.#finished) return;
    this.#finished = true;
    this.#live.delete(this.#end);
    this.#observer.done(this.#failure);
  }
}

const CRLF = Buffer.from('\r\n');

/** The body length a request announces (Content-Length); none when it has none or is chunked. */
function announcedBodyBytes(req: http.IncomingMessage): number {
  const length = Number(req.headers['content-length']);
  return req.headers['transfer-encoding'] === undefined && Number.isSafeInteger(length) && length > 0 ? length : 0;
}

/**
 * The server's answer head as it wrote it: its bytes (answer-head-watch.ts), or, when it carries
 * Public-Key-Pins, its lines written again without it, as from every answer (a pin on our
 * certificate would lock the device out, see http1-request-relay.ts).
 */
function responseHead(response: http.IncomingMessage, head: AnswerHead): Buffer {
  const pins = /^public-key-pins(-report-only)?$/i;
  const kept = head.asSent !== undefined && !head.fields.some((field, i) => i % 2 === 0 && pins.test(field));
  // Latin-1, as the parser read it: a reason phrase or a value with a byte above 0x7F goes back as that byte.
  return Buffer.from(kept ? head.asSent! : `HTTP/${response.httpVersion} ${response.statusCode ?? 0} ${response.statusMessage ?? ''}\r\n${fieldLines(head.fields, pins)}\r\n`, 'latin1');
}

/** Whether a Connection field says the connection ends after this message. */
function saysClose(connection: string | undefined): boolean {
  return (connection ?? '').split(',').some((option) => option.trim().toLowerCase() === 'close');
}
