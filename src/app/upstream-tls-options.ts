// The upstream TLS options a lab may need: an older floor for old lab servers (--upstream-tls-min)
// and the device's own client certificates, extracted by the lab, for servers that require one
// (--client-cert HOST=CERT.pem[,KEY.pem]; a single PEM file may hold both).

import crypto from 'node:crypto';
import fs from 'node:fs';
import { validateHost } from '../proxy/access/target.js';
import type { ClientCertificate, UpstreamTlsMin } from '../proxy/upstream.js';
import { ConfigError } from '../util/errors.js';

const FLOORS: Record<string, UpstreamTlsMin> = { '1.0': 'TLSv1', '1.1': 'TLSv1.1', '1.2': 'TLSv1.2' };

export function parseUpstreamTlsMin(text: string | undefined): UpstreamTlsMin | undefined {
  if (text === undefined) return undefined;
  const floor = FLOORS[text.trim()];
  if (!floor) throw new ConfigError(`--upstream-tls-min ${JSON.stringify(text)}: use 1.0, 1.1 or 1.2`);
  return floor;
}

/** `HOST=CERT.pem[,KEY.pem]`, repeatable; read and checked now (a pair that does not match is an error here, not a 502 later). */
export function parseClientCertificates(values: readonly string[], read: (file: string) => string = (file) => fs.readFileSync(file, 'utf8')): Map<string, ClientCertificate> {
  const certificates = new Map<string, ClientCertificate>();
  for (const value of values) {
    const usage = `--client-cert ${JSON.stringify(value)}: use HOST=CERT.pem[,KEY.pem]`;
    const match = /^([^=]+)=([^,]+)(?:,(.+))?$/.exec(value);
    if (!match) throw new ConfigError(usage);
    const host = validateHost(match[1]!.trim());
    if (!host.ok) throw new ConfigError(`${usage} (${host.reason})`);
    const certFile = match[2]!.trim();
    const keyFile = match[3]?.trim() ?? certFile;
    const text = (file: string): string => {
      try {
        return read(file);
      } catch (error) {
        throw new ConfigError(`--client-cert ${host.host}: ${file}: ${(error as Error).message}`);
      }
    };
    const certPem = text(certFile);
    const keyPem = keyFile === certFile ? certPem : text(keyFile);
    if (!certPem.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`--client-cert ${host.host}: ${certFile} holds no PEM certificate`);
    if (!/-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(keyPem)) throw new ConfigError(`--client-cert ${host.host}: ${keyFile} holds no PEM private key`);
    try {
      if (!new crypto.X509Certificate(certPem).checkPrivateKey(crypto.createPrivateKey(keyPem))) throw new Error('the key does not belong to the certificate');
    } catch (error) {
      throw new ConfigError(`--client-cert ${host.host}: ${(error as Error).message}`);
    }
    certificates.set(host.host.toLowerCase(), { certPem, keyPem });
  }
  return certificates;
}
