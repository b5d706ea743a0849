// Mail-account credentials: SMTP AUTH PLAIN/LOGIN, IMAP LOGIN and POP3 USER/PASS in raw streams
// (sent in clear text, since phonehome could read them), and HTTP Basic auth to Exchange
// ActiveSync. The password itself is never copied into a finding: only its length.

import { headerValue } from '../../model/flow.js';
import { parseMailClient } from '../decode/mail-protocols.js';
import type { FindingDraft } from '../../model/finding.js';
import type { Detector, View } from './detector.js';

export const credentialDetector: Detector = {
  id: 'credential',
  category: 'credential',
  gate(view) {
    if (view.depth !== 0 || view.direction !== 'request') return false;
    if (view.origin === 'stream') return true;
    return view.origin === 'http' && /\/Microsoft-Server-ActiveSync/i.test(view.flow.request?.url ?? '') && /^Basic /i.test(headerValue(view.flow.request?.headers ?? [], 'authorization') ?? '');
  },
  detect(view: View): FindingDraft[] {
    const host = view.flow.target.host;
    if (view.origin === 'stream') {
      const conversation = parseMailClient(view.bytes);
      // A login inside TLS we decrypted (SMTPS, IMAPS, POP3S, or after a STARTTLS we intercepted)
      // is how mail is meant to work, not a password in clear text on the network: no finding.
      const overTls = view.flow.scheme === 'tls';
      const decryptedUpgrade = view.flow.tags.includes('starttls');
      const clearText = overTls ? [] : conversation.credentials.filter((c) => !(decryptedUpgrade && c.afterStartTls));
      const findings: FindingDraft[] = clearText.map((credential) => ({
        category: 'credential', severity: 'high', direction: 'request', detector: `credential/${credential.protocol}`,
        summary: `${credential.protocol.toUpperCase()} ${credential.mechanism} password for ${credential.user} sent to ${host}:${view.flow.target.port} without TLS`,
        evidence: { path: [...view.path, `${credential.protocol}:${credential.mechanism.toLowerCase().replace(/\W+/g, '-')}`], bytes: view.bytes.length, excerpt: `user ${credential.user}, password ${'*'.repeat(Math.min(credential.passwordLength, 16))}` },
        details: { protocol: credential.protocol, mechanism: credential.mechanism, user: credential.user, passwordLength: credential.passwordLength },
      }));
      // After a STARTTLS phonehome did not intercept (pinned, refused), the rest is opaque: say so.
      if (conversation.starttls && !decryptedUpgrade) {
        findings.push({
          category: 'opaque', severity: 'info', direction: 'both', detector: 'stream/starttls',
          summary: `${(conversation.protocol ?? 'mail').toUpperCase()} to ${host}:${view.flow.target.port} switched to TLS (STARTTLS); what followed is not readable`,
          evidence: { path: view.path, bytes: view.bytes.length },
          details: { protocol: conversation.protocol ?? null },
        });
      }
      return findings;
    }
    const basic = headerValue(view.flow.request?.headers ?? [], 'authorization')!.slice(6).trim();
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return [];
    const user = decoded.slice(0, colon);
    return [{
      category: 'credential', severity: 'high', direction: 'request', detector: 'credential/activesync-basic',
      summary: `Exchange ActiveSync password for ${user} sent to ${host} (HTTP Basic)`,
      evidence: { path: ['headers', 'authorization', 'basic'], bytes: basic.length, excerpt: `user ${user}, password ${'*'.repeat(Math.min(decoded.length - colon - 1, 16))}` },
      details: { protocol: 'activesync', user, passwordLength: decoded.length - colon - 1 },
    }];
  },
};
