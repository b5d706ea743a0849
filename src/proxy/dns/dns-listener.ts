// phonehome's DNS listener: devices (the WireGuard tunnel's, or a hotspot's with --dns) ask it, it
// forwards each query to the upstream resolver and hands the answer back, and every question and
// answer becomes a `dns` flow. UDP and TCP share one port: a device whose UDP answer came back
// truncated asks again over TCP, and the tunnel's rules redirect both to this port.
//
// Fidelity: the upstream gets the device's bytes unchanged (its id, flags, EDNS options, the case
// of its name), and the device gets the upstream's bytes unchanged, except that HTTPS/SVCB records
// are removed (dns-https-strip.ts says why).
//
// Forwarding: one upstream socket per query. A connected UDP socket on its own random port only
// takes datagrams from the upstream's address, queries of two devices that chose the same id never
// meet, and the source port varies per query as a resolver's should (RFC 5452); the answer must
// still carry the query's id and question. Sockets are bounded by `limits.dnsMaxInFlight`. TCP
// queries go upstream over TCP, one connection each, since they may be too long for UDP.
//
// A query with several questions (all but unused: servers answer only the first, RFC 9619) is
// forwarded whole and recorded under its first question.
//
// An upstream that does not answer in time: the device gets SERVFAIL, as from a recursive resolver
// that could not get an answer (unbound, systemd-resolved do the same), so its resolver fails over
// or gives up at once instead of waiting for its own timeout, and the flow says why.

import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import dnsPacket, { type DecodedPacket } from 'dns-packet';
import type { DnsAnswer, Endpoint, Flow } from '../../model/flow.js';
import { limits } from '../../limits.js';
import { normalizeClientIp } from '../access/client-access.js';
import type { DnsUpstream } from './dns-upstream.js';
import { questionOf } from './dns-records.js';
import { deviceAnswer, dnsFlow, type DnsTransport } from './dns-exchange.js';
import { withFields } from '../../util/with-fields.js';

export interface DnsListenerOptions {
  readonly host: string;
  /** 0: any free port (the same for UDP and TCP). */
  readonly port: number;
  readonly upstream: DnsUpstream;
  /** Every query and its answer, as one finished flow (the run's name map learns from it: dns-names.ts). */
  readonly record: (flow: Flow) => void;
  /** The WireGuard peer an address belongs to: its flows are `wireguard` and carry its name. */
  readonly peerOf?: (ip: string) => string | undefined;
  /** Client access (the proxy's --allow-client): others are not answered. */
  readonly isAllowed?: (ip: string) => boolean;
  readonly log: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
  /** How long the upstream may take (default `limits.dnsUpstreamTimeoutMs`). */
  readonly timeoutMs?: number;
  /** Queries forwarded at once (default `limits.dnsMaxInFlight`). */
  readonly maxInFlight?: number;
}

export interface DnsStats {
  /** Queries received (answered or not). */
  readonly queries: number;
  /** Distinct names asked for (counted up to `distinctNamesCounted`). */
  readonly names: number;
  /** HTTPS/SVCB records removed from answers. */
  readonly stripped: number;
  /** Queries without an upstream answer: timeouts, upstream errors, too many in flight. */
  readonly failures: number;
  /** Messages that were not DNS (too short, or dns-packet could not read them). */
  readonly malformed: number;
  /** Queries from clients that client access refused. */
  readonly refused: number;
}

/** What came of a query, for its flow. */
type FinishDetails = { readonly rcode?: string; readonly answers?: DnsAnswer[]; readonly stripped?: number; readonly error?: string; readonly tags?: readonly string[] };

/** What the forwarding of one query came to. */
type Outcome =
  | { readonly kind: 'answer'; readonly bytes: Buffer }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'stopped' };

/** Distinct names counted for the stats; past it the count stops growing (it is a summary figure). */
const distinctNamesCounted = 100_000;
/** Clients remembered as already told about (malformed messages, refusal), so each is logged once. */
const loggedClients = 1_000;
const rcodeServfail = 2;

export class DnsListener {
  readonly #options: DnsListenerOptions;
  readonly #udp: dgram.Socket;
  readonly #tcp: net.Server;
  readonly #timeoutMs: number;
  readonly #maxInFlight: number;
  readonly #deviceConnections = new Set<net.Socket>();
  /** How to abandon each query in flight (on stop). */
  readonly #inFlight = new Set<() => void>();
  readonly #distinctNames = new Set<string>();
  readonly #logged = new Set<string>();
  #stats = { queries: 0, stripped: 0, failures: 0, malformed: 0, refused: 0 };
  #stopping = false;

  private constructor(options: DnsListenerOptions, udp: dgram.Socket, tcp: net.Server) {
    this.#options = options;
    this.#udp = udp;
    this.#tcp = tcp;
    this.#timeoutMs = options.timeoutMs ?? limits.dnsUpstreamTimeoutMs;
    this.#maxInFlight = options.maxInFlight ?? limits.dnsMaxInFlight;
    udp.on('message', (message, from) => this.#udpQuery(message, from));
    udp.on('error', (error) => options.log('warn', `DNS (UDP): ${error.message}`));
    tcp.on('connection', (socket) => this.#tcpConnection(socket));
    tcp.on('error', (error) => options.log('warn', `DNS (TCP): ${error.message}`));
  }

  /** Binds UDP and TCP on the same port (with port 0, a free port both can have). */
  static async start(options: DnsListenerOptions): Promise<DnsListener> {
    const family = net.isIPv6(options.host) ? 'udp6' : 'udp4';
    // With port 0 the UDP port picked may be taken for TCP: a few tries with another.
    for (let attempt = 0; ; attempt++) {
      const udp = dgram.createSocket({ type: family, recvBufferSize: 1024 * 1024 });
      try {
        udp.bind(options.port, options.host);
        await once(udp, 'listening');
      } catch (error) {
        udp.close();
        throw error;
      }
      const port = udp.address().port;
      const tcp = net.createServer();
      tcp.maxConnections = limits.maxConnections;
      try {
        tcp.listen({ port, host: options.host });
        await once(tcp, 'listening');
      } catch (error) {
        udp.close();
        tcp.close();
        if (options.port === 0 && (error as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 4) continue;
        throw error;
      }
      return new DnsListener(options, udp, tcp);
    }
  }

  /** The port both UDP and TCP listen on. */
  get port(): number {
    return this.#udp.address().port;
  }

  stats(): DnsStats {
    return { ...this.#stats, names: this.#distinctNames.size };
  }

  /** Stops listening; queries still in flight are recorded as stopped. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const abandon of [...this.#inFlight]) abandon();
    for (const socket of this.#deviceConnections) socket.destroy();
    await Promise.all([
      new Promise<void>((resolve) => this.#udp.close(() => resolve())),
      new Promise<void>((resolve) => this.#tcp.close(() => resolve())),
    ]);
  }

  #udpQuery(message: Buffer, from: dgram.RemoteInfo): void {
    const client = normalizeClientIp(from.address);
    if (message.length > limits.dnsMaxQueryDatagramBytes) {
      this.#stats.queries++;
      this.#stats.malformed++;
      this.#logOnce(client, 'oversized', `DNS: a ${message.length}-byte datagram from ${client} is larger than any query (${limits.dnsMaxQueryDatagramBytes} bytes at most); dropped`);
      return;
    }
    const local = this.#udp.address();
    this.#query(message, { ip: client, port: from.port }, { host: local.address, port: local.port }, 'udp', (answer) => {
      if (!this.#stopping) this.#udp.send(answer, from.port, from.address);
    });
  }

  #tcpConnection(socket: net.Socket): void {
    if (this.#stopping) {
      socket.destroy();
      return;
    }
    this.#deviceConnections.add(socket);
    socket.on('close', () => this.#deviceConnections.delete(socket));
    socket.on('error', () => undefined);
    socket.setTimeout(limits.dnsTcpIdleMs, () => socket.destroy());
    const client: Endpoint = { ip: normalizeClientIp(socket.remoteAddress), port: socket.remotePort ?? 0 };
    const local = { host: normalizeClientIp(socket.localAddress), port: socket.localPort ?? this.port };
    // RFC 1035 4.2.2 / RFC 7766: each message is preceded by its length in two bytes; a device may
    // send several before the first answer, and answers go back as they come.
    const framer = new LengthFramer((message) => {
      this.#query(message, client, local, 'tcp', (answer) => {
        if (socket.writable) socket.write(lengthPrefixed(answer));
      });
    });
    socket.on('data', (chunk: Buffer) => framer.push(chunk));
  }

  /** One query from a device: forwarded, answered, recorded. */
  #query(bytes: Buffer, client: Endpoint, target: { host: string; port: number }, transport: DnsTransport, reply: (answer: Buffer) => void): void {
    if (this.#options.isAllowed && !this.#options.isAllowed(client.ip)) {
      this.#stats.refused++;
      this.#logOnce(client.ip, 'refused', `DNS: ${client.ip} is not an allowed client (see --allow-client); its queries are not answered`);
      return;
    }
    this.#stats.queries++;
    const startedAt = new Date();
    const peer = this.#options.peerOf?.(client.ip);
    const endpoint: Endpoint = peer ? withFields(client, { name: peer }) : client;
    const tags: string[] = transport === 'tcp' ? ['dns:tcp'] : [];
    let query: DecodedPacket | undefined;
    if (bytes.length >= 12) {
      try {
        query = dnsPacket.decode(bytes);
      } catch (error) {
        query = undefined;
        this.#logOnce(client.ip, 'malformed', `DNS: a malformed query from ${client.ip} (${(error as Error).message}); forwarded as it is`);
      }
    }
    const question = query ? questionOf(query) : undefined;
    if (question) this.#countName(question.name);
    else {
      this.#stats.malformed++;
      tags.push('dns:malformed');
    }
    const finish = (answer: Buffer | undefined, details: FinishDetails): void => {
      const endedAt = new Date();
      const flow = dnsFlow({
        startedAt, endedAt, client: endpoint, ...(peer ? { mode: 'wireguard' as const } : {}), target, upstream: this.#options.upstream, query,
        queryBytes: bytes.length, answerBytes: answer?.length ?? 0, ...details, tags: [...tags, ...(details.tags ?? [])],
      });
      try {
        this.#options.record(flow);
      } catch (error) {
        this.#options.log('error', `DNS: recording a flow failed: ${(error as Error).message}`);
      }
    };

    if (bytes.length < 12) {
      // Not even a header: nothing a resolver could answer or match an answer to.
      this.#logOnce(client.ip, 'malformed', `DNS: a ${bytes.length}-byte message from ${client.ip} is not DNS; dropped`);
      finish(undefined, { error: `not a DNS message (${bytes.length} bytes)`, tags: ['dns:dropped'] });
      return;
    }
    if (this.#inFlight.size >= this.#maxInFlight) {
      // A resolver whose request list is full drops the newest query; the device asks again.
      this.#stats.failures++;
      finish(undefined, { error: `dropped: ${this.#maxInFlight} queries already in flight`, tags: ['dns:busy'] });
      return;
    }

    this.#forward(bytes, query, transport, (outcome) => {
      if (outcome.kind === 'answer') {
        this.#answer(outcome.bytes, query, transport, reply, finish);
        return;
      }
      this.#stats.failures++;
      if (outcome.kind === 'stopped') {
        finish(undefined, { error: 'phonehome stopped before the upstream answered', tags: ['dns:stopped'] });
        return;
      }
      const error = outcome.kind === 'timeout' ? `the upstream did not answer within ${this.#timeoutMs} ms` : `the upstream failed: ${outcome.message}`;
      const tag = outcome.kind === 'timeout' ? 'dns:timeout' : 'dns:upstream-error';
      if (!query) {
        // An answer to a message we could not read could not be matched by the device either.
        finish(undefined, { error, tags: [tag] });
        return;
      }
      const servfail = serverFailure(query);
      reply(servfail);
      finish(servfail, { rcode: 'SERVFAIL', error, tags: [tag] });
    });
  }

  /** The upstream's answer goes to the device: unchanged, or without its HTTPS/SVCB records. */
  #answer(bytes: Buffer, query: DecodedPacket | undefined, transport: DnsTransport, reply: (answer: Buffer) => void, finish: (answer: Buffer | undefined, details: FinishDetails) => void): void {
    const answer = deviceAnswer(bytes, query, transport);
    if (answer.stripFailure) this.#options.log('warn', `DNS: HTTPS/SVCB records could not be removed from an answer (${answer.stripFailure}); it went as it came`);
    this.#stats.stripped += answer.stripped;
    reply(answer.bytes);
    finish(answer.bytes, answer);
  }

  /** Sends the device's bytes upstream and reports the first answer that matches, or why none came. */
  #forward(bytes: Buffer, query: DecodedPacket | undefined, transport: DnsTransport, done: (outcome: Outcome) => void): void {
    let settled = false;
    let cleanup = (): void => undefined;
    const settle = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.#inFlight.delete(abandon);
      cleanup();
      done(outcome);
    };
    const abandon = (): void => settle({ kind: 'stopped' });
    const timer = setTimeout(() => settle({ kind: 'timeout' }), this.#timeoutMs);
    this.#inFlight.add(abandon);
    const matches = (answer: Buffer): boolean => answerMatches(answer, bytes, query);
    const { ip, port } = this.#options.upstream;
    if (transport === 'udp') {
      const socket = dgram.createSocket(net.isIPv6(ip) ? 'udp6' : 'udp4');
      cleanup = () => socket.close();
      socket.on('error', (error) => settle({ kind: 'error', message: error.message }));
      socket.on('message', (answer) => {
        if (matches(answer)) settle({ kind: 'answer', bytes: answer });
      });
      socket.connect(port, ip, () => {
        if (!settled) socket.send(bytes);
      });
      return;
    }
    const socket = net.connect({ host: ip, port });
    cleanup = () => socket.destroy();
    socket.on('error', (error) => settle({ kind: 'error', message: error.message }));
    socket.on('close', () => settle({ kind: 'error', message: 'the upstream closed the TCP connection without an answer' }));
    socket.on('connect', () => socket.write(lengthPrefixed(bytes)));
    const framer = new LengthFramer((answer) => {
      if (matches(answer)) settle({ kind: 'answer', bytes: answer });
    });
    socket.on('data', (chunk: Buffer) => framer.push(chunk));
  }

  #countName(name: string): void {
    if (this.#distinctNames.size < distinctNamesCounted) this.#distinctNames.add(name);
  }

  /** Warns about a client once per kind of trouble (per run, for the first `loggedClients` clients). */
  #logOnce(client: string, kind: 'malformed' | 'oversized' | 'refused', message: string): void {
    const key = `${kind} ${client}`;
    if (this.#logged.has(key)) return;
    if (this.#logged.size < loggedClients) this.#logged.add(key);
    this.#options.log('warn', message);
  }
}

/** The answer is for this query: the same id and, when the query could be read, the same question. */
function answerMatches(answer: Buffer, query: Buffer, decodedQuery: DecodedPacket | undefined): boolean {
  if (answer.length < 12 || answer.readUInt16BE(0) !== query.readUInt16BE(0)) return false;
  const asked = decodedQuery ? questionOf(decodedQuery) : undefined;
  if (!asked) return true;
  try {
    const answered = questionOf(dnsPacket.decode(answer));
    // An answer without a question section (some servers do this for errors) is matched by id alone.
    return !answered || (answered.name === asked.name && answered.type === asked.type && answered.class === asked.class);
  } catch {
    // Unreadable, but it has the id: it is the upstream's answer, and it goes to the device as it came.
    return true;
  }
}

/** SERVFAIL for a query: its id, question, opcode and RD/CD bits, and RA (we do recurse, by forwarding). */
function serverFailure(query: DecodedPacket): Buffer {
  const kept = (query.flags ?? 0) & (0x7800 | dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED);
  return dnsPacket.encode({ id: query.id ?? 0, type: 'response', flags: kept | dnsPacket.RECURSION_AVAILABLE | rcodeServfail, questions: query.questions ?? [] });
}

/** A message as TCP carries it; every message here is at most 65535 bytes (a UDP datagram, a framed message, or checked). */
function lengthPrefixed(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return Buffer.concat([length, message]);
}

/**
 * Splits a TCP stream into DNS messages (a two-byte length, then the message). It holds at most one
 * incomplete message (`limits.dnsMaxTcpMessageBytes`, the most two bytes can say) plus one chunk.
 */
class LengthFramer {
  readonly #onMessage: (message: Buffer) => void;
  #pending: Buffer = Buffer.alloc(0);

  constructor(onMessage: (message: Buffer) => void) {
    this.#onMessage = onMessage;
  }

  push(chunk: Buffer): void {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    while (this.#pending.length >= 2) {
      const length = this.#pending.readUInt16BE(0);
      if (this.#pending.length < 2 + length) break;
      const message = this.#pending.subarray(2, 2 + length);
      this.#pending = this.#pending.subarray(2 + length);
      this.#onMessage(message);
    }
    // Two bytes cannot ask for more than 65535, so what is pending is bounded by one message and one chunk.
  }
}

