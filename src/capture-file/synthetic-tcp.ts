// The TCP framing of a connection we relayed, made up afterwards from the bytes that passed: the
// proxy sees streams, not packets, yet Wireshark, tshark and our own capture-file reader want
// packets they can reassemble. So each connection gets a three-way handshake, data segments cut
// at a realistic MSS with sequence and acknowledgement numbers that add up, one ACK for each
// chunk the other side received, and a FIN each way — all with valid IP and TCP checksums. The
// addresses and ports are the real ones; the packet boundaries and timings within a chunk are not.

import net from 'node:net';
import { ipv4Bytes, ipv6Bytes } from '../util/ip.js';

export interface TcpEndpoint {
  readonly ip: string;
  readonly port: number;
}

const FIN = 0x01;
const SYN = 0x02;
const PSH = 0x08;
const ACK = 0x10;

/** Window scale we announce: 65535 << 7 ≈ 8 MiB, so a chunk never "fills the window" in Wireshark's eyes. */
const WINDOW_SCALE = 7;

/** `::ffff:1.2.3.4` as Node reports a dual-stack socket's IPv4 peer is IPv4. */
function plainIpv4(address: string): string | undefined {
  if (net.isIPv4(address)) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : undefined;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Ones' complement sum of 16-bit words, not yet folded or inverted. */
function sum16(data: Buffer, start = 0, end = data.length, initial = 0): number {
  let sum = initial;
  let i = start;
  const aligned = (data.byteOffset + start) % 2 === 0;
  if (aligned && end - start >= 64) {
    // Payloads: words read in the machine's order through a typed array (several times faster);
    // a ones' complement sum only has its two bytes swapped by that (RFC 1071), so swap them back.
    const words = new Uint16Array(data.buffer, data.byteOffset + start, (end - start) >> 1);
    let native = 0;
    for (let w = 0; w < words.length; w++) native += words[w]!;
    while (native > 0xffff) native = (native & 0xffff) + Math.floor(native / 0x10000);
    sum += LITTLE_ENDIAN ? ((native & 0xff) << 8) | (native >> 8) : native;
    i = start + words.length * 2;
  } else {
    for (; i + 1 < end; i += 2) sum += data.readUInt16BE(i);
  }
  if (i < end) sum += data[i]! << 8;
  return sum;
}

function fold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

interface Side {
  readonly address: Buffer;
  readonly port: number;
  /** The next sequence number this side sends. */
  seq: number;
  /** IPv4 identification of its next packet. */
  ipId: number;
}

export interface SyntheticTcpOptions {
  /** Initial sequence numbers (tests give them; otherwise random, like a real stack). */
  readonly clientIsn?: number;
  readonly serverIsn?: number;
  /** Largest segment payload; 1460 for IPv4, 1440 for IPv6 (an Ethernet MTU) unless given. */
  readonly mss?: number;
}

/** One TCP connection's packets (raw IP, for LINKTYPE_RAW), made as its bytes pass. */
export class SyntheticTcp {
  readonly ipv6: boolean;
  readonly mss: number;
  readonly #client: Side;
  readonly #server: Side;
  #closed = { client: false, server: false };

  constructor(client: TcpEndpoint, server: TcpEndpoint, options: SyntheticTcpOptions = {}) {
    // Both ends of a packet are of one family: an IPv4 device talking to an IPv6 server (the
    // proxy bridges them) is shown with its address IPv4-mapped.
    const clientV4 = plainIpv4(client.ip);
    const serverV4 = plainIpv4(server.ip);
    this.ipv6 = !(clientV4 && serverV4);
    const bytesOf = (ip: string, v4: string | undefined): Buffer => (this.ipv6 ? ipv6Bytes(v4 ? `::ffff:${v4}` : ip) : ipv4Bytes(v4!));
    this.mss = options.mss ?? (this.ipv6 ? 1440 : 1460);
    const isn = (given: number | undefined): number => (given ?? Math.floor(Math.random() * 0x100000000)) >>> 0;
    this.#client = { address: bytesOf(client.ip, clientV4), port: client.port, seq: isn(options.clientIsn), ipId: 1 };
    this.#server = { address: bytesOf(server.ip, serverV4), port: server.port, seq: isn(options.serverIsn), ipId: 1 };
  }

  /** SYN, SYN-ACK, ACK. */
  open(): Buffer[] {
    const c = this.#client;
    const s = this.#server;
    const syn = this.#packet(c, s, SYN, 0, Buffer.alloc(0), true);
    c.seq = (c.seq + 1) >>> 0;
    const synAck = this.#packet(s, c, SYN | ACK, c.seq, Buffer.alloc(0), true);
    s.seq = (s.seq + 1) >>> 0;
    return [syn, synAck, this.#packet(c, s, ACK, s.seq, Buffer.alloc(0))];
  }

  /** Bytes one side sent: segments of at most the MSS (PSH on the last), then the other side's ACK. */
  data(fromClient: boolean, bytes: Buffer): Buffer[] {
    if (bytes.length === 0) return [];
    const [from, to] = fromClient ? [this.#client, this.#server] : [this.#server, this.#client];
    const packets: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += this.mss) {
      const end = Math.min(bytes.length, at + this.mss);
      packets.push(this.#packet(from, to, ACK | (end === bytes.length ? PSH : 0), to.seq, bytes.subarray(at, end)));
      from.seq = (from.seq + (end - at)) >>> 0;
    }
    packets.push(this.#packet(to, from, ACK, from.seq, Buffer.alloc(0)));
    return packets;
  }

  /** Bytes one side sent that are not recorded: the sequence numbers move on, so readers see a gap. */
  skip(fromClient: boolean, length: number): void {
    const from = fromClient ? this.#client : this.#server;
    from.seq = (from.seq + length) >>> 0;
  }

  /** One side closes: its FIN and the other side's ACK. A side closes once. */
  fin(fromClient: boolean): Buffer[] {
    const key = fromClient ? 'client' : 'server';
    if (this.#closed[key]) return [];
    this.#closed[key] = true;
    const [from, to] = fromClient ? [this.#client, this.#server] : [this.#server, this.#client];
    const fin = this.#packet(from, to, FIN | ACK, to.seq, Buffer.alloc(0));
    from.seq = (from.seq + 1) >>> 0;
    return [fin, this.#packet(to, from, ACK, from.seq, Buffer.alloc(0))];
  }

  #packet(from: Side, to: Side, flags: number, ack: number, payload: Buffer, synOptions = false): Buffer {
    const tcpHeader = synOptions ? 28 : 20;
    const ipHeader = this.ipv6 ? 40 : 20;
    const tcpLength = tcpHeader + payload.length;
    const out = Buffer.alloc(ipHeader + tcpLength);
    if (this.ipv6) {
      out.writeUInt32BE(0x60000000, 0); // version 6, no traffic class, no flow label
      out.writeUInt16BE(tcpLength, 4);
      out[6] = 6; // next header: TCP
      out[7] = 64; // hop limit
      from.address.copy(out, 8);
      to.address.copy(out, 24);
    } else {
      out[0] = 0x45; // version 4, 5 words of header
      out.writeUInt16BE(out.length, 2);
      out.writeUInt16BE(from.ipId, 4);
      from.ipId = (from.ipId + 1) & 0xffff;
      out.writeUInt16BE(0x4000, 6); // don't fragment
      out[8] = 64; // TTL
      out[9] = 6; // TCP
      from.address.copy(out, 12);
      to.address.copy(out, 16);
      out.writeUInt16BE(fold(sum16(out, 0, 20)), 10);
    }
    const t = ipHeader;
    out.writeUInt16BE(from.port, t);
    out.writeUInt16BE(to.port, t + 2);
    out.writeUInt32BE(from.seq, t + 4);
    out.writeUInt32BE(flags & ACK ? ack : 0, t + 8);
    out[t + 12] = (tcpHeader / 4) << 4;
    out[t + 13] = flags;
    out.writeUInt16BE(0xffff, t + 14); // window (scaled by WINDOW_SCALE once both SYNs said so)
    if (synOptions) {
      out[t + 20] = 2; // MSS
      out[t + 21] = 4;
      out.writeUInt16BE(this.mss, t + 22);
      out[t + 24] = 1; // NOP
      out[t + 25] = 3; // window scale
      out[t + 26] = 3;
      out[t + 27] = WINDOW_SCALE;
    }
    payload.copy(out, t + tcpHeader);
    // Checksum over the pseudo-header (addresses, protocol, length) and the segment.
    const addressLength = this.ipv6 ? 16 : 4;
    let pseudo = sum16(from.address, 0, addressLength) + sum16(to.address, 0, addressLength) + 6 + tcpLength;
    pseudo = sum16(out, t, out.length, pseudo);
    out.writeUInt16BE(fold(pseudo), t + 16);
    return out;
  }
}
