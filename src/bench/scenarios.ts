// The load: what a phone's apps do, through a subject's proxy (CONNECT, then TLS to the proxy's
// leaf) or direct. Each scenario returns raw counts and times; the bench turns them into figures.

import crypto from 'node:crypto';
import http2 from 'node:http2';
import https from 'node:https';
import tls from 'node:tls';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { connectTunnel } from '../proxy/client/tunnel-agent.js';
import { BenchTunnelAgent } from './bench-agent.js';
import { writeBody } from './body-pump.js';
import type { Subject } from './subjects.js';

export const MB = 1024 * 1024;
export const CONCURRENCY = 10;
export const H2_STREAMS = 8;
/** The WebSocket row: messages of this size, this many timed after WEBSOCKET_WARM_MESSAGES untimed. */
export const WEBSOCKET_MESSAGE_BYTES = 64 * 1024;
export const WEBSOCKET_MESSAGES = 1000;
const WEBSOCKET_WARM_MESSAGES = 50;

function agentFor(subject: Subject, options: https.AgentOptions = {}): https.Agent {
  return subject.proxyPort === undefined
    ? new https.Agent({ keepAlive: true, ca: subject.trust, ...options })
    : new BenchTunnelAgent(subject.proxyPort, subject.trust, subject.tlsNameFor, options);
}

function request(agent: https.Agent, host: string, port: number, pathAndQuery: string, options: { method?: string; uploadBytes?: number; slowReaderBytesPerSecond?: number } = {}): Promise<{ firstByteMs: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = https.request({ host, port, path: pathAndQuery, method: options.method ?? 'GET', agent, headers: options.uploadBytes ? { 'content-length': options.uploadBytes } : {} }, (res) => {
      const firstByteMs = performance.now() - started;
      let bytes = 0;
      const readStarted = performance.now();
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        const rate = options.slowReaderBytesPerSecond;
        if (rate) {
          // A slow reader on purpose: the proxy must hold back, not buffer the download.
          const aheadMs = (bytes / rate) * 1000 - (performance.now() - readStarted);
          if (aheadMs > 5) {
            res.pause();
            setTimeout(() => res.resume(), aheadMs);
          }
        }
      });
      res.on('end', () => resolve({ firstByteMs, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    writeBody(req, options.uploadBytes ?? 0);
  });
}

/** One request on a fresh connection: the subject is up and has done its first-flow work. */
export async function warmUp(subject: Subject, port: number): Promise<void> {
  const agent = agentFor(subject);
  try {
    await request(agent, '127.0.0.1', port, '/warm');
  } finally {
    agent.destroy();
  }
}

/**
 * MB/s of one large upload or download on a warm connection. `warmBodies` untimed bodies of the
 * same size go first on that connection: the first large body a relay's process moves is slower
 * than the next ones (the bare pipe relay, pinned: 224 MB/s for its first 128 MB upload, then
 * 391-414, on a warm or a new connection alike), so without one a subject that had moved a large
 * body before (HTTP/2's upload) was measured warm against one that had not. `onClockStart` is
 * called just before the timed body (the bench reads the subject's CPU there).
 */
export async function throughput(subject: Subject, port: number, direction: 'upload' | 'download', bytes: number, options: { warmBodies?: number; onClockStart?: () => void } = {}): Promise<number> {
  const agent = agentFor(subject);
  const once = (): Promise<unknown> => (direction === 'upload'
    ? request(agent, '127.0.0.1', port, '/upload', { method: 'POST', uploadBytes: bytes })
    : request(agent, '127.0.0.1', port, `/download?size=${bytes}`));
  try {
    await request(agent, '127.0.0.1', port, '/warm');
    for (let i = 0; i < (options.warmBodies ?? 0); i++) await once();
    options.onClockStart?.();
    const started = performance.now();
    await once();
    return bytes / MB / ((performance.now() - started) / 1000);
  } finally {
    agent.destroy();
  }
}

/** Requests done, and in what time: a phase's rate. */
export interface Rate { readonly requests: number; readonly seconds: number }

/** Runs `once` back to back on `lanes` parallel lanes for `seconds`: how many finished, in what time. */
export async function repeatFor(seconds: number, lanes: number, once: () => Promise<unknown>): Promise<Rate> {
  let done = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (performance.now() < until) {
      await once();
      done++;
    }
  }));
  return { requests: done, seconds: (performance.now() - started) / 1000 };
}

/**
 * Small GETs (64-byte answers) on CONCURRENCY keep-alive connections: `warmSeconds` of them first
 * (`warm`: their rate), then `seconds` measured. `onClockStart` runs when the warm-up is over and
 * the clock starts (where the caller reads the subject's CPU): this row is about requests, not
 * handshakes, and about a proxy that has been running, not one still compiling its code. A
 * capture runs for hours or days; its first seconds (V8 interprets, then compiles, the code each
 * request takes) are the warm-up's own figure. Measured on this box with `taskset`: phonehome
 * after 10 requests spent ~500 µs of CPU on each of the next 3 s of requests, ~215 µs once warm
 * (10,000 requests in); the bare HTTP relay 99 and 74 µs.
 */
export async function smallRequests(subject: Subject, port: number, seconds: number, onClockStart: () => void = () => undefined, warmSeconds = 0): Promise<Rate & { warm: Rate }> {
  const agent = agentFor(subject, { maxSockets: CONCURRENCY });
  const once = (): Promise<unknown> => request(agent, '127.0.0.1', port, '/small?size=64');
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, once));
    const warm = await repeatFor(warmSeconds, CONCURRENCY, once);
    onClockStart();
    return { ...(await repeatFor(seconds, CONCURRENCY, once)), warm };
  } finally {
    agent.destroy();
  }
}

/** First-byte time of one request to each new host, each on its own connection. */
export async function newHosts(subject: Subject, port: number, ips: readonly string[]): Promise<{ p50: number; p95: number }> {
  const times: number[] = [];
  for (const ip of ips) {
    const agent = agentFor(subject);
    try {
      times.push((await request(agent, ip, port, '/new')).firstByteMs);
    } finally {
      agent.destroy();
    }
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)]!, p95: times[Math.floor(times.length * 0.95)]! };
}

/** The memory scenario: a 1 GB upload, then a 200 MB download read at 40 MB/s. */
export async function memoryLoad(subject: Subject, port: number): Promise<void> {
  const agent = agentFor(subject);
  try {
    await request(agent, '127.0.0.1', port, '/upload', { method: 'POST', uploadBytes: 1024 * MB });
    await request(agent, '127.0.0.1', port, `/download?size=${200 * MB}`, { slowReaderBytesPerSecond: 40 * MB });
  } finally {
    agent.destroy();
  }
}

/** One HTTP/2 connection to the origin, through the subject's proxy when it has one (CONNECT, then TLS with ALPN h2). */
export async function h2Session(subject: Subject, port: number): Promise<http2.ClientHttp2Session> {
  let session: http2.ClientHttp2Session;
  if (subject.proxyPort === undefined) {
    session = http2.connect(`https://127.0.0.1:${port}`, { ca: subject.trust });
  } else {
    const { socket, status } = await connectTunnel(subject.proxyPort, `127.0.0.1:${port}`);
    if (status !== 200) throw new Error(`CONNECT answered ${status}`);
    socket.setNoDelay(true);
    // host (not servername): an IP is checked against the certificate's IP names, and sends no SNI;
    // unless the subject needs a DNS name for it (bench-agent.ts).
    const servername = subject.tlsNameFor?.('127.0.0.1');
    const secure = tls.connect({ socket, host: '127.0.0.1', ca: subject.trust, ALPNProtocols: ['h2'], ...(servername ? { servername, checkServerIdentity: (_host: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(servername, cert) } : {}) });
    secure.on('error', () => undefined); // reported by the session's streams
    await once(secure, 'secureConnect');
    if (secure.alpnProtocol !== 'h2') {
      secure.destroy();
      throw new Error('the proxy did not negotiate h2 with the client');
    }
    session = http2.connect(`https://127.0.0.1:${port}`, { createConnection: () => secure });
  }
  session.on('error', (error) => process.stderr.write(`bench: ${subject.id}: HTTP/2 session: ${error.message}\n`));
  return session;
}

export function h2Request(session: http2.ClientHttp2Session, pathAndQuery: string, uploadBytes = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': uploadBytes > 0 ? 'POST' : 'GET', ':path': pathAndQuery }, { endStream: uploadBytes === 0 });
    let bytes = 0;
    stream.on('data', (c: Buffer) => { bytes += c.length; });
    stream.on('end', () => resolve(bytes));
    stream.on('error', reject);
    if (uploadBytes > 0) writeBody(stream, uploadBytes);
  });
}

/** Small requests on one HTTP/2 connection, H2_STREAMS at a time, for `seconds` (onClockStart: as smallRequests). */
export async function h2SmallRequests(session: http2.ClientHttp2Session, seconds: number, onClockStart: () => void = () => undefined, warmSeconds = 0): Promise<Rate> {
  const once = (): Promise<unknown> => h2Request(session, '/small?size=64');
  await h2Request(session, '/warm');
  await repeatFor(warmSeconds, H2_STREAMS, once);
  onClockStart();
  return repeatFor(seconds, H2_STREAMS, once);
}

/** MB/s of one large upload stream on the session. */
export async function h2Upload(session: http2.ClientHttp2Session, bytes: number): Promise<number> {
  const started = performance.now();
  await h2Request(session, '/upload', bytes);
  return bytes / MB / ((performance.now() - started) / 1000);
}

/**
 * A phone's sync channel moving data: one wss WebSocket to the origin's echo (through the subject
 * when it has a proxy), binary messages of random bytes (as a photo's or an encrypted blob's), each
 * sent when the echo of the one before came back: `warm` untimed, then `messages` timed.
 * `onClockStart`: as smallRequests. Returns the megabytes moved, both ways, and in what time.
 */
export async function webSocketEcho(subject: Subject, port: number, options: { messages?: number; warm?: number; messageBytes?: number; onClockStart?: () => void } = {}): Promise<{ megabytes: number; seconds: number }> {
  const payload = crypto.randomBytes(options.messageBytes ?? WEBSOCKET_MESSAGE_BYTES);
  const agent = agentFor(subject);
  const socket = new WebSocket(`wss://127.0.0.1:${port}/echo`, { agent, perMessageDeflate: false });
  try {
    await once(socket, 'open');
    const roundTrip = (): Promise<void> => new Promise((resolve, reject) => {
      const fail = (): void => reject(new Error('the WebSocket closed before the echo'));
      socket.once('close', fail);
      socket.once('message', (data: Buffer) => {
        socket.off('close', fail);
        if (data.length === payload.length) resolve();
        else reject(new Error(`the echo had ${data.length} bytes, not ${payload.length}`));
      });
      socket.send(payload);
    });
    for (let i = 0; i < (options.warm ?? WEBSOCKET_WARM_MESSAGES); i++) await roundTrip();
    options.onClockStart?.();
    const messages = options.messages ?? WEBSOCKET_MESSAGES;
    const started = performance.now();
    for (let i = 0; i < messages; i++) await roundTrip();
    return { megabytes: (2 * messages * payload.length) / MB, seconds: (performance.now() - started) / 1000 };
  } finally {
    socket.terminate();
    agent.destroy();
  }
}
