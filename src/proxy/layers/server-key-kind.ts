// Which kinds of server key a client can verify, read from its ClientHello: RSA, ECDSA, or both.
//
// A server with two certificates (an RSA one and an ECDSA one: Cloudflare's, many nginx setups)
// shows each client the one it can use. Our ClientHello to the server is OpenSSL's, which can use
// both, so such a server shows us the one it prefers, ECDSA, and our leaf copies its kind
// (ca/leaf-shape.ts). A device that can verify only RSA (an IoT stack with RSA suites alone, old
// Android and Java) then met an ECDSA leaf and no cipher suite it shares with us, where directly it
// would have been shown the RSA certificate and connected. So when a device can use one kind only,
// our ClientHello to its server asks for that kind alone (upstream-contexts.ts).
//
// What says it, by TLS version:
// - up to TLS 1.2, the cipher suites: each names how the server authenticates (ECDHE_RSA_*,
//   ECDHE_ECDSA_*, RSA_* ...). A suite this file does not know (PSK, anonymous, GOST) counts for
//   neither kind.
// - in TLS 1.3, the signature_algorithms extension: ecdsa_* for an ECDSA key, rsa_pss_* for RSA
//   (TLS 1.3 signs with RSA only in PSS).
// A kind is usable when the device could use it in one of the versions it offers. Pure.

export type ServerKeyKind = 'rsa' | 'ecdsa';

/** Suites up to TLS 1.2 whose server authenticates with an ECDSA key (IANA TLS Cipher Suites registry). */
const ECDSA_SUITES: ReadonlySet<number> = new Set([
  0xc006, 0xc007, 0xc008, 0xc009, 0xc00a, // ECDHE_ECDSA with NULL, RC4, 3DES, AES_CBC_SHA
  0xc023, 0xc024, 0xc02b, 0xc02c, 0xcca9, // AES_CBC_SHA256/384, AES_GCM, CHACHA20_POLY1305
  0xc0ac, 0xc0ad, 0xc0ae, 0xc0af, // AES_CCM(_8)
  0xc048, 0xc049, 0xc05c, 0xc05d, 0xc072, 0xc073, 0xc086, 0xc087, // ARIA, CAMELLIA
]);

/** Suites up to TLS 1.2 whose server authenticates with an RSA key: RSA, DHE_RSA and ECDHE_RSA key exchanges. */
const RSA_SUITES: ReadonlySet<number> = new Set([
  0x0004, 0x0005, 0x000a, 0x002f, 0x0035, 0x003c, 0x003d, 0x009c, 0x009d, // RSA: RC4, 3DES, AES
  0x0016, 0x0033, 0x0039, 0x0067, 0x006b, 0x009e, 0x009f, 0xccaa, // DHE_RSA
  0xc011, 0xc012, 0xc013, 0xc014, 0xc027, 0xc028, 0xc02f, 0xc030, 0xcca8, // ECDHE_RSA
  0x0041, 0x0045, 0x0084, 0x0088, 0x00ba, 0x00be, 0x00c0, 0x00c4, 0xc076, 0xc077, // CAMELLIA
  0xc09c, 0xc09d, 0xc09e, 0xc09f, 0xc0a0, 0xc0a1, 0xc0a2, 0xc0a3, // AES_CCM(_8)
  0xc03c, 0xc03d, 0xc044, 0xc045, 0xc04c, 0xc04d, 0xc050, 0xc051, 0xc052, 0xc053, 0xc060, 0xc061, // ARIA
]);

/** signature_algorithms that TLS 1.3 signs with for an ECDSA key: ecdsa_secp256r1_sha256, …384, …521. */
const TLS13_ECDSA_SCHEMES: ReadonlySet<number> = new Set([0x0403, 0x0503, 0x0603]);
/** rsa_pss_rsae_* and rsa_pss_pss_*: what TLS 1.3 signs with for an RSA key. */
const TLS13_RSA_SCHEMES: ReadonlySet<number> = new Set([0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b]);

export interface OfferedAuthentication {
  /** The cipher suites, in the client's order (GREASE and signalling values included: they count for nothing). */
  readonly suites: readonly number[];
  /** signature_algorithms, when the hello has the extension. */
  readonly schemes: readonly number[] | undefined;
  /** Whether the client offers TLS 1.2 or older, and TLS 1.3. */
  readonly upToTls12: boolean;
  readonly tls13: boolean;
}

/** The one kind of server key the client can verify, or undefined when it can verify both (or we cannot tell). */
export function onlyServerKeyKind(offered: OfferedAuthentication): ServerKeyKind | undefined {
  const schemes = offered.schemes ?? [];
  const rsa = (offered.upToTls12 && offered.suites.some((suite) => RSA_SUITES.has(suite)))
    || (offered.tls13 && schemes.some((scheme) => TLS13_RSA_SCHEMES.has(scheme)));
  const ecdsa = (offered.upToTls12 && offered.suites.some((suite) => ECDSA_SUITES.has(suite)))
    || (offered.tls13 && schemes.some((scheme) => TLS13_ECDSA_SCHEMES.has(scheme)));
  if (rsa === ecdsa) return undefined;
  return rsa ? 'rsa' : 'ecdsa';
}
