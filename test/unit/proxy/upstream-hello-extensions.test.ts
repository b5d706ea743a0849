// The signature schemes and groups we offer a server on a device's behalf: the device's own, in
// its order, those OpenSSL does not speak left out; every name in the tables is one OpenSSL takes.

import t from 'tap';
import tls from 'node:tls';
import { groupsOffering, signatureSchemesImplied, signatureSchemesOffering } from '../../../src/proxy/upstream-hello-extensions.js';

t.test('signature schemes: the device\'s, in its order', async (t) => {
  const rows: Array<[string, number[], string | undefined]> = [
    ['Chrome\'s', [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601],
      'ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256:rsa_pkcs1_sha256:ecdsa_secp384r1_sha384:rsa_pss_rsae_sha384:rsa_pkcs1_sha384:rsa_pss_rsae_sha512:rsa_pkcs1_sha512'],
    ['RSA first, EdDSA, TLS 1.2\'s SHA-224 and SHA-1', [0x0804, 0x0807, 0x0808, 0x0303, 0x0203, 0x0201], 'rsa_pss_rsae_sha256:ed25519:ed448:ECDSA+SHA224:ECDSA+SHA1:rsa_pkcs1_sha1'],
    ['DSA, as OpenSSL clients send it', [0x0402, 0x0302], 'DSA+SHA256:DSA+SHA224'],
    ['unknown ones (GOST, brainpool, GREASE) left out', [0xeeee, 0x081a, 0x0709, 0x0403], 'ecdsa_secp256r1_sha256'],
    ['none known: our default', [0x0709, 0x081b], undefined],
  ];
  for (const [what, schemes, list] of rows) t.equal(signatureSchemesOffering(schemes), list, what);
});

t.test('groups: the device\'s, in its order', async (t) => {
  const rows: Array<[string, number[], string | undefined]> = [
    ['P-256 first (an IoT stack)', [0x0017, 0x001d], 'P-256:X25519'],
    ['Firefox-like, finite-field too', [0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101], 'X25519:P-256:P-384:P-521:ffdhe2048:ffdhe3072'],
    ['a post-quantum hybrid OpenSSL 3.0 lacks, and GREASE, left out', [0x2a2a, 0x11ec, 0x001d, 0x0017], 'X25519:P-256'],
    ['brainpool for TLS 1.2', [0x001a, 0x0017], 'brainpoolP256r1:P-256'],
    ['none known: our default', [0x11ec, 0x6399], undefined],
  ];
  for (const [what, groups, list] of rows) t.equal(groupsOffering(groups), list, what);
});

t.test('every name in the tables is one OpenSSL takes', async (t) => {
  const all: number[] = [];
  for (let number = 0; number <= 0xffff; number++) all.push(number);
  const schemes = signatureSchemesOffering(all)!.split(':');
  const groups = groupsOffering(all)!.split(':');
  t.ok(schemes.length >= 20 && groups.length >= 13, `${schemes.length} schemes, ${groups.length} groups`);
  for (const scheme of schemes) t.doesNotThrow(() => tls.createSecureContext({ sigalgs: scheme }), scheme);
  for (const group of groups) t.doesNotThrow(() => tls.createSecureContext({ ecdhCurve: group }), group);
  t.doesNotThrow(() => tls.createSecureContext({ sigalgs: schemes.join(':'), ecdhCurve: groups.join(':') }), 'and all of them together');
});

t.test('a TLS 1.2 hello without signature_algorithms (BusyBox): SHA-1 only, by the key it can verify, as RFC 5246 reads its silence', async (t) => {
  t.equal(signatureSchemesImplied(undefined), 'RSA+SHA1:ECDSA+SHA1');
  t.equal(signatureSchemesImplied('rsa'), 'RSA+SHA1');
  t.equal(signatureSchemesImplied('ecdsa'), 'ECDSA+SHA1');
  for (const list of ['RSA+SHA1:ECDSA+SHA1', 'RSA+SHA1', 'ECDSA+SHA1']) t.doesNotThrow(() => tls.createSecureContext({ sigalgs: list, ciphers: 'DEFAULT:@SECLEVEL=0' }), `${list}: OpenSSL takes it`);
});
