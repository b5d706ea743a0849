// Fixture factory for flows (like mitmproxy's tflow()).

import { BodyCapture } from '../../src/flow/body-capture.js';
import type { Flow, FlowBase, FlowKind, FlowPayloads, FlowScheme } from '../../src/model/flow.js';

export function body(bytes: Buffer | string) {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const capture = new BodyCapture(buffer.length);
  capture.push(buffer);
  return capture.result();
}

/** Any field of any kind of flow: fixtures build every kind (and some odd ones) over one HTTP base. */
export type FlowFields = Partial<FlowBase & FlowPayloads> & { kind?: FlowKind; scheme?: FlowScheme };

/** An HTTP flow, or the kind `overrides` names (typed as that member of the union). */
export function makeFlow<K extends FlowKind = 'http'>(overrides: FlowFields & { kind?: K; requestBody?: Buffer | string; requestHeaders?: Array<[string, string]>; url?: string; method?: string } = {}): Extract<Flow, { kind: K }> {
  const { requestBody, requestHeaders, url, method, ...rest } = overrides;
  return {
    id: 'fl-000001', kind: 'http', startedAt: '2026-11-27T18:30:11.000Z', endedAt: '2026-11-27T18:30:11.512Z', durationMs: 512,
    client: { ip: '192.168.1.23', port: 50123 }, target: { host: 'api.example.com', port: 443 }, scheme: 'https',
    destination: { ip: '42.62.48.10', port: 443 },
    request: { method: method ?? 'POST', url: url ?? 'https://api.example.com/upload', httpVersion: 'HTTP/1.1', headers: requestHeaders ?? [], body: body(requestBody ?? '') },
    bytesUp: 0, bytesDown: 0, tags: ['decrypted'], ...rest,
  } as Extract<Flow, { kind: K }>; // the fixture's caller says which fields its kind has
}
