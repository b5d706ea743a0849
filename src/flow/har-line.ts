// A flow's HAR entry as one line of JSON text, for flows.jsonl: the same bytes as
// JSON.stringify(flowToHarEntry(flow, options)), written straight as text for the flows that are
// most of a run (an HTTP exchange that is not a gRPC call). Building the entry's objects (one per
// header, per query parameter, per part) and then walking them again to stringify cost about 10 µs
// a small request on the proxy's thread, and the garbage more in V8's collector threads (issue #24).
// Every other flow, and any flow with a field of an unexpected type (a file read back, a fixture),
// takes the entry's own path, so the text never differs: strings and the nested records copied
// as they are (client, target, tls, app…) go through JSON.stringify itself; only the order of the
// keys and the punctuation are written here, in the order flowToHarEntry adds them.

import { headerValue, type Flow, type HeaderList, type HttpFlow } from '../model/flow.js';
import { flowToHarEntry, harBody, harBodyFacts, harDestination, queryString, type HarEntryOptions } from './har.js';

const text = JSON.stringify as (value: string) => string;

/** A number as JSON writes it (NaN and the infinities as null). */
function number(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/** `[{"name":…,"value":…},…]`, or undefined when an item is not a pair of strings (JSON would then differ). */
function headersText(headers: HeaderList): string | undefined {
  if (!Array.isArray(headers)) return undefined;
  let out = '[';
  for (let i = 0; i < headers.length; i++) {
    const pair = headers[i];
    if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') return undefined;
    out += `${i === 0 ? '' : ','}{"name":${text(pair[0])},"value":${text(pair[1])}}`;
  }
  return `${out}]`;
}

/** `"text":…` with `,"encoding":"base64"` when so, as flowToHarEntry spreads its encoded body. */
function bodyText(body: { text: string; encoding?: 'base64' }): string {
  return body.encoding ? `"text":${text(body.text)},"encoding":"base64"` : `"text":${text(body.text)}`;
}

function isText(value: unknown): value is string {
  return typeof value === 'string';
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number';
}

/** The fields this writer copies as text or numbers have those types (a live flow's always do). */
function writable(flow: HttpFlow): boolean {
  const req = flow.request;
  const res = flow.response;
  return isText(flow.id) && isText(flow.kind) && flow.dns === undefined && isText(flow.startedAt) && isNumber(flow.durationMs) && isNumber(flow.bytesUp) && isNumber(flow.bytesDown)
    && (flow.connection === undefined || isText(flow.connection)) && (flow.destination === undefined || isText(flow.destination.ip))
    && typeof flow.client === 'object' && flow.client !== null && typeof flow.target === 'object' && flow.target !== null && Array.isArray(flow.tags)
    && typeof req === 'object' && req !== null && isText(req.method) && isText(req.url) && isText(req.httpVersion)
    && typeof req.body === 'object' && req.body !== null && Buffer.isBuffer(req.body.bytes) && isNumber(req.body.totalBytes)
    && (res === undefined || (typeof res === 'object' && res !== null && isNumber(res.status) && isText(res.statusText) && isText(res.httpVersion)
      && typeof res.body === 'object' && res.body !== null && Buffer.isBuffer(res.body.bytes) && isNumber(res.body.totalBytes)));
}

/** What flowToHarEntry writes for an exchange that got no response. */
const NO_RESPONSE = '{"status":0,"statusText":"","httpVersion":"","cookies":[],"headers":[],"content":{"size":0,"mimeType":""},"redirectURL":"","headersSize":-1,"bodySize":-1}';

/** The flow's HAR entry as JSON text: JSON.stringify(flowToHarEntry(flow, options)), byte for byte. */
export function flowToHarLine(flow: Flow, options: HarEntryOptions): string {
  // gRPC calls and parts of long-lived exchanges (which only gRPC has among HTTP flows) go the general way.
  if (flow.kind !== 'http' || flow.grpc || flow.part || !writable(flow)) return JSON.stringify(flowToHarEntry(flow, options));
  const line = httpLine(flow, options);
  return line ?? JSON.stringify(flowToHarEntry(flow, options));
}

/** Undefined when a header list is not what it should be: the caller then takes the entry's path. */
function httpLine(flow: HttpFlow, options: HarEntryOptions): string | undefined {
  const req = flow.request;
  const res = flow.response;
  const requestHeaders = headersText(req.headers);
  const responseHeaders = res ? headersText(res.headers) : '[]';
  const requestTrailers = req.trailers ? headersText(req.trailers) : '';
  const responseTrailers = res?.trailers ? headersText(res.trailers) : '';
  if (requestHeaders === undefined || responseHeaders === undefined || requestTrailers === undefined || responseTrailers === undefined) return undefined;

  let out = `{"startedDateTime":${text(flow.startedAt)},"time":${number(flow.durationMs)},"cache":{},"timings":{"send":0,"wait":${number(flow.durationMs)},"receive":0}`;
  if (flow.destination) out += `,"serverIPAddress":${text(flow.destination.ip)}`;
  out += `,"connection":${text(flow.connection ?? flow.id)}`;

  out += `,"request":{"method":${text(req.method)},"url":${text(req.url)},"httpVersion":${text(req.httpVersion)},"cookies":[],"headers":${requestHeaders},"queryString":[`;
  const query = queryString(req.url);
  for (let i = 0; i < query.length; i++) out += `${i === 0 ? '' : ','}{"name":${text(query[i]!.name)},"value":${text(query[i]!.value)}}`;
  out += `],"headersSize":-1,"bodySize":${number(req.body.totalBytes)}`;
  if (req.body.totalBytes > 0) {
    out += `,"postData":{"mimeType":${text(headerValue(req.headers, 'content-type') ?? '')},${bodyText(harBody(req.body.bytes, options))}`;
    if (req.body.truncated) out += ',"comment":"truncated at the body limit"';
    out += '}';
  }
  out += '}';

  if (res) {
    out += `,"response":{"status":${number(res.status)},"statusText":${text(res.statusText)},"httpVersion":${text(res.httpVersion)},"cookies":[],"headers":${responseHeaders}`;
    out += `,"content":{"size":${number(res.body.totalBytes)},"mimeType":${text(headerValue(res.headers, 'content-type') ?? '')},${bodyText(harBody(res.body.bytes, options))}}`;
    out += `,"redirectURL":${text(headerValue(res.headers, 'location') ?? '')},"headersSize":-1,"bodySize":${number(res.body.totalBytes)}}`;
  } else {
    out += `,"response":${NO_RESPONSE}`;
  }

  // _phonehome, in the order flowToHarEntry adds its keys; the records it copies as they are go
  // through JSON.stringify whole.
  out += `,"_phonehome":{"flowId":${text(flow.id)},"kind":"http","client":${JSON.stringify(flow.client)},"target":${JSON.stringify(flow.target)},"tags":${JSON.stringify(flow.tags)},"bytesUp":${number(flow.bytesUp)},"bytesDown":${number(flow.bytesDown)}`;
  if (flow.mode) out += `,"mode":${JSON.stringify(flow.mode)}`;
  if (flow.sni) out += `,"sni":${JSON.stringify(flow.sni)}`;
  if (flow.alpn) out += `,"alpn":${JSON.stringify(flow.alpn)}`;
  if (flow.tls) out += `,"tls":${JSON.stringify(flow.tls)}`;
  if (flow.dnsName) out += `,"dnsName":${JSON.stringify(flow.dnsName)}`;
  if (flow.app) out += `,"app":${JSON.stringify(flow.app)}`;
  if (flow.error) out += `,"error":${JSON.stringify(flow.error)}`;
  if (options.omitBodies) out += ',"bodiesOmitted":"redact"';
  const destination = harDestination(flow, options);
  if (destination) out += `,"destination":${JSON.stringify(destination)}`;
  if (req.body.truncated) out += `,"requestBody":${JSON.stringify(harBodyFacts(req.body))}`;
  if (res?.body.truncated) out += `,"responseBody":${JSON.stringify(harBodyFacts(res.body))}`;
  if (req.trailers) out += `,"requestTrailers":${requestTrailers}`;
  if (res?.trailers) out += `,"responseTrailers":${responseTrailers}`;
  return `${out}}}`;
}
