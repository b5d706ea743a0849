// What a mail client said in a raw SMTP, IMAP or POP3 stream: the messages it sent (SMTP DATA,
// IMAP APPEND literals), the credentials it gave (SMTP and POP3 AUTH PLAIN/LOGIN, IMAP LOGIN and
// AUTHENTICATE PLAIN/LOGIN, POP3 USER/PASS), and whether it switched to TLS (STARTTLS: the rest is
// readable only when phonehome intercepted the upgrade). An IMAP client that switched on
// compression (COMPRESS DEFLATE, RFC 4978: Thunderbird, K-9 Mail and mbsync do when the server
// offers it, as Gmail and Dovecot do) sends the rest as one raw deflate stream: inflated, when
// asked, and read on. Sans-IO: client bytes in, facts out.

import zlib from 'node:zlib';
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
  /**
   * The client sent IMAP COMPRESS DEFLATE. `messagesBefore`: how many of `messages` it sent
   * before; `inflated`: whether what followed was inflated and read (false when not asked, or
   * when it was not deflate: the server refused and the client went on in clear, read as such);
   * `problem`: why not, when it could not be.
   */
  readonly compressed?: { readonly messagesBefore: number; readonly inflated: boolean; readonly problem?: string };
}

export interface MailClientOptions {
  /** Inflate what follows an IMAP COMPRESS DEFLATE, up to this many bytes. Absent: not inflated. */
  readonly inflateCap?: number;
}

/**
 * What followed the client's COMPRESS DEFLATE, inflated: undefined when it is not a deflate
 * stream of IMAP commands (the server said NO and the client went on in clear text). The stream
 * is never ended (RFC 4978 flushes, it does not finish), and a capture may cut it anywhere: a
 * sync flush at the end gives what was readable.
 */
function inflateImapTail(tail: Buffer, cap: number): { text?: string; problem?: string } {
  let inflated: Buffer;
  try {
    inflated = zlib.inflateRawSync(tail, { maxOutputLength: cap, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return { problem: `expands beyond ${cap} bytes (decompression bomb?): not inspected` };
    return {};
  }
  const text = inflated.toString('latin1');
  // A tagged command, as every IMAP client line after COMPRESS is.
  return /^[!-~]+ [A-Za-z]+[ \r]/.test(text) ? { text } : {};
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

/**
 * An IMAP astring at `at` in `text` (RFC 3501): a quoted string, a literal ({N} or {N+}, CRLF,
 * then N bytes) or an atom; its value and where it ends. Undefined when none is there.
 */
function readImapString(text: string, at: number): { value: string; next: number } | undefined {
  if (text[at] === '"') {
    const quoted = /^"((?:[^"\\\r\n]|\\.)*)"/.exec(text.slice(at, at + 4096));
    return quoted ? { value: quoted[1]!.replace(/\\(.)/g, '$1'), next: at + quoted[0].length } : undefined;
  }
  const literal = /^\{(\d{1,6})\+?\}\r\n/.exec(text.slice(at, at + 16));
  if (literal) {
    const start = at + literal[0].length;
    const size = Number(literal[1]);
    return start + size <= text.length ? { value: text.slice(start, start + size), next: start + size } : undefined;
  }
  const atom = /^[^\s"{}()]+/.exec(text.slice(at, at + 4096));
  return atom ? { value: atom[0], next: at + atom[0].length } : undefined;
}

const SMTP_VERB = /^(EHLO|HELO|MAIL FROM|RCPT TO|AUTH|STARTTLS)\b/i;

export function parseMailClient(bytes: Buffer, options: MailClientOptions = {}): MailConversation {
  let text = bytes.toString('latin1');
  const messages: Buffer[] = [];
  const credentials: MailCredential[] = [];
  const envelope: { from?: string; to: string[] } = { to: [] };
  let protocol: MailConversation['protocol'];
  let starttls = false;
  let compressed: MailConversation['compressed'];
  // A SASL exchange under way (SMTP or POP3 AUTH, IMAP AUTHENTICATE): its next lines are its own.
  let pending: { protocol: MailCredential['protocol']; command: string; mechanism: 'login' | 'plain'; user?: string } | undefined;
  let pos = 0;
  let lineStart = 0;
  // SMTP BDAT chunks (RFC 3030) of the message under way, joined at its LAST.
  let chunks: string[] = [];
  const nextLine = (): string => {
    lineStart = pos;
    const eol = text.indexOf('\r\n', pos);
    const line = text.slice(pos, eol < 0 ? text.length : eol);
    pos = eol < 0 ? text.length : eol + 2;
    return line;
  };
  const addPlain = (sasl: { protocol: MailCredential['protocol']; command: string }, payload: string): void => {
    const creds = plainCredentials(payload);
    if (creds) credentials.push({ protocol: sasl.protocol, mechanism: `${sasl.command} PLAIN`, user: creds.user, passwordLength: creds.password.length, afterStartTls: starttls });
  };
  const startSasl = (sasl: { protocol: MailCredential['protocol']; command: string }, mechanismWord: string, initial: string | undefined): void => {
    const mechanism = mechanismWord.toLowerCase() as 'plain' | 'login';
    // "=" is an empty initial response (RFC 4954, 4959); the exchange goes on as without one.
    const response = initial === '=' ? undefined : initial;
    if (mechanism === 'plain' && response) addPlain(sasl, response);
    else pending = { ...sasl, mechanism, ...(response ? { user: b64(response) } : {}) };
  };

  while (pos < text.length) {
    const line = nextLine();
    if (pending) {
      // The continuation lines of a SASL exchange: PLAIN sends one, LOGIN sends the user, then
      // the password; "*" cancels it (RFC 4954, 3501).
      if (line === '*') pending = undefined;
      else if (pending.mechanism === 'plain') {
        addPlain(pending, line);
        pending = undefined;
      } else if (pending.user === undefined) {
        pending.user = b64(line);
      } else {
        credentials.push({ protocol: pending.protocol, mechanism: `${pending.command} LOGIN`, user: pending.user, passwordLength: b64(line).length, afterStartTls: starttls });
        pending = undefined;
      }
      continue;
    }
    if (SMTP_VERB.test(line)) protocol ??= 'smtp';
    // POP3's own words (RFC 2449, 2595, 1939): its AUTH is POP3's, not SMTP's.
    if (/^(CAPA|STLS|APOP \S+ \S+)$/i.test(line)) protocol ??= 'pop3';
    const auth = /^AUTH (PLAIN|LOGIN)(?: (\S+))?$/i.exec(line);
    if (auth) {
      startSasl({ protocol: protocol === 'pop3' ? 'pop3' : 'smtp', command: 'AUTH' }, auth[1]!, auth[2]);
      continue;
    }
    // IMAP: "tag AUTHENTICATE PLAIN [initial response]" (SASL-IR, RFC 4959), as curl, mbsync and most mail apps log in.
    const authenticate = /^\S+ AUTHENTICATE (PLAIN|LOGIN)(?: (\S+))?$/i.exec(line);
    if (authenticate) {
      protocol = 'imap';
      startSasl({ protocol: 'imap', command: 'AUTHENTICATE' }, authenticate[1]!, authenticate[2]);
      continue;
    }
    // IMAP COMPRESS DEFLATE: from the next byte on, the client's side is one raw deflate stream
    // (once: the text read on is the inflated one).
    if (compressed === undefined && /^\S+ COMPRESS DEFLATE$/i.test(line)) {
      protocol = 'imap';
      const tail = options.inflateCap === undefined ? {} : inflateImapTail(bytes.subarray(pos), options.inflateCap);
      compressed = { messagesBefore: messages.length, inflated: tail.text !== undefined, ...(tail.problem ? { problem: tail.problem } : {}) };
      if (tail.text !== undefined) text = text.slice(0, pos) + tail.text;
      // Not asked to inflate, or too big: nothing after it is read. No login can follow (COMPRESS
      // is for a session already logged in), so the credentials are all known.
      else if (options.inflateCap === undefined || tail.problem) break;
      continue;
    }
    const mailFrom = /^MAIL FROM:\s*<([^>]*)>/i.exec(line);
    if (mailFrom) envelope.from = mailFrom[1];
    const rcpt = /^RCPT TO:\s*<([^>]*)>/i.exec(line);
    if (rcpt) envelope.to.push(rcpt[1]!);
    if (/^(\S+ )?(STARTTLS|STLS)$/i.test(line)) starttls = true;
    // BDAT: the message in chunks of a stated size, each right after its command, no dot (RFC 3030).
    const bdat = /^BDAT (\d+)( LAST)?$/i.exec(line);
    if (bdat) {
      protocol ??= 'smtp';
      const size = Number(bdat[1]);
      chunks.push(text.slice(pos, pos + size));
      pos = Math.min(text.length, pos + size);
      if (bdat[2]) {
        messages.push(Buffer.from(chunks.join(''), 'latin1'));
        chunks = [];
      }
      continue;
    }
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
    // IMAP: "tag LOGIN user pass", each a quoted string, an atom or a literal ({N} then N bytes:
    // what clients send for a password with quotes, backslashes or 8-bit characters).
    const loginCommand = /^\S+ LOGIN /i.exec(line);
    if (loginCommand) {
      const user = readImapString(text, lineStart + loginCommand[0].length);
      const pass = user && text[user.next] === ' ' ? readImapString(text, user.next + 1) : undefined;
      if (user && pass && (text.startsWith('\r\n', pass.next) || pass.next === text.length)) {
        protocol = 'imap';
        credentials.push({ protocol: 'imap', mechanism: 'LOGIN', user: user.value, passwordLength: pass.value.length, afterStartTls: starttls });
        pos = Math.min(text.length, pass.next + 2);
        continue;
      }
    }
    // "tag APPEND mailbox (flags) {N}" followed by N bytes; with MULTIAPPEND (RFC 3502) the command
    // goes on after them with " (flags) {N}" and another message.
    const append = /^\S+ APPEND .*\{(\d+)\+?\}$/i.exec(line);
    if (append) {
      protocol = 'imap';
      let size = Number(append[1]);
      for (;;) {
        messages.push(Buffer.from(text.slice(pos, pos + size), 'latin1'));
        pos = Math.min(text.length, pos + size);
        const eol = text.indexOf('\r\n', pos);
        const more = eol < 0 ? null : /^ .*\{(\d+)\+?\}$/.exec(text.slice(pos, eol));
        if (!more) break;
        size = Number(more[1]);
        pos = eol + 2;
      }
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
  // BDAT chunks whose LAST never came (a capture cut, a session still open): what was sent of it.
  if (chunks.length > 0) messages.push(Buffer.from(chunks.join(''), 'latin1'));
  return { protocol, messages, credentials, envelope, starttls, ...(compressed ? { compressed } : {}) };
}

/** The messages a mail client sent in a raw stream, as layers of their own. */
export const mailProtocolDecoder: Decoder = {
  name: 'mail-protocol',
  decode(view, budget) {
    if (view.origin !== 'stream' || view.direction !== 'request' || view.depth !== 0) return [];
    const conversation = parseMailClient(view.bytes, { inflateCap: budget.outputCap(view.bytes.length) });
    const compressed = conversation.compressed;
    if (compressed?.problem) budget.note(`IMAP COMPRESS DEFLATE at ${view.path.join(' > ')} ${compressed.problem}`);
    const label = conversation.protocol === 'imap' ? 'imap:append' : 'smtp:data';
    return conversation.messages.map((message, index): View => {
      // Where it was on the wire: a message sent after COMPRESS was inside the deflate stream.
      const step = compressed?.inflated && index >= compressed.messagesBefore ? `imap:deflate:append[${index}]` : `${label}[${index}]`;
      return childLayer(view, message, step, { contentType: 'message/rfc822' });
    });
  },
};
