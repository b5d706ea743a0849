// The contexts of our connections to servers: the floor follows the device's own oldest version
// only downwards, the ceiling is the device's newest, Node's default context is used when nothing
// differs from it, and each context is built once.

import t from 'tap';
import { UpstreamContexts } from '../../../src/proxy/upstream-contexts.js';
import { limits } from '../../../src/limits.js';
import { CertificateAuthority } from '../../../src/proxy/ca/certificate-authority.js';
import { getOriginCa, tempDir } from '../../helpers/lab.js';

t.test('the versions: from the lab\'s floor, or the device\'s own oldest when older, to the device\'s newest', async (t) => {
  const byDefault = new UpstreamContexts([], undefined, undefined);
  t.same(byDefault.versionsFor(undefined), { oldest: 'TLSv1.2', newest: 'TLSv1.3' }, 'not a TLS device connection: the lab\'s, and everything newer');
  t.same(byDefault.versionsFor({ oldest: 'TLSv1', newest: 'TLSv1' }), { oldest: 'TLSv1', newest: 'TLSv1' }, 'an Android 4.4 app');
  t.same(byDefault.versionsFor({ oldest: 'TLSv1.1', newest: 'TLSv1.3' }), { oldest: 'TLSv1.1', newest: 'TLSv1.3' });
  t.same(byDefault.versionsFor({ oldest: 'TLSv1', newest: 'TLSv1.2' }), { oldest: 'TLSv1', newest: 'TLSv1.2' }, 'an Android 9 app: no TLS 1.3 to its server');
  t.same(byDefault.versionsFor({ oldest: 'TLSv1.3', newest: 'TLSv1.3' }), { oldest: 'TLSv1.3', newest: 'TLSv1.3' }, 'a device that speaks only TLS 1.3: its server too');
  const lenient = new UpstreamContexts([], 'TLSv1', undefined);
  t.same(lenient.versionsFor({ oldest: 'TLSv1.2', newest: 'TLSv1.3' }), { oldest: 'TLSv1', newest: 'TLSv1.3' }, '--upstream-tls-min 1.0 stays');
  const askedFor = new UpstreamContexts([], 'TLSv1.2', undefined);
  t.same(askedFor.versionsFor({ oldest: 'TLSv1.3', newest: 'TLSv1.3' }), { oldest: 'TLSv1.2', newest: 'TLSv1.3' }, 'a lab that sets --upstream-tls-min 1.2 bridges a TLS 1.3-only device to a TLS 1.2 server');
  t.same(askedFor.versionsFor({ oldest: 'TLSv1', newest: 'TLSv1.2' }), { oldest: 'TLSv1', newest: 'TLSv1.2' }, 'and an older device keeps its own oldest');
});

t.test('contexts: Node\'s default when nothing differs, one per range of versions and certificate, built once', async (t) => {
  const plain = new UpstreamContexts([], undefined, undefined);
  t.equal(plain.for('a.example'), undefined, 'TLS 1.2 and up, the bundled roots: Node\'s own');
  const old = plain.for('a.example', { versions: { oldest: 'TLSv1', newest: 'TLSv1.3' } });
  t.ok(old, 'an older floor has a context of its own');
  t.equal(plain.for('b.example', { versions: { oldest: 'TLSv1', newest: 'TLSv1.3' } }), old, 'shared by every host without a certificate');
  const capped = plain.for('a.example', { versions: { oldest: 'TLSv1', newest: 'TLSv1.2' } });
  t.ok(capped && capped !== old, 'a lower ceiling has a context of its own');
  t.ok(plain.for('a.example', { versions: { oldest: 'TLSv1.2', newest: 'TLSv1.2' } }), 'and so does TLS 1.2 alone');
  const leaf = getOriginCa().issueLeaf('client.example');
  const withCertificate = new UpstreamContexts([getOriginCa().certPem], undefined, new Map([['mtls.example', { certPem: leaf.certPem, keyPem: leaf.keyPem }]]));
  const shared = withCertificate.for('other.example');
  t.ok(shared, 'extra roots: a context');
  t.not(withCertificate.for('MTLS.example'), shared, 'the certificate\'s host has its own, whatever its case');
  t.not(withCertificate.for('mtls.example', { versions: { oldest: 'TLSv1', newest: 'TLSv1.3' } }), withCertificate.for('mtls.example'), 'and one per range');
  t.equal(withCertificate.for('mtls.example'), withCertificate.for('mtls.example'), 'built once');
  t.ok(withCertificate.hasCertificate('Mtls.Example'));
  // Leaves of one CA share a key; another CA's is another key.
  const stranger = CertificateAuthority.loadOrCreate(tempDir()).issueLeaf('stranger.example');
  t.throws(() => new UpstreamContexts([], undefined, new Map([['bad.example', { certPem: leaf.certPem, keyPem: stranger.keyPem }]])), 'a key that does not go with its certificate fails at start');
});

t.test('the device\'s suites: a context per distinct list, built once, bounded; a list OpenSSL refuses falls back to ours', async (t) => {
  const contexts = new UpstreamContexts([], undefined, undefined);
  const versions = { oldest: 'TLSv1.2', newest: 'TLSv1.3' } as const;
  const chrome = contexts.for('a.example', { versions, deviceSuites: [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f] });
  t.ok(chrome, 'a device\'s list has a context');
  t.equal(contexts.for('b.example', { versions, deviceSuites: [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f] }), chrome, 'shared by every host, built once');
  t.not(contexts.for('a.example', { versions, deviceSuites: [0xc02f, 0x1301] }), chrome, 'another order is another offer');
  t.equal(contexts.for('a.example', { versions, deviceSuites: [0x000a, 0x0005] }), undefined, 'nothing we may offer (3DES, RC4): Node\'s default, as before');
  // A list that OpenSSL takes nothing from once narrowed to RSA (ECDSA suites alone): ours instead.
  const narrowed = contexts.for('a.example', { versions, serverKey: 'rsa', deviceSuites: [0xc02b] });
  t.equal(narrowed, contexts.for('a.example', { versions, serverKey: 'rsa' }), 'our RSA-only offer');
  const bounded = new UpstreamContexts([], undefined, undefined);
  const first = bounded.for('a.example', { versions, deviceSuites: [0x002f] });
  // Distinct lists: ordered pairs of twelve suites of the table.
  const twelve = [0xc02b, 0xc02f, 0xc013, 0xc014, 0x009c, 0x009d, 0x0035, 0x0041, 0x009e, 0xcca8, 0xcca9, 0xc009];
  const pairs = twelve.flatMap((a) => twelve.filter((b) => b !== a).map((b) => [a, b]));
  for (const pair of pairs.slice(0, limits.upstreamTlsContexts)) bounded.for('a.example', { versions, deviceSuites: pair });
  t.not(bounded.for('a.example', { versions, deviceSuites: [0x002f] }), first, 'the least recently used is forgotten past the bound (and built again)');
});

t.test('the device\'s signature schemes and groups: part of the context\'s key; ones OpenSSL refuses together fall back to ours', async (t) => {
  const contexts = new UpstreamContexts([], undefined, undefined);
  const versions = { oldest: 'TLSv1.2', newest: 'TLSv1.3' } as const;
  const base = contexts.for('a.example', { versions, deviceSuites: [0x1301, 0xc02f] });
  const withSchemes = contexts.for('a.example', { versions, deviceSuites: [0x1301, 0xc02f], deviceSchemes: [0x0403, 0x0804] });
  t.not(withSchemes, base, 'schemes of its own: a context of its own');
  t.equal(contexts.for('b.example', { versions, deviceSuites: [0x1301, 0xc02f], deviceSchemes: [0x0403, 0x0804] }), withSchemes, 'shared by every host');
  const withGroups = contexts.for('a.example', { versions, deviceSuites: [0x1301, 0xc02f], deviceGroups: [0x0017, 0x001d] });
  t.ok(withGroups && withGroups !== base && withGroups !== withSchemes, 'groups of its own too');
  t.equal(contexts.for('a.example', { versions, deviceSuites: [0x1301, 0xc02f], deviceSchemes: [0x0709], deviceGroups: [0x11ec] }), base, 'none that we offer: as without them');
  // TLS 1.3 cannot sign with PKCS#1 alone: OpenSSL takes the list, and the handshake would fail as the device's would.
  t.ok(contexts.for('a.example', { versions, deviceSchemes: [0x0401] }), 'a list OpenSSL takes is not second-guessed');
});

t.test('a TLS 1.2 hello without signature schemes (BusyBox) has a context of its own (SHA-1 only: test/conformance/clients-busybox.test.ts)', async (t) => {
  const contexts = new UpstreamContexts([], undefined, undefined);
  const upTo12 = { oldest: 'TLSv1', newest: 'TLSv1.2' } as const;
  const silent = contexts.for('a.example', { versions: upTo12, deviceSuites: [0xc02f, 0x009c] });
  const named = contexts.for('a.example', { versions: upTo12, deviceSuites: [0xc02f, 0x009c], deviceSchemes: [0x0401] });
  t.ok(silent && named && silent !== named, 'not the one of a device that names its schemes');
  t.equal(contexts.for('b.example', { versions: upTo12, deviceSuites: [0xc02f, 0x009c] }), silent, 'shared by every host');
});
