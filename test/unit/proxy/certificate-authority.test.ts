import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import crypto, { X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import forge from 'node-forge';
import { CertificateAuthority, randomSerialHex } from '../../../src/proxy/ca/certificate-authority.js';
import { tempDir } from '../../helpers/lab.js';

t.test('creates a CA once: key 0600 in a 0700 folder, 10 years, back-dated, a real CA', async (t) => {
  const dir = path.join(tempDir(), 'ca');
  const ca = CertificateAuthority.loadOrCreate(dir);
  t.equal(fs.statSync(path.join(dir, 'ca.key')).mode & 0o777, 0o600);
  t.equal(fs.statSync(dir).mode & 0o777, 0o700);
  const x = new X509Certificate(ca.certPem);
  t.ok(x.ca);
  t.ok(Date.parse(x.validFrom) < Date.now() - 86_400_000, 'back-dated');
  const years = (Date.parse(x.validTo) - Date.now()) / (365.25 * 86_400_000);
  t.ok(years > 9.9 && years < 10.1, `valid ${years.toFixed(2)} years`);
  t.ok(x.verify(x.publicKey), 'self-signed with a native signature forge can build');
  const again = CertificateAuthority.loadOrCreate(dir);
  t.equal(again.certPem, ca.certPem, 'loaded, not re-created');
  t.same(ca.info().warnings, []);
});

t.test('serials are positive, 16 bytes, and differ', async (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const hex = randomSerialHex();
    t.equal(hex.length, 32);
    t.ok(Number.parseInt(hex.slice(0, 2), 16) < 0x80 && hex.slice(0, 2) !== '00');
    seen.add(hex);
  }
  t.equal(seen.size, 200);
});

t.test('issues SAN leaves for names and IPs, under 200 days, server auth only', async (t) => {
  const ca = CertificateAuthority.loadOrCreate(tempDir());
  const caX = new X509Certificate(ca.certPem);
  for (const host of ['api.example.com', '42.62.48.10', '2001:db8::1']) {
    const leaf = new X509Certificate(ca.issueLeaf(host).certPem);
    t.ok(leaf.checkIssued(caX) && leaf.verify(caX.publicKey), `${host} signed by the CA`);
    if (host.includes('.') && !/^\d/.test(host)) t.equal(leaf.checkHost(host), host);
    else t.equal(leaf.checkIP(host), host);
    t.notOk(leaf.ca);
    const days = (Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 86_400_000;
    t.ok(days < 200, `validity ${days} days`);
    const forgeLeaf = forge.pki.certificateFromPem(ca.issueLeaf(host).certPem);
    t.same((forgeLeaf.getExtension('extKeyUsage') as { serverAuth?: boolean }).serverAuth, true);
  }
});

t.test('a leaf for several names carries them all, the first as its subject; wildcards and IPv6 in Node\'s long form too', async (t) => {
  const ca = CertificateAuthority.loadOrCreate(tempDir());
  const leaf = new X509Certificate(ca.issueLeaf(['cdn.example.com', '*.static.example.com', '10.1.2.3', '2001:db8:0:0:0:0:0:1']).certPem);
  t.equal(leaf.subjectAltName, 'DNS:cdn.example.com, DNS:*.static.example.com, IP Address:10.1.2.3, IP Address:2001:DB8:0:0:0:0:0:1');
  t.match(leaf.subject, /^CN=cdn\.example\.com$/m);
  t.equal(leaf.checkHost('img.static.example.com'), '*.static.example.com', 'the wildcard matched');
  t.equal(leaf.checkHost('static.example.com'), undefined, 'a wildcard covers one label, not the bare name');
  t.equal(leaf.checkIP('2001:db8::1'), '2001:db8::1');
  t.throws(() => ca.issueLeaf([]), /needs a name/);
});

t.test('an ECDSA leaf: a P-256 key of its own (one for every ECDSA leaf), signed by the RSA CA, for signing only', async (t) => {
  const ca = CertificateAuthority.loadOrCreate(tempDir());
  const caX = new X509Certificate(ca.certPem);
  const issued = ca.issueLeaf(['ec.example.com', '10.1.2.3'], 'ec');
  const leaf = new X509Certificate(issued.certPem);
  t.ok(leaf.checkIssued(caX) && leaf.verify(caX.publicKey), 'signed by the CA');
  t.equal(leaf.publicKey.asymmetricKeyType, 'ec');
  t.equal(leaf.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  t.ok(leaf.checkPrivateKey(crypto.createPrivateKey(issued.keyPem)), 'the key that comes with it');
  t.equal(leaf.subjectAltName, 'DNS:ec.example.com, IP Address:10.1.2.3');
  t.equal(ca.issueLeaf('other.example.com', 'ec').keyPem, issued.keyPem, 'one key for every ECDSA leaf');
  t.not(ca.issueLeaf('other.example.com').keyPem, issued.keyPem, 'another for the RSA ones');
  for (const [keyType, curve] of [['ec-p384', 'secp384r1'], ['ec-p521', 'secp521r1']] as const) {
    const other = new X509Certificate(ca.issueLeaf('ec.example.com', keyType).certPem);
    t.equal(other.publicKey.asymmetricKeyDetails?.namedCurve, curve, `${keyType}: on ${curve}`);
    t.ok(other.verify(caX.publicKey), `${keyType}: signed by the CA`);
  }
  const text = execFileSync('openssl', ['x509', '-noout', '-ext', 'keyUsage'], { input: issued.certPem, encoding: 'utf8' });
  t.match(text, /critical\n\s+Digital Signature\n/, 'an EC key signs: no Key Encipherment (RFC 5480)');
  t.match(execFileSync('openssl', ['x509', '-noout', '-ext', 'keyUsage'], { input: ca.issueLeaf('rsa.example.com').certPem, encoding: 'utf8' }), /Digital Signature, Key Encipherment/, 'an RSA one also');
});

t.test('refuses an expired CA, a half CA folder, and a key that does not match', async (t) => {
  const dir = tempDir();
  CertificateAuthority.loadOrCreate(dir);
  t.throws(() => CertificateAuthority.load(dir, new Date(Date.now() + 11 * 365 * 86_400_000)), { code: 'PH_ERR_CA_EXPIRED' });

  const half = tempDir();
  fs.copyFileSync(path.join(dir, 'ca.pem'), path.join(half, 'ca.pem'));
  t.throws(() => CertificateAuthority.loadOrCreate(half), /has ca.pem but not ca.key/);

  const other = tempDir();
  CertificateAuthority.loadOrCreate(other);
  fs.copyFileSync(path.join(other, 'ca.key'), path.join(half, 'ca.key'));
  t.throws(() => CertificateAuthority.load(half), /does not belong/);
});

t.test('warns when the key file is readable by others, and when expiry is near', async (t) => {
  const dir = tempDir();
  const ca = CertificateAuthority.loadOrCreate(dir);
  fs.chmodSync(path.join(dir, 'ca.key'), 0o644);
  t.match(ca.info().warnings.join('\n'), /mode 0644/);
  t.match(ca.info(new Date(Date.now() + (10 * 365 - 20) * 86_400_000)).warnings.join('\n'), /expires in/);
});

t.test('exports DER and a certificate-only PKCS#12', async (t) => {
  const ca = CertificateAuthority.loadOrCreate(tempDir());
  t.same(new X509Certificate(ca.certDer()).fingerprint256, new X509Certificate(ca.certPem).fingerprint256);
  const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(ca.certP12().toString('binary'))), '');
  const certBags = p12.getBags({ bagType: forge.pki.oids['certBag']! })[forge.pki.oids['certBag']!] ?? [];
  const keyBags = p12.getBags({ bagType: forge.pki.oids['pkcs8ShroudedKeyBag']! })[forge.pki.oids['pkcs8ShroudedKeyBag']!] ?? [];
  t.equal(certBags.length, 1);
  t.equal(keyBags.length, 0, 'never the key');
});

t.test('Android file name is OpenSSL subject_hash_old', async (t) => {
  const dir = tempDir();
  const ca = CertificateAuthority.loadOrCreate(dir);
  t.match(ca.info().androidSystemFileName, /^[0-9a-f]{8}\.0$/);
  let openssl: string | undefined;
  try {
    openssl = execFileSync('openssl', ['x509', '-in', path.join(dir, 'ca.pem'), '-noout', '-subject_hash_old'], { encoding: 'utf8' }).trim();
  } catch {
    t.pass('openssl not installed: compared with the format only');
    return;
  }
  t.equal(`${openssl}.0`, ca.info().androidSystemFileName);
});
