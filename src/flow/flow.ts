// The flow model: one record per HTTP exchange, WebSocket connection, tunnel or failed handshake.
// Flows are built by the proxy layer and handed, finished and read-only, to inspection and sinks.

import type { CapturedBody } from './body-capture.js';

export type FlowKind =
  /** an HTTP request/response, plain or decrypted */
  | 'http'
  /** a WebSocket connection with its messages */
  | 'websocket'
  /** an opaque TLS tunnel we did not decrypt (passthrough, learned or configured) */
  | 'tunnel'
  /** a non-TLS, non-HTTP stream inside CONNECT (SMTP, IMAP, POP3…), relayed and captured */
  | 'raw'
  /** a client that refused our certificate */
  | 'tls-failed'
  /** a request we refused or could not parse (bad target, access, auth) */
  | 'rejected';

export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>;

export interface HttpRequestRecord {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly headers: HeaderList;
  readonly body: CapturedBody;
}

export interface HttpResponseRecord {
  readonly status: number;
  readonly statusText: string;
  readonly httpVersion: string;
  readonly headers: HeaderList;
  readonly body: CapturedBody;
}

export interface WebSocketMessageRecord {
  readonly time: string;
  readonly fromClient: boolean;
  readonly binary: boolean;
  readonly data: Buffer;
  readonly totalBytes: number;
}

export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

export interface Flow {
  readonly id: string;
  readonly kind: FlowKind;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly durationMs: number;
  readonly client: Endpoint;
  /** The host and port the client asked for (CONNECT target or Host header). */
  readonly target: { readonly host: string; readonly port: number };
  /** Server name from the TLS ClientHello, when there was one. */
  readonly sni?: string;
  readonly scheme: 'http' | 'https' | 'ws' | 'wss' | 'tcp' | 'tls';
  /** The address actually connected upstream, when a connection was made. */
  readonly destination?: Endpoint;
  readonly request?: HttpRequestRecord;
  readonly response?: HttpResponseRecord;
  readonly webSocketMessages?: readonly WebSocketMessageRecord[];
  /** Raw streams: what each side sent, captured up to a limit. */
  readonly stream?: { readonly up: CapturedBody; readonly down: CapturedBody };
  readonly bytesUp: number;
  readonly bytesDown: number;
  /** Why the flow failed, in one line, when it did. */
  readonly error?: string;
  /** Machine-readable facts: `upstream:ECONNRESET`, `tls:alert-48`, `inspected:partial`, `host-mismatch`… */
  readonly tags: readonly string[];
}

let nextFlowNumber = 1;

export function newFlowId(): string {
  return `fl-${String(nextFlowNumber++).padStart(6, '0')}`;
}

/** Headers as name/value pairs, in wire order, from Node's rawHeaders. */
export function headerPairs(rawHeaders: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  return pairs;
}

export function headerValue(headers: HeaderList, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of headers) if (key.toLowerCase() === lower) return value;
  return undefined;
}
