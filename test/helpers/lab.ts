// A small lab for tests: a temporary CA folder, an origin server with its own CA (the "real"
// server), phonehome's engine on 127.0.0.1:0, and clients that go through it with CONNECT.
// Names ending in .test resolve to 127.0.0.1 for phonehome's upstream connections.

import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { once } from 'node:events';
import { connectTunnel } from '../../src/proxy/client/tunnel-agent.js';
import { CertificateAuthority } from '../../src/proxy/ca/certificate-authority.js';
import { ClientAccess, defaultAllowedClients } from '../../src/proxy/access/client-access.js';
import { InterceptingProxy, type InterceptingProxyOptions } from '../../src/proxy/intercepting-proxy.js';
import { PassthroughPolicy } from '../../src/proxy/passthrough.js';
import { EventBus, type PhonehomeEvents } from '../../src/flow/events.js';
import { limits } from '../../src/limits.js';
import { loopbackLookup } from '../../src/util/loopback-lookup.js';
import type { Flow } from '../../src/model/flow.js';

export function tempDir(prefix = 'phonehome-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A PEM written to a file of its own (a CA for a client's -CAfile / --cacert), in a new temporary folder. */
export function pemFile(pem: string): string {
  const file = path.join(tempDir(), 'ca.pem');
  fs.writeFileSync(file, pem);
  return file;
}

/** Resolves *.test to 127.0.0.1, everything else as usual. */
export const testLookup = loopbackLookup('.test');

let originCa: CertificateAuthority | undefined;
/** The CA of the "real" servers in tests, distinct from phonehome's. */
export function getOriginCa(): CertificateAuthority {
  originCa ??= CertificateAuthority.loadOrCreate(tempDir('phonehome-origin-ca-'));
  return originCa;
}

export interface Origin {
  readonly port: number;
  readonly server: http.Server | https.Server;
  close(): Promise<void>;
}

/** Starts an HTTP or HTTPS origin on 127.0.0.1:0 with a certificate for `hostname` (one name or several). */
export async function startOrigin(options: { tls: boolean; hostname?: string | readonly string[]; ca?: CertificateAuthority; handler: http.RequestListener }): Promise<Origin> {
  let server: http.Server | https.Server;
  if (options.tls) {
    const leaf = (options.ca ?? getOriginCa()).issueLeaf(options.hostname ?? 'api.example.test');
    server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem }, options.handler);
  } else {
    server = http.createServer(options.handler);
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    server,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

export interface Lab {
  readonly proxy: InterceptingProxy;
  readonly port: number;
  readonly events: EventBus;
  readonly ca: CertificateAuthority;
  readonly caDir: string;
  readonly flows: Flow[];
  readonly passthrough: PassthroughPolicy;
  /** Resolves with the first event (past or future) that matches. */
  next<K extends keyof PhonehomeEvents>(event: K, match?: (...args: PhonehomeEvents[K]) => boolean): Promise<PhonehomeEvents[K][0]>;
  close(): Promise<void>;
}

export async function startLab(overrides: Partial<InterceptingProxyOptions> = {}): Promise<Lab> {
  const caDir = tempDir('phonehome-ca-');
  const ca = CertificateAuthority.loadOrCreate(caDir);
  const events = new EventBus();
  const passthrough = overrides.passthrough ?? new PassthroughPolicy();
  const proxy = new InterceptingProxy({
    listenHost: '127.0.0.1', listenPort: 0, ca, events, bodyLimitBytes: 32 * 1024 * 1024,
    upstreamCaPems: [getOriginCa().certPem], insecureUpstream: false, passthrough,
    access: new ClientAccess([...defaultAllowedClients]), lookup: testLookup, ...overrides,
  });
  const { port } = await proxy.start();
  const flows: Flow[] = [];
  const seen = new Map<string, unknown[][]>();
  const record = (name: string) => (...args: unknown[]) => {
    const list = seen.get(name) ?? [];
    list.push(args);
    seen.set(name, list);
  };
  for (const name of ['flow:start', 'flow:end', 'tunnel:end', 'tls:failed', 'finding'] as const) events.on(name, record(name) as never);
  events.on('flow:end', (flow) => flows.push(flow));
  return {
    proxy, port, events, ca, caDir, flows, passthrough,
    next(event, match) {
      const past = (seen.get(event) ?? []).find((args) => !match || (match as (...a: unknown[]) => boolean)(...args));
      if (past) return Promise.resolve(past[0] as never);
      // Every awaited event has a deadline: a regression fails with what was awaited, not a hang.
      return within(new Promise((resolve) => {
        const listener = (...args: unknown[]): void => {
          if (match && !(match as (...a: unknown[]) => boolean)(...args)) return;
          events.off(event, listener as never);
          resolve(args[0] as never);
        };
        events.on(event, listener as never);
      }), 20_000, `${event} event${match ? ' matching the test' : ''}`);
    },
    close: () => proxy.stop(),
  };
}

export interface ClientResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export { connectTunnel, TunnelAgent } from '../../src/proxy/client/tunnel-agent.js';

/** An HTTPS request through the proxy, trusting only `trust` (phonehome's CA by default). */
export async function httpsViaProxy(options: {
  proxyPort: number; host: string; port: number; path?: string; method?: string; body?: Buffer | string;
  headers?: Record<string, string>; trust: string | string[]; servername?: string;
}): Promise<ClientResponse> {
  const { socket, status } = await connectTunnel(options.proxyPort, `${options.host}:${options.port}`);
  if (status !== 200) {
    socket.destroy();
    throw new Error(`CONNECT answered ${status}`);
  }
  const req = https.request({
    host: options.host, port: options.port, path: options.path ?? '/', method: options.method ?? 'GET', headers: options.headers,
    // createConnection is only used without an agent: the request rides on our tunnel socket.
    createConnection: () => tls.connect({ socket, host: options.host, ca: options.trust, servername: options.servername ?? (net.isIP(options.host) ? undefined : options.host) }),
  });
  req.end(options.body);
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
}

/** A plain HTTP request through the proxy (absolute-form). */
export async function httpViaProxy(options: { proxyPort: number; url: string; method?: string; body?: Buffer | string; headers?: Record<string, string> }): Promise<ClientResponse> {
  const target = new URL(options.url);
  const req = http.request({ host: '127.0.0.1', port: options.proxyPort, method: options.method ?? 'GET', path: options.url, headers: { host: target.host, ...options.headers }, agent: false });
  req.end(options.body);
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
}

/** Sends raw bytes to the proxy and collects everything it answers until it closes. */
export async function rawExchange(proxyPort: number, bytes: string | Buffer): Promise<string> {
  const socket = net.connect(proxyPort, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(bytes);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('latin1');
}

/** A GET through a TunnelAgent. */
export async function getWithAgent(agent: https.Agent, url: string): Promise<ClientResponse> {
  const req = https.get(url, { agent });
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
}

/** An HTTP/2 origin on 127.0.0.1:0 (TLS, ALPN h2; `allowHttp1` also accepts HTTP/1.1 clients). */
export async function startH2Origin(options: { hostname?: string; allowHttp1?: boolean; settings?: http2.Settings; limits?: GenerousHeadLimits; onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void }): Promise<Origin & { sessions: Set<http2.ServerHttp2Session> }> {
  const leaf = getOriginCa().issueLeaf(options.hostname ?? 'api.example.test');
  const settings = { ...options.settings, ...(options.limits ? { maxHeaderListSize: options.limits.headBytes } : {}) };
  const server = http2.createSecureServer({ key: leaf.keyPem, cert: leaf.certPem, allowHTTP1: options.allowHttp1 ?? false, settings, ...(options.limits ? h2HeadLimits(options.limits) : {}) });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', options.onStream);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    server: server as unknown as https.Server,
    sessions,
    close: () => new Promise((resolve) => {
      for (const session of sessions) session.destroy();
      server.close(() => resolve());
    }),
  };
}

/**
 * A device's HTTP/2 connection through the proxy: CONNECT, TLS offering `alpn`, then an h2 session
 * when h2 was agreed. `checks: false`: a device that takes any certificate; `settings`: the SETTINGS the device sends.
 */
export async function h2ViaProxy(options: { proxyPort: number; host: string; port: number; trust: string; alpn?: string[]; checks?: boolean; limits?: GenerousHeadLimits; settings?: http2.Settings }): Promise<{ tls: tls.TLSSocket; session?: http2.ClientHttp2Session }> {
  const { socket, status } = await connectTunnel(options.proxyPort, `${options.host}:${options.port}`);
  if (status !== 200) throw new Error(`CONNECT answered ${status}`);
  const secure = tls.connect({ socket, ca: options.trust, servername: options.host, ALPNProtocols: options.alpn ?? ['h2', 'http/1.1'], rejectUnauthorized: options.checks !== false });
  await once(secure, 'secureConnect');
  if (secure.alpnProtocol !== 'h2') return { tls: secure };
  const settings = { ...options.settings, ...(options.limits ? { maxHeaderListSize: options.limits.headBytes } : {}) };
  const session = http2.connect(`https://${options.host}:${options.port}`, { createConnection: () => secure, settings, ...(options.limits ? h2HeadLimits(options.limits) : {}) });
  session.on('error', () => undefined);
  return { tls: secure, session };
}

/** Head sizes an HTTP/2 peer of a test sends and reads, past Node's defaults (64 KiB sent, 128 fields). */
export interface GenerousHeadLimits { readonly headBytes: number; readonly fields: number }

function h2HeadLimits(limits: GenerousHeadLimits): { maxSendHeaderBlockLength: number; maxHeaderListPairs: number } {
  return { maxSendHeaderBlockLength: limits.headBytes, maxHeaderListPairs: limits.fields };
}

/** One HTTP/2 request on a session: status, headers, body and trailers. */
export async function h2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer | string): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: Buffer; trailers?: http2.IncomingHttpHeaders }> {
  const stream = session.request(headers, { endStream: body === undefined });
  if (body !== undefined) stream.end(body);
  let trailers: http2.IncomingHttpHeaders | undefined;
  stream.on('trailers', (t) => { trailers = t; });
  const [responseHeaders] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return { status: Number(responseHeaders[':status']), headers: responseHeaders, body: Buffer.concat(chunks), ...(trailers ? { trailers } : {}) };
}

/** A SOCKS5 client by hand (RFC 1928/1929): resolves with the connected socket, or the reply code it got. */
export async function socks5Connect(proxyPort: number, target: { host: string; port: number }, credentials?: { user: string; pass: string }): Promise<{ socket: net.Socket; reply: number }> {
  const socket = net.connect(proxyPort, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  let buffered = Buffer.alloc(0);
  const read = async (n: number): Promise<Buffer> => {
    while (buffered.length < n) {
      const chunk = await new Promise<Buffer | undefined>((resolve) => {
        const onData = (c: Buffer): void => { socket.off('close', onClose); resolve(c); };
        const onClose = (): void => { socket.off('data', onData); resolve(undefined); };
        socket.once('data', onData);
        socket.once('close', onClose);
      });
      if (!chunk) throw new Error(`the proxy closed the connection (had ${buffered.length} of ${n} bytes)`);
      buffered = Buffer.concat([buffered, chunk]);
    }
    const out = buffered.subarray(0, n);
    buffered = buffered.subarray(n);
    return out;
  };
  socket.write(Buffer.from([5, 1, credentials ? 2 : 0]));
  const [, method] = await read(2);
  if (method === 0xff) return { socket, reply: 0xff };
  if (method === 2) {
    const user = Buffer.from(credentials?.user ?? '');
    const pass = Buffer.from(credentials?.pass ?? '');
    socket.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]));
    const [, status] = await read(2);
    if (status !== 0) return { socket, reply: 0xff };
  }
  const v4 = net.isIPv4(target.host);
  const host = Buffer.from(target.host);
  const address = v4 ? Buffer.from([1, ...target.host.split('.').map(Number)]) : Buffer.concat([Buffer.from([3, host.length]), host]);
  const port = Buffer.alloc(2);
  port.writeUInt16BE(target.port);
  socket.write(Buffer.concat([Buffer.from([5, 1, 0]), address, port]));
  const reply = await read(10);
  socket.pause();
  if (buffered.length > 0) socket.unshift(buffered);
  return { socket, reply: reply[1]! };
}

/** A server on 127.0.0.1:0 and one client connected to it: [client, the server's socket]. */
export async function connectedPair(t: { teardown(fn: () => void): void }, serverOptions: net.ServerOpts = {}): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer(serverOptions);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const [[serverSide]] = await Promise.all([accepted, once(client, 'connect')]);
  t.teardown(() => {
    client.destroy();
    serverSide.destroy();
    server.close();
  });
  serverSide.on('error', () => undefined);
  client.on('error', () => undefined);
  return [client, serverSide];
}

/**
 * A deadline for an awaited event: a regression fails the test with what was awaited, instead of
 * hanging until the runner's timeout. Not a sleep: it resolves as soon as the event comes.
 */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** The names of limits.ts's numbers (not its tables). */
type NumericLimit = { [K in keyof typeof limits]: (typeof limits)[K] extends number ? K : never }[keyof typeof limits];

/**
 * Sets one of phonehome's limits (limits.ts) for the rest of test `t`, and puts it back at its end:
 * a wait made endless, so that a wait that should not happen shows as a hang that `within` reports.
 */
export function withLimit(t: { teardown(fn: () => void): void }, name: NumericLimit, value: number): void {
  const mutable = limits as unknown as Record<NumericLimit, number>;
  const before = mutable[name];
  mutable[name] = value;
  t.teardown(() => { mutable[name] = before; });
}

/** Polls `ready` until it holds, with a deadline that fails the test with what was awaited. */
export async function until(ready: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A port on 127.0.0.1 that nothing listens on now: for a server program that must be told its
 * port (mosquitto, Dovecot), or for a connection that must be refused.
 */
export async function unusedPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
