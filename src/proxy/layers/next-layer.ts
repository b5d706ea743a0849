// Which layer takes a connection next, decided from its first bytes and its destination port only
// (mitmproxy's next_layer): every mode (HTTP proxy CONNECT, SOCKS5, transparent) learns where a
// connection was going and then asks this. Pure, so it is table-tested without sockets.

import { opensClientHello } from './client-hello.js';
import { firstHeadRefusal } from './http1-head-refusal.js';
import { readRequestLine } from './http1-request-line.js';
import type { MailProtocol } from './starttls-watcher.js';

export type NextLayer =
  /** A TLS ClientHello: terminate TLS with our CA (or pass it through). */
  | { readonly layer: 'tls' }
  /** An HTTP/1.x request line. */
  | { readonly layer: 'http1' }
  /** The HTTP/2 connection preface in clear text (h2c with prior knowledge). */
  | { readonly layer: 'http2' }
  /**
   * Anything else, relayed as a byte stream and captured; `why` says how we know
   * (`http1-parser-refuses`: an HTTP/1 request whose head our parser would refuse, http1-head-refusal.ts).
   */
  | { readonly layer: 'raw'; readonly why: 'server-speaks-first' | 'client-silent' | 'not-tls-or-http' | 'http1-parser-refuses' }
  /**
   * A dialogue that may switch to TLS half-way (STARTTLS): relayed and captured like raw, and
   * decrypted after the switch. `protocol` is the port's, or undefined when the server's greeting
   * must tell (a client that waits for the server on a port we do not know).
   */
  | { readonly layer: 'starttls'; readonly protocol: MailProtocol | undefined; readonly why: 'server-speaks-first' | 'client-silent' | 'client-speaks-first' }
  /** Nothing yet and the port does not tell: wait for the first bytes (or for silence). */
  | { readonly layer: 'wait' };

/** Ports where the server speaks first (SMTP, IMAP, POP3, FTP, SSH, telnet), so a client sends nothing we could sniff. */
export const serverFirstPorts: ReadonlySet<number> = new Set([21, 22, 23, 25, 110, 143, 587, 2525]);

/** Ports whose protocol has a STARTTLS: SMTP (relay, submission, the common alternative), POP3, IMAP, XMPP clients. */
export const startTlsPorts: ReadonlyMap<number, MailProtocol> = new Map([[25, 'smtp'], [587, 'smtp'], [2525, 'smtp'], [110, 'pop3'], [143, 'imap'], [5222, 'xmpp']]);

const HTTP2_PREFACE = 'PRI * HTTP/2.0\r\n';

/**
 * Why nothing more is waited for from a client that has sent nothing: it stayed quiet for the sniff
 * window, or its server spoke first (the client waits for that greeting).
 */
export type ClientQuiet = 'client-silent' | 'server-speaks-first';

/**
 * `first`: the client's first bytes, or undefined when it has sent none yet.
 * `quiet`: without bytes, why the client is not waited for any longer (else it is: 'wait').
 */
export function decideNextLayer(first: Buffer | undefined, port: number, quiet?: ClientQuiet): NextLayer {
  const mail = startTlsPorts.get(port);
  if (!first || first.length === 0) {
    if (mail && serverFirstPorts.has(port)) return { layer: 'starttls', protocol: mail, why: 'server-speaks-first' };
    if (serverFirstPorts.has(port)) return { layer: 'raw', why: 'server-speaks-first' };
    // A client that waits expects a greeting: a mail server on another port would be recognised
    // by it, and anything else is relayed as raw would relay it.
    return quiet ? { layer: 'starttls', protocol: mail, why: quiet } : { layer: 'wait' };
  }
  // A TLS record, or an SSL 2.0-format hello that offers TLS (old Java and OpenSSL clients).
  if (opensClientHello(first) === 'yes') return { layer: 'tls' };
  const head = first.subarray(0, 16).toString('latin1');
  if (head.startsWith(HTTP2_PREFACE.slice(0, Math.min(head.length, HTTP2_PREFACE.length))) && head.length >= 4) return { layer: 'http2' };
  // A line like "EHLO phone" or "USER bob" is another protocol, and so is one our HTTP/1 parser
  // would misread (RTSP's `OPTIONS rtsp://… RTSP/1.0`) or refuse (a method it does not know); a
  // request whose head it would refuse is relayed as it is too, for its server to answer.
  if (readRequestLine(first) === 'http1') return firstHeadRefusal(first) === undefined ? { layer: 'http1' } : { layer: 'raw', why: 'http1-parser-refuses' };
  // XMPP clients open the stream; a mail client may speak before the greeting (pipelining).
  if (mail) return { layer: 'starttls', protocol: mail, why: 'client-speaks-first' };
  // An XMPP stream on a port of its own (a messaging app's server, a self-hosted one): until
  // 2026-12-07 only port 5222 was watched for its STARTTLS, and elsewhere the stream was relayed
  // raw, its TLS part never decrypted.
  if (opensXmppStream(first)) return { layer: 'starttls', protocol: 'xmpp', why: 'client-speaks-first' };
  return { layer: 'raw', why: 'not-tls-or-http' };
}

/** An XMPP client's first bytes: its stream header (RFC 6120 §4.7), after an XML declaration, a byte-order mark or whitespace. */
const XMPP_STREAM_OPENING = /^(?:\uFEFF|\xEF\xBB\xBF)?\s*(?:<\?xml[^>]{0,200}\?>\s*)?<stream:stream[\s>]/;

function opensXmppStream(first: Buffer): boolean {
  return XMPP_STREAM_OPENING.test(first.subarray(0, 512).toString('latin1'));
}
