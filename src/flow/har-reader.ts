// Reads HAR 1.2 as phonehome, browsers, Charles and mitmproxy write it, into flows for `analyze`.
// Accepts text postData, `params` (form fields), base64 with `encoding`, WebSocket messages
// (`_webSocketMessages`) and phonehome's raw streams (`_phonehome.stream`).

import { PhonehomeError } from '../util/errors.js';
import type { CapturedBody } from './body-capture.js';
import { captureModes, type AppAttribution, type AppConfidence, type DnsAnswer, type DnsRecord, type Flow, type FlowPart, type HeaderList, type HttpFlow, type MessageRecord, type GrpcCallRecord, type TlsRecord, type TlsSide } from '../model/flow.js';

export type HarEntryJson = Record<string, unknown>;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Binary bodies written as one character per byte (latin-1), as mitmproxy's har_dump does: no
 * character above U+00FF, and some that text never holds (C0 controls other than tab and line
 * ends, or C1 controls). A real text's "à" is U+00E0 too, so controls are what tell them apart.
 */
function isLatin1Binary(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[^\u0000-\u00ff]/.test(text) && /[\u0000-\u0008\u000e-\u001f\u007f-\u009f]/.test(text);
}

/**
 * Above this many characters, base64 is decoded a slice at a time (a multiple of 4, so slices decode
 * alone): Buffer.from copies the whole string once more to decode it, which for a body of hundreds
 * of MB (analyze reads HARs of any size) is that much more memory.
 */
const BASE64_SLICE = 4 * 1024 * 1024;

function base64Bytes(text: string): Buffer {
  // Only the plain alphabet is sliced: whitespace or URL-safe characters would shift the slices.
  if (text.length <= BASE64_SLICE || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return Buffer.from(text, 'base64');
  const bytes = Buffer.allocUnsafe(Math.ceil(text.length / 4) * 3);
  let written = 0;
  for (let at = 0; at < text.length; at += BASE64_SLICE) written += bytes.write(text.slice(at, at + BASE64_SLICE), written, 'base64');
  return bytes.subarray(0, written);
}

function decodeText(text: unknown, encoding: unknown): Buffer {
  if (typeof text !== 'string') return Buffer.alloc(0);
  if (encoding === 'base64') return base64Bytes(text);
  return Buffer.from(text, isLatin1Binary(text) ? 'latin1' : 'utf8');
}

function body(bytes: Buffer, declaredSize: unknown): CapturedBody {
  const total = typeof declaredSize === 'number' && declaredSize > bytes.length ? declaredSize : bytes.length;
  return { bytes, totalBytes: total, truncated: total > bytes.length };
}

function headers(list: unknown): HeaderList {
  if (!Array.isArray(list)) return [];
  return list.filter(isObject).map((h) => [String(h['name'] ?? ''), String(h['value'] ?? '')] as const);
}

function postDataBytes(postData: unknown): Buffer {
  if (!isObject(postData)) return Buffer.alloc(0);
  if (typeof postData['text'] === 'string' && postData['text'] !== '') return decodeText(postData['text'], postData['encoding']);
  // Some writers give only form fields.
  if (Array.isArray(postData['params'])) {
    const form = new URLSearchParams();
    for (const p of postData['params'].filter(isObject)) form.append(String(p['name'] ?? ''), String(p['value'] ?? ''));
    return Buffer.from(form.toString());
  }
  return Buffer.alloc(0);
}

function hostAndPort(url: string): { host: string; port: number } {
  try {
    const u = new URL(url);
    const port = u.port ? Number(u.port) : u.protocol === 'https:' || u.protocol === 'wss:' ? 443 : 80;
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port };
  } catch {
    return { host: '', port: 0 };
  }
}

export function readHar(text: string, source = 'HAR file'): Flow[] {
  return readHarFile(text, source).flows;
}

/**
 * A HAR file as flows. A file cut short (a crash, a full disk, a copy that stopped) is read up to
 * its last whole entry, and `droppedTail` says an incomplete one was left out.
 * A UTF-8 byte-order mark (Charles and Windows tools write one) is skipped.
 */
export function readHarFile(text: string, source = 'HAR file'): { flows: Flow[]; truncated: boolean; droppedTail: boolean } {
  const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let root: unknown;
  try {
    root = JSON.parse(json);
  } catch (error) {
    const salvaged = wholeEntriesOf(json);
    if (!salvaged) throw new PhonehomeError('PH_ERR_HAR', `${source} is not JSON: ${(error as Error).message}`);
    return { flows: salvaged.entries.map((entry, index) => harEntryToFlow(entry, index)), truncated: true, droppedTail: salvaged.droppedTail };
  }
  const log = isObject(root) ? root['log'] : undefined;
  const entries = isObject(log) ? log['entries'] : undefined;
  if (!Array.isArray(entries)) throw new PhonehomeError('PH_ERR_HAR', `${source} is not a HAR file (no log.entries array)`);
  return { flows: entries.filter(isObject).map((entry, index) => harEntryToFlow(entry, index)), truncated: false, droppedTail: false };
}

/**
 * The whole entries of a HAR document that was cut short: the objects of its "entries" array,
 * found by walking brackets outside strings. Undefined when there is no entries array to walk.
 */
export function wholeEntriesOf(text: string): { entries: Json[]; droppedTail: boolean } | undefined {
  const key = /"entries"\s*:\s*\[/.exec(text);
  if (!key) return undefined;
  const entries: Json[] = [];
  let at = key.index + key[0].length;
  let depth = 0;
  let start = -1;
  let inString = false;
  for (; at < text.length; at++) {
    const c = text.charCodeAt(at);
    if (inString) {
      if (c === 0x5c) at++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b) {
      if (depth === 0) start = at;
      depth++;
    } else if (c === 0x7d) {
      depth--;
      if (depth === 0 && start >= 0) {
        try {
          const entry: unknown = JSON.parse(text.slice(start, at + 1));
          if (isObject(entry)) entries.push(entry);
        } catch {
          // not an object after all: skip it
        }
        start = -1;
      }
    } else if (c === 0x5d && depth === 0) {
      return { entries, droppedTail: false };
    }
  }
  return { entries, droppedTail: depth > 0 };
}

/** `_phonehome.tls`: each side's version and cipher, when they are strings. */
function tlsRecord(value: unknown): TlsRecord | undefined {
  if (!isObject(value)) return undefined;
  const side = (v: unknown): TlsSide | undefined => (isObject(v) && typeof v['version'] === 'string' ? { version: v['version'], ...(typeof v['cipher'] === 'string' ? { cipher: v['cipher'] } : {}) } : undefined);
  const client = side(value['client']);
  const server = side(value['server']);
  return client || server ? { ...(client ? { client } : {}), ...(server ? { server } : {}) } : undefined;
}

/** phonehome's `_phonehome.dns`, checked field by field (a file is input, not trusted). */
function dnsRecord(value: unknown): DnsRecord | undefined {
  if (!isObject(value) || typeof value['name'] !== 'string' || typeof value['type'] !== 'string') return undefined;
  const answers: DnsAnswer[] = Array.isArray(value['answers'])
    ? value['answers'].filter(isObject).map((a) => ({ name: String(a['name'] ?? ''), type: String(a['type'] ?? ''), ttl: Number(a['ttl'] ?? 0), data: String(a['data'] ?? '') }))
    : [];
  return {
    name: value['name'], type: value['type'], answers,
    ...(typeof value['asked'] === 'string' ? { asked: value['asked'] } : {}),
    ...(typeof value['rcode'] === 'string' ? { rcode: value['rcode'] } : {}),
    ...(typeof value['stripped'] === 'number' ? { stripped: value['stripped'] } : {}),
    ...(typeof value['upstream'] === 'string' ? { upstream: value['upstream'] } : {}),
  };
}

/** A byte count as written, when it is one; else `fallback`. */
function countOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : fallback;
}

/** `_phonehome.part`: which part of a long-lived WebSocket, gRPC call or raw stream an entry is, when every field is sound. */
function flowPart(value: unknown): FlowPart | undefined {
  if (!isObject(value) || typeof value['of'] !== 'string' || value['of'].length === 0 || value['of'].length > 128) return undefined;
  const { index, firstMessage, last, bytesBefore } = value;
  if (!Number.isSafeInteger(index) || (index as number) < 1 || !Number.isSafeInteger(firstMessage) || (firstMessage as number) < 0 || typeof last !== 'boolean') return undefined;
  const offsets = isObject(bytesBefore) && [bytesBefore['up'], bytesBefore['down']].every((n) => Number.isSafeInteger(n) && (n as number) >= 0) ? { bytesBefore: { up: bytesBefore['up'] as number, down: bytesBefore['down'] as number } } : {};
  return { of: value['of'], index: index as number, firstMessage: firstMessage as number, last, ...offsets };
}

const appConfidences: readonly AppConfidence[] = ['high', 'medium', 'low'];

/** `_phonehome.app`: the app a flow was attributed to, when the fields are what they should be. */
function appAttribution(value: unknown): AppAttribution | undefined {
  if (!isObject(value) || typeof value['id'] !== 'string' || typeof value['evidence'] !== 'string') return undefined;
  const confidence = appConfidences.find((c) => c === value['confidence']);
  if (!confidence || value['id'].length === 0 || value['id'].length > 256) return undefined;
  return {
    id: value['id'], confidence, evidence: value['evidence'].slice(0, 512),
    ...(typeof value['name'] === 'string' ? { name: value['name'].slice(0, 256) } : {}),
    ...(typeof value['version'] === 'string' ? { version: value['version'].slice(0, 64) } : {}),
  };
}

/** One HAR entry (phonehome's, a browser's, mitmproxy's…) as a flow. */
export function harEntryToFlow(entry: Json, index: number): Flow {
  const req = isObject(entry['request']) ? entry['request'] : {};
  const res = isObject(entry['response']) ? entry['response'] : {};
  const ph = isObject(entry['_phonehome']) ? entry['_phonehome'] : {};
  const url = String(req['url'] ?? '');
  const method = String(req['method'] ?? 'GET');
  const target = hostAndPort(url);
  const startedAt = typeof entry['startedDateTime'] === 'string' ? entry['startedDateTime'] : new Date(0).toISOString();
  const durationMs = typeof entry['time'] === 'number' && entry['time'] >= 0 ? entry['time'] : 0;
  const endedAt = new Date((Date.parse(startedAt) || 0) + durationMs).toISOString();
  const client = isObject(ph['client']) ? { ip: String(ph['client']['ip'] ?? 'unknown'), port: Number(ph['client']['port'] ?? 0), ...(typeof ph['client']['name'] === 'string' ? { name: ph['client']['name'] } : {}) } : { ip: 'unknown', port: 0 };
  const id = typeof ph['flowId'] === 'string' ? ph['flowId'] : `har-${String(index + 1).padStart(6, '0')}`;
  const tags = Array.isArray(ph['tags']) ? ph['tags'].map(String) : [];
  const serverIp = typeof entry['serverIPAddress'] === 'string' ? entry['serverIPAddress'].replace(/^\[|\]$/g, '') : undefined;
  const destination = serverIp ? { ip: serverIp, port: target.port } : undefined;
  const scheme = url.startsWith('https:') ? 'https' : url.startsWith('wss:') ? 'wss' : url.startsWith('ws:') ? 'ws' : url.startsWith('tcp:') ? 'tcp' : 'http';
  // phonehome's own entries say where the client was going, how it arrived and what TLS said.
  const recorded = isObject(ph['target']) && typeof ph['target']['host'] === 'string' ? { host: ph['target']['host'], port: Number(ph['target']['port'] ?? target.port) } : undefined;
  const mode = captureModes.find((m) => m === ph['mode']);
  const tls = tlsRecord(ph['tls']);
  const app = appAttribution(ph['app']);
  // HAR's parent connection id (browsers write their socket's); phonehome's older files wrote the flow's own id.
  const connection = (typeof entry['connection'] === 'string' || typeof entry['connection'] === 'number') && String(entry['connection']) !== id ? String(entry['connection']).slice(0, 128) : undefined;
  const facts = { ...(connection ? { connection } : {}), ...(app ? { app } : {}), ...(mode ? { mode } : {}), ...(typeof ph['sni'] === 'string' ? { sni: ph['sni'] } : {}), ...(typeof ph['alpn'] === 'string' ? { alpn: ph['alpn'] } : {}), ...(tls ? { tls } : {}), ...(typeof ph['dnsName'] === 'string' ? { dnsName: ph['dnsName'] } : {}) };
  const common = { id, startedAt, endedAt, durationMs, client, target: recorded ?? target, ...facts, ...(destination ? { destination } : {}), tags, ...(typeof ph['error'] === 'string' ? { error: ph['error'] } : {}) };

  const dns = ph['kind'] === 'dns' ? dnsRecord(ph['dns']) : undefined;
  if (dns) return { ...common, kind: 'dns', scheme: 'dns', dns, bytesUp: countOr(ph['bytesUp'], 0), bytesDown: countOr(ph['bytesDown'], 0) };

  const stream = isObject(ph['stream']) ? ph['stream'] : undefined;
  if (method === 'CONNECT' || stream) {
    const up = stream && isObject(stream['up']) ? decodeText(stream['up']['text'], stream['up']['encoding']) : Buffer.alloc(0);
    const down = stream && isObject(stream['down']) ? decodeText(stream['down']['text'], stream['down']['encoding']) : Buffer.alloc(0);
    const kind = (['tunnel', 'raw', 'tls-failed', 'rejected'] as const).find((k) => k === ph['kind']) ?? (stream ? 'raw' : 'tunnel');
    const connection = { ...common, bytesUp: countOr(ph['bytesUp'], up.length), bytesDown: countOr(ph['bytesDown'], down.length) };
    // Only a raw stream carries what each side sent; phonehome writes none for the other kinds.
    if (kind === 'raw') {
      const part = flowPart(ph['part']);
      return { ...connection, kind, scheme: url.startsWith('udp://') ? 'udp' : 'tcp', ...(stream ? { stream: { up: body(up, undefined), down: body(down, undefined) } } : {}), ...(part ? { part } : {}) };
    }
    return { ...connection, kind, scheme: 'tls' };
  }

  const requestBody = body(postDataBytes(req['postData']), req['bodySize']);
  const content = isObject(res['content']) ? res['content'] : {};
  const responseBody = body(decodeText(content['text'], content['encoding']), content['size']);
  // HAR 1.2: content.text is the decoded body, while the response keeps its Content-Encoding
  // header. phonehome's own entries hold the bytes as they travelled; everyone else's (browsers,
  // mitmproxy, Charles) are already decoded, so the header must not make anyone decode them twice.
  const ownEntry = isObject(entry['_phonehome']);
  const responseHeaders = ownEntry ? headers(res['headers']) : headers(res['headers']).filter(([name]) => name.toLowerCase() !== 'content-encoding');
  const wsRaw = Array.isArray(entry['_webSocketMessages']) ? entry['_webSocketMessages'].filter(isObject) : undefined;
  const timeOf = (m: Record<string, unknown>): string => (typeof m['time'] === 'number' ? new Date(m['time'] * 1000).toISOString() : startedAt);
  const webSocketMessages: MessageRecord[] | undefined = wsRaw?.map((m) => {
    const binary = m['opcode'] === 2;
    const data = binary ? Buffer.from(String(m['data'] ?? ''), 'base64') : Buffer.from(String(m['data'] ?? ''), 'utf8');
    return { protocol: 'websocket', time: timeOf(m), fromClient: m['type'] === 'send', binary, data, totalBytes: data.length };
  });
  const grpcRaw = isObject(ph['grpc']) ? ph['grpc'] : undefined;
  const grpcMessages: MessageRecord[] | undefined = Array.isArray(grpcRaw?.['messages']) ? grpcRaw['messages'].filter(isObject).map((m) => {
    const data = Buffer.from(String(m['data'] ?? ''), 'base64');
    return { protocol: 'grpc', time: timeOf(m), fromClient: m['type'] === 'send', binary: true, data, totalBytes: Number(m['size'] ?? data.length), ...(m['compressed'] === true ? { compressed: true, encoding: String(m['encoding'] ?? 'gzip') } : {}) };
  }) : undefined;
  const flavour = grpcRaw?.['flavour'];
  const grpc: GrpcCallRecord | undefined = grpcRaw && (flavour === 'grpc' || flavour === 'grpc-web' || flavour === 'grpc-web-text')
    ? { flavour, ...(typeof grpcRaw['status'] === 'number' ? { status: grpcRaw['status'] } : {}), ...(typeof grpcRaw['message'] === 'string' ? { message: grpcRaw['message'] } : {}) }
    : undefined;
  const trailers = (value: unknown): { trailers?: HeaderList } => (Array.isArray(value) ? { trailers: headers(value) } : {});
  const exchangeScheme: HttpFlow['scheme'] = scheme === 'tcp' ? 'http' : scheme;
  const exchange = {
    ...common,
    scheme: exchangeScheme,
    request: { method, url, httpVersion: String(req['httpVersion'] ?? 'HTTP/1.1'), headers: headers(req['headers']), body: requestBody, ...trailers(ph['requestTrailers']) },
    response: { status: Number(res['status'] ?? 0), statusText: String(res['statusText'] ?? ''), httpVersion: String(res['httpVersion'] ?? 'HTTP/1.1'), headers: responseHeaders, body: responseBody, ...trailers(ph['responseTrailers']) },
    // phonehome's own count where it wrote one: a WebSocket's bytes are its messages, not its bodies.
    bytesUp: ownEntry ? countOr(ph['bytesUp'], requestBody.totalBytes) : requestBody.totalBytes,
    bytesDown: ownEntry ? countOr(ph['bytesDown'], responseBody.totalBytes) : responseBody.totalBytes,
  };
  // A refused request went nowhere: no messages. A WebSocket's messages are its own, never gRPC's.
  if (ph['kind'] === 'rejected') return { ...exchange, kind: 'rejected' };
  const part = flowPart(ph['part']);
  if (webSocketMessages) return { ...exchange, kind: 'websocket', messages: webSocketMessages, ...(part ? { part } : {}) };
  return { ...exchange, kind: 'http', ...(grpcMessages ? { messages: grpcMessages } : {}), ...(grpc ? { grpc } : {}), ...(part ? { part } : {}) };
}
