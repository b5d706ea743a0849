// HTTP/1.x read back from a recorded session: requests and responses paired in order (keep-alive
// and pipelining alike: the n-th response answers the n-th request), bodies by Content-Length,
// chunked (with trailers) or the close, 1xx interim responses passed over, HEAD/204/304 without
// bodies. An accepted WebSocket upgrade hands the rest of both directions to the WebSocket
// reader; whatever cannot be parsed becomes a raw remainder that says why. Each exchange becomes
// its flow through the live ExchangeRecorder (RecordedExchange).

import { headerValue, type Flow } from '../model/flow.js';
import { limits } from '../limits.js';
import { readChunkedBody } from './chunked-body.js';
import { parseRequestHead, parseResponseHead, requestFraming, responseFraming, type BodyFraming, type ResponseHeadLine } from './http1-head.js';
import { requestUrl, type OfflineConnection } from './offline-connection.js';
import { rawFlow } from './raw-offline.js';
import { RecordedExchange } from './recorded-exchange.js';
import type { RecordedDirection } from './recorded-direction.js';
import { webSocketFlow } from './websocket-offline.js';

type Head<T> = { kind: 'head'; head: T; end: number } | { kind: 'incomplete' } | { kind: 'bad'; reason: string } | { kind: 'nothing' };

function readHead<T>(direction: RecordedDirection, start: number, maxBytes: number, parse: (bytes: Buffer) => { ok: true; head: T } | { ok: false; reason: string }): Head<T> {
  // Empty lines before a message are passed over (RFC 9112 §2.2: some clients add one after a body).
  let from = start;
  while (from < direction.length && from - start < 4 && (direction.byteAt(from) === 0x0d || direction.byteAt(from) === 0x0a)) from++;
  if (from >= direction.length) return { kind: 'nothing' };
  const end = direction.headEnd(from, from + maxBytes);
  if (end < 0) return direction.length - from >= maxBytes ? { kind: 'bad', reason: `head longer than ${maxBytes} bytes` } : { kind: 'incomplete' };
  const parsed = parse(direction.slice(from, end));
  return parsed.ok ? { kind: 'head', head: parsed.head, end } : { kind: 'bad', reason: parsed.reason };
}

/** Feeds a body to the exchange; returns where the message ends and why it is not whole, if it is not. */
function readBody(exchange: RecordedExchange, fromClient: boolean, direction: RecordedDirection, from: number, framing: BodyFraming): { end: number; error?: string } {
  const push = (a: number, b: number): void => {
    for (const piece of direction.pieces(a, b)) exchange.data(fromClient, piece.data, piece.time);
  };
  const side = fromClient ? 'request' : 'response';
  switch (framing.kind) {
    case 'none':
      return { end: from };
    case 'length': {
      const end = from + framing.bytes;
      push(from, end);
      return end > direction.length ? { end: direction.length, error: `the capture ended ${end - direction.length} bytes before the end of the ${side} body` } : { end };
    }
    case 'close':
      push(from, direction.length);
      return { end: direction.length };
    case 'chunked': {
      const body = readChunkedBody(direction, from);
      for (const [a, b] of body.ranges) push(a, b);
      if (body.trailers.length > 0) exchange.trailers(fromClient, body.trailers, direction.timeAt(body.end - 1, ''));
      return { end: body.end, ...(body.error ? { error: `${side} body: ${body.error}` } : {}) };
    }
    case 'invalid':
      return { end: from, error: framing.reason };
  }
}

function isWebSocketUpgrade(headers: readonly (readonly [string, string])[]): boolean {
  return headerValue(headers, 'upgrade')?.toLowerCase() === 'websocket';
}

export function http1Flows(connection: OfflineConnection, up: RecordedDirection, down: RecordedDirection): Flow[] {
  const flows: Flow[] = [];
  const endedAt = connection.session.endedAt;
  let u = 0;
  let d = 0;
  const remainder = (error: string | undefined, tag: string): void => {
    if (u < up.length || d < down.length) flows.push(rawFlow(connection, up, down, 'unparsed', { up: u, down: d, ...(error ? { error } : {}), tags: [tag] }));
  };
  while (u < up.length) {
    const request = readHead(up, u, limits.http1MaxRequestHeadBytes, parseRequestHead);
    if (request.kind === 'nothing') {
      u = up.length;
      break;
    }
    if (request.kind === 'incomplete') {
      remainder('the capture ended inside a request head', 'http:incomplete-head');
      return flows;
    }
    if (request.kind === 'bad') {
      remainder(`not HTTP/1 from here on: ${request.reason}`, 'http:unparsed');
      return flows;
    }
    const head = request.head;
    const authority = headerValue(head.headers, 'host');
    const webSocket = isWebSocketUpgrade(head.headers);
    const exchange = new RecordedExchange(connection, { method: head.method, url: requestUrl(connection, authority, head.target, webSocket), httpVersion: head.httpVersion, headers: head.headers }, authority, up.timeAt(u, endedAt));
    const requestBody = readBody(exchange, true, up, request.end, requestFraming(head));
    exchange.saw(up.timeAt(requestBody.end - 1, endedAt));
    let error = requestBody.error;

    // The response: interim 1xx heads are passed over (101 excepted: the protocol switches).
    let response: ResponseHeadLine | undefined;
    for (;;) {
      if (d >= down.length) break;
      const read = readHead(down, d, limits.http1MaxResponseHeadBytes, parseResponseHead);
      if (read.kind === 'nothing') {
        d = down.length;
        break;
      }
      if (read.kind !== 'head') {
        error ??= read.kind === 'incomplete' ? 'the capture ended inside the response head' : `bad response: ${read.reason}`;
        flows.push(exchange.finish(error, endedAt));
        u = requestBody.end;
        remainder(undefined, 'http:unparsed-response');
        return flows;
      }
      d = read.end;
      if (read.head.status >= 100 && read.head.status < 200 && read.head.status !== 101) {
        exchange.tag(`http:interim-${read.head.status}`);
        continue;
      }
      response = read.head;
      break;
    }
    u = requestBody.end;
    if (!response) {
      flows.push(exchange.finish(error ?? 'no response in the capture'));
      continue;
    }
    const responseHead = { status: response.status, statusText: response.statusText, httpVersion: response.httpVersion, headers: response.headers };
    const responseTime = down.timeAt(d - 1, endedAt);
    if (response.status === 101) {
      if (webSocket && isWebSocketUpgrade(response.headers)) {
        exchange.webSocketOpen(responseHead, responseTime);
        flows.push(webSocketFlow(connection, exchange, u, d, headerValue(response.headers, 'sec-websocket-extensions')));
        return flows;
      }
      exchange.response(responseHead, responseTime);
      flows.push(exchange.finish(error));
      remainder(`the connection switched to ${headerValue(response.headers, 'upgrade') ?? 'another protocol'}`, 'http:upgraded');
      return flows;
    }
    exchange.response(responseHead, responseTime);
    const responseBody = readBody(exchange, false, down, d, responseFraming(response, head.method));
    error ??= responseBody.error;
    d = responseBody.end;
    flows.push(exchange.finish(error, down.timeAt(d - 1, endedAt)));
    if (head.method === 'CONNECT' && response.status >= 200 && response.status < 300) {
      remainder(undefined, 'http:connect-tunnel');
      return flows;
    }
    if (responseBody.error || requestBody.error) {
      remainder(undefined, 'http:unparsed');
      return flows;
    }
  }
  // Server bytes no request asked for.
  if (d < down.length) remainder('server bytes after the last response', 'http:unsolicited');
  return flows;
}
