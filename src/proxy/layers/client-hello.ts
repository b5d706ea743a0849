// Reads the server name (SNI), the offered application protocols (ALPN), the TLS versions, cipher
// suites, signature schemes and groups offered, and the kind of server key the client can verify,
// from a TLS ClientHello, before any TLS library sees it: the ALPN answer to the device depends on
// what the real server accepts, and that must be asked before our handshake with the device
// starts (Node's ALPN callback is synchronous); the rest shapes what we offer the server on the
// device's behalf (upstream-contexts.ts). Pure and bounded; a ClientHello may span several TLS
// records and several reads, so an incomplete one says how it stands instead of guessing.

import { onlyServerKeyKind, type ServerKeyKind } from './server-key-kind.js';

export type ClientHelloResult =
  | { readonly kind: 'partial' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | {
    readonly kind: 'client-hello'; readonly sni?: string; readonly alpn: readonly string[]; readonly versions: TlsVersionRange;
    /** The cipher suites by IANA number, in the client's order, GREASE and signalling values left out. */
    readonly suites: readonly number[];
    /** signature_algorithms and supported_groups by IANA number, in the client's order, GREASE left out; absent without the extension. */
    readonly schemes?: readonly number[];
    readonly groups?: readonly number[];
    /** The client asks its server to staple an OCSP response (status_request). */
    readonly asksOcsp?: boolean;
    /** The only kind of server key the client can verify, when it cannot verify both (server-key-kind.ts). */
    readonly serverKey?: ServerKeyKind;
  };

export type TlsVersionName = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** The TLS versions a client speaks, oldest to newest. */
export interface TlsVersionRange {
  readonly oldest: TlsVersionName;
  readonly newest: TlsVersionName;
}

/** The TLS versions by their wire numbers (SSL 3 and drafts are not spoken here). */
const VERSIONS = new Map<number, TlsVersionName>([[0x0301, 'TLSv1'], [0x0302, 'TLSv1.1'], [0x0303, 'TLSv1.2'], [0x0304, 'TLSv1.3']]);
/** The same, by name: a newer version has a larger wire number. */
const WIRE_NUMBERS: ReadonlyMap<string, number> = new Map([...VERSIONS].map(([wire, name]) => [name, wire]));

/** Whether `a` is an older TLS version than `b`. */
export function isOlderTls(a: TlsVersionName, b: TlsVersionName): boolean {
  return WIRE_NUMBERS.get(a)! < WIRE_NUMBERS.get(b)!;
}

/** A version as Node names it (`getProtocol()`), when it is one we speak. */
export function tlsVersionNamed(text: string | null | undefined): TlsVersionName | undefined {
  return text && WIRE_NUMBERS.has(text) ? (text as TlsVersionName) : undefined;
}

/** The first byte of a TLS handshake record, and so of every ClientHello. */
const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXTENSION_SERVER_NAME = 0;
const EXTENSION_ALPN = 16;
const EXTENSION_SUPPORTED_VERSIONS = 43;
const EXTENSION_SIGNATURE_ALGORITHMS = 13;
const EXTENSION_SUPPORTED_GROUPS = 10;
const EXTENSION_STATUS_REQUEST = 5;

/** Largest ClientHello we wait for (real ones, post-quantum key shares included, are under 4 KiB). */
export const maxClientHelloBytes = 32 * 1024;

/** Joins the handshake fragments of the leading TLS records: the whole ClientHello, 'partial', or why it is not one. */
function handshakeBytes(bytes: Buffer): Buffer | 'partial' | string {
  const fragments: Buffer[] = [];
  let have = 0;
  let at = 0;
  for (;;) {
    if (at + 5 > bytes.length) return 'partial';
    if (bytes[at] !== RECORD_HANDSHAKE) return 'not a TLS handshake record';
    if (bytes[at + 1] !== 3) return 'not a TLS record version';
    const length = bytes.readUInt16BE(at + 3);
    if (length === 0 || length > 16_384 + 2_048) return 'bad TLS record length';
    if (at === 0 && bytes.length >= 9) {
      // The handshake header is in the first record: a hello too large to wait for is refused now.
      if (bytes[5] !== HANDSHAKE_CLIENT_HELLO) return 'the first handshake message is not a ClientHello';
      if (4 + bytes.readUIntBE(6, 3) > maxClientHelloBytes) return `ClientHello of ${4 + bytes.readUIntBE(6, 3)} bytes is over the ${maxClientHelloBytes}-byte limit`;
    }
    if (at + 5 + length > bytes.length) return 'partial';
    fragments.push(bytes.subarray(at + 5, at + 5 + length));
    have += length;
    at += 5 + length;
    const joined = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments, have);
    if (joined.length >= 4) {
      if (joined[0] !== HANDSHAKE_CLIENT_HELLO) return 'the first handshake message is not a ClientHello';
      const needed = 4 + joined.readUIntBE(1, 3);
      if (needed > maxClientHelloBytes) return `ClientHello of ${needed} bytes is over the ${maxClientHelloBytes}-byte limit`;
      if (joined.length >= needed) return joined.subarray(0, needed);
    }
  }
}

/**
 * Whether `bytes` open a ClientHello: a TLS handshake record, or the SSL 2.0-format hello that
 * offers TLS (sslv2ClientHello); 'too-short' while the bytes so far fit the latter's first five
 * and do not yet tell. Each byte that does not fit says 'no' at once, so that another protocol's
 * short first message with its high bit set is not held back while we wait for more.
 */
export function opensClientHello(bytes: Buffer): 'yes' | 'no' | 'too-short' {
  if (bytes.length === 0) return 'too-short';
  if (bytes[0] === RECORD_HANDSHAKE) return 'yes';
  if ((bytes[0]! & 0x80) === 0) return 'no';
  // The record's length (a hello has at least 9 bytes), the message type, TLS's major version, its minor.
  if (bytes.length >= 2 && (((bytes[0]! & 0x7f) << 8) | bytes[1]!) < 9) return 'no';
  if (bytes.length >= 3 && bytes[2] !== HANDSHAKE_CLIENT_HELLO) return 'no';
  if (bytes.length >= 4 && bytes[3] !== 3) return 'no';
  if (bytes.length >= 5) return bytes[4]! <= 3 ? 'yes' : 'no';
  return 'too-short';
}

/**
 * An SSL 2.0-format ClientHello that offers TLS (RFC 5246 appendix E.2): how Java 6, OpenSSL 0.9.8
 * clients by default and a JDK with `SSLv2Hello` enabled wrap their hello, for servers that
 * spoke only SSL 2.0. A two-byte record header with its high bit set, message type 1, the newest
 * version (3.x: TLS; SSL 2.0 itself, 0.2, is not read), the lengths of the cipher specs (three
 * bytes each, those of TLS suites beginning with 0), of the session id and of the challenge, then
 * those. No extensions: no SNI, no ALPN, no signature schemes. OpenSSL still reads it and answers
 * in TLS records. Until 2026-12-07 such a hello was relayed as a raw stream: faithful, but never
 * decrypted.
 */
function sslv2ClientHello(bytes: Buffer): ClientHelloResult {
  if (opensClientHello(bytes) !== 'yes') return bytes.length < 5 ? { kind: 'partial' } : { kind: 'invalid', reason: 'not a TLS handshake record' };
  const length = ((bytes[0]! & 0x7f) << 8) | bytes[1]!;
  if (bytes.length < 2 + length) return { kind: 'partial' };
  const body = bytes.subarray(2, 2 + length);
  if (body.length < 9) return { kind: 'invalid', reason: 'truncated SSL 2.0-format ClientHello' };
  const specsLength = body.readUInt16BE(3);
  if (specsLength % 3 !== 0 || 9 + specsLength + body.readUInt16BE(5) + body.readUInt16BE(7) > body.length) return { kind: 'invalid', reason: 'SSL 2.0-format ClientHello lengths run past it' };
  const suites: number[] = [];
  for (let at = 9; at < 9 + specsLength; at += 3) if (body[at] === 0) suites.push(body.readUInt16BE(at + 1));
  return withServerKey({ kind: 'client-hello', alpn: [], versions: { oldest: LEGACY_OLDEST, newest: legacyVersion(body.readUInt16BE(1)) }, suites: realSuites(suites) }, suites, undefined);
}

export function parseClientHello(bytes: Buffer): ClientHelloResult {
  // An SSL 2.0-format record header (high bit set) is never a TLS record's first byte.
  if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) return sslv2ClientHello(bytes);
  const handshake = handshakeBytes(bytes.subarray(0, maxClientHelloBytes + 5 * 8));
  if (handshake === 'partial') return bytes.length > maxClientHelloBytes + 5 * 8 ? { kind: 'invalid', reason: 'ClientHello too large' } : { kind: 'partial' };
  if (typeof handshake === 'string') return { kind: 'invalid', reason: handshake };
  const body = handshake.subarray(4);
  // client_version: the newest version of a client without supported_versions (TLS 1.3 clients say 1.2 here).
  const legacyNewest = body.length >= 2 ? legacyVersion(body.readUInt16BE(0)) : 'TLSv1';
  let at = 2 + 32; // client_version, random
  const skip = (lengthBytes: 1 | 2): boolean => {
    if (at + lengthBytes > body.length) return false;
    const length = body.readUIntBE(at, lengthBytes);
    at += lengthBytes + length;
    return at <= body.length;
  };
  if (!skip(1)) return { kind: 'invalid', reason: 'truncated ClientHello' }; // legacy_session_id
  const suitesStart = at + 2;
  if (!skip(2)) return { kind: 'invalid', reason: 'truncated ClientHello' };
  const suites = readUint16List(body.subarray(suitesStart, at));
  if (!skip(1)) return { kind: 'invalid', reason: 'truncated ClientHello' }; // compression methods
  // No extensions at all (old clients): no SNI, no ALPN.
  if (at === body.length) return withServerKey({ kind: 'client-hello', alpn: [], versions: { oldest: LEGACY_OLDEST, newest: legacyNewest }, suites: realSuites(suites) }, suites, undefined);
  if (at + 2 > body.length) return { kind: 'invalid', reason: 'truncated extensions' };
  const end = at + 2 + body.readUInt16BE(at);
  if (end > body.length) return { kind: 'invalid', reason: 'extensions run past the ClientHello' };
  at += 2;
  let sni: string | undefined;
  let alpn: string[] = [];
  let offered: TlsVersionRange | undefined;
  let schemes: number[] | undefined;
  let groups: number[] | undefined;
  let asksOcsp = false;
  while (at + 4 <= end) {
    const type = body.readUInt16BE(at);
    const length = body.readUInt16BE(at + 2);
    const data = body.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    if (at > end) return { kind: 'invalid', reason: 'an extension runs past the extension list' };
    if (type === EXTENSION_SERVER_NAME) sni = readServerName(data);
    else if (type === EXTENSION_ALPN) alpn = readProtocols(data);
    else if (type === EXTENSION_SUPPORTED_VERSIONS) offered = readSupportedVersions(data);
    else if (type === EXTENSION_SIGNATURE_ALGORITHMS) schemes = readListOfUint16(data);
    else if (type === EXTENSION_SUPPORTED_GROUPS) groups = readListOfUint16(data);
    else if (type === EXTENSION_STATUS_REQUEST) asksOcsp = true;
  }
  return withServerKey({
    kind: 'client-hello', ...(sni !== undefined ? { sni } : {}), alpn, versions: offered ?? { oldest: LEGACY_OLDEST, newest: legacyNewest }, suites: realSuites(suites),
    ...(schemes ? { schemes: schemes.filter((scheme) => !isGrease(scheme)) } : {}), ...(groups ? { groups: groups.filter((group) => !isGrease(group)) } : {}),
    ...(asksOcsp ? { asksOcsp } : {}),
  }, suites, schemes);
}

/** The hello with the one kind of server key its client can verify, when there is one. */
function withServerKey(hello: Extract<ClientHelloResult, { kind: 'client-hello' }>, suites: readonly number[], schemes: readonly number[] | undefined): ClientHelloResult {
  const serverKey = onlyServerKeyKind({ suites, schemes, upToTls12: hello.versions.oldest !== 'TLSv1.3', tls13: hello.versions.newest === 'TLSv1.3' });
  return serverKey ? { ...hello, serverKey } : hello;
}

/**
 * The suites that name a cipher suite: GREASE values (RFC 8701: 0x0A0A, 0x1A1A … 0xFAFA, random
 * per connection in Chrome and OkHttp) and the signalling values (empty renegotiation info, and
 * the fallback signal of a client retrying with an older version) are left out.
 */
function realSuites(suites: readonly number[]): number[] {
  return suites.filter((suite) => !isGrease(suite) && suite !== SCSV_EMPTY_RENEGOTIATION_INFO && suite !== SCSV_FALLBACK);
}

function isGrease(value: number): boolean {
  return (value & 0x0f0f) === 0x0a0a && value >> 8 === (value & 0xff);
}

const SCSV_EMPTY_RENEGOTIATION_INFO = 0x00ff;
const SCSV_FALLBACK = 0x5600;

/** An extension's list of 16-bit values: its two-byte length, then the values. */
function readListOfUint16(data: Buffer): number[] {
  return data.length >= 2 ? readUint16List(data.subarray(2, 2 + data.readUInt16BE(0))) : [];
}

/** Big-endian 16-bit values (a cipher suite list, a signature scheme list); an odd last byte is ignored. */
function readUint16List(data: Buffer): number[] {
  const values: number[] = [];
  for (let at = 0; at + 2 <= data.length; at += 2) values.push(data.readUInt16BE(at));
  return values;
}

/**
 * A ClientHello without supported_versions (a client without TLS 1.3: Android before 10, old iOS,
 * IoT stacks) states only its newest version, and such clients speak every version down to TLS
 * 1.0; taken as TLS 1.0. One that refuses TLS 1.0 all the same (a Java 8 with it disabled) still
 * refuses it through us: the device side offers no newer version than the server chose
 * (leaf-store.ts), so that device meets the TLS 1.0 it would have met directly.
 */
const LEGACY_OLDEST: TlsVersionName = 'TLSv1';

/** The oldest and newest TLS versions in a supported_versions list; GREASE and drafts are skipped. */
function readSupportedVersions(data: Buffer): TlsVersionRange | undefined {
  if (data.length < 1) return undefined;
  const end = Math.min(data.length, 1 + data[0]!);
  let oldest: number | undefined;
  let newest: number | undefined;
  for (let at = 1; at + 2 <= end; at += 2) {
    const version = data.readUInt16BE(at);
    if (!VERSIONS.has(version)) continue;
    if (oldest === undefined || version < oldest) oldest = version;
    if (newest === undefined || version > newest) newest = version;
  }
  return oldest === undefined || newest === undefined ? undefined : { oldest: VERSIONS.get(oldest)!, newest: VERSIONS.get(newest)! };
}

/**
 * A legacy client_version as a version we speak: SSL 3 and older as TLS 1.0 (the device side
 * refuses them anyway), anything past TLS 1.2 as TLS 1.2 (TLS 1.3 is only ever offered by
 * supported_versions, RFC 8446 §4.2.1).
 */
function legacyVersion(wire: number): TlsVersionName {
  if (wire >= 0x0303) return 'TLSv1.2';
  return VERSIONS.get(wire) ?? 'TLSv1';
}

function readServerName(data: Buffer): string | undefined {
  if (data.length < 2) return undefined;
  const listEnd = Math.min(data.length, 2 + data.readUInt16BE(0));
  let at = 2;
  while (at + 3 <= listEnd) {
    const nameType = data[at]!;
    const length = data.readUInt16BE(at + 1);
    const name = data.subarray(at + 3, at + 3 + length);
    at += 3 + length;
    // Only host_name (0) is defined; the caller validates the name before it is used anywhere.
    if (nameType === 0 && at <= listEnd) return name.toString('latin1');
  }
  return undefined;
}

function readProtocols(data: Buffer): string[] {
  if (data.length < 2) return [];
  const listEnd = Math.min(data.length, 2 + data.readUInt16BE(0));
  const protocols: string[] = [];
  let at = 2;
  while (at < listEnd) {
    const length = data[at]!;
    if (length === 0 || at + 1 + length > listEnd) break;
    protocols.push(data.subarray(at + 1, at + 1 + length).toString('latin1'));
    at += 1 + length;
  }
  return protocols;
}
