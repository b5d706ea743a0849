// Server certificates that do not verify, in the three ways phonehome mirrors to the device
// (src/proxy/ca/leaf-shape.ts, mirroredInvalidShape): out of date, for other names, and signed by
// a CA nobody trusts. Each names the code phonehome's look at the server finds and openssl's
// complaint as a device that checks; the TLS and the STARTTLS scenarios both use them.

import { CertificateAuthority, type IssuedLeaf } from '../../src/proxy/ca/certificate-authority.js';
import { getOriginCa, tempDir } from './lab.js';

const DAY = 86_400_000;

export interface CertificateFlaw {
  readonly name: string;
  /** Node's code for it, as phonehome's look at the server finds it. */
  readonly code: string;
  /** openssl's verify error number for it: the complaint of a device that checks. */
  readonly verifyError: RegExp;
  /** A certificate with the flaw, for a server that `name` reaches (the origin CA signs the first two). */
  readonly leaf: (name: string) => IssuedLeaf;
}

export const certificateFlaws: readonly CertificateFlaw[] = [
  {
    name: 'out of date (expired a year ago)', code: 'CERT_HAS_EXPIRED', verifyError: /verify error:num=10:/,
    leaf: (name) => getOriginCa().issueLeaf(name, 'rsa', new Date(), { notBefore: new Date(Date.now() - 730 * DAY), notAfter: new Date(Date.now() - 365 * DAY) }),
  },
  {
    name: 'for other names', code: 'ERR_TLS_CERT_ALTNAME_INVALID', verifyError: /verify error:num=62:/,
    leaf: () => getOriginCa().issueLeaf(['other.example.test', 'cdn.other.example.test']),
  },
  {
    name: 'signed by a CA nobody trusts', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', verifyError: /verify error:num=2[01]:/,
    leaf: (name) => CertificateAuthority.loadOrCreate(tempDir('phonehome-stranger-ca-')).issueLeaf(name),
  },
];
