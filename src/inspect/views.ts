// The layers of a flow that detectors look at: each body, WebSocket or gRPC message and raw stream
// as it was captured, and the name of a DNS question. The decode chain adds the decoded layers
// beneath each of these.

import { headerValue, isLaterPart, partOf, type Flow, type HeaderList, type HttpFlow, type RejectedFlow, type StreamRecord, type WebSocketFlow } from '../model/flow.js';
import type { View } from './detect/detector.js';
import { dnsNameViews } from './dns/dns-name-views.js';

function mediaType(value: string | undefined): string | undefined {
  return value?.split(';')[0]?.trim().toLowerCase() || undefined;
}

/**
 * The last path segment of a request URL, when it looks like a file name (IMG_0001.jpg). The
 * segment is read off the text of an http(s) URL whose path URL parsing would not rewrite (it
 * turns backslashes into slashes and drops tabs and newlines; what it percent-encodes,
 * decodeURIComponent decodes back), else through new URL(), which cost a small flow's views more
 * than the rest of them together in a profile.
 */
export function fileNameOf(url: string): { fileName?: string } {
  const last = lastSegmentAsIs(url) ?? lastSegmentParsed(url);
  if (last === undefined) return {};
  let name: string;
  try {
    name = decodeURIComponent(last);
  } catch {
    return {};
  }
  // Decoded first: `photo%2Ejpg` is a file name too.
  return /\.[a-z0-9]{2,5}$/i.test(name) ? { fileName: name } : {};
}

/** The path's last segment, from the text, when that is what URL parsing would give; else undefined. */
function lastSegmentAsIs(url: string): string | undefined {
  const authority = url.startsWith('https://') ? 8 : url.startsWith('http://') ? 7 : -1;
  if (authority < 0) return undefined;
  const pathStart = url.indexOf('/', authority);
  if (pathStart < 0) return undefined;
  let end = url.length;
  for (let i = authority; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 0x3f /* ? */ || c === 0x23 /* # */) {
      // In the authority: the path is empty, the slash was the query's.
      if (i < pathStart) return undefined;
      end = i;
      break;
    }
    if (c === 0x5c /* backslash */ || c <= 0x20) return undefined;
  }
  // A dot segment (`.`, `..`) last is no file name either way.
  return url.slice(url.lastIndexOf('/', end - 1) + 1, end);
}

function lastSegmentParsed(url: string): string | undefined {
  try {
    return new URL(url).pathname.split('/').pop() ?? '';
  } catch {
    return undefined;
  }
}

/** Request headers that carry nothing about the person: left out of the headers layer. */
const ROUTINE_HEADERS = new Set(['host', 'connection', 'content-length', 'content-type', 'content-encoding', 'accept', 'accept-encoding', 'accept-language', 'cache-control', 'pragma', 'te', 'transfer-encoding', 'upgrade', 'keep-alive', 'proxy-connection', 'origin', 'referer', 'sec-fetch-site', 'sec-fetch-mode', 'sec-fetch-dest', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'if-none-match', 'if-modified-since', 'range', 'expect', 'priority', 'authorization', 'proxy-authorization', 'cookie']);

/** `a=1; b=2` as fields. */
export function parseCookieHeader(value: string): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let v = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    try {
      v = decodeURIComponent(v);
    } catch {
      // not percent-encoded
    }
    if (name) cookies[name] = v;
  }
  return cookies;
}

/**
 * Identifiers travel in request headers (`X-Device-IMEI`) and cookies as often as in bodies: both
 * become structured layers of their own, so the detectors see them with their names as keys.
 */
function headerViews(flow: Flow, headers: HeaderList): View[] {
  const fields: Record<string, string> = {};
  const cookies: Record<string, string> = {};
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower === 'cookie') Object.assign(cookies, parseCookieHeader(value));
    else if (!ROUTINE_HEADERS.has(lower) && !lower.startsWith(':')) fields[name] = value;
  }
  const views: View[] = [];
  const text = (o: Record<string, string>): Buffer => Buffer.from(Object.entries(o).map(([k, v]) => `${k}: ${v}`).join('\r\n'));
  if (Object.keys(fields).length > 0) views.push({ bytes: text(fields), path: ['request-headers'], direction: 'request', structured: fields, contentType: 'application/x-http-headers', depth: 0, origin: 'http', flow });
  if (Object.keys(cookies).length > 0) views.push({ bytes: text(cookies), path: ['cookie'], direction: 'request', structured: cookies, contentType: 'application/x-http-cookies', depth: 0, origin: 'http', flow });
  return views;
}

/** The raw layers of a flow: bodies, headers and cookies, WebSocket and gRPC messages, stream directions, a DNS name. */
export function viewsOf(flow: Flow): View[] {
  switch (flow.kind) {
    case 'http':
    case 'websocket':
    case 'rejected': return exchangeViews(flow);
    case 'raw': return flow.stream ? streamViews(flow, flow.stream) : [];
    // A DNS question: the name asked for, and its labels decoded.
    case 'dns': return dnsNameViews(flow);
    // Nothing of a tunnel or a refused handshake was captured.
    case 'tunnel':
    case 'tls-failed': return [];
  }
}

/** An exchange's layers: request body, headers and cookies, response body, WebSocket and gRPC messages. */
function exchangeViews(flow: HttpFlow | WebSocketFlow | RejectedFlow): View[] {
  const views: View[] = [];
  // A gRPC call's bodies are its length-prefixed messages: each message is its own layer (below),
  // so the framed body is not read a second time.
  const grpc = flow.messages?.some((m) => m.protocol === 'grpc') ?? false;
  // A later part of a long-lived WebSocket or gRPC call repeats its request: that was read in part 1.
  const part = partOf(flow);
  const request = isLaterPart(flow) ? undefined : flow.request;
  // The request always has a layer, even without a body: credentials and query strings ride on it.
  if (request) {
    views.push({ bytes: grpc ? Buffer.alloc(0) : request.body.bytes, path: ['body'], direction: 'request', contentType: mediaType(headerValue(request.headers, 'content-type')), headers: request.headers, ...fileNameOf(request.url), depth: 0, origin: 'http', flow });
    views.push(...headerViews(flow, request.headers));
  }
  if (request && flow.response && flow.response.body.bytes.length > 0 && !grpc) {
    views.push({ bytes: flow.response.body.bytes, path: ['body'], direction: 'response', contentType: mediaType(headerValue(flow.response.headers, 'content-type')), headers: flow.response.headers, depth: 0, origin: 'http', flow });
  }
  // Counted over the whole connection, so a finding's path names the same message in every part.
  let webSocketIndex = part?.firstMessage ?? 0;
  let grpcIndex = part?.firstMessage ?? 0;
  for (const message of flow.messages ?? []) {
    const direction = message.fromClient ? 'request' : 'response';
    if (message.protocol === 'websocket') {
      views.push({ bytes: message.data, path: [`websocket:message[${webSocketIndex++}]`], direction, depth: 0, origin: 'websocket', flow });
    } else {
      // A compressed message says so the way a body would, so the content-encoding decoder opens it.
      const headers: Array<[string, string]> = message.compressed ? [['content-encoding', message.encoding ?? 'gzip']] : [];
      views.push({ bytes: message.data, path: [`grpc:message[${grpcIndex++}]`], direction, contentType: 'application/x-protobuf', headers, depth: 0, origin: 'http', flow });
    }
  }
  return views;
}

/** What each side of a raw stream sent, as captured. */
function streamViews(flow: Flow, stream: StreamRecord): View[] {
  const views: View[] = [];
  if (stream.up.bytes.length > 0) views.push({ bytes: stream.up.bytes, path: ['stream:up'], direction: 'request', depth: 0, origin: 'stream', flow });
  if (stream.down.bytes.length > 0) views.push({ bytes: stream.down.bytes, path: ['stream:down'], direction: 'response', depth: 0, origin: 'stream', flow });
  return views;
}
