// flows.jsonl's lines are written as text (har-line.ts) instead of JSON.stringify over the HAR
// entry's objects: the bytes must be the same for every flow, fast path or not.

import t from 'tap';
import { flowToHarEntry, type HarEntryOptions } from '../../../src/flow/har.js';
import { flowToHarLine } from '../../../src/flow/har-line.js';
import type { Flow } from '../../../src/model/flow.js';
import { body, makeFlow } from '../../helpers/flows.js';

const binary = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe]);
/** Strings JSON escapes: quotes, backslashes, control characters, U+2028, a lone surrogate, non-ASCII. */
const awkward = 'a "quoted" \\ back\tslash\u0001\u2028 \ud800 é 日本';
const response = (fields: Partial<NonNullable<Flow['response']>> = {}) => ({
  status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [['Content-Type', 'application/json'] as const], body: body('{"ok":true}'), ...fields,
});
const truncated = { bytes: Buffer.from('abc'), totalBytes: 100, truncated: true };

const flows: Array<[string, Flow]> = [
  ['a small GET, as the bench sends it', makeFlow({ method: 'GET', url: 'https://127.0.0.1:4443/small?size=64', connection: 'fl-000010', mode: 'http', tls: { client: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' }, server: { version: 'TLSv1.3' } }, requestHeaders: [['Host', '127.0.0.1:4443'], ['Connection', 'keep-alive']], response: response({ headers: [['Content-Length', '64']], body: body(Buffer.alloc(64, 0x5a)) }) })],
  ['duplicate headers and odd casing', makeFlow({ requestHeaders: [['X-Id', '1'], ['x-id', '2'], ['CONTENT-type', 'text/plain'], ['Set-Cookie', 'a=1'], ['set-cookie', 'b=2']], requestBody: 'hello', response: response({ headers: [['set-COOKIE', 'a=1'], ['Set-Cookie', 'b=2'], ['LOCATION', '/next'], ['content-TYPE', 'text/html']] }) })],
  ['escapes everywhere', makeFlow({ url: `https://api.example.com/p?q=${encodeURIComponent(awkward.replace("\ud800", ""))}&bad=%E0%A4%A&lone=\ud800&a=1&a=2&empty=&flag`, requestHeaders: [[awkward, awkward]], requestBody: awkward, response: response({ statusText: awkward, body: body(awkward) }), error: awkward, tags: [awkward], sni: awkward, alpn: 'h2', dnsName: awkward, app: { id: 'com.example', name: awkward, confidence: 'high', evidence: 'User-Agent' } })],
  ['a binary request body and an empty response body', makeFlow({ requestBody: binary, requestHeaders: [['content-type', 'image/png']], response: response({ body: body('') }) })],
  ['invalid UTF-8 in a body', makeFlow({ requestBody: Buffer.from([0x61, 0xc3, 0x28, 0x62]), response: response({ body: body(Buffer.from([0xe2, 0x82])) }) })],
  ['no response (the upstream failed)', makeFlow({ requestBody: 'a=1', error: 'upstream: ECONNREFUSED', tags: ['upstream:ECONNREFUSED'] })],
  ['no destination', makeFlow({ destination: undefined, response: response() })],
  ['a GET without a body and a URL without a query', makeFlow({ method: 'GET', url: 'https://api.example.com/', response: response() })],
  ['a malformed URL with a query', makeFlow({ method: 'GET', url: 'not a url?x=1', response: response() })],
  ['truncated bodies', makeFlow({ request: { method: 'POST', url: 'https://api.example.com/up', httpVersion: 'HTTP/1.1', headers: [], body: truncated }, response: response({ body: truncated }) })],
  ['trailers both ways', makeFlow({ request: { method: 'POST', url: 'https://api.example.com/up', httpVersion: 'HTTP/1.1', headers: [['transfer-encoding', 'chunked']], body: body('x'), trailers: [['X-Checksum', 'abc']] }, response: response({ trailers: [['grpc-status', '0'], ['Grpc-Message', awkward]] }) })],
  ['HTTP/2', makeFlow({ request: { method: 'GET', url: 'https://api.example.com/h2', httpVersion: 'HTTP/2.0', headers: [[':authority', 'api.example.com'], [':path', '/h2']], body: body('') }, response: response({ httpVersion: 'HTTP/2.0', headers: [[':status', '200']] }), alpn: 'h2' })],
  ['odd numbers', makeFlow({ durationMs: Number.NaN, bytesUp: -0, bytesDown: 1.5, response: response({ status: Number.POSITIVE_INFINITY }) })],
  ['a WebSocket (the entry\'s own path)', makeFlow({ kind: 'websocket', scheme: 'wss', response: response({ status: 101, statusText: 'Switching Protocols' }), messages: [{ protocol: 'websocket', time: '2026-11-27T18:30:11.100Z', fromClient: true, binary: false, data: Buffer.from(awkward), totalBytes: 20 }, { protocol: 'websocket', time: '2026-11-27T18:30:11.200Z', fromClient: false, binary: true, data: binary, totalBytes: binary.length }] })],
  ['a gRPC call (the entry\'s own path)', makeFlow({ grpc: { flavour: 'grpc', status: 0 }, response: response(), messages: [{ protocol: 'grpc', time: '2026-11-27T18:30:11.100Z', fromClient: true, binary: true, compressed: true, encoding: 'gzip', data: binary, totalBytes: 40 }] })],
  ['a tunnel', makeFlow({ kind: 'tunnel', scheme: 'tls', request: undefined, tags: ['passthrough:learned'], bytesUp: 100, bytesDown: 200 })],
  ['a TLS failure', makeFlow({ kind: 'tls-failed', scheme: 'tls', request: undefined, error: 'alert 48', target: { host: '2001:db8::1', port: 443 } })],
  ['a raw stream', makeFlow({ kind: 'raw', scheme: 'tcp', request: undefined, stream: { up: body('EHLO x\r\n'), down: truncated } })],
  ['a refused request', makeFlow({ kind: 'rejected', scheme: 'http', error: 'access denied', response: undefined })],
  ['a DNS question', makeFlow({ kind: 'dns', scheme: 'dns', request: undefined, target: { host: '1.1.1.1', port: 53 }, dns: { name: 'example.com', type: 'A', rcode: 'NOERROR', answers: [{ name: 'example.com', type: 'A', ttl: 60, data: '93.184.216.34' }] } })],
  ['a header value that is not a string (read back from a file)', makeFlow({ requestHeaders: [['X-N', 5 as unknown as string]], response: response() })],
  ['no start time (a fixture)', makeFlow({ startedAt: undefined as unknown as string, response: response() })],
  ['a part of a long-lived exchange (read back from a file without its gRPC record)', { ...makeFlow({ response: response() }), part: { of: 'fl-000001', index: 2, firstMessage: 1000, last: false } } as Flow],
];

const located = (ip: string) => ({ country: ip.startsWith('42.') ? 'CN' : null, asn: ip.startsWith('42.') ? 4808 : null, org: ip === '127.0.0.1' ? 'loopback' : null });
const optionSets: Array<[string, HarEntryOptions]> = [
  ['plain', { omitBodies: false }],
  ['--redact', { omitBodies: true, locate: located }],
  ['located, with a company', { omitBodies: false, locate: located, company: () => ({ entity: 'Example "Co"', purpose: 'ads' }) }],
  ['located, no company', { omitBodies: false, locate: located, company: () => undefined }],
  ['with a bodyText that stands in for bodies', { omitBodies: false, locate: located, bodyText: (bytes, base64) => `@@body-${bytes.length}-${base64}` }],
];

for (const [optionsName, options] of optionSets) {
  t.test(`the line is JSON.stringify of the HAR entry, byte for byte (${optionsName})`, async (t) => {
    for (const [name, flow] of flows) t.equal(flowToHarLine(flow, options), JSON.stringify(flowToHarEntry(flow, options)), name);
  });
}

t.test('bodyText is asked for the same bodies, in the same order, as by the entry', async (t) => {
  for (const [name, flow] of flows) {
    const asked: string[][] = [[], []];
    const recorder = (into: string[]): HarEntryOptions => ({ omitBodies: false, bodyText: (bytes, base64) => { into.push(`${bytes.toString('hex')}/${base64}`); return String(into.length); } });
    flowToHarLine(flow, recorder(asked[0]!));
    flowToHarEntry(flow, recorder(asked[1]!));
    t.same(asked[0], asked[1], name);
  }
});
