// Fixture factory for flows (like mitmproxy's tflow()).

import { BodyCapture } from '../../src/flow/body-capture.js';
import type { Flow } from '../../src/model/flow.js';

export function body(bytes: Buffer | string) {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const capture = new BodyCapture(buffer.length);
  capture.push(buffer);
  return capture.result();
}

export function makeFlow(overrides: Partial<Flow> & { requestBody?: Buffer | string; requestHeaders?: Array<[string, string]>; url?: string; method?: string } = {}): Flow {
  const { requestBody, requestHeaders, url, method, ...rest } = overrides;
  return {
    id: 'fl-000001', kind: 'http', startedAt: '2026-11-27T18:30:11.000Z', endedAt: '2026-11-27T18:30:11.512Z', durationMs: 512,
    client: { ip: '192.168.1.23', port: 50123 }, target: { host: 'api.example.com', port: 443 }, scheme: 'https',
    destination: { ip: '42.62.48.10', port: 443 },
    request: { method: method ?? 'POST', url: url ?? 'https://api.example.com/upload', httpVersion: 'HTTP/1.1', headers: requestHeaders ?? [], body: body(requestBody ?? '') },
    bytesUp: 0, bytesDown: 0, tags: ['decrypted'], ...rest,
  };
}
