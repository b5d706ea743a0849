// Turns what the relay observes about one HTTP exchange (or one WebSocket connection) into a Flow.

import type http from 'node:http';
import { BodyCapture, emptyBody } from '../../flow/body-capture.js';
import { headerPairs, type Endpoint, type Flow, type HttpResponseRecord, type WebSocketMessageRecord } from '../../flow/flow.js';
import { limits } from '../../limits.js';
import type { RelayObserver } from './mitm-relay.js';

export interface ExchangeContext {
  readonly flowId: string;
  readonly client: Endpoint;
  readonly target: { readonly host: string; readonly port: number };
  readonly sni?: string;
  readonly tls: boolean;
  readonly url: string;
  readonly tags: readonly string[];
  readonly bodyLimitBytes: number;
}

export class HttpExchangeRecorder implements RelayObserver {
  readonly #context: ExchangeContext;
  readonly #request: http.IncomingMessage;
  readonly #onFlow: (flow: Flow) => void;
  readonly #startedMs = Date.now();
  readonly #startedAt = new Date().toISOString();
  readonly #requestBody: BodyCapture;
  #responseBody: BodyCapture | undefined;
  #response: Omit<HttpResponseRecord, 'body'> | undefined;
  #destination: Endpoint | undefined;
  #webSocket = false;
  readonly #messages: WebSocketMessageRecord[] = [];
  #messagesDropped = 0;
  #wsBytesUp = 0;
  #wsBytesDown = 0;

  constructor(context: ExchangeContext, request: http.IncomingMessage, onFlow: (flow: Flow) => void) {
    this.#context = context;
    this.#request = request;
    this.#onFlow = onFlow;
    this.#requestBody = new BodyCapture(context.bodyLimitBytes);
  }

  requestData(chunk: Buffer): void {
    this.#requestBody.push(chunk);
  }

  response(res: http.IncomingMessage, upstream: { ip?: string; port?: number }): void {
    this.#response = { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', httpVersion: `HTTP/${res.httpVersion}`, headers: headerPairs(res.rawHeaders) };
    this.#responseBody = new BodyCapture(this.#context.bodyLimitBytes);
    if (upstream.ip) this.#destination = { ip: upstream.ip, port: upstream.port ?? this.#context.target.port };
  }

  responseData(chunk: Buffer): void {
    this.#responseBody?.push(chunk);
  }

  webSocketOpen(upstream: { ip?: string; port?: number }): void {
    this.#webSocket = true;
    this.#response = { status: 101, statusText: 'Switching Protocols', httpVersion: 'HTTP/1.1', headers: [] };
    if (upstream.ip) this.#destination = { ip: upstream.ip, port: upstream.port ?? this.#context.target.port };
  }

  webSocketMessage(fromClient: boolean, data: Buffer, binary: boolean): void {
    this.#webSocket = true;
    if (fromClient) this.#wsBytesUp += data.length;
    else this.#wsBytesDown += data.length;
    if (this.#messages.length >= limits.webSocketMessagesPerFlow) {
      this.#messagesDropped++;
      return;
    }
    const kept = data.length > limits.webSocketMessageCaptureBytes ? data.subarray(0, limits.webSocketMessageCaptureBytes) : data;
    this.#messages.push({ time: new Date().toISOString(), fromClient, binary, data: Buffer.from(kept), totalBytes: data.length });
  }

  done(error?: string): void {
    const requestBody = this.#requestBody.result();
    const responseBody = this.#responseBody?.result();
    const tags = [...this.#context.tags];
    if (requestBody.truncated || responseBody?.truncated) tags.push('inspected:partial');
    if (this.#messagesDropped > 0) tags.push(`websocket:messages-dropped-${this.#messagesDropped}`);
    const req = this.#request;
    const webSocket = this.#webSocket || req.headers.upgrade?.toLowerCase() === 'websocket';
    const scheme = webSocket ? (this.#context.tls ? 'wss' : 'ws') : this.#context.tls ? 'https' : 'http';
    this.#onFlow({
      id: this.#context.flowId,
      kind: webSocket ? 'websocket' : 'http',
      startedAt: this.#startedAt,
      endedAt: new Date().toISOString(),
      durationMs: Date.now() - this.#startedMs,
      client: this.#context.client,
      target: this.#context.target,
      ...(this.#context.sni ? { sni: this.#context.sni } : {}),
      scheme,
      ...(this.#destination ? { destination: this.#destination } : {}),
      request: { method: req.method ?? 'GET', url: this.#context.url, httpVersion: `HTTP/${req.httpVersion}`, headers: withoutProxyCredentials(headerPairs(req.rawHeaders)), body: requestBody },
      ...(this.#response ? { response: { ...this.#response, body: responseBody ?? emptyBody } } : {}),
      ...(webSocket ? { webSocketMessages: this.#messages } : {}),
      bytesUp: requestBody.totalBytes + this.#wsBytesUp,
      bytesDown: (responseBody?.totalBytes ?? 0) + this.#wsBytesDown,
      ...(error ? { error } : {}),
      tags,
    });
  }
}

/** The proxy's own password is not the device's data: it never goes into a record. */
function withoutProxyCredentials(headers: Array<[string, string]>): Array<[string, string]> {
  return headers.map(([name, value]) => (name.toLowerCase() === 'proxy-authorization' ? [name, '(removed by phonehome)'] : [name, value]));
}
