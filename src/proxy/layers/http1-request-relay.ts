// One HTTP/1.x request relayed to its planned upstream on our keep-alive agents: the body streams
// both ways through pipe() (backpressure), passive taps tell the ExchangeObserver what passed,
// and every way it can end — complete, upstream failure, client gone — ends the flow once.
//
// http-mitm-proxy relayed requests until a profile of small keep-alive requests showed its
// per-request machinery (a context of fifteen closures, six async.forEach hook stages, two filter
// streams and a UUID per request) costing about a quarter of the throughput; it still relays
// WebSockets (http1-relay.ts). What it did for a request is kept here: proxy-* headers stay with
// the proxy, absolute-form targets become origin-form, the upstream's headers go back as they
// came except Public-Key-Pins (a pin on our certificate would lock the device out of the site),
// and a failure before the response is a neutral 502 that says why.

import http from 'node:http';
import https from 'node:https';
import { headerPairs } from '../../model/flow.js';
import { headerSafe } from '../replies.js';
import { describeUpstreamError, type UpstreamAgents } from '../upstream.js';
import { pathOf } from './http1-layer.js';
import type { RelayPlan } from './http1-relay.js';

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

  const upstream = (plan.tls ? https : http).request({
    host: plan.host, port: plan.port, method: req.method, path: pathOf(req.url ?? '/'), headers: requestHeaders(req),
    agent: plan.tls ? (plan.insecure ? agents.insecureHttps : agents.https) : agents.http,
    ...(plan.tls && plan.servername ? { servername: plan.servername } : {}),
  });

  /** Upstream (or the client's request stream) failed: a 502 when nothing was sent yet, else a cut. */
  const fail = (err: unknown): void => {
    failure ??= describeUpstreamError(err);
    upstream.destroy();
    answer?.destroy();
    if (!res.headersSent && !res.destroyed) {
      const body = `phonehome: the request could not be completed: ${failure}\n`;
      res.writeHead(502, 'Bad Gateway', { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-phonehome-error': headerSafe(failure) });
      res.end(body);
    } else if (!res.writableFinished) {
      // Mid-body: the client must see a broken response, not a short one that looks whole.
      res.destroy();
    }
  };

  upstream.on('response', (response: http.IncomingMessage) => {
    answer = response;
    response.on('error', fail);
    const socket = response.socket;
    observer.response({ status: response.statusCode ?? 0, statusText: response.statusMessage ?? '', httpVersion: `HTTP/${response.httpVersion}`, headers: headerPairs(response.rawHeaders) }, { ip: socket?.remoteAddress, port: socket?.remotePort });
    response.on('data', (chunk: Buffer) => observer.data(false, chunk));
    // Chunked responses may end with trailers (gRPC-Web servers and some APIs use them).
    response.once('end', () => {
      if (response.rawTrailers.length > 0) observer.trailers(false, headerPairs(response.rawTrailers));
    });
    try {
      res.writeHead(response.statusCode ?? 502, responseHeaders(response, req));
    } catch (error) {
      // A header value Node's parser let in but its writer refuses: said, never thrown.
      fail(error);
      return;
    }
    response.pipe(res);
  });
  upstream.on('error', fail);

  // A passive tap before the pipe: listening does not change the flow.
  req.on('data', (chunk: Buffer) => observer.data(true, chunk));
  req.on('error', fail);
  req.on('close', () => {
    // The client went away mid-upload: stop sending upstream.
    if (!req.complete) upstream.destroy();
  });
  res.on('finish', () => done());
  res.on('close', () => {
    if (res.writableFinished) return;
    // The client stopped reading the response: nothing more is fetched for it.
    answer?.destroy();
    upstream.destroy();
    done('client closed the connection before the response was complete');
  });
  req.pipe(upstream);
}

/** The device's headers without the proxy's own (Proxy-Authorization, Proxy-Connection). */
function requestHeaders(req: http.IncomingMessage): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {};
  for (const name in req.headers) if (!name.startsWith('proxy-')) headers[name] = req.headers[name];
  return headers;
}

/** The upstream's headers for the device, as they came, less Public-Key-Pins. */
function responseHeaders(response: http.IncomingMessage, req: http.IncomingMessage): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {};
  for (const name in response.headers) if (!name.startsWith('public-key-pins')) headers[name] = response.headers[name];
  // A client that spoke to us as a proxy (Proxy-Connection) keeps its connection to us.
  if (req.headers['proxy-connection']) {
    headers['proxy-connection'] = 'keep-alive';
    headers['connection'] = 'keep-alive';
  }
  return headers;
}
