// HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) for phonehome flows, and back.
// Bodies that are not UTF-8 are base64 with "encoding": "base64" — on postData too, as the
// contract says. phonehome's own facts live in `_phonehome` objects (custom fields start with _).

import { isUtf8 } from 'node:buffer';
import { headerValue, partOf, type DnsRecord, type Flow, type HeaderList } from '../model/flow.js';
import type { CapturedBody } from './body-capture.js';
import { withFields } from '../util/with-fields.js';

export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: Record<string, unknown>;
  response: Record<string, unknown>;
  cache: Record<string, never>;
  timings: { send: number; wait: number; receive: number };
  serverIPAddress?: string;
  connection?: string;
  _webSocketMessages?: Array<{ type: 'send' | 'receive'; time: number; opcode: 1 | 2; data: string }>;
  _phonehome: Record<string, unknown>;
}

function harHeaders(headers: HeaderList): Array<{ name: string; value: string }> {
  return headers.map(([name, value]) => ({ name, value }));
}

/** Text when the bytes are UTF-8, base64 otherwise. */
export function encodeBody(bytes: Buffer): { text: string; encoding?: 'base64' } {
  if (bytes.length === 0) return { text: '' };
  return isUtf8(bytes) ? { text: bytes.toString('utf8') } : { text: bytes.toString('base64'), encoding: 'base64' };
}

/** `_phonehome.requestBody`/`responseBody`: what a truncated body's capture kept of it. */
export function harBodyFacts(body: CapturedBody): Record<string, unknown> {
  return body.truncated ? { truncated: true, capturedBytes: body.bytes.length, totalBytes: body.totalBytes } : {};
}

export function queryString(url: string): Array<{ name: string; value: string }> {
  // Most URLs have no query: no URL object for them (a profile of small requests showed it).
  if (!url.includes('?')) return [];
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

export interface HarEntryOptions {
  /** With --redact, bodies are left out of the HAR. */
  readonly omitBodies: boolean;
  /**
   * Stands in for a body's text: the HAR file sink streams large bodies into the file itself
   * instead of building them into one JSON string. Returns the text to put in the entry.
   */
  readonly bodyText?: (bytes: Buffer, base64: boolean) => string;
  /** Country and network of the connected address, when known. */
  readonly locate?: (ip: string) => { country: string | null; asn: number | null; org: string | null };
  /** The company behind the flow's host and what its service does, when known. */
  readonly company?: (flow: Flow) => { entity: string; purpose: string } | undefined;
}

/** A body's text as the entry holds it: empty with --redact, else as `bodyText` or encodeBody says. */
export function harBody(bytes: Buffer, options: HarEntryOptions): { text: string; encoding?: 'base64' } {
  if (options.omitBodies) return { text: '' };
  if (!options.bodyText || bytes.length === 0) return encodeBody(bytes);
  const base64 = !isUtf8(bytes);
  return { text: options.bodyText(bytes, base64), ...(base64 ? { encoding: 'base64' as const } : {}) };
}

/**
 * A WebSocket or gRPC message's text as the entry holds it: empty with --redact; base64 for binary
 * ones, UTF-8 text for text ones. Through `bodyText` as a body's is, so the flow log streams a part
 * of large messages in slices too: written whole, a part's 64 MB of messages were one 85 MB string
 * and the line another copy, made on the proxy's thread.
 */
function messageText(bytes: Buffer, base64: boolean, options: HarEntryOptions): string {
  if (options.omitBodies) return '';
  // A text message that is not UTF-8 (ws is told to skip the check: we only watch) is written as
  // Node decodes it, with replacement characters; bodyText's slices are made for UTF-8 only.
  if (options.bodyText && (base64 || isUtf8(bytes))) return options.bodyText(bytes, base64);
  return bytes.toString(base64 ? 'base64' : 'utf8');
}

/** The `_phonehome.destination` of an entry: where the flow went, when the options can place it. */
export function harDestination(flow: Flow, options: HarEntryOptions): Record<string, unknown> | undefined {
  if (!flow.destination || !options.locate) return undefined;
  const where = options.locate(flow.destination.ip);
  const destination: Record<string, unknown> = { ip: flow.destination.ip, port: flow.destination.port, country: where.country, asn: where.asn, org: where.org };
  const company = options.company?.(flow);
  if (company) {
    destination['entity'] = company.entity;
    destination['purpose'] = company.purpose;
  }
  return destination;
}

export function flowToHarEntry(flow: Flow, options: HarEntryOptions): HarEntry {
  const encode = (bytes: Buffer): { text: string; encoding?: 'base64' } => harBody(bytes, options);
  // Properties are added one by one, in the order the file has always had: this runs for every
  // flow on the proxy's thread, and conditional object spreads cost more than the rest of it.
  const phonehome: Record<string, unknown> = { flowId: flow.id, kind: flow.kind, client: flow.client, target: flow.target, tags: flow.tags, bytesUp: flow.bytesUp, bytesDown: flow.bytesDown };
  if (flow.mode) phonehome['mode'] = flow.mode;
  if (flow.sni) phonehome['sni'] = flow.sni;
  if (flow.alpn) phonehome['alpn'] = flow.alpn;
  if (flow.tls) phonehome['tls'] = flow.tls;
  if (flow.dnsName) phonehome['dnsName'] = flow.dnsName;
  if (flow.dns) phonehome['dns'] = flow.dns;
  if (flow.app) phonehome['app'] = flow.app;
  if (flow.error) phonehome['error'] = flow.error;
  const part = partOf(flow);
  if (part) phonehome['part'] = part;
  if (options.omitBodies) phonehome['bodiesOmitted'] = 'redact';
  const destination = harDestination(flow, options);
  if (destination) phonehome['destination'] = destination;
  const base: Pick<HarEntry, 'startedDateTime' | 'time' | 'cache' | 'timings' | 'serverIPAddress' | 'connection'> = { startedDateTime: flow.startedAt, time: flow.durationMs, cache: {}, timings: { send: 0, wait: flow.durationMs, receive: 0 } };
  if (flow.destination) base.serverIPAddress = flow.destination.ip;
  // HAR's parent TCP connection: the exchanges of one connection share it.
  base.connection = flow.connection ?? flow.id;
  if (flow.request) {
    const req = flow.request;
    const request: Record<string, unknown> = {
      method: req.method, url: req.url, httpVersion: req.httpVersion, cookies: [], headers: harHeaders(req.headers),
      queryString: queryString(req.url), headersSize: -1, bodySize: req.body.totalBytes,
    };
    if (req.body.totalBytes > 0) {
      const postData: Record<string, unknown> = { mimeType: headerValue(req.headers, 'content-type') ?? '', ...encode(req.body.bytes) };
      if (req.body.truncated) postData['comment'] = 'truncated at the body limit';
      request['postData'] = postData;
    }
    const res = flow.response;
    const response = res
      ? { status: res.status, statusText: res.statusText, httpVersion: res.httpVersion, cookies: [], headers: harHeaders(res.headers),
          content: { size: res.body.totalBytes, mimeType: headerValue(res.headers, 'content-type') ?? '', ...encode(res.body.bytes) }, redirectURL: headerValue(res.headers, 'location') ?? '', headersSize: -1, bodySize: res.body.totalBytes }
      : { status: 0, statusText: '', httpVersion: '', cookies: [], headers: [], content: { size: 0, mimeType: '' }, redirectURL: '', headersSize: -1, bodySize: -1 };
    if (req.body.truncated) phonehome['requestBody'] = harBodyFacts(req.body);
    if (res?.body.truncated) phonehome['responseBody'] = harBodyFacts(res.body);
    if (req.trailers) phonehome['requestTrailers'] = harHeaders(req.trailers);
    if (res?.trailers) phonehome['responseTrailers'] = harHeaders(res.trailers);
    if (flow.grpc) {
      // gRPC messages are binary protobuf: always base64, each with its direction and framing facts.
      phonehome['grpc'] = withFields(flow.grpc, {
        messages: (flow.messages ?? []).filter((m) => m.protocol === 'grpc').map((m) => ({
          type: m.fromClient ? 'send' : 'receive', time: Date.parse(m.time) / 1000, size: m.totalBytes,
          ...(m.compressed ? { compressed: true, encoding: m.encoding ?? 'identity' } : {}),
          data: messageText(m.data, true, options), ...(m.data.length < m.totalBytes ? { truncated: true } : {}),
        })),
      });
    }
    const entry: HarEntry = withFields(base, { request, response, _phonehome: phonehome }) as HarEntry;
    const webSocketMessages = flow.messages?.filter((m) => m.protocol === 'websocket');
    if (flow.kind === 'websocket' && webSocketMessages) {
      entry._webSocketMessages = webSocketMessages.map((m) => ({
        type: m.fromClient ? 'send' : 'receive', time: Date.parse(m.time) / 1000, opcode: m.binary ? 2 : 1, data: messageText(m.data, m.binary, options),
      }));
    }
    return entry;
  }
  if (flow.dns) return dnsEntry(flow, flow.dns, base, phonehome);
  // Tunnels, raw streams, TLS failures and rejected requests: a CONNECT-shaped entry.
  const scheme = flow.kind === 'raw' ? (flow.scheme === 'udp' ? 'udp' : 'tcp') : 'https';
  const host = flow.target.host.includes(':') ? `[${flow.target.host}]` : flow.target.host;
  if (flow.stream && !options.omitBodies) {
    phonehome['stream'] = { up: withFields(encode(flow.stream.up.bytes), harBodyFacts(flow.stream.up)), down: withFields(encode(flow.stream.down.bytes), harBodyFacts(flow.stream.down)) };
  }
  return withFields(base, {
    request: { method: 'CONNECT', url: flow.target.host ? `${scheme}://${host}:${flow.target.port}/` : '', httpVersion: 'HTTP/1.1', cookies: [], headers: [], queryString: [], headersSize: -1, bodySize: flow.bytesUp },
    response: { status: flow.kind === 'tunnel' || flow.kind === 'raw' ? 200 : 0, statusText: flow.error ?? '', httpVersion: 'HTTP/1.1', cookies: [], headers: [], content: { size: flow.bytesDown, mimeType: '' }, redirectURL: '', headersSize: -1, bodySize: flow.bytesDown },
    _phonehome: phonehome,
  });
}

/**
 * A DNS question as a HAR entry: HAR has no shape for DNS, so the entry reads like a request for
 * `dns://RESOLVER/NAME?type=T` whose status text is the response code; `_phonehome.dns` holds the
 * question and answers themselves.
 */
function dnsEntry(flow: Flow, dns: DnsRecord, base: Pick<HarEntry, 'startedDateTime' | 'time' | 'cache' | 'timings' | 'serverIPAddress' | 'connection'>, phonehome: Record<string, unknown>): HarEntry {
  const resolver = flow.target.host.includes(':') ? `[${flow.target.host}]` : flow.target.host;
  const url = `dns://${resolver}:${flow.target.port}/${encodeURIComponent(dns.name)}?type=${encodeURIComponent(dns.type)}`;
  const answered = dns.rcode !== undefined;
  return withFields(base, {
    request: { method: 'QUERY', url, httpVersion: 'DNS', cookies: [], headers: [], queryString: [{ name: 'type', value: dns.type }], headersSize: -1, bodySize: flow.bytesUp },
    response: { status: answered ? 200 : 0, statusText: dns.rcode ?? flow.error ?? '', httpVersion: 'DNS', cookies: [], headers: [], content: { size: flow.bytesDown, mimeType: 'application/dns-message' }, redirectURL: '', headersSize: -1, bodySize: flow.bytesDown },
    _phonehome: phonehome,
  }) as HarEntry;
}
