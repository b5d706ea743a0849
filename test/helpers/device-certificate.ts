// A device's own certificate, as a lab extracts it from a device or an IoT hub provisions it:
// self-signed, for client authentication (extended key usage clientAuth), made with openssl.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './lab.js';

export interface DeviceCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** One PEM file with both, as --client-cert takes it. */
  readonly file: string;
}

export function deviceCertificate(): DeviceCertificate {
  const dir = tempDir('phonehome-device-cert-');
  const [keyFile, certFile] = [path.join(dir, 'device.key'), path.join(dir, 'device.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=device-0042', '-keyout', keyFile, '-out', certFile, '-days', '2', '-addext', 'extendedKeyUsage=clientAuth'], { stdio: 'ignore' });
  const [certPem, keyPem] = [fs.readFileSync(certFile, 'utf8'), fs.readFileSync(keyFile, 'utf8')];
  const file = path.join(dir, 'device-both.pem');
  fs.writeFileSync(file, certPem + keyPem);
  return { certPem, keyPem, certFile, keyFile, file };
}
