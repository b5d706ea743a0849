// Watches a plaintext mail dialogue (SMTP, IMAP, POP3) or an XMPP stream for the moment both sides
// agree to switch to TLS: the client asks (STARTTLS, `tag STARTTLS`, STLS, <starttls/>) and the
// server agrees (220, `tag OK`, +OK, <proceed/>). Sans-IO: the layer feeds it each chunk as it
// passes, in order, and it answers what that chunk means. It never changes a byte; it follows the
// dialogue closely enough that a look-alike (STARTTLS inside a DATA body, an IMAP literal, a POP3
// RETR) does not trigger, and when it loses track it gives up for good, so the stream is relayed as
// it is. Buffers are bounded: only the head and tail of a line are kept, whatever its length.

export type MailProtocol = 'smtp' | 'imap' | 'pop3' | 'xmpp';

export type WatchVerdict =
  /** Nothing to do: forward the chunk. */
  | { readonly kind: 'relay' }
  /** Client: the chunk ends with the request to start TLS; forward it and wait for the answer. */
  | { readonly kind: 'asked' }
  /** Server: it refused; forward the chunk and go on relaying (still watching). */
  | { readonly kind: 'refused' }
  /** Server: it agreed, and the chunk ends exactly with its agreement; forward it, then start TLS. */
  | { readonly kind: 'upgrade' }
  /** Forward the chunk; the watcher stops for good (the rest is relayed as it is). */
  | { readonly kind: 'gave-up'; readonly code: GiveUpCode; readonly reason: string };

/**
 * Why the watcher stopped: `pipelined`, the client sent more after asking and before the answer
 * (RFC 3207 §4 forbids it; those bytes would be taken as clear text by a careless server);
 * `server-extra`, the server sent more after agreeing; `lost`, a dialogue it cannot follow;
 * `not-mail`, a server whose greeting is no mail protocol's.
 */
export type GiveUpCode = 'pipelined' | 'server-extra' | 'lost' | 'not-mail';

const RELAY: WatchVerdict = { kind: 'relay' };

/** Bytes of a line kept from its start and from its end (a command or a literal marker fits). */
const LINE_HEAD_BYTES = 512;
const LINE_TAIL_BYTES = 32;
/** Commands awaiting a reply (pipelining); past this the dialogue is not one we follow. */
const MAX_OUTSTANDING = 256;
/** XMPP: how much of each direction is kept to find an element split across chunks. */
const XMPP_WINDOW_BYTES = 1024;

/** Splits one direction into lines (LF, CR dropped), skipping counted bytes (literals, BDAT chunks). */
class LineReader {
  #head = '';
  #tail = '';
  #long = false;
  #skip = 0;

  /** The next `bytes` bytes are data, not lines (an IMAP literal, an SMTP BDAT chunk). */
  skip(bytes: number): void {
    this.#skip += bytes;
  }

  /** Lines completed in `chunk`, each with the offset just past its end. A long line is head + NUL + tail. */
  *lines(chunk: Buffer): Generator<{ line: string; end: number }> {
    let at = 0;
    while (at < chunk.length) {
      if (this.#skip > 0) {
        const skipped = Math.min(this.#skip, chunk.length - at);
        this.#skip -= skipped;
        at += skipped;
        continue;
      }
      const eol = chunk.indexOf(0x0a, at);
      const stop = eol < 0 ? chunk.length : eol;
      this.#append(chunk.toString('latin1', at, Math.min(stop, at + LINE_HEAD_BYTES + LINE_TAIL_BYTES)), chunk, at, stop);
      at = eol < 0 ? chunk.length : eol + 1;
      if (eol < 0) break;
      let line = this.#long ? `${this.#head}\u0000${this.#tail}` : this.#head;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      this.#head = '';
      this.#tail = '';
      this.#long = false;
      yield { line, end: at };
    }
  }

  #append(start: string, chunk: Buffer, from: number, to: number): void {
    if (!this.#long && this.#head.length + (to - from) <= LINE_HEAD_BYTES + LINE_TAIL_BYTES) {
      this.#head += start;
      return;
    }
    if (!this.#long) {
      this.#tail = this.#head.slice(LINE_HEAD_BYTES);
      this.#head = this.#head.slice(0, LINE_HEAD_BYTES);
      this.#long = true;
    }
    const room = LINE_HEAD_BYTES - this.#head.length;
    if (room > 0) this.#head += chunk.toString('latin1', from, Math.min(to, from + room));
    this.#tail = (this.#tail + chunk.toString('latin1', Math.max(from, to - LINE_TAIL_BYTES), to)).slice(-LINE_TAIL_BYTES);
  }
}

/** What a dialect says of one line. */
type LineMeaning = 'none' | 'asked' | 'agreed' | 'refused' | { readonly lost: string };

interface Dialect {
  clientLine(line: string, reader: LineReader): LineMeaning;
  serverLine(line: string, reader: LineReader): LineMeaning;
}

/** SMTP (RFC 5321, 3207, 2920, 3030): every command gets one final reply, in order. */
class SmtpDialect implements Dialect {
  /** What each awaited reply answers; the server greets first. */
  readonly #awaiting: string[] = ['greeting'];
  #client: 'command' | 'data-body' | 'auth-response' = 'command';

  clientLine(line: string, reader: LineReader): LineMeaning {
    if (this.#client === 'data-body') {
      // The body runs to a line with a single dot, whose reply is the message's acceptance.
      if (line === '.') {
        this.#client = 'command';
        return this.#await('message');
      }
      return 'none';
    }
    if (this.#client === 'auth-response') {
      this.#client = 'command';
      return this.#await('auth');
    }
    const verb = /^\S*/.exec(line)![0].toUpperCase();
    if (/^STARTTLS\s*$/i.test(line)) {
      const awaited = this.#await('starttls');
      return awaited === 'none' ? 'asked' : awaited;
    }
    if (verb === 'BDAT') {
      const size = /^BDAT (\d{1,15})(?: LAST)?$/i.exec(line);
      if (!size) return { lost: 'a BDAT command without a size' };
      reader.skip(Number(size[1]));
    }
    return this.#await(verb === 'DATA' || verb === 'AUTH' ? verb.toLowerCase() : 'command');
  }

  serverLine(line: string): LineMeaning {
    const reply = /^(\d{3})(?:[ \t]|$)/.exec(line);
    if (!reply) return /^\d{3}-/.test(line) ? 'none' : { lost: 'a server line that is not an SMTP reply' };
    const code = reply[1]!;
    const answered = this.#awaiting.shift();
    if (answered === 'data' && code === '354') this.#client = 'data-body';
    if (answered === 'auth' && code === '334') this.#client = 'auth-response';
    if (answered === 'starttls') return code === '220' ? 'agreed' : 'refused';
    return 'none';
  }

  #await(what: string): LineMeaning {
    this.#awaiting.push(what);
    return this.#awaiting.length > MAX_OUTSTANDING ? { lost: `more than ${MAX_OUTSTANDING} commands awaiting a reply` } : 'none';
  }
}

/** An IMAP literal marker at the end of a line: `{12}` or the non-synchronising `{12+}`. */
const IMAP_LITERAL = /\{(\d{1,15})\+?\}$/;

/** IMAP (RFC 9051, 2595): the answer to STARTTLS is the tagged response with the command's tag. */
class ImapDialect implements Dialect {
  #tag: string | undefined;
  /** The line after a literal continues its command: it starts no command of its own. */
  #clientContinues = false;
  #serverContinues = false;

  clientLine(line: string, reader: LineReader): LineMeaning {
    const continues = this.#clientContinues;
    this.#clientContinues = this.#literal(line, reader);
    if (continues || this.#clientContinues) return 'none';
    const starttls = /^([^\s(){%*"\\\]]+) STARTTLS$/i.exec(line);
    if (!starttls) return 'none';
    this.#tag = starttls[1];
    return 'asked';
  }

  serverLine(line: string, reader: LineReader): LineMeaning {
    const continues = this.#serverContinues;
    this.#serverContinues = this.#literal(line, reader);
    if (continues || this.#tag === undefined) return 'none';
    const tagged = /^(\S+) (OK|NO|BAD)\b/i.exec(line);
    if (!tagged || tagged[1] !== this.#tag) return 'none';
    this.#tag = undefined;
    return tagged[2]!.toUpperCase() === 'OK' ? 'agreed' : 'refused';
  }

  #literal(line: string, reader: LineReader): boolean {
    const literal = IMAP_LITERAL.exec(line);
    if (!literal) return false;
    reader.skip(Number(literal[1]));
    return true;
  }
}

/** POP3 commands whose +OK answer runs over several lines, to a single dot (RFC 1939, 2449). */
function popMultiline(line: string): boolean {
  const [verb = '', ...args] = line.trim().split(/\s+/);
  switch (verb.toUpperCase()) {
    case 'RETR': case 'TOP': case 'CAPA': return true;
    case 'LIST': case 'UIDL': case 'AUTH': return args.length === 0;
    default: return false;
  }
}

/** POP3 (RFC 1939, 2595, 5034): one status line per command, in order; some bodies end with a dot. */
class Pop3Dialect implements Dialect {
  readonly #awaiting: Array<{ stls: boolean; multiline: boolean; auth: boolean }> = [{ stls: false, multiline: false, auth: false }];
  #server: 'status' | 'multiline' = 'status';
  #clientAuthResponse = false;

  clientLine(line: string): LineMeaning {
    if (this.#clientAuthResponse) {
      // An AUTH exchange's answer to a "+ " challenge: the status is still owed to the AUTH.
      this.#clientAuthResponse = false;
      return 'none';
    }
    const stls = /^STLS$/i.test(line);
    this.#awaiting.push({ stls, multiline: popMultiline(line), auth: /^AUTH\s+\S/i.test(line) });
    if (this.#awaiting.length > MAX_OUTSTANDING) return { lost: `more than ${MAX_OUTSTANDING} commands awaiting a reply` };
    return stls ? 'asked' : 'none';
  }

  serverLine(line: string): LineMeaning {
    if (this.#server === 'multiline') {
      if (line === '.') this.#server = 'status';
      return 'none';
    }
    const head = this.#awaiting[0];
    if (head?.auth && /^\+ ?/.test(line) && !/^\+OK\b/i.test(line)) {
      this.#clientAuthResponse = true;
      return 'none';
    }
    const status = /^(\+OK|-ERR)\b/i.exec(line);
    if (!status) return { lost: 'a server line that is not a POP3 status' };
    this.#awaiting.shift();
    const ok = status[1]!.toUpperCase() === '+OK';
    if (ok && head?.multiline) this.#server = 'multiline';
    if (head?.stls) return ok ? 'agreed' : 'refused';
    return 'none';
  }
}

const XMPP_TLS_NS = /xmlns=(['"])urn:ietf:params:xml:ns:xmpp-tls\1/;

/** The end offset of the first complete `<name …/>` or `<name …>…</name>` with the TLS namespace in `text`, or -1. */
function xmppTlsElementEnd(text: string, name: string): number {
  for (const open of text.matchAll(new RegExp(`<${name}[\\s/>]`, 'g'))) {
    const close = text.indexOf('>', open.index);
    if (close < 0) return -1;
    if (!XMPP_TLS_NS.test(text.slice(open.index, close))) continue;
    if (text[close - 1] === '/') return close + 1;
    const end = text.indexOf(`</${name}>`, close);
    return end < 0 ? -1 : end + name.length + 3;
  }
  return -1;
}

/** XMPP (RFC 6120 §5): <starttls/> from the client, then <proceed/> or <failure/> from the server. */
class XmppWatcher {
  #client = '';
  #server = '';
  #asked = false;

  clientSent(chunk: Buffer): 'none' | 'asked' | 'pipelined' {
    if (this.#asked) return 'pipelined';
    this.#client = (this.#client + chunk.toString('latin1')).slice(-XMPP_WINDOW_BYTES);
    const end = xmppTlsElementEnd(this.#client, 'starttls');
    if (end < 0) return 'none';
    this.#asked = true;
    return end === this.#client.trimEnd().length ? 'asked' : 'pipelined';
  }

  serverSent(chunk: Buffer): 'none' | 'agreed' | 'agreed-with-more' | 'refused' {
    if (!this.#asked) return 'none';
    this.#server = (this.#server + chunk.toString('latin1')).slice(-XMPP_WINDOW_BYTES);
    const proceed = xmppTlsElementEnd(this.#server, 'proceed');
    if (proceed >= 0) return proceed === this.#server.length ? 'agreed' : 'agreed-with-more';
    if (xmppTlsElementEnd(this.#server, 'failure') >= 0) return 'refused';
    return 'none';
  }
}

function dialectFor(protocol: MailProtocol): Dialect {
  if (protocol === 'smtp') return new SmtpDialect();
  if (protocol === 'imap') return new ImapDialect();
  return new Pop3Dialect();
}

/** The protocol a server greeting announces, for servers on ports that do not tell. */
export function protocolOfGreeting(line: string): MailProtocol | undefined {
  if (/^220[ -]/.test(line)) return 'smtp';
  if (/^\* (OK|PREAUTH)\b/i.test(line)) return 'imap';
  if (/^\+OK\b/.test(line)) return 'pop3';
  return undefined;
}

export class StartTlsWatcher {
  #protocol: MailProtocol | undefined;
  #dialect: Dialect | undefined;
  #xmpp: XmppWatcher | undefined;
  readonly #client = new LineReader();
  readonly #server = new LineReader();
  /** The client asked and the server has not answered yet. */
  #asked = false;
  #gaveUp: string | undefined;

  /** `protocol`: known from the port; undefined to learn it from the server's greeting. */
  constructor(protocol?: MailProtocol) {
    this.#protocol = protocol;
    if (protocol === 'xmpp') this.#xmpp = new XmppWatcher();
    else if (protocol) this.#dialect = dialectFor(protocol);
  }

  get protocol(): MailProtocol | undefined {
    return this.#protocol;
  }

  /** Why it stopped watching, when it did. */
  get gaveUp(): string | undefined {
    return this.#gaveUp;
  }

  clientSent(chunk: Buffer): WatchVerdict {
    if (this.#gaveUp !== undefined) return RELAY;
    if (this.#asked) return this.#giveUp('pipelined', 'the client sent more before the server answered its STARTTLS');
    if (this.#xmpp) {
      const seen = this.#xmpp.clientSent(chunk);
      if (seen === 'pipelined') return this.#giveUp('pipelined', 'the client sent more after its STARTTLS');
      this.#asked = seen === 'asked';
      return seen === 'asked' ? { kind: 'asked' } : RELAY;
    }
    const dialect = this.#dialect;
    if (!dialect) return this.#giveUp('not-mail', 'the client spoke before the server said which protocol it speaks');
    for (const { line, end } of this.#client.lines(chunk)) {
      const meaning = dialect.clientLine(line, this.#client);
      if (typeof meaning === 'object') return this.#giveUp('lost', meaning.lost);
      if (meaning !== 'asked') continue;
      if (end < chunk.length) return this.#giveUp('pipelined', 'the client sent more after its STARTTLS');
      this.#asked = true;
      return { kind: 'asked' };
    }
    return RELAY;
  }

  serverSent(chunk: Buffer): WatchVerdict {
    if (this.#gaveUp !== undefined) return RELAY;
    if (this.#xmpp) {
      const seen = this.#xmpp.serverSent(chunk);
      if (seen === 'agreed-with-more') return this.#giveUp('server-extra', 'the server sent more after its <proceed/>');
      if (seen === 'refused') {
        this.#asked = false;
        return { kind: 'refused' };
      }
      return seen === 'agreed' ? { kind: 'upgrade' } : RELAY;
    }
    let verdict: WatchVerdict = RELAY;
    for (const { line, end } of this.#server.lines(chunk)) {
      // A port that does not tell: the server's greeting says which protocol it speaks.
      if (!this.#dialect) {
        const protocol = protocolOfGreeting(line);
        if (!protocol) return this.#giveUp('not-mail', 'no mail greeting from the server');
        this.#protocol = protocol;
        this.#dialect = dialectFor(protocol);
      }
      const meaning = this.#dialect.serverLine(line, this.#server);
      if (typeof meaning === 'object') return this.#giveUp('lost', meaning.lost);
      if (meaning === 'refused') {
        // Lines after a refusal in the same chunk are read on: the dialogue goes on.
        this.#asked = false;
        verdict = { kind: 'refused' };
      }
      if (meaning !== 'agreed') continue;
      // Nothing may follow the agreement in clear text: such bytes would be an injection.
      if (end < chunk.length) return this.#giveUp('server-extra', 'the server sent more after agreeing to STARTTLS');
      return { kind: 'upgrade' };
    }
    return verdict;
  }

  #giveUp(code: GiveUpCode, reason: string): WatchVerdict {
    this.#gaveUp = reason;
    return { kind: 'gave-up', code, reason };
  }
}
