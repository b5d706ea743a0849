// One HTTP/1.x request relayed to its planned upstream on our keep-alive agents: the bodies stream
// both ways with backpressure (body-relay.ts), each chunk told to the ExchangeObserver as it
// passes, and every way it can end — complete, upstream failure, client gone — ends the flow once.
//
// http-mitm-proxy relayed requests until a profile of small keep-alive requests showed its
// per-request machinery (a context of fifteen closures, six async.forEach hook stages, two filter
// streams and a UUID per request) costing about a quarter of the throughput. (WebSockets left it
// later, for what is now upgrade-relay.ts; the library is gone.)
//
// A witness must not change the traffic, so heads go through as they were sent (issue 19): the
// device's header lines as it wrote them, whitespace included (request-head-as-sent.ts), no
// header of Node's own (Connection, Keep-Alive, Date, Transfer-Encoding, Content-Length), the
// framing the sender chose (length,
// chunked with trailers, or until close), the server's answer heads (1xx and final) byte for
// byte (answer-head-watch.ts: also what Node's parser reads only when shown another way, such as
// SHOUTcast's ICY or a repeated Content-Length). What is still changed:
//   - from a device that uses phonehome as its HTTP proxy (the proxy port, and its CONNECT
//     tunnels), absolute-form request targets become origin-form, and Proxy-* request headers
//     stay with us (they are addressed to us); in SOCKS5, transparent and WireGuard modes they go
//     on as written (to a proxy of the device's own, RelayPlan.sentToUsAsProxy);
//   - a request head with a line not in strict form (a fold, line ends mixed), or on a connection
//     the watch no longer follows (requests-as-sent.ts), is written again from the parser's
//     reading: its names with their case, order and repeats, each line `Name: value` in CRLF;
//   - Public-Key-Pins(-Report-Only) is dropped: a pin on our certificate would lock the device out;
//   - a chunked body goes in its sender's own chunks (chunked-body-relay.ts) unless a line of it
//     takes a form only our lenient parser reads, or an answer's Transfer-Encoding comes on two
//     lines: from there it is chunked again as it passes, so chunk sizes follow what each read
//     delivered (the bytes, their order and the trailers are the sender's);
//   - an HTTP/1.0 device never gets chunked framing, trailers or a 1xx it cannot read: a
//     chunked answer reaches it as the body until close;
//   - an HTTP/1.0 device that asked phonehome as its proxy to keep its connection (Proxy-Connection:
//     keep-alive) is told Connection and Proxy-Connection: keep-alive on a length-delimited
//     answer, as before: without it a 1.0 client must reconnect for every request, and the
//     connection it keeps is the one to us.
// A server that cannot be reached before the response is a neutral 502 that says why; one that
// hangs up without answering ends the device's connection the same way (serverHungUp).

import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { limits } from '../../limits.js';
import { headerPairs } from '../../model/flow.js';
import { keepOpenAfterDeviceEnds } from '../half-close.js';
import { isReset, resetConnection, wasResetByDevice } from '../connection-reset.js';
import { headerSafe } from '../replies.js';
import type { ExchangeObserver } from '../recorder/exchange-recorder.js';
import { altSvcH3RemovedTag, withoutHttp3 } from './alt-svc.js';
import { describeError } from '../../util/errors.js';
import { upstreamFailure, type UpstreamAgents } from '../upstream.js';
import type { RelayPlan } from './relay-plan.js';
import { upstreamTarget } from './request-path.js';
import { relayBody } from './body-relay.js';
import { endCutShort, endedWhereDeviceEnded } from './request-cut-by-device-end.js';
import { relayChunkedAsSent } from './chunked-body-relay.js';
import { takeChunkedBodyAsSent, withHeadAsSent } from './requests-as-sent.js';
import { fieldLinesAsSent } from './request-head-as-sent.js';
import type { StatusLineVersion } from './icy-status-line.js';
import { answerStatusVersion, takeAnswerHead, takeChunkedAnswerAsSent, takeInformationalHead, watchAnswerHeads, type AnswerHead } from './answer-head-watch.js';
import { EVERY_HEADER_LINE, upstreamParserOptions } from './http1-leniency.js';

/**
 * Node 20 has no public way to send a header list without adding its own Connection header
 * (`setDefaultHeaders: false` came in Node 22.5) nor to write an arbitrary 1xx block. These are
 * the two methods its own code uses for that, and the head they leave for the writer, which we
 * replace with the lines as sent; test/conformance/http1-headers.test.ts pins them.
 */
interface OutgoingInternals {
  /** What http.request does with an array of headers, here with the device's request line. */
  _storeHeader(firstLine: string, headers: readonly string[]): void;
  /** The head _storeHeader (or writeHead) made, written out with the first bytes of the body. */
  _header: string;
  /** What writeContinue and writeEarlyHints use: bytes before the response, in pipeline order. */
  _writeRaw(data: string, encoding: BufferEncoding): boolean;
  /** What writeContinue sets: a 100 went to a device that expected one, so its connection may be kept. */
  _sent100: boolean;
}

export function relayHttpRequest(req: http.IncomingMessage, res: http.ServerResponse, plan: RelayPlan, agents: UpstreamAgents): void {
  const observer = plan.observer;
  let finished = false;
  let failure: string | undefined;
  const done = (error?: string): void => {
    if (finished) return;
    finished = true;
    observer.done(failure ?? error);
  };
  let answer: http.IncomingMessage | undefined;
  /** The server's head went to the device: a failure from here on cuts its response. */
  let relaying = false;
  const http10Device = req.httpVersion === '1.0';
  const path = upstreamTarget(req.method, req.url ?? '/', plan.sentToUsAsProxy);
  // A device that ends its side once its request is sent still reads the answer (half-close.ts;
  // Node's server then ends the connection after it, httpAllowHalfOpen in makeHttpServer).
  keepOpenAfterDeviceEnds(req.socket);

  const upstream = upstreamRequest(plan, agents, req.method, path);

  /** Upstream (or the client's request stream) failed: a 502 when nothing was sent yet, else a cut. */
  const fail = (err: unknown, side: 'upstream' | 'client' = 'upstream'): void => {
    // Bytes after a whole answer that do not start another (a server that writes more than its
    // Content-Length says): Node's parser calls them an error and drops the connection. Direct,
    // the device's client reads the answer and drops the rest (curl says "Excess found"); until
    // 2026-12-08 it got nothing at all. The answer goes on whole; the server's connection is gone,
    // so the device's ends after it (ConnectionAgent.whenServerGone).
    if (side === 'upstream' && answer?.complete && isParseError(err)) {
      observer.tag(bytesAfterAnswerTag);
      return;
    }
    if (failure === undefined) {
      const said = upstreamFailure(err);
      failure = side === 'client' ? `client: ${describeError(err)}` : said.reason;
      if (side === 'upstream') observer.tag(said.tag);
    }
    cutUpstream(upstream, req.socket);
    answer?.destroy();
    // A server's reset reaches the device as one (connection-reset.ts): mid-body, a body that runs
    // until close would otherwise look whole.
    const serverReset = side === 'upstream' && isReset(err);
    if (!res.headersSent && !res.destroyed && side === 'upstream' && serverHungUp(err)) {
      // The server ended the connection without answering: the device's ends the same way, so its
      // client does what it does direct (see serverHungUp).
      if (serverReset) resetConnection(req.socket);
      else res.destroy();
    } else if (!res.headersSent && !res.destroyed) {
      const body = `phonehome: the request could not be completed: ${failure}\n`;
      res.writeHead(502, 'Bad Gateway', { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-phonehome-error': headerSafe(failure) });
      res.end(body);
    } else if (relaying && !res.writableFinished) {
      // Mid-body: the client must see a broken response, not a short one that looks whole.
      if (serverReset) resetConnection(req.socket);
      else res.destroy();
    }
  };

  upstream.on('information', (info: http.InformationEvent) => {
    const asSent = takeInformationalHead(upstream.socket);
    if (http10Device || res.headersSent) return;
    // As the server wrote it (answer-head-watch.ts), before the answer, in pipeline order.
    const internals = res as unknown as OutgoingInternals;
    internals._writeRaw(asSent ?? informationalHead(info), 'latin1');
    // The device's Expect: 100-continue went to the server; its 100 releases the device's body,
    // and Node keeps the connection after the answer only when it knows a 100 went (writeContinue's flag).
    if (info.statusCode === 100) internals._sent100 = true;
  });

  upstream.on('response', (response: http.IncomingMessage) => {
    answer = response;
    response.on('error', fail);
    const socket = response.socket;
    const version = answerStatusVersion(response);
    const head = takeAnswerHead(response);
    observer.response({ status: response.statusCode ?? 0, statusText: response.statusMessage ?? '', httpVersion: version, headers: headerPairs(head.fields) }, { ip: socket?.remoteAddress, port: socket?.remotePort });
    try {
      if (writeResponseHead(res, response, head, version, req, upstream.shouldKeepAlive, plan.sentToUsAsProxy)) observer.tag(altSvcH3RemovedTag);
    } catch (error) {
      // A header value Node's parser let in but its writer refuses: said, never thrown.
      fail(error);
      return;
    }
    relaying = true;
    // Chunked responses may end with trailers (gRPC-Web servers and some APIs use them). Node
    // sends them only with chunked framing, which an HTTP/1.0 device does not get.
    const seen = (chunk: Buffer): void => observer.data(false, chunk);
    const ended = (): void => endWithTrailers(response, res, false, observer);
    // In the server's own chunks, when the device gets chunks (not an HTTP/1.0 device).
    const asSent = takeChunkedAnswerAsSent(response);
    if (asSent && (res as unknown as { chunkedEncoding: boolean }).chunkedEncoding) relayChunkedAsSent(response, res, asSent, seen, ended, (reason) => fail(new Error(reason)));
    else {
      asSent?.discard();
      relayBody(response, res, seen, ended);
    }
  });
  upstream.on('error', fail);
  // A 101 to a request that asked for no upgrade: Node's client then drops the connection without
  // an event for the request, and until 2026-12-08 the device waited with nothing for good. The
  // device did not ask to switch protocols, and its connection is in the middle of an HTTP
  // exchange with us; it gets a 502 that says what the server did.
  upstream.on('upgrade', (response: http.IncomingMessage, socket: Duplex) => {
    socket.destroy();
    fail(new Error(`the server answered ${response.statusCode ?? 101} Switching Protocols to a request that asked for no upgrade`));
  });

  req.on('error', (error: Error) => fail(error, 'client'));
  req.on('close', () => {
    // The client went away mid-upload: stop sending upstream. (One that only ended its side there
    // gets no 'close': its request ends with what came, request-cut-by-device-end.ts.)
    if (!req.complete) cutUpstream(upstream, req.socket);
  });
  res.on('finish', () => done());
  res.on('close', () => {
    if (res.writableFinished) return;
    // The client stopped reading the response: nothing more is fetched for it.
    cutUpstream(upstream, req.socket);
    answer?.destroy();
    done('client closed the connection before the response was complete');
  });
  // The head goes with the device's own header lines where its connection's watch read them
  // (requests-as-sent.ts), which may be later in this turn: nothing is written upstream before.
  withHeadAsSent(req, (headAsSent) => {
    if (finished) return;
    try {
      storeRequestHead(upstream, req, path, plan.sentToUsAsProxy, headAsSent);
    } catch (error) {
      fail(error);
      done();
      return;
    }
    // A chunked request may end with trailers too (a checksum the device computed as it sent): they
    // go on with it. Until 2026-12-06 they were dropped.
    const seen = (chunk: Buffer): void => observer.data(true, chunk);
    // A device that ended its side in the middle of the body: the server reads as much, then the end.
    const cutShort = (): void => {
      observer.tag(requestCutShortTag);
      endCutShort(upstream);
    };
    const ended = (): void => (endedWhereDeviceEnded(req) ? cutShort() : endWithTrailers(req, upstream, true, observer));
    // A chunked body goes in the device's own chunks when its connection's framing is followed.
    const asSent = takeChunkedBodyAsSent(req);
    // The body is read as a server reads it, as it comes: up to limits.requestBodyReadAheadBytes
    // may wait for the server before the device is paused.
    const readAhead = limits.requestBodyReadAheadBytes;
    if (asSent) relayChunkedAsSent(req, upstream, asSent, seen, ended, (reason) => (endedWhereDeviceEnded(req) ? cutShort() : fail(new Error(reason), 'client')), readAhead);
    else relayBody(req, upstream, seen, ended, readAhead);
    // Node writes a request's head with its first body bytes. A body that has not come by the end
    // of this turn (a device that sends its head, then its body later, or in events over a
    // chunked request) would hold the head back with it, where direct the server has the head at
    // once and may answer it before the body (a 401 or a 413 before an upload). Until 2026-12-08
    // it waited, and a device that gave up before its body had sent its server nothing.
    if (announcesBody(req)) flushHeadAtEndOfTurn(upstream);
  });
}

/** Whether a request says a body follows its head (a length above 0, or a Transfer-Encoding). */
function announcesBody(req: http.IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Requests whose head goes alone at the end of this turn, if no body bytes took it along before. */
let headsToFlush: http.ClientRequest[] = [];

/** One immediate for every request of a turn: small uploads come many to a turn. */
function flushHeadAtEndOfTurn(upstream: http.ClientRequest): void {
  if (headsToFlush.length === 0) setImmediate(flushHeadsAlone);
  headsToFlush.push(upstream);
}

/** Writes each head now, alone, unless it went already (with body bytes, or once the device expected a 100). */
function flushHeadsAlone(): void {
  const heads = headsToFlush;
  headsToFlush = [];
  for (const upstream of heads) {
    if (!upstream.destroyed && !(upstream as unknown as { _headerSent: boolean })._headerSent) upstream.flushHeaders();
  }
}

/** The tag of an exchange whose device ended its side before the request body it announced was whole. */
export const requestCutShortTag = 'client:ended-mid-request';

/** The tag of an exchange whose server wrote bytes after its whole answer that start no other. */
export const bytesAfterAnswerTag = 'upstream:bytes-after-answer';

/** An error of Node's HTTP parser (llhttp's codes), as opposed to one of the connection. */
function isParseError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('HPE_');
}

/** Stops a request to the server; by a reset when the device reset its own connection (connection-reset.ts). */
function cutUpstream(upstream: http.ClientRequest, device: Duplex): void {
  // The reset destroys the connection, and the request with it; a destroy first would close it cleanly.
  if (upstream.socket && wasResetByDevice(device)) resetConnection(upstream.socket);
  else upstream.destroy();
}

/** Ends a relayed body: the trailers its message ended with, if any, recorded and written, then the end. */
function endWithTrailers(from: http.IncomingMessage, to: http.OutgoingMessage, fromClient: boolean, observer: ExchangeObserver): void {
  if (from.rawTrailers.length > 0) {
    const trailers = headerPairs(from.rawTrailers);
    observer.trailers(fromClient, trailers);
    try {
      to.addTrailers(trailers);
    } catch {
      // A trailer Node's parser let in but its writer refuses: the body still goes.
    }
  }
  if (!to.destroyed) to.end();
}

/**
 * Whether the server closed or reset its connection under a request it had not answered. The
 * common case is a keep-alive connection the server closes just as the next request goes out,
 * a race every HTTP client expects: curl, OkHttp and browsers send the request again on a new
 * connection when a reused one ends without an answer. Each device connection has its own
 * server connection (connection-agent.ts), so ending the device's is what it would have seen
 * direct. Until 2026-12-06 the device got a 502 instead, which it took for the server's answer:
 * curl's second request failed through phonehome and succeeded direct. A server that cannot be
 * reached or verified still gets the device a 502 that says why.
 */
export function serverHungUp(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

/**
 * A request to the planned server on the plan's agent (the device connection's own, or the shared
 * pool); its head is storeRequestHead's. Its answer's head is looked at before Node's parser reads
 * it (answer-head-watch.ts): take its version and head from answerStatusVersion and takeAnswerHead.
 */
export function upstreamRequest(plan: RelayPlan, agents: UpstreamAgents, method: string | undefined, path: string): http.ClientRequest {
  const request = (plan.tls ? https : http).request({
    ...upstreamParserOptions, host: plan.host, port: plan.port, method, path, setHost: false, maxHeaderSize: limits.http1MaxResponseHeadBytes,
    agent: plan.agent ?? (plan.tls ? (plan.insecure ? agents.insecureHttps : agents.https) : agents.http),
    ...(plan.tls && plan.servername !== undefined ? { servername: plan.servername } : {}),
  });
  request.maxHeadersCount = EVERY_HEADER_LINE;
  request.once('socket', (socket: net.Socket) => watchAnswerHeads(socket, method));
  return request;
}

/** Headers addressed to a proxy: ours to read when the device asked phonehome as its proxy. */
const PROXY_FIELD = /^proxy-/i;

/**
 * The device's request line (`path`: its target as upstreamTarget says) and header block, as
 * sent, less the Proxy-* headers when they were addressed to us (`sentToUsAsProxy`). The header
 * lines are the device's own bytes where `headAsSent` (its head as read beside the parser) has
 * them in strict form (request-head-as-sent.ts), else written again as `Name: value`.
 * removeHeader() is Node's public way to say "do not add this one yourself": without it Node adds
 * Connection: keep-alive (our agents keep connections) and, to a POST without a body,
 * Transfer-Encoding: chunked. Headers the device did send set the framing as usual: Node is given
 * those, and the head it would write is replaced by the device's lines, which its writer would
 * have refused with a control byte in a value (a 502 of ours until 2026-12-07, where the server
 * read it direct).
 */
export function storeRequestHead(upstream: http.ClientRequest, req: http.IncomingMessage, path: string, sentToUsAsProxy: boolean, headAsSent?: string): void {
  upstream.removeHeader('Connection');
  upstream.removeHeader('Content-Length');
  upstream.removeHeader('Transfer-Encoding');
  const raw = req.rawHeaders;
  const dropped = sentToUsAsProxy ? PROXY_FIELD : undefined;
  const framing: string[] = [];
  let expect = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (FRAMING_FIELDS.has(lower)) framing.push(name, raw[i + 1]!);
    if (lower === 'expect') expect = true;
  }
  // An HTTP/1.0 request stays one, so the server answers it as it would have answered the device.
  const version = req.httpVersion === '1.0' ? '1.0' : '1.1';
  const requestLine = `${req.method ?? 'GET'} ${path} HTTP/${version}`;
  const internals = upstream as unknown as OutgoingInternals;
  internals._storeHeader(`${requestLine}\r\n`, framing);
  const asSent = headAsSent === undefined ? undefined : fieldLinesAsSent(headAsSent, raw, dropped);
  internals._header = asSent ? `${requestLine}${asSent.lineEnd}${asSent.lines}${asSent.lineEnd}` : `${requestLine}\r\n${fieldLines(raw, dropped)}\r\n`;
  // What Node does for a request that expects 100-continue: its head goes at once, before the body.
  if (expect) upstream.flushHeaders();
}

/**
 * The server's status and header block for the device, as sent: the bytes the server wrote
 * (answer-head-watch.ts), unless this answer must change (Public-Key-Pins, an Alt-Svc's HTTP/3, an
 * HTTP/1.0 device), when its lines are written again. Node frames the body by the fields it is
 * given (length, chunked, or until close; Connection), and its own head is replaced before it goes
 * out: it writes the head with the first bytes of the body. sendDate and removeHeader() keep it
 * from adding Date, Connection (with Keep-Alive), Content-Length or Transfer-Encoding: with
 * neither length nor chunked framing from the server, Node writes the body as it comes and closes
 * the device's connection after it, as the server did. True when an Alt-Svc lost its HTTP/3 (alt-svc.ts).
 */
function writeResponseHead(res: http.ServerResponse, response: http.IncomingMessage, head: AnswerHead, version: StatusLineVersion, req: http.IncomingMessage, serverKeepsConnection: boolean, sentToUsAsProxy: boolean): boolean {
  res.sendDate = false;
  // An answer after which the server closes its connection (HTTP/1.0 without keep-alive; a
  // Connection: close is among the fields below) ends the device's after it, as direct.
  if (!serverKeepsConnection) res.shouldKeepAlive = false;
  res.removeHeader('Connection');
  res.removeHeader('Content-Length');
  res.removeHeader('Transfer-Encoding');
  const http10Device = req.httpVersion === '1.0';
  const raw = head.fields;
  /** The lines the device is given when they are written again. */
  const shown: string[] = [];
  /** The fields Node frames the body by (the others are only text to it). */
  const framing: string[] = [];
  // Only what is written differently rewrites the head; until 2026-12-07 every answer to an
  // HTTP/1.0 device was written again, its whitespace evened out.
  let changed = false;
  let lengthKnown = false;
  let connection = false;
  let altSvcChanged = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (lower === 'public-key-pins' || lower === 'public-key-pins-report-only') {
      changed = true;
      continue;
    }
    // An HTTP/1.0 client cannot read chunked framing (RFC 9112 §6.1): Node unchunks, and the
    // body then runs until close.
    if (http10Device && (lower === 'transfer-encoding' || lower === 'trailer')) {
      changed = true;
      continue;
    }
    if (lower === 'alt-svc') {
      const kept = withoutHttp3(value);
      if (kept === value) {
        shown.push(name, value);
        continue;
      }
      altSvcChanged = changed = true;
      if (kept !== undefined) shown.push(name, kept);
      continue;
    }
    shown.push(name, value);
    if (FRAMING_FIELDS.has(lower)) {
      framing.push(name, value);
      if (lower === 'content-length') lengthKnown = true;
      if (lower === 'connection') connection = true;
    }
  }
  const status = response.statusCode ?? 502;
  const reason = response.statusMessage ?? '';
  const bodiless = req.method === 'HEAD' || status === 204 || status === 304;
  if (sentToUsAsProxy && http10Device && !connection && (lengthKnown || bodiless) && /^keep-alive$/i.test(String(req.headers['proxy-connection'] ?? ''))) {
    shown.push('Proxy-Connection', 'keep-alive', 'Connection', 'keep-alive');
    framing.push('Connection', 'keep-alive');
    changed = true;
  }
  res.writeHead(status, reason, framing);
  // Node writes every status line as HTTP/1.1; written again, an HTTP/1.0 server's answer says so
  // to the device, as it would direct (its client reads the connection's persistence and framing
  // from it), and a SHOUTcast server's says ICY.
  (res as unknown as OutgoingInternals)._header = !changed && head.asSent !== undefined ? head.asSent
    : `${version} ${status} ${reason}\r\n${fieldLines(shown)}\r\n`;
  return altSvcChanged;
}

/** The fields Node's writer reads to frame a body and to keep or end the connection. */
const FRAMING_FIELDS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'trailer']);


/** A 1xx head written again from what the parser read (its reason phrase and headers), in HTTP/1.1: for a server connection not watched. */
function informationalHead(info: http.InformationEvent): string {
  return `HTTP/1.1 ${info.statusCode} ${info.statusMessage}\r\n${fieldLines(info.rawHeaders)}\r\n`;
}

/** Header or trailer lines as sent (a raw list of names and values), but for the names `dropped` matches. */
export function fieldLines(raw: readonly string[], dropped?: RegExp): string {
  let lines = '';
  for (let i = 0; i + 1 < raw.length; i += 2) if (!dropped?.test(raw[i]!)) lines += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return lines;
}
