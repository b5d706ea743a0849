// The contexts of our connections to servers: the floor follows the device's own oldest version
// only downwards, the ceiling is the device's newest, Node's default context is used when nothing
// differs from it, and each context is built once.

import t from 'tap';
import { UpstreamContexts } from '../../../src/proxy/upstream-contexts.js';
import { CertificateAuthority } from '../../../src/proxy/ca/certificate-authority.js';
import { getOriginCa, tempDir } from '../../helpers/lab.js';

t.test('the versions: from the lab\'s floor, or the device\'s own oldest when older, to the device\'s newest', async (t) => {
  const byDefault = new UpstreamContexts([], undefined, undefined);
  t.same(byDefault.versionsFor(undefined), { oldest: 'TLSv1.2', newest: 'TLSv1.3' }, 'not a TLS device connection: the lab\'s, and everything newer');
  t.same(byDefault.versionsFor({ oldest: 'TLSv1', newest: 'TLSv1' }), { oldest: 'TLSv1', newest: 'TLSv1' }, 'an Android 4.4 app');
  t.same(byDefault.versionsFor({ oldest: 'TLSv1.1', newest: 'TLSv1.3' }), { oldest: 'TLSv1.1', newest: 'TLSv1.3' });
  t.same(byDefault.versionsFor({ oldest: 'TLSv1', newest: 'TLSv1.2' }), { oldest: 'TLSv1', newest: 'TLSv1.2' }, 'an Android 9 app: no TLS 1.3 to its server');
  t.same(byDefault.versionsFor({ oldest: 'TLSv1.3', newest: 'TLSv1.3' }), { oldest: 'TLSv1.2', newest: 'TLSv1.3' }, 'a device that speaks only TLS 1.3 does not raise the floor');
  const lenient = new UpstreamContexts([], 'TLSv1', undefined);
  t.same(lenient.versionsFor({ oldest: 'TLSv1.2', newest: 'TLSv1.3' }), { oldest: 'TLSv1', newest: 'TLSv1.3' }, '--upstream-tls-min 1.0 stays');
});

t.test('contexts: Node\'s default when nothing differs, one per range of versions and certificate, built once', async (t) => {
  const plain = new UpstreamContexts([], undefined, undefined);
  t.equal(plain.for('a.example'), undefined, 'TLS 1.2 and up, the bundled roots: Node\'s own');
  const old = plain.for('a.example', { oldest: 'TLSv1', newest: 'TLSv1.3' });
  t.ok(old, 'an older floor has a context of its own');
  t.equal(plain.for('b.example', { oldest: 'TLSv1', newest: 'TLSv1.3' }), old, 'shared by every host without a certificate');
  const capped = plain.for('a.example', { oldest: 'TLSv1', newest: 'TLSv1.2' });
  t.ok(capped && capped !== old, 'a lower ceiling has a context of its own');
  t.ok(plain.for('a.example', { oldest: 'TLSv1.2', newest: 'TLSv1.2' }), 'and so does TLS 1.2 alone');
  const leaf = getOriginCa().issueLeaf('client.example');
  const withCertificate = new UpstreamContexts([getOriginCa().certPem], undefined, new Map([['mtls.example', { certPem: leaf.certPem, keyPem: leaf.keyPem }]]));
  const shared = withCertificate.for('other.example');
  t.ok(shared, 'extra roots: a context');
  t.not(withCertificate.for('MTLS.example'), shared, 'the certificate\'s host has its own, whatever its case');
  t.not(withCertificate.for('mtls.example', { oldest: 'TLSv1', newest: 'TLSv1.3' }), withCertificate.for('mtls.example'), 'and one per range');
  t.equal(withCertificate.for('mtls.example'), withCertificate.for('mtls.example'), 'built once');
  t.ok(withCertificate.hasCertificate('Mtls.Example'));
  // Leaves of one CA share a key; another CA's is another key.
  const stranger = CertificateAuthority.loadOrCreate(tempDir()).issueLeaf('stranger.example');
  t.throws(() => new UpstreamContexts([], undefined, new Map([['bad.example', { certPem: leaf.certPem, keyPem: stranger.keyPem }]])), 'a key that does not go with its certificate fails at start');
});
