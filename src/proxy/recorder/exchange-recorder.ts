// Builds the Flow of one exchange from version-neutral events — request head, data in either
// direction, response head, trailers, messages, done — so HTTP/1.x, HTTP/2 streams, gRPC calls
// and WebSocket connections share one path into the model (mitmproxy's http events).
// gRPC is recognised by its content type: its length-prefixed messages are read as they pass
// (GrpcFrameReader) and become the flow's messages, instead of a second copy of the body.
// A WebSocket or gRPC call given `PartWriting` is written in parts while open (FlowPart in the model).

import { BodyCapture, emptyBody, keptCopy } from '../../flow/body-capture.js';
import { headerValue, newFlowId, type CapturedBody, type CaptureMode, type Endpoint, type GrpcCallRecord, type HeaderList, type HttpFlow, type HttpResponseRecord, type MessageRecord, type TlsRecord, type WebSocketFlow, type FlowPart } from '../../model/flow.js';
import { limits } from '../../limits.js';
import { Base64StreamDecoder, GrpcFrameReader, parseGrpcWebTrailers } from './grpc-frames.js';
import { withFields } from '../../util/with-fields.js';

export interface ExchangeContext {
  readonly flowId: string;
  /** The client connection the exchange travelled on (see Flow.connection). */
  readonly connection?: string;
  readonly client: Endpoint;
  readonly mode: CaptureMode;
  readonly target: { readonly host: string; readonly port: number };
  readonly sni?: string;
  readonly alpn?: string;
  readonly tls: boolean;
  /** TLS versions and suites of the connection, both sides where known. */
  readonly tlsRecord?: TlsRecord;
  readonly tags: readonly string[];
  readonly bodyLimitBytes: number;
}

export interface RequestHead {
  readonly method: string;
  /** The absolute URL, as the flow will show it. */
  readonly url: string;
  readonly httpVersion: string;
  readonly headers: HeaderList;
}

export interface ResponseHead {
  readonly status: number;
  readonly statusText: string;
  readonly httpVersion: string;
  readonly headers: HeaderList;
}

/** What a relay reports about one exchange; every layer (HTTP/1, HTTP/2, WebSocket) speaks this. */
export interface ExchangeObserver {
  /** A chunk of a body as it passes (already forwarded; the reference is kept, never written to). */
  data(fromClient: boolean, chunk: Buffer): void;
  response(head: ResponseHead, upstream: { ip?: string; port?: number }): void;
  trailers(fromClient: boolean, headers: HeaderList): void;
  /** The server accepted the WebSocket (`answer`: its 101, when it is known). */
  webSocketOpen(upstream: { ip?: string; port?: number }, answer?: ResponseHead): void;
  webSocketMessage(fromClient: boolean, data: Buffer, binary: boolean): void;
  /** A fact worth a tag on the flow (`h2:rst-stream-8`…). */
  tag(tag: string): void;
  /** The exchange is over: complete, aborted or failed (error set). Only the first call counts. */
  done(error?: string): void;
}

/** How a WebSocket or gRPC call still open is written in parts; without it, each is one flow written when it ends. */
export interface PartWriting {
  /** A part of a connection still open, to be recorded now (the last part goes to the recorder's onFlow). */
  readonly onPart: (flow: HttpFlow | WebSocketFlow) => void;
  /** A part is written when it holds this many messages… */
  readonly maxMessages: number;
  /** …or when its first message is this old… */
  readonly intervalMs: number;
  /** …or when its messages hold this many bytes (without it: when they fill the part's budget, twice the body limit). */
  readonly maxBytes?: number;
}

/** The proxy's part sizes (limits.ts), recording each part with `record`. */
export function streamParts(record: (flow: HttpFlow | WebSocketFlow) => void): PartWriting {
  return { onPart: record, maxMessages: limits.streamPartMessages, intervalMs: limits.streamPartIntervalMs, maxBytes: limits.streamPartBytes };
}

type GrpcFlavour = GrpcCallRecord['flavour'];

/** A flow while #flow adds its fields one by one: the names and types of HttpFlow's, either kind. */
type FlowInTheMaking = { -readonly [K in Exclude<keyof HttpFlow, 'kind' | 'request'>]?: HttpFlow[K] } & {
  kind?: 'http' | 'websocket';
  request?: HttpFlow['request'];
  messages?: WebSocketFlow['messages'];
};

function grpcFlavour(contentType: string | undefined): GrpcFlavour | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type.startsWith('application/grpc-web-text')) return 'grpc-web-text';
  if (type.startsWith('application/grpc-web')) return 'grpc-web';
  if (type === 'application/grpc' || type.startsWith('application/grpc+')) return 'grpc';
  return undefined;
}

/** One direction of a gRPC call: frames read as they pass, base64 undone first for grpc-web-text. */
class GrpcDirection {
  readonly reader: GrpcFrameReader;
  readonly #text?: Base64StreamDecoder;
  encoding: string | undefined;

  constructor(flavour: GrpcFlavour, captureBytes: number, encoding: string | undefined) {
    this.reader = new GrpcFrameReader(captureBytes);
    if (flavour === 'grpc-web-text') this.#text = new Base64StreamDecoder();
    this.encoding = encoding;
  }

  push(chunk: Buffer): ReturnType<GrpcFrameReader['push']> {
    return this.reader.push(this.#text ? this.#text.push(chunk) : chunk);
  }
}

export class ExchangeRecorder implements ExchangeObserver {
  readonly #context: ExchangeContext;
  readonly #request: RequestHead;
  readonly #onFlow: (flow: HttpFlow | WebSocketFlow) => void;
  readonly #parts: PartWriting | undefined;
  /** When the exchange (or, once parts are written, the current part) began. */
  #startedMs = Date.now();
  #startedAt = new Date().toISOString();
  readonly #requestBody: BodyCapture;
  #responseBody: BodyCapture | undefined;
  #response: Omit<HttpResponseRecord, 'body'> | undefined;
  #requestTrailers: HeaderList | undefined;
  #destination: Endpoint | undefined;
  #webSocket = false;
  /** The messages held: the whole exchange's, or the current part's. */
  #messages: MessageRecord[] = [];
  #messagesDropped = 0;
  /** Parts written so far, and the messages they held. */
  #partsWritten = 0;
  #messagesWritten = 0;
  /** Body bytes counted in the parts written (a gRPC call's framed bodies are counted, not kept). */
  #bodyBytesWritten = { up: 0, down: 0 };
  #partTimer: NodeJS.Timeout | undefined;
  /** A message of the current part was cut at a limit. */
  #partCut = false;
  /** What the current part's budget (twice the body limit) has left, and what its messages hold. */
  #messageBytesLeft: number;
  #messageBytesHeld = 0;
  #messageBytesUp = 0;
  #messageBytesDown = 0;
  readonly #grpcFlavour: GrpcFlavour | undefined;
  readonly #grpcUp: GrpcDirection | undefined;
  #grpcDown: GrpcDirection | undefined;
  readonly #tags: string[];
  #finished = false;

  constructor(context: ExchangeContext, request: RequestHead, onFlow: (flow: HttpFlow | WebSocketFlow) => void, parts?: PartWriting) {
    this.#context = context;
    this.#request = request;
    this.#onFlow = onFlow;
    this.#tags = [...context.tags];
    // An upgrade request is a WebSocket flow even when the upstream never answers it.
    // So is an HTTP/2 extended CONNECT for one (RFC 8441).
    this.#webSocket = headerValue(request.headers, 'upgrade')?.toLowerCase() === 'websocket' || (request.method === 'CONNECT' && headerValue(request.headers, ':protocol')?.toLowerCase() === 'websocket');
    this.#grpcFlavour = grpcFlavour(headerValue(request.headers, 'content-type'));
    // Only exchanges made of messages are cut in parts: a body is inspected whole.
    this.#parts = this.#webSocket || this.#grpcFlavour ? parts : undefined;
    // A gRPC call's body lives on as its messages; the framed body itself is only counted.
    this.#requestBody = new BodyCapture(this.#grpcFlavour ? 0 : context.bodyLimitBytes, announcedLength(request.headers));
    this.#messageBytesLeft = 2 * context.bodyLimitBytes;
    if (this.#grpcFlavour) this.#grpcUp = new GrpcDirection(this.#grpcFlavour, context.bodyLimitBytes, headerValue(request.headers, 'grpc-encoding'));
  }

  data(fromClient: boolean, chunk: Buffer): void {
    if (fromClient) {
      this.#requestBody.push(chunk);
      if (this.#grpcUp) this.#grpcMessages(true, this.#grpcUp, chunk);
    } else {
      this.#responseBody?.push(chunk);
      if (this.#grpcDown) this.#grpcMessages(false, this.#grpcDown, chunk);
    }
  }

  response(head: ResponseHead, upstream: { ip?: string; port?: number }): void {
    this.#response = head;
    const responseFlavour = grpcFlavour(headerValue(head.headers, 'content-type'));
    this.#responseBody = new BodyCapture(this.#grpcFlavour && responseFlavour ? 0 : this.#context.bodyLimitBytes, this.#request.method === 'HEAD' || head.status === 204 || head.status === 304 ? undefined : announcedLength(head.headers));
    if (this.#grpcFlavour && responseFlavour) this.#grpcDown = new GrpcDirection(this.#grpcFlavour, this.#context.bodyLimitBytes, headerValue(head.headers, 'grpc-encoding'));
    if (upstream.ip) this.#destination = { ip: upstream.ip, port: upstream.port ?? this.#context.target.port };
  }

  trailers(fromClient: boolean, headers: HeaderList): void {
    if (fromClient) this.#requestTrailers = headers;
    else if (this.#response) this.#response = withFields(this.#response, { trailers: headers });
  }

  webSocketOpen(upstream: { ip?: string; port?: number }, answer?: ResponseHead): void {
    this.#webSocket = true;
    this.#response = answer ?? { status: 101, statusText: 'Switching Protocols', httpVersion: 'HTTP/1.1', headers: [] };
    if (upstream.ip) this.#destination = { ip: upstream.ip, port: upstream.port ?? this.#context.target.port };
  }

  webSocketMessage(fromClient: boolean, data: Buffer, binary: boolean): void {
    this.#webSocket = true;
    // Copied: ws may hand out a view into a larger receive buffer, which must not stay alive.
    const kept = keptCopy(data.subarray(0, limits.webSocketMessageCaptureBytes));
    this.#keepMessage({ protocol: 'websocket', time: new Date().toISOString(), fromClient, binary, data: kept, totalBytes: data.length }, limits.webSocketMessageCaptureBytes);
  }

  tag(tag: string): void {
    if (!this.#tags.includes(tag)) this.#tags.push(tag);
  }

  #grpcMessages(fromClient: boolean, direction: GrpcDirection, chunk: Buffer): void {
    for (const frame of direction.push(chunk)) {
      if (frame.trailers) {
        this.trailers(false, parseGrpcWebTrailers(frame.data));
        continue;
      }
      const encoding = frame.compressed ? direction.encoding ?? 'gzip' : undefined;
      this.#keepMessage({ protocol: 'grpc', time: new Date().toISOString(), fromClient, binary: true, ...(encoding ? { compressed: true, encoding } : {}), data: frame.data, totalBytes: frame.totalBytes }, this.#context.bodyLimitBytes);
    }
  }

  /** Keeps a message within the per-message and per-flow limits; the rest is counted and said. */
  #keepMessage(message: MessageRecord, perMessageBytes: number): void {
    if (message.fromClient) this.#messageBytesUp += message.totalBytes;
    else this.#messageBytesDown += message.totalBytes;
    // A part that cannot take the whole message is written first, so the message goes whole into the next.
    if (this.#parts && this.#messages.length > 0 && Math.min(perMessageBytes, message.data.length) > this.#messageBytesLeft) this.#writePart();
    if (this.#messages.length >= limits.messagesPerFlow || this.#messageBytesLeft <= 0) {
      this.#messagesDropped++;
      return;
    }
    const cap = Math.min(perMessageBytes, this.#messageBytesLeft);
    // Copied when cut: a slice would keep the whole (possibly huge) chunk alive.
    const data = message.data.length > cap ? Buffer.from(message.data.subarray(0, cap)) : message.data;
    if (data.length < message.totalBytes) this.#partCut = true;
    this.#messageBytesLeft -= data.length;
    this.#messageBytesHeld += data.length;
    this.#messages.push(data === message.data ? message : withFields(message, { data }));
    if (!this.#parts) return;
    if (this.#messages.length >= this.#parts.maxMessages || this.#messageBytesLeft <= 0 || this.#messageBytesHeld >= (this.#parts.maxBytes ?? Infinity)) this.#writePart();
    else if (this.#partTimer === undefined) this.#partTimer = setTimeout(() => this.#writePart(), this.#parts.intervalMs).unref();
  }

  /** The messages held so far, as a part of a connection still open; the next part starts empty. */
  #writePart(): void {
    clearTimeout(this.#partTimer);
    this.#partTimer = undefined;
    if (this.#finished || !this.#parts || this.#messages.length === 0) return;
    const part = this.#flow(undefined, false);
    this.#partsWritten++;
    this.#bodyBytesWritten = { up: this.#requestBody.totalBytes, down: this.#responseBody?.totalBytes ?? 0 };
    this.#messagesWritten += this.#messages.length;
    this.#messages = [];
    this.#messageBytesUp = 0;
    this.#messageBytesDown = 0;
    this.#messageBytesLeft = 2 * this.#context.bodyLimitBytes;
    this.#messageBytesHeld = 0;
    this.#partCut = false;
    this.#startedMs = Date.now();
    this.#startedAt = new Date().toISOString();
    this.#parts.onPart(part);
  }

  done(error?: string): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#partTimer);
    this.#onFlow(this.#flow(error, true));
  }

  /** The flow as it stands: the whole exchange, or the current part (the last one when `ending`). */
  #flow(error: string | undefined, ending: boolean): HttpFlow | WebSocketFlow {
    const firstPart = this.#partsWritten === 0;
    // A gRPC body lives on as its messages, and a later part has no body of its own to show: both
    // are only counted (the bytes that passed since the part before), never "cut at the limit".
    const requestBody = this.#grpcUp || !firstPart ? bodyCounted(this.#requestBody.totalBytes - this.#bodyBytesWritten.up) : this.#requestBody.result();
    const response = this.#responseBody;
    const responseBody = !response ? undefined : this.#grpcDown || !firstPart ? bodyCounted(response.totalBytes - this.#bodyBytesWritten.down) : response.result();
    // A part written while the exchange goes on gets a copy: tags may still come for the parts after it.
    const tags = ending ? this.#tags : [...this.#tags];
    if ((requestBody.truncated || responseBody?.truncated || this.#partCut) && !tags.includes('inspected:partial')) tags.push('inspected:partial');
    if (ending && this.#messagesDropped > 0) tags.push(`messages:dropped-${this.#messagesDropped}`);
    const webSocket = this.#webSocket;
    const tls = this.#context.tls;
    const scheme: HttpFlow['scheme'] = webSocket ? (tls ? 'wss' : 'ws') : tls ? 'https' : 'http';
    const grpc = this.#grpcRecord();
    if (ending && grpc && (this.#grpcUp?.reader.pending || this.#grpcDown?.reader.pending)) tags.push('grpc:incomplete-message');
    // A WebSocket's traffic after the upgrade is its messages; a gRPC call's is its (counted) bodies.
    const bytesUp = requestBody.totalBytes + (webSocket ? this.#messageBytesUp : 0);
    const bytesDown = (responseBody?.totalBytes ?? 0) + (webSocket ? this.#messageBytesDown : 0);
    // One object, its keys added in the order flows have always had them (whatever prints a flow
    // prints it as before): no short-lived object per optional field, and no second copy at the end
    // as the spreads this replaced made (issue #24: #flow was 2.7 % of a small request's time).
    const context = this.#context;
    const flow: FlowInTheMaking = {
      id: firstPart ? context.flowId : newFlowId(),
      startedAt: this.#startedAt,
      endedAt: new Date().toISOString(),
      durationMs: Date.now() - this.#startedMs,
      client: context.client,
    };
    if (context.connection) flow.connection = context.connection;
    flow.mode = context.mode;
    flow.target = context.target;
    if (context.sni) flow.sni = context.sni;
    if (context.alpn) flow.alpn = context.alpn;
    if (context.tlsRecord) flow.tls = context.tlsRecord;
    flow.scheme = scheme;
    if (this.#destination) flow.destination = this.#destination;
    const request: { -readonly [K in keyof HttpFlow['request']]: HttpFlow['request'][K] } = withFields(this.#request, { headers: withoutProxyCredentials(this.#request.headers), body: requestBody });
    if (this.#requestTrailers) request.trailers = this.#requestTrailers;
    flow.request = request;
    if (this.#response) flow.response = withFields(this.#response, { body: responseBody ?? emptyBody });
    flow.bytesUp = bytesUp;
    flow.bytesDown = bytesDown;
    if (error) flow.error = error;
    flow.tags = tags;
    const inParts = !firstPart || !ending;
    const part: FlowPart | undefined = inParts ? { of: context.flowId, index: this.#partsWritten + 1, firstMessage: this.#messagesWritten, last: ending } : undefined;
    // A WebSocket always has its messages; an HTTP exchange has gRPC's when it carried any.
    if (webSocket) {
      flow.kind = 'websocket';
      flow.messages = this.#messages;
    } else {
      flow.kind = 'http';
      if (this.#messages.length > 0) flow.messages = this.#messages;
      if (grpc) flow.grpc = grpc;
    }
    if (part) flow.part = part;
    return flow as HttpFlow | WebSocketFlow;
  }

  #grpcRecord(): GrpcCallRecord | undefined {
    if (!this.#grpcFlavour) return undefined;
    // grpc-status is in the trailers, or in the headers of a trailers-only response.
    const sources = [this.#response?.trailers, this.#response?.headers].filter((h): h is HeaderList => h !== undefined);
    const statusText = sources.map((h) => headerValue(h, 'grpc-status')).find((v) => v !== undefined);
    const message = sources.map((h) => headerValue(h, 'grpc-message')).find((v) => v !== undefined);
    const status = statusText !== undefined && /^\d{1,3}$/.test(statusText.trim()) ? Number(statusText.trim()) : undefined;
    return { flavour: this.#grpcFlavour, ...(status !== undefined ? { status } : {}), ...(message !== undefined ? { message: decodeGrpcMessage(message) } : {}) };
  }
}

/** A body that was counted, not kept. */
function bodyCounted(totalBytes: number): CapturedBody {
  return totalBytes === 0 ? emptyBody : { bytes: emptyBody.bytes, totalBytes, truncated: false };
}

/** The Content-Length a message announced, when it is a plain number. */
function announcedLength(headers: HeaderList): number | undefined {
  const value = headerValue(headers, 'content-length');
  return value !== undefined && /^\d{1,15}$/.test(value.trim()) ? Number(value.trim()) : undefined;
}

/** grpc-message is percent-encoded UTF-8. */
function decodeGrpcMessage(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The proxy's own password is not the device's data: it never goes into a record. */
function withoutProxyCredentials(headers: HeaderList): HeaderList {
  // Almost no request carries one (only absolute-form requests on a proxy with --auth): no copy then.
  if (!headers.some(([name]) => name.length === 19 && name.toLowerCase() === 'proxy-authorization')) return headers;
  return headers.map(([name, value]) => (name.toLowerCase() === 'proxy-authorization' ? [name, '(removed by phonehome)'] : [name, value]));
}
