// Answers the proxy gives itself (errors, refusals), on raw sockets and on HTTP responses.

import type http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { limits } from '../limits.js';

/**
 * Answers on a raw socket (when there is anything to say) and closes it. The socket must also be
 * drained: one that is never read never sees the client's FIN, so it would stay open for good and
 * keep the listener from closing.
 */
export function refuse(socket: Duplex, response?: string | Buffer): void {
  if (response === undefined) socket.end();
  else socket.end(response);
  socket.resume();
  (socket as net.Socket).setTimeout?.(limits.refusedSocketDrainMs, () => socket.destroy());
}

export function respondText(res: http.ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = `phonehome: ${text}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close', ...headers });
  res.end(body);
}

/** A header value safe to send: printable ASCII only, bounded. */
export function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, limits.replyHeaderValueChars);
}

