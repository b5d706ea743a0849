// `phonehome ca export [--format pem|der|p12] [--out FILE]` and `phonehome ca info [--json]`.

import fs from 'node:fs';
import { CertificateAuthority } from '../proxy/ca/certificate-authority.js';
import { ConfigError } from '../util/errors.js';
import type { Output } from './capture-command.js';

export function runCaExport(caDir: string, format: string, outFile: string | undefined, stdout: NodeJS.WriteStream): number {
  const ca = CertificateAuthority.loadOrCreate(caDir);
  let data: Buffer;
  if (format === 'pem') data = Buffer.from(ca.certPem);
  else if (format === 'der') data = ca.certDer();
  else if (format === 'p12') data = ca.certP12();
  else throw new ConfigError(`--format ${JSON.stringify(format)}: use pem, der or p12`);
  if (outFile) {
    fs.writeFileSync(outFile, data, { mode: 0o644 });
    return 0;
  }
  if (format !== 'pem' && stdout.isTTY) throw new ConfigError(`--format ${format} is binary: give --out FILE or redirect stdout`);
  stdout.write(data);
  return 0;
}

export function runCaInfo(caDir: string, json: boolean, io: Output): number {
  const info = CertificateAuthority.loadOrCreate(caDir).info();
  if (json) {
    io.out(JSON.stringify(info, null, 2));
  } else {
    io.out(`CA folder:      ${info.dir}`);
    io.out(`certificate:    ${info.certFile}`);
    io.out(`private key:    ${info.keyFile} (mode ${info.keyFileMode})`);
    io.out(`subject:        ${info.subject}`);
    io.out(`SHA-256:        ${info.sha256Fingerprint}`);
    io.out(`valid:          ${info.validFrom.toISOString()} to ${info.validTo.toISOString()} (${info.daysLeft} days left)`);
    io.out(`Android system: ${info.androidSystemFileName} (PEM, for /system/etc/security/cacerts)`);
  }
  for (const warning of info.warnings) io.err(`phonehome: warning: ${warning}`);
  return 0;
}
