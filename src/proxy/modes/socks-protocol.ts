// SOCKS5 (RFC 1928, with RFC 1929 username/password) and SOCKS4/4a, as pure functions over the
// bytes received so far: each says 'partial' (wait for more), 'invalid' (with the reply code to
// send, if any), or what it read and how many bytes that took. The mode feeds them; sockets never
// come in here, so every malformed input is a table row in the tests.

import net from 'node:net';
import { ipv4Bytes, ipv6Bytes } from '../../util/ip.js';

export const SOCKS5 = 0x05;
export const SOCKS4 = 0x04;

/** SOCKS5 reply codes (RFC 1928 §6). */
export const socks5Reply = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

export const socks5Method = { noAuth: 0x00, userPass: 0x02, noneAcceptable: 0xff } as const;

export type Parsed<T> =
  | { readonly kind: 'partial' }
  | { readonly kind: 'invalid'; readonly reason: string; readonly reply?: number }
  | ({ readonly kind: 'ok'; readonly consumed: number } & T);

/** VER NMETHODS METHODS… */
export function parseSocks5Greeting(bytes: Buffer): Parsed<{ methods: number[] }> {
  if (bytes.length < 2) return { kind: 'partial' };
  if (bytes[0] !== SOCKS5) return { kind: 'invalid', reason: `SOCKS version ${bytes[0]} in the greeting` };
  const count = bytes[1]!;
  if (count === 0) return { kind: 'invalid', reason: 'a SOCKS5 greeting that offers no method' };
  if (bytes.length < 2 + count) return { kind: 'partial' };
  return { kind: 'ok', consumed: 2 + count, methods: [...bytes.subarray(2, 2 + count)] };
}

/** RFC 1929: VER(1) ULEN UNAME PLEN PASSWD. */
export function parseUserPass(bytes: Buffer): Parsed<{ user: string; pass: string }> {
  if (bytes.length < 2) return { kind: 'partial' };
  if (bytes[0] !== 0x01) return { kind: 'invalid', reason: `username/password sub-negotiation version ${bytes[0]}` };
  const userLength = bytes[1]!;
  if (bytes.length < 2 + userLength + 1) return { kind: 'partial' };
  const passLength = bytes[2 + userLength]!;
  const end = 3 + userLength + passLength;
  if (bytes.length < end) return { kind: 'partial' };
  return { kind: 'ok', consumed: end, user: bytes.subarray(2, 2 + userLength).toString('utf8'), pass: bytes.subarray(3 + userLength, end).toString('utf8') };
}

export type SocksAddress = { readonly type: 'ipv4' | 'ipv6' | 'domain'; readonly host: string };

/** VER CMD RSV ATYP DST.ADDR DST.PORT */
export function parseSocks5Request(bytes: Buffer): Parsed<{ command: number; address: SocksAddress; port: number }> {
  if (bytes.length < 5) return { kind: 'partial' };
  if (bytes[0] !== SOCKS5) return { kind: 'invalid', reason: `SOCKS version ${bytes[0]} in the request`, reply: socks5Reply.generalFailure };
  const read = readAddressAndPort(bytes, 3);
  if (read.kind !== 'ok') return read;
  return { kind: 'ok', consumed: read.consumed, command: bytes[1]!, address: read.address, port: read.port };
}

/** ATYP DST.ADDR DST.PORT, from `at` (the ATYP byte). */
function readAddressAndPort(bytes: Buffer, at: number): Parsed<{ address: SocksAddress; port: number }> {
  const type = bytes[at]!;
  let address: SocksAddress;
  let end: number;
  if (type === 0x01) {
    end = at + 5;
    if (bytes.length < end + 2) return { kind: 'partial' };
    address = { type: 'ipv4', host: [...bytes.subarray(at + 1, end)].join('.') };
  } else if (type === 0x04) {
    end = at + 17;
    if (bytes.length < end + 2) return { kind: 'partial' };
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(bytes.readUInt16BE(at + 1 + i * 2).toString(16));
    address = { type: 'ipv6', host: groups.join(':') };
  } else if (type === 0x03) {
    if (bytes.length < at + 2) return { kind: 'partial' };
    const length = bytes[at + 1]!;
    if (length === 0) return { kind: 'invalid', reason: 'an empty domain name', reply: socks5Reply.generalFailure };
    end = at + 2 + length;
    if (bytes.length < end + 2) return { kind: 'partial' };
    address = { type: 'domain', host: bytes.subarray(at + 2, end).toString('latin1') };
  } else {
    return { kind: 'invalid', reason: `address type ${type}`, reply: socks5Reply.addressTypeNotSupported };
  }
  return { kind: 'ok', consumed: end + 2, address, port: bytes.readUInt16BE(end) };
}

/**
 * A reply to a SOCKS5 request. The bound address is 0.0.0.0:0 (a CONNECT's client does not need
 * ours), or, for UDP ASSOCIATE, where the client must send its datagrams.
 */
export function socks5Response(code: number, bound?: { readonly ip: string; readonly port: number }): Buffer {
  if (!bound) return Buffer.from([SOCKS5, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([Buffer.from([SOCKS5, code, 0x00]), addressBytes(bound.ip, bound.port)]);
}

/**
 * A SOCKS5 UDP datagram (RFC 1928 §7): RSV(2) FRAG ATYP DST.ADDR DST.PORT DATA. Whole or invalid:
 * a datagram never comes in parts.
 */
export function parseSocks5Datagram(bytes: Buffer): { readonly kind: 'ok'; readonly fragment: number; readonly address: SocksAddress; readonly port: number; readonly payload: Buffer } | { readonly kind: 'invalid'; readonly reason: string } {
  if (bytes.length < 4) return { kind: 'invalid', reason: `a ${bytes.length}-byte datagram has no SOCKS5 UDP header` };
  if (bytes[0] !== 0 || bytes[1] !== 0) return { kind: 'invalid', reason: 'the reserved bytes of a SOCKS5 UDP header are not zero' };
  const read = readAddressAndPort(bytes, 3);
  if (read.kind === 'partial') return { kind: 'invalid', reason: 'a SOCKS5 UDP header cut short' };
  if (read.kind === 'invalid') return { kind: 'invalid', reason: read.reason };
  return { kind: 'ok', fragment: bytes[2]!, address: read.address, port: read.port, payload: bytes.subarray(read.consumed) };
}

/** A datagram for the client of a UDP association: the header names the IP address and port it came from. */
export function socks5Datagram(ip: string, port: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0, 0, 0]), addressBytes(ip, port), payload]);
}

/** ATYP ADDR PORT for an IPv4 or IPv6 address. */
function addressBytes(ip: string, port: number): Buffer {
  const portBytes = Buffer.from([port >> 8, port & 0xff]);
  return net.isIPv4(ip) ? Buffer.concat([Buffer.from([0x01]), ipv4Bytes(ip), portBytes]) : Buffer.concat([Buffer.from([0x04]), ipv6Bytes(ip), portBytes]);
}

/** SOCKS4: VER CMD DSTPORT DSTIP USERID\0, and SOCKS4a: DSTIP 0.0.0.x then HOST\0. */
export function parseSocks4Request(bytes: Buffer, maxFieldBytes = 255): Parsed<{ command: number; address: SocksAddress; port: number; user: string }> {
  if (bytes.length < 9) return { kind: 'partial' };
  if (bytes[0] !== SOCKS4) return { kind: 'invalid', reason: `SOCKS version ${bytes[0]}` };
  const command = bytes[1]!;
  const port = bytes.readUInt16BE(2);
  const ip = [...bytes.subarray(4, 8)];
  const userEnd = bytes.indexOf(0, 8);
  if (userEnd < 0) return bytes.length - 8 > maxFieldBytes ? { kind: 'invalid', reason: 'a SOCKS4 user id over 255 bytes' } : { kind: 'partial' };
  const user = bytes.subarray(8, userEnd).toString('latin1');
  // 0.0.0.x with x != 0: SOCKS4a, the host name follows.
  if (ip[0] === 0 && ip[1] === 0 && ip[2] === 0 && ip[3] !== 0) {
    const hostEnd = bytes.indexOf(0, userEnd + 1);
    if (hostEnd < 0) return bytes.length - userEnd - 1 > maxFieldBytes ? { kind: 'invalid', reason: 'a SOCKS4a host name over 255 bytes' } : { kind: 'partial' };
    const host = bytes.subarray(userEnd + 1, hostEnd).toString('latin1');
    if (host.length === 0) return { kind: 'invalid', reason: 'an empty SOCKS4a host name' };
    return { kind: 'ok', consumed: hostEnd + 1, command, address: { type: 'domain', host }, port, user };
  }
  return { kind: 'ok', consumed: userEnd + 1, command, address: { type: 'ipv4', host: ip.join('.') }, port, user };
}

/** SOCKS4 reply: 0x5A granted, 0x5B rejected or failed. */
export function socks4Response(granted: boolean): Buffer {
  return Buffer.from([0x00, granted ? 0x5a : 0x5b, 0, 0, 0, 0, 0, 0]);
}
