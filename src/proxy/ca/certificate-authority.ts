// phonehome's own certificate authority: created once in the CA folder (key 0600, folder 0700),
// checked for expiry on every load, and used to issue leaf certificates per host.
//
// Certificates are *built* with node-forge (Node has no X.509 writer) and *signed* with Node's
// native crypto: a forge RSA signature costs ~30 ms of blocked event loop, a native one well
// under 1 ms, and every connection waits while the loop is blocked.

import crypto, { X509Certificate, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import forge from 'node-forge';
import { limits } from '../../limits.js';
import { CaError } from '../../util/errors.js';

const CA_CERT_FILE = 'ca.pem';
const CA_KEY_FILE = 'ca.key';
const DAY_MS = 24 * 60 * 60 * 1000;
const SHA256_WITH_RSA = forge.pki.oids['sha256WithRSAEncryption']!;

export interface CaInfo {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly subject: string;
  readonly sha256Fingerprint: string;
  readonly validFrom: Date;
  readonly validTo: Date;
  readonly daysLeft: number;
  /** File name Android's system store uses for this CA (`<subject_hash_old>.0`). */
  readonly androidSystemFileName: string;
  readonly keyFileMode: string;
  readonly warnings: readonly string[];
}

export interface IssuedLeaf {
  readonly certPem: string;
  readonly keyPem: string;
}

/** The kind of key a leaf carries: RSA, or ECDSA on P-256 (`ec`), P-384 or P-521 (ca/leaf-shape.ts says which one when). */
export type LeafKeyType = 'rsa' | 'ec' | 'ec-p384' | 'ec-p521';

/** OpenSSL's name of each ECDSA kind's curve. */
const CURVE_OF: Readonly<Record<Exclude<LeafKeyType, 'rsa'>, string>> = { ec: 'prime256v1', 'ec-p384': 'secp384r1', 'ec-p521': 'secp521r1' };

/** The key pair every leaf of one kind shares, and its public half as a certificate carries it. */
interface LeafKey {
  readonly pem: string;
  readonly spki: forge.asn1.Asn1;
}

function leafKey(type: LeafKeyType): LeafKey {
  const { privateKey, publicKey } = type === 'rsa' ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }) : crypto.generateKeyPairSync('ec', { namedCurve: CURVE_OF[type] });
  return {
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    spki: forge.asn1.fromDer(publicKey.export({ type: 'spki', format: 'der' }).toString('binary')),
  };
}

/** A positive serial of 16 random bytes: top bit clear, first byte non-zero (RFC 5280 §4.1.2.2). */
export function randomSerialHex(): string {
  const bytes = crypto.randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

/**
 * The certificate `cert` describes, signed natively with SHA-256 by the RSA key `signingKey` (see
 * above). `spki`: the public key it carries, when that is not the RSA key forge was given. forge writes only RSA public keys,
 * so for another kind it builds the to-be-signed part with a placeholder that is replaced here (the
 * seventh field of TBSCertificate, after version, serial, signature algorithm, issuer, validity and
 * subject), and the certificate around it is assembled here too.
 */
function signedCertificatePem(cert: forge.pki.Certificate, signingKey: KeyObject, spki?: forge.asn1.Asn1): string {
  const { asn1 } = forge;
  cert.signatureOid = SHA256_WITH_RSA;
  (cert as unknown as { siginfo: { algorithmOid: string } }).siginfo.algorithmOid = SHA256_WITH_RSA;
  const tbs = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  if (spki) (tbs.value as forge.asn1.Asn1[])[6] = spki;
  const tbsDer = asn1.toDer(tbs).getBytes();
  const signature = crypto.sign('sha256', Buffer.from(tbsDer, 'binary'), signingKey).toString('binary');
  const algorithm = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(SHA256_WITH_RSA).getBytes()),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
  ]);
  const certificate = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [tbs, algorithm, asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, `\0${signature}`)]);
  return forge.pem.encode({ type: 'CERTIFICATE', body: asn1.toDer(certificate).getBytes() });
}

function forgePublicKey(key: KeyObject): forge.pki.PublicKey {
  return forge.pki.publicKeyFromPem(key.export({ type: 'spki', format: 'pem' }).toString());
}

function validity(cert: forge.pki.Certificate, now: Date, days: number): void {
  cert.validity.notBefore = new Date(now.getTime() - limits.certificateBackdateDays * DAY_MS);
  cert.validity.notAfter = new Date(now.getTime() + days * DAY_MS);
}

/** A new self-signed CA certificate and its key. */
function newCaCertificate(commonName: string, unit: string, now: Date): { certPem: string; privateKey: KeyObject } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forgePublicKey(publicKey);
  cert.serialNumber = randomSerialHex();
  validity(cert, now, limits.caValidityYears * 365);
  const subject = [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'phonehome' },
    { name: 'organizationalUnitName', value: unit },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  return { certPem: signedCertificatePem(cert, privateKey), privateKey };
}

export class CertificateAuthority {
  readonly dir: string;
  readonly certPem: string;
  readonly #caKey: KeyObject;
  readonly #caForgeCert: forge.pki.Certificate;
  readonly #x509: X509Certificate;
  /** One key pair for every leaf of a kind: generating RSA keys per host costs ~190 ms each. ECDSA's when first needed. */
  readonly #leafKeys: Partial<Record<LeafKeyType, LeafKey>>;
  /** What forge is given as a leaf's public key while it builds the certificate (replaced: signedCertificatePem). */
  readonly #placeholderPublicKey: forge.pki.PublicKey;

  private constructor(dir: string, certPem: string, caKey: KeyObject) {
    this.dir = dir;
    this.certPem = certPem;
    this.#caKey = caKey;
    this.#caForgeCert = forge.pki.certificateFromPem(certPem);
    this.#x509 = new X509Certificate(certPem);
    const rsa = leafKey('rsa');
    this.#leafKeys = { rsa };
    this.#placeholderPublicKey = forge.pki.publicKeyFromAsn1(rsa.spki);
  }

  /** Loads the CA from `dir`, creating it (and the folder) when there is none. */
  static loadOrCreate(dir: string, now = new Date()): CertificateAuthority {
    const certFile = path.join(dir, CA_CERT_FILE);
    const keyFile = path.join(dir, CA_KEY_FILE);
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new CaError('PH_ERR_CA', `cannot create the CA folder ${dir}: ${(error as Error).message}`, { cause: error });
    }
    // The folder holds the CA key: others may not even list it (a checkout gives folders 0755).
    // Tightened when it is ours to change; otherwise `ca info` and the start-up warn about modes.
    try {
      if ((fs.statSync(dir).mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
    } catch {
      // not our folder: left as it is
    }
    const haveCert = fs.existsSync(certFile);
    const haveKey = fs.existsSync(keyFile);
    if (haveCert !== haveKey) {
      throw new CaError('PH_ERR_CA', `the CA folder ${dir} has ${haveCert ? CA_CERT_FILE : CA_KEY_FILE} but not ${haveCert ? CA_KEY_FILE : CA_CERT_FILE}; restore it or empty the folder`);
    }
    if (!haveCert) CertificateAuthority.#create(certFile, keyFile, now);
    return CertificateAuthority.load(dir, now);
  }

  /** Loads an existing CA; fails with a clear message when it is missing, broken or expired. */
  static load(dir: string, now = new Date()): CertificateAuthority {
    const certFile = path.join(dir, CA_CERT_FILE);
    const keyFile = path.join(dir, CA_KEY_FILE);
    let certPem: string;
    let caKey: KeyObject;
    try {
      certPem = fs.readFileSync(certFile, 'utf8');
      caKey = crypto.createPrivateKey(fs.readFileSync(keyFile));
    } catch (error) {
      throw new CaError('PH_ERR_CA', `cannot read the CA in ${dir}: ${(error as Error).message}`, { cause: error });
    }
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(certPem);
    } catch (error) {
      throw new CaError('PH_ERR_CA', `${certFile} is not a PEM certificate`, { cause: error });
    }
    if (!x509.ca) throw new CaError('PH_ERR_CA', `${certFile} is not a CA certificate`);
    if (!x509.checkPrivateKey(caKey)) throw new CaError('PH_ERR_CA', `${keyFile} does not belong to ${certFile}`);
    if (new Date(x509.validTo).getTime() <= now.getTime()) {
      throw new CaError('PH_ERR_CA_EXPIRED', `the CA in ${dir} expired on ${new Date(x509.validTo).toISOString()}; move the folder away to create a new one (devices must then install the new CA)`);
    }
    return new CertificateAuthority(dir, certPem, caKey);
  }

  static #create(certFile: string, keyFile: string, now: Date): void {
    const { certPem, privateKey } = newCaCertificate(`phonehome lab CA ${crypto.randomBytes(3).toString('hex')}`, 'privacy lab interception CA - do not trust outside the lab', now);
    const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    // Key first, exclusive and 0600 from the start: it is never world-readable, not even briefly.
    fs.writeFileSync(keyFile, keyPem, { mode: 0o600, flag: 'wx' });
    fs.writeFileSync(certFile, certPem, { mode: 0o644, flag: 'wx' });
  }

  /**
   * A CA that lives in memory for one run and that no device was ever told to trust: its leaves
   * stand in for a server certificate that no trusted CA signed (ca/leaf-shape.ts, `untrusted`).
   */
  static untrusted(now = new Date()): CertificateAuthority {
    const { certPem, privateKey } = newCaCertificate(`phonehome untrusted CA ${crypto.randomBytes(3).toString('hex')}`, 'stands in for an unverifiable server - installed nowhere', now);
    return new CertificateAuthority('', certPem, privateKey);
  }

  /**
   * Issues a leaf for DNS names (wildcards too) and IP addresses: all in its SAN, the first one also
   * its subject's CN (informative; clients check the SAN). One name, or the list leaf-shape.ts makes.
   */
  issueLeaf(names: string | readonly string[], keyType: LeafKeyType = 'rsa', now = new Date(), period?: { readonly notBefore: Date; readonly notAfter: Date }): IssuedLeaf {
    const list = typeof names === 'string' ? [names] : names;
    const first = list[0];
    if (first === undefined) throw new CaError('PH_ERR_CA', 'a leaf certificate needs a name');
    const cert = forge.pki.createCertificate();
    const key = (this.#leafKeys[keyType] ??= leafKey(keyType));
    cert.publicKey = this.#placeholderPublicKey;
    cert.serialNumber = randomSerialHex();
    if (period) {
      // The server's own dates: an expired server certificate is mirrored by an expired leaf.
      cert.validity.notBefore = period.notBefore;
      cert.validity.notAfter = period.notAfter;
    } else {
      validity(cert, now, limits.leafValidityDays);
    }
    cert.setSubject([{ name: 'commonName', value: first.length <= 64 ? first : first.slice(0, 64) }, { name: 'organizationName', value: 'phonehome' }]);
    cert.setIssuer(this.#caForgeCert.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      // An EC key signs only (RFC 5480 §3); an RSA one also takes the key of RSA key exchange.
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: keyType === 'rsa', critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: list.map((name) => (net.isIP(name) !== 0 ? { type: 7, ip: name } : { type: 2, value: name })) },
      { name: 'authorityKeyIdentifier', keyIdentifier: this.#caForgeCert.generateSubjectKeyIdentifier().getBytes() },
    ]);
    return { certPem: signedCertificatePem(cert, this.#caKey, key.spki), keyPem: key.pem };
  }

  certDer(): Buffer {
    return this.#x509.raw;
  }

  /** PKCS#12 with the CA certificate only (never the key), no password: what iOS and Android import. */
  certP12(): Buffer {
    const asn1 = forge.pkcs12.toPkcs12Asn1(null, [this.#caForgeCert], '', { algorithm: '3des', friendlyName: 'phonehome lab CA' });
    return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
  }

  /** OpenSSL's `subject_hash_old`: the first four bytes of MD5 over the DER subject, little-endian. */
  androidSubjectHashOld(): string {
    const subjectDer = forge.asn1.toDer(forge.pki.distinguishedNameToAsn1(this.#caForgeCert.subject)).getBytes();
    const md5 = crypto.createHash('md5').update(Buffer.from(subjectDer, 'binary')).digest();
    return md5.readUInt32LE(0).toString(16).padStart(8, '0');
  }

  info(now = new Date()): CaInfo {
    const validTo = new Date(this.#x509.validTo);
    const daysLeft = Math.floor((validTo.getTime() - now.getTime()) / DAY_MS);
    const keyFile = path.join(this.dir, CA_KEY_FILE);
    const mode = fs.statSync(keyFile).mode & 0o777;
    const warnings: string[] = [];
    if (mode & 0o077) warnings.push(`${keyFile} has mode ${mode.toString(8).padStart(4, '0')}; run chmod 600 on it — anyone who reads it can intercept the devices that trust this CA`);
    if (daysLeft < limits.caExpiryWarningDays) warnings.push(`the CA expires in ${daysLeft} days (${validTo.toISOString()})`);
    return {
      dir: this.dir,
      certFile: path.join(this.dir, CA_CERT_FILE),
      keyFile,
      subject: this.#x509.subject.replace(/\n/g, ', '),
      sha256Fingerprint: this.#x509.fingerprint256,
      validFrom: new Date(this.#x509.validFrom),
      validTo,
      daysLeft,
      androidSystemFileName: `${this.androidSubjectHashOld()}.0`,
      keyFileMode: mode.toString(8).padStart(4, '0'),
      warnings,
    };
  }
}
