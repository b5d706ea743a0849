// The UDP side of SOCKS5 (RFC 1928 §7, UDP ASSOCIATE): a VPN app that forwards a phone's traffic
// over SOCKS5 (tun2socks and its kind) sends its UDP this way, DNS first. Refused, such an app's
// phone may have no DNS at all: nothing it does reaches phonehome by name.
//
// What passes:
// - DNS (port 53) goes to the resolver the device chose, as it would directly; the device gets the
//   answer as the DNS listener gives it (HTTPS/SVCB records removed: dns-https-strip.ts), and each
//   question is a `dns` flow.
// - QUIC (UDP 443) is not relayed, and each destination is a `rejected` flow, once per association:
//   apps fall back from it to TCP, which phonehome decrypts, as behind the WireGuard mode's firewall.
//   So is UDP to a name (tun2socks apps send addresses) and to phonehome itself.
// - Any other UDP (NTP, STUN and the calls behind it, games, an IoT device's own protocol) is
//   relayed, as a NAT would: the server answers to our address, and its datagrams go back to the
//   device from its own address and port. Each destination is one `raw` flow of scheme `udp`
//   (recorder/udp-exchange.ts), recorded once it has been silent for `limits.udpIdleMs` or the
//   association ends. Up to `limits.udpDestinationsPerAssociation` destinations are relayed at
//   once; past the first `limits.udpCapturedDestinationsPerAssociation`, their bytes are counted
//   and not kept (tagged `udp:not-captured`), to bound an association's memory. Until 2026-12-06 it was refused too, and a phone behind such an app lost its
//   clock sync and its calls.
//
// Only the client that asked, from the address of its TCP connection, may send through an
// association (never an open relay), and an association ends with that TCP connection.

import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type DecodedPacket } from 'dns-packet';
import type { Endpoint, Flow } from '../../model/flow.js';
import { limits } from '../../limits.js';
import { normalizeClientIp } from '../access/client-access.js';
import { parseTarget, type Target } from '../access/target.js';
import { deviceAnswer, dnsFlow, type DeviceAnswer } from '../dns/dns-exchange.js';
import { UdpExchange } from '../recorder/udp-exchange.js';
import { parseSocks5Datagram, socks5Datagram } from './socks-protocol.js';
import { compressedIpv6 } from '../../util/ip.js';

export interface SocksUdpAssociationOptions {
  /** The client of the TCP connection that asked: only its address may send. */
  readonly client: Endpoint;
  /** The local address of that TCP connection: where the client can reach the association. */
  readonly localAddress: string;
  readonly record: (flow: Flow) => void;
  readonly rejected: (target: { host: string; port: number }, reason: string, tags: string[]) => void;
  readonly isSelf: (target: Target) => boolean;
  /** Counts a relayed destination as a flow still to be recorded, so stopping waits for it (FlowTracker.pending). */
  readonly pending: () => () => void;
  /** How long a resolver may take (default `limits.dnsUpstreamTimeoutMs`). */
  readonly timeoutMs?: number;
  /** How long a relayed destination may be silent before its flow is recorded (default `limits.udpIdleMs`). */
  readonly udpIdleMs?: number;
}

/** A destination datagrams are relayed to, and what passed so far. */
interface Relayed {
  readonly exchange: UdpExchange;
  readonly settled: () => void;
  idle: NodeJS.Timeout;
}

/** A question on its way to the device's resolver. */
interface Pending {
  readonly startedAt: Date;
  readonly query: DecodedPacket | undefined;
  readonly queryBytes: number;
  readonly target: Target;
  readonly timer: NodeJS.Timeout;
}

const DNS_PORT = 53;

export class SocksUdpAssociation {
  readonly #options: SocksUdpAssociationOptions;
  /** Where the client sends its datagrams (the reply to UDP ASSOCIATE names it). */
  readonly #relay: dgram.Socket;
  /** Where the resolvers answer; one per address family, made when first needed. */
  readonly #upstreams = new Map<'udp4' | 'udp6', dgram.Socket>();
  /** Questions in flight, by resolver and id. */
  readonly #pending = new Map<string, Pending>();
  /** Destinations refused (and recorded) already. */
  readonly #refused = new Set<string>();
  /** Destinations relayed to, by `address|port` (the address as the kernel writes it). */
  readonly #relayed = new Map<string, Relayed>();
  /** The client's UDP port, from its first datagram: answers go there. */
  #clientPort: number | undefined;
  #closed = false;

  private constructor(options: SocksUdpAssociationOptions, relay: dgram.Socket) {
    this.#options = options;
    this.#relay = relay;
    relay.on('message', (message, from) => this.#fromClient(message, from));
    relay.on('error', () => this.close());
  }

  /** Binds the association's socket beside the client's TCP connection. */
  static async open(options: SocksUdpAssociationOptions): Promise<SocksUdpAssociation> {
    const relay = dgram.createSocket(net.isIPv6(options.localAddress) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      relay.once('error', reject);
      relay.bind(0, options.localAddress, () => {
        relay.off('error', reject);
        resolve();
      });
    });
    return new SocksUdpAssociation(options, relay);
  }

  /** Where the client must send its datagrams. */
  get bound(): { ip: string; port: number } {
    const { address, port } = this.#relay.address();
    return { ip: address, port };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [key, pending] of this.#pending) this.#finish(key, pending, undefined, 'the SOCKS5 association ended before the resolver answered', 'dns:stopped');
    for (const key of [...this.#relayed.keys()]) this.#endRelay(key);
    this.#relay.close();
    for (const socket of this.#upstreams.values()) socket.close();
  }

  #fromClient(message: Buffer, from: dgram.RemoteInfo): void {
    // Only the client that asked, and once it has sent, only from that port.
    if (normalizeClientIp(from.address) !== this.#options.client.ip) return;
    if (this.#clientPort !== undefined && from.port !== this.#clientPort) return;
    this.#clientPort = from.port;
    const datagram = parseSocks5Datagram(message);
    if (datagram.kind === 'invalid') return;
    // Fragments (FRAG > 0) may be dropped (RFC 1928 §7); clients do not send them in practice.
    if (datagram.fragment !== 0) return;
    const parsed = parseTarget(`${datagram.address.type === 'ipv6' ? `[${datagram.address.host}]` : datagram.address.host}:${datagram.port}`);
    if (!parsed.ok) return;
    const target = parsed.target;
    const self = this.#options.isSelf(target);
    if (target.port === 443 || target.hostKind === 'dns' || self) {
      this.#refuse(target, self);
      return;
    }
    if (target.port === DNS_PORT) this.#ask(target, datagram.payload);
    else this.#forward(target, datagram.payload);
  }

  /** Any other UDP: on to its server, as a NAT sends it, and recorded per destination. */
  #forward(target: Target, payload: Buffer): void {
    const key = `${canonicalIp(target.host)}|${target.port}`;
    let relayed = this.#relayed.get(key);
    if (!relayed) {
      if (this.#relayed.size >= limits.udpDestinationsPerAssociation) {
        this.#refuse(target, false, `UDP over SOCKS5 to more than ${limits.udpDestinationsPerAssociation} destinations at once from one association is not relayed`);
        return;
      }
      // Past the first few destinations at once, the bytes are counted, not kept: relayed all the
      // same (until 2026-12-06 the 17th was refused, and a call's ICE checks with it).
      const captured = this.#relayed.size < limits.udpCapturedDestinationsPerAssociation;
      const exchange = new UdpExchange({ client: this.#options.client, mode: 'socks5', target, tags: captured ? ['socks:udp'] : ['socks:udp', 'udp:not-captured'], ...(captured ? {} : { captureBytes: 0 }) });
      relayed = { exchange, settled: this.#options.pending(), idle: this.#idleTimer(key) };
      this.#relayed.set(key, relayed);
    } else {
      relayed.idle.refresh();
    }
    relayed.exchange.fromDevice(payload);
    this.#upstream(target.hostKind === 'ipv6' ? 'udp6' : 'udp4').send(payload, target.port, target.host);
  }

  #idleTimer(key: string): NodeJS.Timeout {
    return setTimeout(() => this.#endRelay(key), this.#options.udpIdleMs ?? limits.udpIdleMs);
  }

  /** A relayed destination is over (silent, or the association ended): its flow is recorded. */
  #endRelay(key: string): void {
    const relayed = this.#relayed.get(key);
    if (!relayed) return;
    this.#relayed.delete(key);
    clearTimeout(relayed.idle);
    this.#options.record(relayed.exchange.flow());
    relayed.settled();
  }

  /** Not relayed: recorded once per destination. */
  #refuse(target: Target, self: boolean, why?: string): void {
    const key = `${target.host}|${target.port}`;
    if (this.#refused.has(key) || this.#refused.size >= limits.serversPerProxyConnection) return;
    this.#refused.add(key);
    const reason = why ?? (self ? 'UDP over SOCKS5 to phonehome itself is not relayed' : target.port === 443
      ? 'UDP 443 (QUIC) over SOCKS5 is not relayed: apps fall back to TCP, which phonehome decrypts'
      : `UDP over SOCKS5 to a name (${target.host}), not an address, is not relayed`);
    this.#options.rejected({ host: target.host, port: target.port }, reason, ['socks:udp-not-relayed', ...(target.port === 443 ? ['quic'] : [])]);
  }

  /** A DNS question to the resolver the device chose. */
  #ask(target: Target, query: Buffer): void {
    if (query.length < 12 || this.#pending.size >= limits.dnsMaxInFlight) return;
    const key = `${canonicalIp(target.host)}|${query.readUInt16BE(0)}`;
    if (this.#pending.has(key)) return; // the device asked again before the first answer: that one will do
    let decoded: DecodedPacket | undefined;
    try {
      decoded = dnsPacket.decode(query);
    } catch {
      decoded = undefined;
    }
    const timer = setTimeout(() => {
      const pending = this.#pending.get(key);
      if (pending) this.#finish(key, pending, undefined, `the resolver did not answer within ${this.#options.timeoutMs ?? limits.dnsUpstreamTimeoutMs} ms`, 'dns:timeout');
    }, this.#options.timeoutMs ?? limits.dnsUpstreamTimeoutMs);
    this.#pending.set(key, { startedAt: new Date(), query: decoded, queryBytes: query.length, target, timer });
    this.#upstream(target.hostKind === 'ipv6' ? 'udp6' : 'udp4').send(query, target.port, target.host);
  }

  #upstream(family: 'udp4' | 'udp6'): dgram.Socket {
    let socket = this.#upstreams.get(family);
    if (!socket) {
      socket = dgram.createSocket(family);
      socket.on('message', (message, from) => this.#fromServer(message, from));
      socket.on('error', () => undefined);
      this.#upstreams.set(family, socket);
    }
    return socket;
  }

  /** A datagram from a server: a resolver's answer, or a relayed destination's. */
  #fromServer(message: Buffer, from: dgram.RemoteInfo): void {
    if (this.#closed) return;
    const address = canonicalIp(normalizeClientIp(from.address));
    const relayed = this.#relayed.get(`${address}|${from.port}`);
    if (relayed) {
      relayed.idle.refresh();
      relayed.exchange.fromServer(message);
      if (this.#clientPort !== undefined) this.#relay.send(socks5Datagram(from.address, from.port, message), this.#clientPort, this.#options.client.ip);
      return;
    }
    if (message.length < 12) return;
    const key = `${address}|${message.readUInt16BE(0)}`;
    const pending = this.#pending.get(key);
    if (!pending || from.port !== pending.target.port) return;
    const answer = deviceAnswer(message, pending.query, 'udp');
    if (this.#clientPort !== undefined) this.#relay.send(socks5Datagram(from.address, from.port, answer.bytes), this.#clientPort, this.#options.client.ip);
    this.#finish(key, pending, answer);
  }

  #finish(key: string, pending: Pending, answer: DeviceAnswer | undefined, error?: string, tag?: string): void {
    clearTimeout(pending.timer);
    this.#pending.delete(key);
    const endedAt = new Date();
    this.#options.record(dnsFlow({
      startedAt: pending.startedAt, endedAt, client: this.#options.client, mode: 'socks5', target: { host: pending.target.host, port: pending.target.port },
      upstream: { ip: pending.target.host, port: pending.target.port }, query: pending.query, queryBytes: pending.queryBytes, answerBytes: answer?.bytes.length ?? 0,
      ...(answer ? { rcode: answer.rcode, answers: answer.answers, stripped: answer.stripped } : {}),
      ...(answer?.error ? { error: answer.error } : error ? { error } : {}),
      tags: ['socks:udp', ...(answer?.tags ?? []), ...(tag ? [tag] : [])],
    }));
  }
}

/** One text for one address: IPv6 compressed (2620:fe::fe, whatever form the client or the kernel gave). */
function canonicalIp(ip: string): string {
  return net.isIPv6(ip) ? compressedIpv6(ip) : ip;
}
