// The contexts of our connections to servers: the floor follows the device's own oldest version
// only downwards, Node's default context is used when nothing differs from it, and each context
// is built once.

import t from 'tap';
import { UpstreamContexts } from '../../../src/proxy/upstream-contexts.js';
import { CertificateAuthority } from '../../../src/proxy/ca/certificate-authority.js';
import { getOriginCa, tempDir } from '../../helpers/lab.js';

t.test('the floor: the lab\'s, or the device\'s own oldest version when older', async (t) => {
  const byDefault = new UpstreamContexts([], undefined, undefined);
  t.equal(byDefault.floorFor(undefined), 'TLSv1.2', 'not a TLS device connection: the lab\'s');
  t.equal(byDefault.floorFor('TLSv1'), 'TLSv1', 'an Android 4.4 app');
  t.equal(byDefault.floorFor('TLSv1.1'), 'TLSv1.1');
  t.equal(byDefault.floorFor('TLSv1.2'), 'TLSv1.2');
  t.equal(byDefault.floorFor('TLSv1.3'), 'TLSv1.2', 'a device that speaks only TLS 1.3 does not raise it');
  const lenient = new UpstreamContexts([], 'TLSv1', undefined);
  t.equal(lenient.floorFor('TLSv1.2'), 'TLSv1', '--upstream-tls-min 1.0 stays');
});

t.test('contexts: Node\'s default when nothing differs, one per floor and certificate, built once', async (t) => {
  const plain = new UpstreamContexts([], undefined, undefined);
  t.equal(plain.for('a.example'), undefined, 'TLS 1.2, the bundled roots: Node\'s own');
  const old = plain.for('a.example', 'TLSv1');
  t.ok(old, 'an older floor has a context of its own');
  t.equal(plain.for('b.example', 'TLSv1'), old, 'shared by every host without a certificate');
  const leaf = getOriginCa().issueLeaf('client.example');
  const withCertificate = new UpstreamContexts([getOriginCa().certPem], undefined, new Map([['mtls.example', { certPem: leaf.certPem, keyPem: leaf.keyPem }]]));
  const shared = withCertificate.for('other.example');
  t.ok(shared, 'extra roots: a context');
  t.not(withCertificate.for('MTLS.example'), shared, 'the certificate\'s host has its own, whatever its case');
  t.not(withCertificate.for('mtls.example', 'TLSv1'), withCertificate.for('mtls.example'), 'and one per floor');
  t.equal(withCertificate.for('mtls.example'), withCertificate.for('mtls.example'), 'built once');
  t.ok(withCertificate.hasCertificate('Mtls.Example'));
  // Leaves of one CA share a key; another CA's is another key.
  const stranger = CertificateAuthority.loadOrCreate(tempDir()).issueLeaf('stranger.example');
  t.throws(() => new UpstreamContexts([], undefined, new Map([['bad.example', { certPem: leaf.certPem, keyPem: stranger.keyPem }]])), 'a key that does not go with its certificate fails at start');
});
