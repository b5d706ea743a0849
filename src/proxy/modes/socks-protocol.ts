// SOCKS5 (RFC 1928, with RFC 1929 username/password) and SOCKS4/4a, as pure functions over the
// bytes received so far: each says 'partial' (wait for more), 'invalid' (with the reply code to
// send, if any), or what it read and how many bytes that took. The mode feeds them; sockets never
// come in here, so every malformed input is a table row in the tests.

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
  const command = bytes[1]!;
  const type = bytes[3]!;
  let address: SocksAddress;
  let at: number;
  if (type === 0x01) {
    if (bytes.length < 10) return { kind: 'partial' };
    address = { type: 'ipv4', host: [...bytes.subarray(4, 8)].join('.') };
    at = 8;
  } else if (type === 0x04) {
    if (bytes.length < 22) return { kind: 'partial' };
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(bytes.readUInt16BE(4 + i * 2).toString(16));
    address = { type: 'ipv6', host: groups.join(':') };
    at = 20;
  } else if (type === 0x03) {
    const length = bytes[4]!;
    if (length === 0) return { kind: 'invalid', reason: 'an empty domain name', reply: socks5Reply.generalFailure };
    if (bytes.length < 5 + length + 2) return { kind: 'partial' };
    address = { type: 'domain', host: bytes.subarray(5, 5 + length).toString('latin1') };
    at = 5 + length;
  } else {
    return { kind: 'invalid', reason: `address type ${type}`, reply: socks5Reply.addressTypeNotSupported };
  }
  const port = bytes.readUInt16BE(at);
  return { kind: 'ok', consumed: at + 2, command, address, port };
}

/** A reply to a SOCKS5 request; the bound address is 0.0.0.0:0 (we do not tell the client ours). */
export function socks5Response(code: number): Buffer {
  return Buffer.from([SOCKS5, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
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
