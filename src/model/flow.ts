// The flow model: one record per HTTP exchange (HTTP/1.x or HTTP/2 stream, gRPC call included),
// WebSocket connection, tunnel, raw stream, failed handshake or DNS query (a long-lived WebSocket
// or gRPC call: one record per part, see FlowPart). Flows are built by the proxy's
// recorder and handed, finished and read-only, to inspection and sinks. This folder imports
// nothing else of the project, so the worker thread and (later) other machines share it as is.
// A Flow is a discriminated union on `kind` (HttpFlow, WebSocketFlow, TunnelFlow, RawFlow,
// TlsFailedFlow, RejectedFlow, DnsFlow over a shared FlowBase); where a new kind goes is said at `Flow`.

/**
 * What a flow is: `http`, `websocket`, `tunnel`, `raw`, `tls-failed`, `rejected` or `dns`, one per
 * member of the `Flow` union below, where each is described.
 */
export type FlowKind = Flow['kind'];

/**
 * How a connection reached phonehome: the HTTP proxy port, SOCKS5, an OS redirect (a hotspot), or
 * the WireGuard tunnel (an OS redirect too, from the tunnel's interface; the client is a named peer).
 */
export type CaptureMode = 'http' | 'socks5' | 'transparent' | 'wireguard';

/** All capture modes, for readers of files that must not trust what they read. */
export const captureModes: readonly CaptureMode[] = ['http', 'socks5', 'transparent', 'wireguard'];

/** One resource record of a DNS answer, as text (`A 93.184.216.34`, `CNAME cdn.example.net`). */
export interface DnsAnswer {
  readonly name: string;
  /** `A`, `AAAA`, `CNAME`, `HTTPS`… */
  readonly type: string;
  readonly ttl: number;
  /** The record's data as text: an address, a name, or a short rendering of anything else. */
  readonly data: string;
}

/** One DNS question and the answer the device got for it. */
export interface DnsRecord {
  /** The name asked for, lower-case, without the final dot. */
  readonly name: string;
  /** The name exactly as the device sent it, when its letter case differs (base64 in a label depends on it). */
  readonly asked?: string;
  /** The question's type: `A`, `AAAA`, `HTTPS`, `TXT`… */
  readonly type: string;
  /** The response code (`NOERROR`, `NXDOMAIN`, `SERVFAIL`…); absent when no answer came. */
  readonly rcode?: string;
  /** The answer section as the device received it (after stripping). */
  readonly answers: readonly DnsAnswer[];
  /** HTTPS/SVCB records removed before the answer reached the device (no ECH keys, no HTTP/3 hints). */
  readonly stripped?: number;
  /** The resolver the question was forwarded to (`IP:PORT`). */
  readonly upstream?: string;
}

export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>;

export interface CapturedBody {
  readonly bytes: Buffer;
  /** Every byte that passed, captured or not. */
  readonly totalBytes: number;
  /** True when the body was longer than the capture limit. */
  readonly truncated: boolean;
}

export interface HttpRequestRecord {
  readonly method: string;
  readonly url: string;
  /** `HTTP/1.1`, `HTTP/2.0`… */
  readonly httpVersion: string;
  readonly headers: HeaderList;
  readonly body: CapturedBody;
  /** Trailing headers after the body (HTTP/2, chunked HTTP/1.1). */
  readonly trailers?: HeaderList;
}

export interface HttpResponseRecord {
  readonly status: number;
  readonly statusText: string;
  readonly httpVersion: string;
  readonly headers: HeaderList;
  readonly body: CapturedBody;
  /** Trailing headers after the body: gRPC puts grpc-status and grpc-message here. */
  readonly trailers?: HeaderList;
}

/** One message inside an exchange: a WebSocket message, or one length-prefixed gRPC message. */
export interface MessageRecord {
  readonly protocol: 'websocket' | 'grpc';
  readonly time: string;
  readonly fromClient: boolean;
  /** WebSocket: a binary (not text) message. gRPC messages are always binary. */
  readonly binary: boolean;
  /** gRPC: the message was compressed with the call's grpc-encoding; `data` is as it was sent. */
  readonly compressed?: boolean;
  /** gRPC: the call's grpc-encoding for this direction (gzip, deflate), when compressed. */
  readonly encoding?: string;
  /** The message as captured (up to a per-message limit). */
  readonly data: Buffer;
  readonly totalBytes: number;
}

/** What the gRPC layer learned of one call. */
export interface GrpcCallRecord {
  /** `grpc`, `grpc-web` or `grpc-web-text`. */
  readonly flavour: 'grpc' | 'grpc-web' | 'grpc-web-text';
  /** From the trailers (or a trailers-only response); absent when the call never finished. */
  readonly status?: number;
  readonly message?: string;
}

/** One side of a TLS connection: `TLSv1`…`TLSv1.3` and the IANA cipher suite name. */
export interface TlsSide {
  readonly version: string;
  readonly cipher?: string;
}

/** What TLS each side of a decrypted connection spoke: the device with us, we with the server. */
export interface TlsRecord {
  readonly client?: TlsSide;
  readonly server?: TlsSide;
}

/**
 * How sure an app attribution is. `high`: the app named itself (a package header, a User-Agent that
 * is a package name). `medium`: a User-Agent shape that names the app, or a package name in the body.
 * `low`: a weaker hint (an app id in a body that is not shaped like a package). A flow that only
 * shares its connection with the revealing one keeps that one's level: a connection belongs to one app.
 */
export type AppConfidence = 'high' | 'medium' | 'low';

/** The app a flow was attributed to, best effort, always with what gave it away. */
export interface AppAttribution {
  /** The Android package or iOS bundle id where known (`com.miui.gallery`); else the app's name as its User-Agent gives it. */
  readonly id: string;
  /** A display name, where the evidence gives one (the iOS app's name in a CFNetwork User-Agent). */
  readonly name?: string;
  readonly version?: string;
  readonly confidence: AppConfidence;
  /** What gave it away: a header (`X-Requested-With`, `User-Agent`), `body:package`, or `connection fl-000012: X-Requested-With`. */
  readonly evidence: string;
}

export interface Endpoint {
  readonly ip: string;
  readonly port: number;
  /** A client's name where it has one: the WireGuard peer the connection came through. */
  readonly name?: string;
}

/** How a flow's traffic was carried, as its URL or record names it. */
export type FlowScheme = 'http' | 'https' | 'ws' | 'wss' | 'tcp' | 'tls' | 'udp' | 'dns';

/** What each side of a raw stream sent, captured up to a limit. */
export interface StreamRecord {
  readonly up: CapturedBody;
  readonly down: CapturedBody;
}

/**
 * The payload fields one kind carries and the others never do. A member lists the ones it lacks
 * as `Absent<…>` (optional `never`), so `flow.request?.url` still reads on any flow while a
 * tunnel with a request does not compile.
 */
export interface FlowPayloads {
  readonly request: HttpRequestRecord;
  readonly response: HttpResponseRecord;
  readonly messages: readonly MessageRecord[];
  readonly grpc: GrpcCallRecord;
  readonly stream: StreamRecord;
  readonly dns: DnsRecord;
}

/** A payload field's name: what `flow-codec.ts` checks a kind for. */
export type FlowPayloadField = keyof FlowPayloads;

type Absent<K extends FlowPayloadField> = { readonly [P in K]?: never };

/** What every flow has, whatever its kind: who, where to, when, how much, and what went wrong. */
export interface FlowBase {
  readonly id: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly durationMs: number;
  readonly client: Endpoint;
  /**
   * The id of the client connection this flow travelled on (the connection-level flow's id; `proxy-N`
   * for a plain proxy connection, which has none), so the requests and streams of one connection can
   * be grouped; absent in flows of older files.
   */
  readonly connection?: string;
  /** How the connection arrived (absent in flows read from files of older versions). */
  readonly mode?: CaptureMode;
  /** The host and port the client asked for (CONNECT target, SOCKS5 request, original destination, Host header). */
  readonly target: { readonly host: string; readonly port: number };
  /** Server name from the TLS ClientHello, when there was one. */
  readonly sni?: string;
  /** Application protocol negotiated with the client by ALPN (`h2`, `http/1.1`), when one was. */
  readonly alpn?: string;
  readonly scheme: FlowScheme;
  /** TLS versions and cipher suites of a decrypted connection, both sides where known. */
  readonly tls?: TlsRecord;
  /** The address actually connected upstream, when a connection was made. */
  readonly destination?: Endpoint;
  /**
   * The name the device looked up for the target address (from DNS answers phonehome forwarded in
   * this run), when the target is an address: what names a connection that had no SNI or Host.
   */
  readonly dnsName?: string;
  /** The app that sent this flow, when its headers, body or connection gave it away. */
  readonly app?: AppAttribution;
  readonly bytesUp: number;
  readonly bytesDown: number;
  /** Why the flow failed, in one line, when it did. */
  readonly error?: string;
  /** Machine-readable facts: `upstream:ECONNRESET`, `tls:alert-48`, `inspected:partial`, `host-mismatch`… */
  readonly tags: readonly string[];
}

/** An HTTP request/response (HTTP/1.x or one HTTP/2 stream), plain or decrypted; gRPC calls too. */
export interface HttpFlow extends FlowBase, Absent<'stream' | 'dns'> {
  readonly kind: 'http';
  /** `ws`/`wss` only when read back from a file whose WebSocket entry had no messages. */
  readonly scheme: 'http' | 'https' | 'ws' | 'wss';
  readonly request: HttpRequestRecord;
  /** Absent when none came (the upstream failed, or the client left first). */
  readonly response?: HttpResponseRecord;
  /** gRPC messages, in the order they passed. */
  readonly messages?: readonly MessageRecord[];
  /** gRPC calls (over HTTP/2, or gRPC-Web over HTTP/1.1). */
  readonly grpc?: GrpcCallRecord;
  /** Which part of a long-lived gRPC call this is; absent when the call was written whole. */
  readonly part?: FlowPart;
}

/**
 * A long-lived exchange (a WebSocket, a gRPC call, a raw stream such as an IMAP session) is written
 * in parts as it goes, so what it carries is inspected (and kept safe on disk) while it is still
 * open, and memory does not grow with its age. Each part is a flow of its own; the parts of one
 * exchange share `of`, its first part's id. Every part of a WebSocket or gRPC call repeats the
 * request head; only the first part's request and response are inspected. A raw stream is cut only
 * where both sides were quiet (stream-relay.ts), so each part holds whole commands.
 */
export interface FlowPart {
  /** The first part's flow id (the first part names itself). */
  readonly of: string;
  /** 1, 2, 3… in the order written. */
  readonly index: number;
  /** This part's first message, counted over the whole exchange from 0 (what finding paths say); 0 for a raw stream. */
  readonly firstMessage: number;
  /** True for the part written when the exchange ended; the others were written while it was open. */
  readonly last: boolean;
  /** A raw stream's: how many bytes each side sent before this part (where its bytes start in the stream). */
  readonly bytesBefore?: { readonly up: number; readonly down: number };
}

/** A WebSocket connection: its upgrade request, the server's answer and its messages. */
export interface WebSocketFlow extends FlowBase, Absent<'grpc' | 'stream' | 'dns'> {
  readonly kind: 'websocket';
  readonly scheme: 'http' | 'https' | 'ws' | 'wss';
  /** In every part, as it was: only the first part's request and response are inspected. */
  readonly request: HttpRequestRecord;
  readonly response?: HttpResponseRecord;
  /** WebSocket messages, in the order they passed (this part's only, when the flow is a part). */
  readonly messages: readonly MessageRecord[];
  /** Which part of a long-lived connection this is; absent when the connection was written whole. */
  readonly part?: FlowPart;
}

/** An opaque TLS tunnel we did not decrypt (passthrough, learned or configured): measured only, nothing captured. */
export interface TunnelFlow extends FlowBase, Absent<'request' | 'response' | 'messages' | 'grpc' | 'stream' | 'dns'> {
  readonly kind: 'tunnel';
  readonly scheme: 'tls';
}

/** A non-HTTP stream (SMTP, IMAP, POP3…, or UDP datagrams), relayed and captured. */
export interface RawFlow extends FlowBase, Absent<'request' | 'response' | 'messages' | 'grpc' | 'dns'> {
  readonly kind: 'raw';
  /** `udp`: the datagrams between a device and one address and port, joined in order each way (SOCKS5 UDP ASSOCIATE). */
  readonly scheme: 'tcp' | 'tls' | 'udp';
  /**
   * What each side sent. Always there on a live capture; absent when read back from a file written
   * without bodies (redacted), or for a capture-file session the offline layers could not read.
   */
  readonly stream?: StreamRecord;
  /** A stream still open was written in parts (FlowPart): which one this is. */
  readonly part?: FlowPart;
}

/** A client that refused our certificate: nothing passed. */
export interface TlsFailedFlow extends FlowBase, Absent<'request' | 'response' | 'messages' | 'grpc' | 'stream' | 'dns'> {
  readonly kind: 'tls-failed';
  readonly scheme: 'tls';
}

/** A request or connection we refused or could not parse (bad target, access, auth, abuse); it went nowhere. */
export interface RejectedFlow extends FlowBase, Absent<'messages' | 'grpc' | 'stream' | 'dns'> {
  readonly kind: 'rejected';
  /** `http` live; read back, what the file's URL says (`tls` for a refused CONNECT). */
  readonly scheme: 'http' | 'https' | 'ws' | 'wss' | 'tls';
  /** What a refused HTTP request asked for (no headers or body kept); absent for a refused connection. */
  readonly request?: HttpRequestRecord;
  /** Only read back from a HAR file, where every request has a response (status 0: none came). */
  readonly response?: HttpResponseRecord;
}

/** One DNS question and its answer, forwarded by phonehome's DNS listener (or read from a capture file). */
export interface DnsFlow extends FlowBase, Absent<'request' | 'response' | 'messages' | 'grpc' | 'stream'> {
  readonly kind: 'dns';
  readonly scheme: 'dns';
  readonly dns: DnsRecord;
}

/**
 * One recorded exchange, told apart by `kind`: narrow with `switch (flow.kind)` and the compiler
 * knows which fields are there.
 *
 * A new kind of flow goes in two places: its member here (an interface extending `FlowBase`, with
 * `Absent<…>` for the payloads it never carries, added to this union), and its row in `flowShapes`
 * (flow-codec.ts: which payload fields it must and may carry), which the compiler asks for.
 * The switches that answer per kind (coverage.ts, views.ts, flow-status.ts, tui-model.ts: no
 * `default`) then fail to compile until each has its case.
 */
export type Flow = HttpFlow | WebSocketFlow | TunnelFlow | RawFlow | TlsFailedFlow | RejectedFlow | DnsFlow;

/** Which part of a long-lived exchange a flow is, whatever its kind (only HTTP, WebSocket and raw stream flows have parts). */
export function partOf(flow: Flow): FlowPart | undefined {
  return flow.kind === 'http' || flow.kind === 'websocket' || flow.kind === 'raw' ? flow.part : undefined;
}

/** A second or later part of a long-lived exchange: its bytes count, but it is not another exchange. */
export function isLaterPart(flow: Flow): boolean {
  return (partOf(flow)?.index ?? 1) > 1;
}

let nextFlowNumber = 1;

export function newFlowId(): string {
  return `fl-${String(nextFlowNumber++).padStart(6, '0')}`;
}

/** A run that goes on in the same files (--append) numbers its flows after the ones already there. */
export function continueFlowNumbersAfter(last: number): void {
  nextFlowNumber = Math.max(nextFlowNumber, last + 1);
}

/** Headers as name/value pairs, in wire order, from Node's flat rawHeaders (HTTP/1 and HTTP/2 alike). */
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

/** Connections the OS redirected to us: they name only an address, never a host. */
export function isRedirected(mode: CaptureMode | undefined): boolean {
  return mode === 'transparent' || mode === 'wireguard';
}

/**
 * The server name a flow is reported under. A proxy client names its target; a redirected
 * (transparent, WireGuard) connection only has an address, so its name comes from the request URL
 * (Host, :authority), the SNI, or the DNS answer that gave the device the address, in that order.
 * A DNS flow is reported under the name it asked for.
 */
export function flowHost(flow: Flow): string {
  if (flow.kind === 'dns') return flow.dns.name;
  if (!isRedirected(flow.mode)) return flow.dnsName ?? flow.target.host;
  if (flow.request) {
    try {
      const host = new URL(flow.request.url).hostname;
      if (host) return host.startsWith('[') ? host.slice(1, -1) : host;
    } catch {
      // fall through to the SNI
    }
  }
  return flow.sni ?? flow.dnsName ?? flow.target.host;
}
