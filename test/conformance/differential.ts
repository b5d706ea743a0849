// The differential harness of the conformance suite (issue 19, "verify as a user would"): a real
// client runs a scenario once straight to a recording origin and once through the proxy under test
// (HTTP proxy mode, and SOCKS5 where the client can), and both runs must come out the same: what
// the origin received and what the client got, byte for byte. A witness that changes the traffic
// shows up here as a diff.
//
// - The proxy under test is phonehome's engine (startLab: 127.0.0.1:0, upstream trusting the
//   origins' CA, *.test resolving to 127.0.0.1), or mitmdump when CONFORMANCE_PROXY=mitmproxy, so
//   the same scenarios give mitmproxy's table (scripts/conformance-mitmproxy.mjs).
// - The origin listens on 127.0.0.1:0 and records, per connection, the TLS ClientHello's SNI and
//   ALPN offer and every byte received after TLS. Connections are numbered in order of first
//   bytes, so a proxy that reuses a pooled connection reads the same as one that opens a new one.
//   It answers from a script (raw bytes), by relaying to a plain service (an MQTT broker), or
//   through a Node HTTP handler (HTTP/1.1, and HTTP/2 when it offers h2). HTTP/2 is recorded as
//   requests (pseudo-headers and headers in the order received, body, trailers), not as frames:
//   HPACK state, SETTINGS and flow control are the connection's own and differ on any relay.
// - The only differences that are not counted are the documented ones a proxy must make, and they
//   never reach the origin: a client talking to a proxy sends an absolute-form request line and
//   Proxy-* headers, which the proxy turns into origin-form and drops, so the origin's record of a
//   direct run and of a proxied run should be equal as they are.
// - Environment: CONFORMANCE_TABLE=<file> appends one JSON line per scenario and mode (the table
//   script reads them); CONFORMANCE_ALL=1 also runs the comparisons listed as known to differ.

import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { once } from 'node:events';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';
import type { Test } from 'tap';
import type { LeafKeyType } from '../../src/proxy/ca/certificate-authority.js';
import { parseClientHello, maxClientHelloBytes } from '../../src/proxy/layers/client-hello.js';
import { parseSocks5Greeting, parseSocks5Request, socks5Method, socks5Reply, socks5Response } from '../../src/proxy/modes/socks-protocol.js';
import { getOriginCa, startLab, tempDir, within } from '../helpers/lab.js';

export type Mode = 'direct' | 'http-proxy' | 'socks5';
export type ProxiedMode = Exclude<Mode, 'direct'>;

// ---- the proxy under test ---------------------------------------------------------------------

export interface ProxyUnderTest {
  /** phonehome, mitmproxy, or a relay of the harness's own test. */
  readonly name: string;
  /** Port for HTTP proxy clients (absolute-form and CONNECT). */
  readonly httpPort: number;
  /** Port for SOCKS5 clients (phonehome's is the same port). */
  readonly socksPort: number;
  /** The CA a client must trust to talk TLS through the proxy, as PEM and as a file. */
  readonly caPem: string;
  readonly caFile: string;
  close(): Promise<void>;
}

/** phonehome, or mitmdump when CONFORMANCE_PROXY=mitmproxy. */
export function startProxyUnderTest(): Promise<ProxyUnderTest> {
  return process.env['CONFORMANCE_PROXY'] === 'mitmproxy' ? startMitmproxy() : startPhonehome();
}

async function startPhonehome(): Promise<ProxyUnderTest> {
  const lab = await startLab();
  const caFile = path.join(lab.caDir, 'conformance-ca.pem');
  fs.writeFileSync(caFile, lab.ca.certPem);
  return { name: 'phonehome', httpPort: lab.port, socksPort: lab.port, caPem: lab.ca.certPem, caFile, close: () => lab.close() };
}

// mitmproxy resolves names itself; this addon sends *.test to 127.0.0.1 as phonehome's testLookup does.
const mitmproxyTestLookup = `
def server_connect(data):
    host, port = data.server.address
    if host.endswith(".test"):
        data.server.address = ("127.0.0.1", port)
`;

async function startMitmproxy(): Promise<ProxyUnderTest> {
  const work = tempDir('conformance-mitmproxy-');
  const confdir = path.join(work, 'conf');
  const originCaFile = path.join(work, 'origin-ca.pem');
  fs.writeFileSync(originCaFile, getOriginCa().certPem);
  const addon = path.join(work, 'test_lookup.py');
  fs.writeFileSync(addon, mitmproxyTestLookup);
  const common = ['--listen-host', '127.0.0.1', '--listen-port', '0', '--set', `confdir=${confdir}`, '--set', `ssl_verify_upstream_trusted_ca=${originCaFile}`, '-s', addon];
  // mitmproxy 8 serves one mode per process: the HTTP proxy first (it makes the CA), then SOCKS5.
  const regular = await startMitmdump(common);
  const socks = await startMitmdump([...common, '--mode', 'socks5']);
  const caFile = path.join(confdir, 'mitmproxy-ca-cert.pem');
  return {
    name: 'mitmproxy', httpPort: regular.port, socksPort: socks.port, caPem: fs.readFileSync(caFile, 'utf8'), caFile,
    close: async () => { await stopChild(regular.child); await stopChild(socks.child); },
  };
}

async function startMitmdump(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn('mitmdump', ['--set', 'flow_detail=0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const port = await within(new Promise<number>((resolve, reject) => {
    const onData = (c: Buffer): void => {
      output += c.toString();
      if (output.length > 65_536) output = output.slice(-65_536);
      const match = /listening at (?:\S+?):(\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`mitmdump exited ${code}: ${output}`)));
    child.once('error', reject);
  }), 30_000, 'mitmdump listening line');
  return { child, port };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

// ---- the recording origin ---------------------------------------------------------------------

export interface OriginOptions {
  /** Name on the origin's certificate (from the suite's origin CA); default api.example.test. */
  readonly hostname?: string;
  readonly tls?: boolean;
  /** Application protocols accepted over TLS, in the origin's preference; default ['http/1.1']. */
  readonly alpn?: readonly string[];
  /** Answers HTTP/1.1 requests, and HTTP/2 ones when 'h2' is accepted (Node's compatibility API). */
  readonly handler?: (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void;
  /**
   * Answers raw bytes: called with all bytes received so far on a connection; what it returns is
   * sent once. A script that returns `{ answer, used }` answers each request: the bytes it used
   * are dropped, and it is called again with the rest (a server that keeps its connections).
   */
  readonly script?: (received: Buffer) => Buffer | ScriptAnswer | undefined;
  /** After the script's answer the origin ends the connection (a server whose body runs until close). */
  readonly closeAfterScript?: boolean;
  /** Relays each connection's bytes (after TLS) to this plain TCP port on 127.0.0.1, e.g. a broker. */
  readonly relayTo?: number;
  /** The kind of key of the origin's certificate; default RSA. */
  readonly keyType?: LeafKeyType;
  /** More of its TLS settings (suites and security level, say), over Node's defaults. */
  readonly tlsOptions?: tls.SecureContextOptions;
  /**
   * Requires a client certificate issued by this CA (PEM), as a mutual-TLS server (an IoT hub)
   * does; its sessions resume (OpenSSL refuses to resume one that checked a certificate without a
   * session id context, which tls.createServer sets and a TLSSocket of our own must be given).
   */
  readonly clientCertificateCa?: string;
}

/** One answer of a script that answers each request on a connection, and how many bytes of it it used. */
export interface ScriptAnswer {
  readonly answer: Buffer;
  readonly used: number;
}

export interface RecordingOrigin {
  readonly port: number;
  readonly hostname: string;
  readonly tls: boolean;
  /** The origin CA, which direct clients trust. */
  readonly caPem: string;
  readonly caFile: string;
  /** What was received since the last reset, as text made to be diffed (see render). */
  transcript(): string;
  reset(): Promise<void>;
  /** Resolves once every connection to the origin has closed (for clients that close theirs). */
  allClosed(): Promise<void>;
  close(): Promise<void>;
}

interface Segment { readonly connection: number; readonly kind: 'tls' | 'bytes' | 'h2' | 'note'; chunks: Buffer[] }

const GENEROUS_HEAD_BYTES = 1024 * 1024;

/** Largest record of one run; a scenario past it is a broken scenario, not a bigger buffer. */
const MAX_RECORDED_BYTES = 8 * 1024 * 1024;

export async function startRecordingOrigin(options: OriginOptions): Promise<RecordingOrigin> {
  const hostname = options.hostname ?? 'api.example.test';
  const leaf = getOriginCa().issueLeaf(hostname, options.keyType);
  const secureContext = tls.createSecureContext({ ...options.tlsOptions, key: leaf.keyPem, cert: leaf.certPem, ...(options.clientCertificateCa ? { ca: options.clientCertificateCa, sessionIdContext: 'conformance-origin' } : {}) });
  const clientCertificate = options.clientCertificateCa ? { requestCert: true, rejectUnauthorized: true } : {};
  const accepted = options.alpn ?? ['http/1.1'];
  let segments: Segment[] = [];
  let recorded = 0;
  let nextConnection = 1;
  const sockets = new Set<net.Socket | Duplex>();
  const clientConnections = new Set<net.Socket>();
  let onAllClosed: (() => void) | undefined;

  const record = (connection: number, kind: Segment['kind'], bytes: Buffer | string): void => {
    const chunk = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    if (recorded > MAX_RECORDED_BYTES) return;
    recorded += chunk.length;
    if (recorded > MAX_RECORDED_BYTES) {
      // The run then differs from any complete one, and says why in the diff.
      segments.push({ connection, kind: 'note', chunks: [Buffer.from(`recording stopped past ${MAX_RECORDED_BYTES} bytes`)] });
      return;
    }
    const last = segments.at(-1);
    if (kind === 'bytes' && last?.kind === 'bytes' && last.connection === connection) last.chunks.push(chunk);
    else segments.push({ connection, kind, chunks: [chunk] });
  };

  // Inner servers answer the handler's requests; the front below records and relays to them.
  const inner: { h1?: http.Server; h2?: http2.Http2Server; h2Connections: Map<number, number> } = { h2Connections: new Map() };
  if (options.handler) {
    const handler = options.handler;
    // Heads as large as generous servers read and send (Go's 1 MiB), so that a scenario with a large
    // head measures the proxy, not Node's defaults (16 KiB; 64 KiB and 128 fields in HTTP/2).
    inner.h1 = http.createServer({ maxHeaderSize: GENEROUS_HEAD_BYTES }, (req, res) => { res.sendDate = false; handler(req, res); });
    inner.h1.listen(0, '127.0.0.1');
    await once(inner.h1, 'listening');
    if (accepted.includes('h2')) {
      inner.h2 = http2.createServer({ maxSendHeaderBlockLength: GENEROUS_HEAD_BYTES, maxHeaderListPairs: 10_000, settings: { maxHeaderListSize: GENEROUS_HEAD_BYTES } }, (req, res) => { res.sendDate = false; handler(req, res); });
      // HTTP/2 is recorded request by request, as received (see the file's head).
      const onStream = (stream: http2.ServerHttp2Stream, _headers: http2.IncomingHttpHeaders, _flags: number, rawHeaders: string[]): void => {
        const connection = inner.h2Connections.get(stream.session?.socket?.remotePort ?? 0) ?? 0;
        const body: Buffer[] = [];
        stream.on('data', (c: Buffer) => body.push(c));
        let trailers: Array<[string, unknown]> = [];
        stream.on('trailers', (received: http2.IncomingHttpHeaders) => { trailers = Object.entries(received); });
        stream.on('end', () => {
          const lines = ['h2 request'];
          for (let i = 0; i + 1 < rawHeaders.length; i += 2) lines.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
          lines.push(`body ${escapeBytes(Buffer.concat(body))}`);
          for (const [name, value] of trailers) lines.push(`trailer ${name}: ${String(value)}`);
          record(connection, 'h2', lines.join('\n'));
        });
      };
      // Node passes the header list as received (order, case, duplicates) as the fourth argument.
      inner.h2.on('stream', onStream as (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number) => void);
      inner.h2.listen(0, '127.0.0.1');
      await once(inner.h2, 'listening');
    }
  }

  const serve = (conn: Duplex, connection: () => number, protocol: string | undefined): void => {
    if (options.script) {
      let received = Buffer.alloc(0);
      let answered = false;
      conn.on('data', (c: Buffer) => {
        record(connection(), 'bytes', c);
        if (answered || received.length > MAX_RECORDED_BYTES) return;
        received = Buffer.concat([received, c]);
        for (;;) {
          const answer = options.script!(received);
          if (!answer) break;
          if (Buffer.isBuffer(answer)) {
            answered = true;
            if (options.closeAfterScript) conn.end(answer);
            else conn.write(answer);
            break;
          }
          // A server that keeps its connection: the next request is read from what is left.
          received = received.subarray(answer.used);
          conn.write(answer.answer);
          if (answer.used <= 0) break;
        }
      });
      return;
    }
    const h2 = protocol === 'h2';
    const port = options.relayTo ?? (h2 ? (inner.h2 ? portOf(inner.h2) : undefined) : (inner.h1 ? portOf(inner.h1) : undefined));
    if (port === undefined) { conn.destroy(); return; }
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(upstream);
    upstream.on('connect', () => { if (h2) inner.h2Connections.set(upstream.localPort ?? 0, connection()); });
    upstream.on('error', () => conn.destroy());
    conn.on('error', () => upstream.end());
    conn.on('data', (c: Buffer) => { if (!h2) record(connection(), 'bytes', c); });
    conn.pipe(upstream).pipe(conn);
    upstream.on('close', () => { sockets.delete(upstream); inner.h2Connections.delete(upstream.localPort ?? 0); });
  };

  const front = net.createServer((socket) => {
    sockets.add(socket);
    clientConnections.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      clientConnections.delete(socket);
      if (clientConnections.size === 0) onAllClosed?.();
    });
    socket.on('error', () => undefined);
    // Numbered on first bytes, not on accept: browsers open spare connections they may never use.
    let connection = 0;
    const number = (): number => (connection ||= nextConnection++);
    if (!options.tls) {
      serve(socket, number, undefined);
      return;
    }
    let head = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      head = Buffer.concat([head, c]);
      const hello = parseClientHello(head);
      if (hello.kind === 'partial' && head.length < maxClientHelloBytes) return;
      socket.off('data', onData);
      socket.pause();
      const n = number();
      if (hello.kind !== 'client-hello') {
        record(n, 'tls', `not a TLS ClientHello: ${hello.kind === 'invalid' ? hello.reason : 'too long'}`);
        socket.destroy();
        return;
      }
      const chosen = hello.alpn.length === 0 ? undefined : accepted.find((p) => hello.alpn.includes(p));
      record(n, 'tls', `tls sni=${hello.sni ?? '(none)'} alpn-offered=${hello.alpn.join(',') || '(none)'} chosen=${chosen ?? '(none)'}`);
      const secure = new tls.TLSSocket(replay(socket, head), { isServer: true, secureContext, ...clientCertificate, ...(chosen ? { ALPNProtocols: [chosen] } : {}) });
      secure.on('error', () => socket.destroy());
      secure.once('secure', () => serve(secure, () => n, secure.alpnProtocol || undefined));
    };
    socket.on('data', onData);
  });
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  const caFile = path.join(tempDir('conformance-origin-'), 'origin-ca.pem');
  fs.writeFileSync(caFile, getOriginCa().certPem);

  return {
    port: portOf(front), hostname, tls: !!options.tls, caPem: getOriginCa().certPem, caFile,
    transcript: () => render(segments),
    // Each run starts on fresh connections: a proxy's pooled upstream connection from the last run
    // would skip the TLS handshake, whose ClientHello is part of what a run must match.
    reset: async () => {
      const closing = [...sockets].map((socket) => (socket.destroyed ? undefined : once(socket, 'close')));
      for (const socket of sockets) socket.destroy();
      await Promise.all(closing);
      segments = []; recorded = 0; nextConnection = 1;
    },
    allClosed: () => (clientConnections.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => { onAllClosed = resolve; })),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      const closing = [new Promise<void>((resolve) => front.close(() => resolve()))];
      if (inner.h1) { inner.h1.closeAllConnections(); closing.push(new Promise<void>((resolve) => inner.h1!.close(() => resolve()))); }
      if (inner.h2) closing.push(new Promise<void>((resolve) => inner.h2!.close(() => resolve())));
      await Promise.all(closing);
    },
  };

  function portOf(server: net.Server | http2.Http2Server): number {
    return (server.address() as net.AddressInfo).port;
  }
}

/** A stream that yields `head` and then the socket's bytes: TLS must also see the bytes we peeked at. */
function replay(socket: net.Socket, head: Buffer): Duplex {
  const duplex = new Duplex({
    read() { socket.resume(); },
    write(chunk: Buffer, _encoding, callback) { socket.write(chunk, callback); },
    final(callback) { socket.end(); callback(); },
    destroy(error, callback) { socket.destroy(error ?? undefined); callback(error); },
  });
  duplex.push(head);
  socket.on('data', (c: Buffer) => { if (!duplex.push(c)) socket.pause(); });
  socket.on('end', () => duplex.push(null));
  socket.on('close', () => duplex.destroy());
  return duplex;
}

// ---- the plain relay: "direct" for clients that cannot pin a name ---------------------------------

/**
 * A SOCKS5 relay that changes nothing: it sends *.test to 127.0.0.1 and then only copies bytes.
 * It is the direct path for clients that have no way to pin a name to an address (mosquitto's
 * have no --resolve), so that the name, and with it the TLS SNI, is the same as through the proxy.
 */
export async function startPlainSocksRelay(tamper?: { up?: (bytes: Buffer) => Buffer; down?: (bytes: Buffer) => Buffer }): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    let received = Buffer.alloc(0);
    let stage: 'greeting' | 'request' = 'greeting';
    const onData = (c: Buffer): void => {
      received = Buffer.concat([received, c]);
      if (stage === 'greeting') {
        const greeting = parseSocks5Greeting(received);
        if (greeting.kind === 'partial') return;
        if (greeting.kind === 'invalid' || !greeting.methods.includes(socks5Method.noAuth)) { client.destroy(); return; }
        client.write(Buffer.from([5, socks5Method.noAuth]));
        received = received.subarray(greeting.consumed);
        stage = 'request';
      }
      const request = parseSocks5Request(received);
      if (request.kind === 'partial') return;
      client.off('data', onData);
      client.pause();
      if (request.kind === 'invalid') { client.end(socks5Response(request.reply ?? socks5Reply.generalFailure)); return; }
      const host = request.address.host.endsWith('.test') ? '127.0.0.1' : request.address.host;
      const upstream = net.connect(request.port, host);
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      // A reset on one side ends the other after what was already relayed: a client that closes
      // abruptly (mosquitto_sub after its last message) must not lose its last bytes here.
      upstream.on('error', () => client.end());
      client.on('error', () => upstream.end());
      upstream.once('connect', () => {
        client.write(socks5Response(socks5Reply.succeeded));
        const rest = received.subarray(request.consumed);
        if (rest.length > 0) upstream.write(rest);
        // The harness's own test passes a tamper to prove that a changed byte is seen.
        if (!tamper) { client.pipe(upstream).pipe(client); return; }
        client.on('data', (c: Buffer) => upstream.write(tamper.up?.(c) ?? c));
        upstream.on('data', (c: Buffer) => client.write(tamper.down?.(c) ?? c));
        client.on('end', () => upstream.end());
        upstream.on('end', () => client.end());
        client.resume();
      });
    };
    client.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => { for (const socket of sockets) socket.destroy(); server.close(() => resolve()); }),
  };
}

// ---- rendering and comparing ------------------------------------------------------------------

/**
 * Bytes as diffable text: printable ASCII as is, CR as \r, other bytes as \xNN, and a line break
 * after each LF so that every HTTP header line is a line of the diff.
 */
export function escapeBytes(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes) {
    if (byte === 0x0a) out += '\\n\n';
    else if (byte === 0x0d) out += '\\r';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

function render(segments: readonly Segment[]): string {
  // Renumber by first appearance in this run: connection ids are the proxy's business.
  const numbers = new Map<number, number>();
  return segments.map((segment) => {
    if (!numbers.has(segment.connection)) numbers.set(segment.connection, numbers.size + 1);
    const body = segment.kind === 'bytes' ? escapeBytes(Buffer.concat(segment.chunks)) : Buffer.concat(segment.chunks).toString();
    return `--- connection ${numbers.get(segment.connection)} ${segment.kind}\n${body}`;
  }).join('\n');
}

/** The first line where two renderings part, for one-line reports. */
export function firstDifference(expected: string, actual: string): string | undefined {
  if (expected === actual) return undefined;
  const a = expected.split('\n');
  const b = actual.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: direct ${JSON.stringify(a[i] ?? '(end)')} vs proxied ${JSON.stringify(b[i] ?? '(end)')}`;
  }
  return undefined;
}

// ---- scenarios --------------------------------------------------------------------------------

export interface RunContext {
  readonly mode: Mode;
  readonly proxy: ProxyUnderTest;
  readonly origin: RecordingOrigin;
  /** The CA the client trusts in this mode: the origin's when direct, the proxy's through it. */
  readonly caFile: string;
  readonly caPem: string;
}

export interface Scenario {
  readonly name: string;
  /** The proxied modes this client can use; default both. */
  readonly modes?: readonly ProxiedMode[];
  /** Runs the client once and returns what it got, as text (exit status and errors included). */
  run(context: RunContext): Promise<string>;
  /**
   * The client closes its connections when it is done (MQTT clients do; HTTP clients keep them for
   * reuse): the run waits for every origin connection to close before the transcript is read, so
   * the last bytes in flight are in it, and a proxy that keeps the upstream open fails the run.
   */
  readonly closesConnections?: boolean;
  /** Turns the origin's transcript into the form compared, e.g. requests sorted for a browser. */
  readonly originView?: (transcript: string) => string;
  /**
   * What the client writes another way when it talks to an HTTP proxy, undone in the origin's
   * transcripts (direct and proxied alike) before they are compared in the http-proxy mode: the
   * client's doing, not the proxy's (Chromium sends Proxy-Connection where it sends Connection
   * direct). Everything else in the record is still compared byte for byte.
   */
  readonly proxyDialect?: (transcript: string) => string;
}

/**
 * Comparisons known to differ today, with the reason (whose fix, what differs). A key is
 * "<scenario> @ <mode> origin" (what the origin received) or "<scenario> @ <mode> client" (what the
 * client got). They are skipped, saying so, unless CONFORMANCE_ALL=1.
 */
export type KnownDifferences = Readonly<Record<string, string>>;

/** One run of a scenario in one mode, on fresh origin connections: what the client got and what the origin received. */
export async function runScenario(proxy: ProxyUnderTest, origin: RecordingOrigin, scenario: Scenario, mode: Mode): Promise<{ client: string; origin: string }> {
  await origin.reset();
  const trust = mode === 'direct' ? { caFile: origin.caFile, caPem: origin.caPem } : { caFile: proxy.caFile, caPem: proxy.caPem };
  const client = await scenario.run({ mode, proxy, origin, ...trust });
  if (scenario.closesConnections) await within(origin.allClosed(), 10_000, `the origin's connections to close after ${scenario.name} @ ${mode}`);
  return { client, origin: (scenario.originView ?? ((s: string) => s))(origin.transcript()) };
}

/**
 * The dialect of Chromium, HttpURLConnection and Apache HttpClient to an HTTP proxy
 * (Scenario.proxyDialect): they send `Proxy-Connection: keep-alive` (Apache: `Keep-Alive`), which
 * is the proxy's and goes no further, where direct they send `Connection: keep-alive`. curl sends
 * Proxy-Connection to a proxy and no Connection direct, so a proxy that turned one into the other
 * would be wrong for curl: no rule fits both.
 */
export function withoutConnectionKeepAlive(transcript: string): string {
  return transcript.split('\n').filter((line) => !CONNECTION_KEEP_ALIVE.test(line)).join('\n');
}

/** A Connection: keep-alive line of the transcript, in either case of its value. */
const CONNECTION_KEEP_ALIVE = /^Connection: keep-alive\\r\\n$/i;

/** Known differences of one scenario, the same in each of `modes`. */
export function bothModes(scenario: string, reasons: { origin?: string; client?: string }, modes: readonly ProxiedMode[] = ['http-proxy', 'socks5']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const mode of modes) {
    if (reasons.origin) out[`${scenario} @ ${mode} origin`] = reasons.origin;
    if (reasons.client) out[`${scenario} @ ${mode} client`] = reasons.client;
  }
  return out;
}

/**
 * Runs `scenario` direct and then in each proxied mode against `origin`, and asserts that the
 * origin's transcript and the client's output match the direct run's.
 */
export async function differential(t: Test, proxy: ProxyUnderTest, origin: RecordingOrigin, scenario: Scenario, known: KnownDifferences = {}): Promise<void> {
  const runOnce = (mode: Mode) => runScenario(proxy, origin, scenario, mode);
  const all = !!process.env['CONFORMANCE_ALL'];
  const direct = await runOnce('direct');
  for (const mode of scenario.modes ?? ['http-proxy', 'socks5']) {
    const label = `${scenario.name} @ ${mode}`;
    const originKnown = all ? undefined : known[`${label} origin`];
    const clientKnown = all ? undefined : known[`${label} client`];
    if (originKnown && clientKnown) {
      t.pass(`${label}: known to differ`, { skip: `origin: ${originKnown}; client: ${clientKnown} (CONFORMANCE_ALL=1 runs it)` });
      continue;
    }
    let proxied: { client: string; origin: string };
    try {
      proxied = await runOnce(mode);
    } catch (error) {
      appendTableRow({ proxy: proxy.name, scenario: scenario.name, mode, identical: false, error: error instanceof Error ? error.message.split('\n')[0] : String(error) });
      throw error;
    }
    const dialect = mode === 'http-proxy' && scenario.proxyDialect ? scenario.proxyDialect : (transcript: string) => transcript;
    const [expectedOrigin, seenOrigin] = [dialect(direct.origin), dialect(proxied.origin)];
    const originDifference = firstDifference(expectedOrigin, seenOrigin);
    const clientDifference = firstDifference(direct.client, proxied.client);
    appendTableRow({ proxy: proxy.name, scenario: scenario.name, mode, identical: !originDifference && !clientDifference, origin: originDifference, client: clientDifference });
    if (originKnown) t.pass(`${label}: the origin's record is known to differ`, { skip: `${originKnown} (CONFORMANCE_ALL=1 compares it)` });
    // The first difference goes in the name, which a CI summary keeps where it cuts the diff.
    else t.equal(seenOrigin, expectedOrigin, `${label}: the origin received what it receives direct${originDifference ? ` (${originDifference})` : ''}`);
    if (clientKnown) t.pass(`${label}: the client's output is known to differ`, { skip: `${clientKnown} (CONFORMANCE_ALL=1 compares it)` });
    else t.equal(proxied.client, direct.client, `${label}: the client got what it gets direct${clientDifference ? ` (${clientDifference})` : ''}`);
  }
}

/** One origin a client's scenario runs against: its subtest's title, how it starts, and the scenario. */
export interface OriginCase {
  readonly title: string;
  readonly start: () => Promise<RecordingOrigin>;
  readonly scenario: Scenario;
}

/** Runs each case's scenario differentially against its origin, in a subtest of its own that closes the origin. */
export function differentialPerOrigin(t: Test, proxy: ProxyUnderTest, cases: readonly OriginCase[], known: KnownDifferences = {}): void {
  for (const { title, start, scenario } of cases) {
    t.test(title, async (t) => {
      const origin = await start();
      t.teardown(() => origin.close());
      await differential(t, proxy, origin, scenario, known);
    });
  }
}

function appendTableRow(row: Record<string, unknown>): void {
  const file = process.env['CONFORMANCE_TABLE'];
  if (file) fs.appendFileSync(file, `${JSON.stringify(row)}\n`);
}

/**
 * An origin handler for API clients: answers JSON saying what it received (method, target, body
 * length), with no-store and one header sent as two fields (two lines in HTTP/1.1), which the
 * client must get as two, not joined.
 */
export function jsonEchoHandler(req: { method?: string; url?: string; on: (e: string, f: (c?: Buffer) => void) => unknown }, res: { setHeader: (n: string, v: string | string[]) => unknown; end: (b: string) => unknown }): void {
  const body: Buffer[] = [];
  req.on('data', (c) => body.push(c!));
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-served-by', ['edge-1', 'edge-2']);
    res.end(JSON.stringify({ method: req.method, url: req.url, bytes: Buffer.concat(body).length }));
  });
}

/** How a client with its own proxy setting is told the mode: direct, http or socks5, and the port. */
export function clientProxyArgs(context: RunContext): { mode: 'direct' | 'http' | 'socks5'; port: number } {
  if (context.mode === 'direct') return { mode: 'direct', port: 0 };
  return context.mode === 'socks5' ? { mode: 'socks5', port: context.proxy.socksPort } : { mode: 'http', port: context.proxy.httpPort };
}

/** The reason a client is missing on this machine, or undefined when it is there. */
export function missingCommand(command: string, install: string): string | undefined {
  const found = (process.env['PATH'] ?? '').split(':').some((dir) => dir && fs.existsSync(path.join(dir, command)));
  return found ? undefined : `${command} is not installed (apt-get install ${install})`;
}

/** Runs a client program to its end: its exit status, its output as diffable text, and its stderr. */
export async function runClient(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<{ status: number | null; stdout: Buffer; stderr: string; text: string }> {
  // No proxy settings from the environment: each mode says its proxy on the command line.
  const env = { ...process.env, ...options.env };
  for (const name of ['http_proxy', 'https_proxy', 'all_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY']) if (!options.env?.[name]) delete env[name];
  const child = spawn(command, args, { env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => stdout.push(c));
  child.stderr!.on('data', (c: Buffer) => { if (stderr.length < 65_536) stderr += c.toString(); });
  const [status] = (await within(once(child, 'close'), 60_000, `${command} to finish`)) as [number | null];
  const out = Buffer.concat(stdout);
  return { status, stdout: out, stderr, text: `exit ${status}\n${escapeBytes(out)}${stderr ? `\nstderr: ${stderr}` : ''}` };
}

/** Why runClientWithTestNames cannot run here, or undefined when it can. */
export const cannotRunWithTestNames: string | undefined = process.getuid?.() !== 0 ? 'a client that resolves names itself runs with its own /etc/hosts in a mount namespace, which needs root'
  : missingCommand('unshare', 'util-linux');

/**
 * Runs a client that resolves names itself and has no setting to send one elsewhere (wget, Qt)
 * where /etc/hosts sends `names` to 127.0.0.1, where the suite's servers listen: a mount namespace
 * of its own, with a file bound over /etc/hosts (unshare; root). Through a proxy the names go to
 * the proxy and this changes nothing.
 */
export async function runClientWithTestNames(names: readonly string[], command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<{ status: number | null; stdout: Buffer; stderr: string; text: string }> {
  const hosts = path.join(tempDir('conformance-hosts-'), 'hosts');
  fs.writeFileSync(hosts, `127.0.0.1 localhost\n${names.map((name) => `127.0.0.1 ${name}\n`).join('')}`);
  const script = 'mount --bind "$0" /etc/hosts && exec "$@"';
  return runClient('unshare', ['--mount', 'sh', '-c', script, hosts, command, ...args], options);
}

/** Debian's Python, where Debian's Python packages are (the python3 first on PATH, pyenv's here, may lack them). */
export const debianPython = '/usr/bin/python3';

/** Why Debian's Python cannot run `imports` (Python statements), naming the packages to install, or undefined when it can. */
export function missingPythonModules(imports: string, what: string, install: string): string | undefined {
  return spawnSync(debianPython, ['-c', imports], { stdio: 'ignore' }).status === 0 ? undefined : `${what} is not installed for Debian's Python (apt-get install ${install})`;
}
