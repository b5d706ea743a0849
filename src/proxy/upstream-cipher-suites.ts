// The cipher suites we offer a server on a device's behalf: the device's own, in its order.
//
// A server chooses its suite from the client's list, by its own preference or by the client's.
// With OpenSSL's default list in our ClientHello, a server that takes only a suite the device
// offers beyond it (Camellia, TLS 1.3 AES-CCM: IoT and regional stacks) refused us where it took
// the device, and a server that follows the client's order agreed on another suite with us than
// it would with the device: the suite the record says the server chose was ours, not the device's.
// So our ClientHello to the server lists the device's suites, as far as OpenSSL speaks them.
//
// Only suites with a certificate-authenticated key exchange and a cipher not known to be broken are
// ever offered (the table below: AES in CBC, GCM and CCM, ChaCha20-Poly1305, Camellia, ARIA; RSA,
// DHE and ECDHE key exchanges; RSA and ECDSA certificates). A device's RC4, 3DES, NULL, anonymous,
// export, PSK or SRP suites are left out: those would weaken the check of the server we make for
// the device, or cannot be checked at all. A device that offers none of the table's gets our
// default list, as before. Pure.

/** By IANA number, OpenSSL's name of each suite we may offer a server (`openssl ciphers -V`; TLS 1.3's keep their IANA names). */
const OFFERABLE_SUITES: ReadonlyMap<number, string> = new Map([
  // TLS 1.3
  [0x1301, 'TLS_AES_128_GCM_SHA256'], [0x1302, 'TLS_AES_256_GCM_SHA384'], [0x1303, 'TLS_CHACHA20_POLY1305_SHA256'],
  [0x1304, 'TLS_AES_128_CCM_SHA256'], [0x1305, 'TLS_AES_128_CCM_8_SHA256'],
  // ECDHE with an ECDSA certificate
  [0xc009, 'ECDHE-ECDSA-AES128-SHA'], [0xc00a, 'ECDHE-ECDSA-AES256-SHA'], [0xc023, 'ECDHE-ECDSA-AES128-SHA256'], [0xc024, 'ECDHE-ECDSA-AES256-SHA384'],
  [0xc02b, 'ECDHE-ECDSA-AES128-GCM-SHA256'], [0xc02c, 'ECDHE-ECDSA-AES256-GCM-SHA384'], [0xcca9, 'ECDHE-ECDSA-CHACHA20-POLY1305'],
  [0xc0ac, 'ECDHE-ECDSA-AES128-CCM'], [0xc0ad, 'ECDHE-ECDSA-AES256-CCM'], [0xc0ae, 'ECDHE-ECDSA-AES128-CCM8'], [0xc0af, 'ECDHE-ECDSA-AES256-CCM8'],
  [0xc05c, 'ECDHE-ECDSA-ARIA128-GCM-SHA256'], [0xc05d, 'ECDHE-ECDSA-ARIA256-GCM-SHA384'], [0xc072, 'ECDHE-ECDSA-CAMELLIA128-SHA256'], [0xc073, 'ECDHE-ECDSA-CAMELLIA256-SHA384'],
  // ECDHE with an RSA certificate
  [0xc013, 'ECDHE-RSA-AES128-SHA'], [0xc014, 'ECDHE-RSA-AES256-SHA'], [0xc027, 'ECDHE-RSA-AES128-SHA256'], [0xc028, 'ECDHE-RSA-AES256-SHA384'],
  [0xc02f, 'ECDHE-RSA-AES128-GCM-SHA256'], [0xc030, 'ECDHE-RSA-AES256-GCM-SHA384'], [0xcca8, 'ECDHE-RSA-CHACHA20-POLY1305'],
  [0xc060, 'ECDHE-ARIA128-GCM-SHA256'], [0xc061, 'ECDHE-ARIA256-GCM-SHA384'], [0xc076, 'ECDHE-RSA-CAMELLIA128-SHA256'], [0xc077, 'ECDHE-RSA-CAMELLIA256-SHA384'],
  // DHE with an RSA certificate
  [0x0033, 'DHE-RSA-AES128-SHA'], [0x0039, 'DHE-RSA-AES256-SHA'], [0x0067, 'DHE-RSA-AES128-SHA256'], [0x006b, 'DHE-RSA-AES256-SHA256'],
  [0x009e, 'DHE-RSA-AES128-GCM-SHA256'], [0x009f, 'DHE-RSA-AES256-GCM-SHA384'], [0xccaa, 'DHE-RSA-CHACHA20-POLY1305'],
  [0xc09e, 'DHE-RSA-AES128-CCM'], [0xc09f, 'DHE-RSA-AES256-CCM'], [0xc0a2, 'DHE-RSA-AES128-CCM8'], [0xc0a3, 'DHE-RSA-AES256-CCM8'],
  [0xc052, 'DHE-RSA-ARIA128-GCM-SHA256'], [0xc053, 'DHE-RSA-ARIA256-GCM-SHA384'],
  [0x0045, 'DHE-RSA-CAMELLIA128-SHA'], [0x0088, 'DHE-RSA-CAMELLIA256-SHA'], [0x00be, 'DHE-RSA-CAMELLIA128-SHA256'], [0x00c4, 'DHE-RSA-CAMELLIA256-SHA256'],
  // RSA key exchange
  [0x002f, 'AES128-SHA'], [0x0035, 'AES256-SHA'], [0x003c, 'AES128-SHA256'], [0x003d, 'AES256-SHA256'],
  [0x009c, 'AES128-GCM-SHA256'], [0x009d, 'AES256-GCM-SHA384'],
  [0xc09c, 'AES128-CCM'], [0xc09d, 'AES256-CCM'], [0xc0a0, 'AES128-CCM8'], [0xc0a1, 'AES256-CCM8'],
  [0xc050, 'ARIA128-GCM-SHA256'], [0xc051, 'ARIA256-GCM-SHA384'],
  [0x0041, 'CAMELLIA128-SHA'], [0x0084, 'CAMELLIA256-SHA'], [0x00ba, 'CAMELLIA128-SHA256'], [0x00c0, 'CAMELLIA256-SHA256'],
]);

/** The device's suites by OpenSSL's names, in its order, TLS 1.3's apart from the older versions' (they are set apart in OpenSSL). */
export interface OfferableSuites {
  readonly tls13: readonly string[];
  readonly upToTls12: readonly string[];
}

/** The device's suites that are in the table, in the device's order; the rest are left out (either list may be empty). */
export function offerableSuites(deviceSuites: readonly number[]): OfferableSuites {
  const names = namesInOrder(OFFERABLE_SUITES, deviceSuites);
  return { tls13: names.filter((name) => name.startsWith('TLS_')), upToTls12: names.filter((name) => !name.startsWith('TLS_')) };
}

/** The names `table` gives the IANA numbers of a device's list, in its order, each once; numbers not in it are left out. */
export function namesInOrder(table: ReadonlyMap<number, string>, numbers: readonly number[]): string[] {
  const names: string[] = [];
  for (const number of numbers) {
    const name = table.get(number);
    if (name !== undefined && !names.includes(name)) names.push(name);
  }
  return names;
}
