// What a mail client said in a raw SMTP, IMAP or POP3 stream: the messages it sent (SMTP DATA,
// IMAP APPEND literals), the credentials it gave (AUTH PLAIN/LOGIN, LOGIN, USER/PASS), and whether
// it switched to TLS (STARTTLS: the rest is readable only when phonehome intercepted the upgrade). Sans-IO: client bytes in, facts out.

import type { View } from '../detect/detector.js';
import { childLayer, type Decoder } from './layer.js';

export interface MailCredential {
  readonly protocol: 'smtp' | 'imap' | 'pop3';
  readonly mechanism: string;
  readonly user: string;
  readonly passwordLength: number;
  /** Given after the client's STARTTLS: inside TLS on the wire (readable here only because phonehome intercepted it). */
  readonly afterStartTls: boolean;
}

export interface MailConversation {
  readonly protocol: 'smtp' | 'imap' | 'pop3' | undefined;
  readonly messages: Buffer[];
  readonly credentials: MailCredential[];
  readonly envelope: { from?: string; to: string[] };
  readonly starttls: boolean;
}

function b64(text: string): string {
  return Buffer.from(text.trim(), 'base64').toString('utf8');
}

/** "\0user\0password" (RFC 4616), with an optional authorization identity first. */
function plainCredentials(payload: string): { user: string; password: string } | undefined {
  const parts = b64(payload).split('\0');
  if (parts.length !== 3 || !parts[1] || !parts[2]) return undefined;
  return { user: parts[1], password: parts[2] };
}

function unquoteImap(word: string | undefined): string {
  return (word ?? '').replace(/^"(.*)"$/, '$1').replace(/\\(.)/g, '$1');
}

const SMTP_VERB = /^(EHLO|HELO|MAIL FROM|RCPT TO|AUTH|STARTTLS)\b/i;

export function parseMailClient(bytes: Buffer): MailConversation {
  const text = bytes.toString('latin1');
  const messages: Buffer[] = [];
  const credentials: MailCredential[] = [];
  const envelope: { from?: string; to: string[] } = { to: [] };
  let protocol: MailConversation['protocol'];
  let starttls = false;
  let pending: { mechanism: 'login' | 'plain'; user?: string } | undefined;
  let pos = 0;
  const nextLine = (): string => {
    const eol = text.indexOf('\r\n', pos);
    const line = text.slice(pos, eol < 0 ? text.length : eol);
    pos = eol < 0 ? text.length : eol + 2;
    return line;
  };
  const addPlain = (payload: string): void => {
    const creds = plainCredentials(payload);
    if (creds) credentials.push({ protocol: 'smtp', mechanism: 'AUTH PLAIN', user: creds.user, passwordLength: creds.password.length, afterStartTls: starttls });
  };

  while (pos < text.length) {
    const line = nextLine();
    if (pending) {
      // The continuation lines of AUTH: PLAIN sends one, LOGIN sends the user, then the password.
      if (pending.mechanism === 'plain') {
        addPlain(line);
        pending = undefined;
      } else if (pending.user === undefined) {
        pending.user = b64(line);
      } else {
        credentials.push({ protocol: 'smtp', mechanism: 'AUTH LOGIN', user: pending.user, passwordLength: b64(line).length, afterStartTls: starttls });
        pending = undefined;
      }
      continue;
    }
    if (SMTP_VERB.test(line)) protocol ??= 'smtp';
    const auth = /^AUTH (PLAIN|LOGIN)(?: (\S+))?$/i.exec(line);
    if (auth) {
      const mechanism = auth[1]!.toLowerCase() as 'plain' | 'login';
      if (mechanism === 'plain' && auth[2]) addPlain(auth[2]);
      else pending = { mechanism, ...(auth[2] ? { user: b64(auth[2]) } : {}) };
      continue;
    }
    const mailFrom = /^MAIL FROM:\s*<([^>]*)>/i.exec(line);
    if (mailFrom) envelope.from = mailFrom[1];
    const rcpt = /^RCPT TO:\s*<([^>]*)>/i.exec(line);
    if (rcpt) envelope.to.push(rcpt[1]!);
    if (/^(\S+ )?(STARTTLS|STLS)$/i.test(line)) starttls = true;
    if (/^DATA$/i.test(line)) {
      // The message runs to a line with a single dot; leading dots are doubled (RFC 5321 4.5.2).
      const body: string[] = [];
      while (pos < text.length) {
        const dataLine = nextLine();
        if (dataLine === '.') break;
        body.push(dataLine.startsWith('..') ? dataLine.slice(1) : dataLine);
      }
      messages.push(Buffer.from(body.join('\r\n'), 'latin1'));
      continue;
    }
    // IMAP: "tag LOGIN user pass", and "tag APPEND mailbox (flags) {N}" followed by N bytes.
    const imapLogin = /^\S+ LOGIN ("(?:[^"\\]|\\.)*"|\S+) ("(?:[^"\\]|\\.)*"|\S+)$/i.exec(line);
    if (imapLogin) {
      protocol = 'imap';
      credentials.push({ protocol: 'imap', mechanism: 'LOGIN', user: unquoteImap(imapLogin[1]), passwordLength: unquoteImap(imapLogin[2]).length, afterStartTls: starttls });
      continue;
    }
    const append = /^\S+ APPEND .*\{(\d+)\+?\}$/i.exec(line);
    if (append) {
      protocol = 'imap';
      const size = Number(append[1]);
      messages.push(Buffer.from(text.slice(pos, pos + size), 'latin1'));
      pos = Math.min(text.length, pos + size);
      continue;
    }
    // POP3: USER then PASS.
    const user = /^USER (\S+)$/.exec(line);
    if (user) {
      const save = pos;
      const pass = /^PASS (.+)$/.exec(nextLine());
      if (pass) {
        protocol = 'pop3';
        credentials.push({ protocol: 'pop3', mechanism: 'USER/PASS', user: user[1]!, passwordLength: pass[1]!.length, afterStartTls: starttls });
      } else {
        pos = save;
      }
    }
  }
  return { protocol, messages, credentials, envelope, starttls };
}

/** The messages a mail client sent in a raw stream, as layers of their own. */
export const mailProtocolDecoder: Decoder = {
  name: 'mail-protocol',
  decode(view) {
    if (view.origin !== 'stream' || view.direction !== 'request' || view.depth !== 0) return [];
    const conversation = parseMailClient(view.bytes);
    const label = conversation.protocol === 'imap' ? 'imap:append' : 'smtp:data';
    return conversation.messages.map((message, index): View => childLayer(view, message, `${label}[${index}]`, { contentType: 'message/rfc822' }));
  },
};
