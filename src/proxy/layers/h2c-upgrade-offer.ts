// A request that offers to turn its connection into clear-text HTTP/2 (RFC 7540 §3.2: `Upgrade:
// h2c` and `HTTP2-Settings`, both named in `Connection`). The JDK's HttpClient sends that offer
// with every plain-HTTP request it makes without a proxy (so through a transparent capture,
// WireGuard or SOCKS5), and curl with `--http2`. Node's parser hands any Upgrade request to the
// 'upgrade' event, where only WebSockets were relayed, so every such request was refused with a
// 400 and the app's traffic broke.
//
// The offer is declined, as a server that does not speak h2c declines it: the request goes to the
// server without the offer, and the device reads the server's HTTP/1.1 answer, which every client
// that makes the offer must accept (RFC 7540 §3.2). Passing it on instead would let a server
// switch to HTTP/2 in the middle of a connection the HTTP/1 layer is reading; the offer's fields
// are hop-by-hop (they are named in Connection), which an intermediary removes (RFC 9110 §7.6.1).
// mitmproxy does the same. The flow records the request as the device sent it, offer included,
// and is tagged `http:h2c-declined`.
//
// How: Node has already read the request's head when it says "upgrade", and the socket is no
// longer parsed. The head, written again without the offer, is put back in front of what the device
// sent after it (a body, the next requests), and the connection is handed to the same parser
// again, which now reads an ordinary request and frames its body itself.

import type http from 'node:http';
import type { Duplex } from 'node:stream';

export const H2C_DECLINED_TAG = 'http:h2c-declined';

/** Connections whose next request is one whose h2c offer was taken out: its fields as the device sent them. */
const declined = new WeakMap<Duplex, readonly string[]>();

/**
 * The request's head as the device wrote it but for its h2c offer (the Upgrade and HTTP2-Settings
 * fields, and their names in Connection), in latin1 as the parser read it; undefined when the
 * request offers anything else than h2c (it is not ours to decline).
 */
export function headWithoutH2cOffer(method: string, url: string, httpVersion: string, rawHeaders: readonly string[]): Buffer | undefined {
  let offersH2c = false;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'upgrade') continue;
    for (const token of tokens(rawHeaders[i + 1]!)) {
      if (token.toLowerCase() !== 'h2c') return undefined;
      offersH2c = true;
    }
  }
  if (!offersH2c) return undefined;
  let head = `${method} ${url} HTTP/${httpVersion}\r\n`;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    let value = rawHeaders[i + 1]!;
    if (lower === 'upgrade' || lower === 'http2-settings') continue;
    if (lower === 'connection') {
      const kept = tokens(value).filter((token) => !/^(upgrade|http2-settings)$/i.test(token));
      if (kept.length === 0) continue;
      value = kept.join(', ');
    }
    head += `${name}: ${value}\r\n`;
  }
  return Buffer.from(`${head}\r\n`, 'latin1');
}

/**
 * Declines an h2c offer that reached a parser's 'upgrade' event: the head without the offer and
 * `rest` (what followed the head) go back in front of the socket, which `parseAgain` hands to that
 * parser again. False, and the socket untouched, when the request offers something else.
 */
export function declineH2cOffer(req: http.IncomingMessage, socket: Duplex, rest: Buffer, parseAgain: (socket: Duplex) => void): boolean {
  const head = headWithoutH2cOffer(req.method ?? 'GET', req.url ?? '/', req.httpVersion, req.rawHeaders);
  if (!head) return false;
  // unshift puts its chunk first: the rest, then the head in front of it.
  if (rest.length > 0) socket.unshift(rest);
  socket.unshift(head);
  declined.set(socket, req.rawHeaders);
  parseAgain(socket);
  return true;
}

/**
 * For the request whose h2c offer was declined, its fields as the device sent them, offer included
 * (the flow records those, and the tag); undefined for any other. Asked once per request.
 */
export function takeDeclinedH2cOffer(req: http.IncomingMessage): readonly string[] | undefined {
  const rawHeaders = declined.get(req.socket);
  declined.delete(req.socket);
  return rawHeaders;
}

/** The comma-separated tokens of a field value (Upgrade, Connection), trimmed, empty ones left out. */
function tokens(value: string): string[] {
  return value.split(',').map((token) => token.trim()).filter((token) => token.length > 0);
}
