// A server's first bytes, noticed without reading them. A client that says nothing may be waiting
// for its server to speak first (a MySQL, VNC or FTP greeting, IMAP over TLS on a port of its own):
// the server's first bytes decide the connection at once, where the client's silence would decide
// it only after the sniff window, and the greeting reach the device that much later than direct.
// (mitmproxy passes a greeting on as it comes too.) Where it is used, and where not: layer-stack.ts
// and tls-layer.ts.

import type { Duplex } from 'node:stream';

/**
 * Calls `spoke` once `server` has bytes for us or has ended, leaving them unread for whoever takes
 * the connection; returns what stops listening (a no-op once `spoke` was called). Nothing is
 * listened to without a server.
 */
export function onServerFirstWord(server: Duplex | undefined, spoke: () => void): () => void {
  if (!server || server.destroyed) return () => undefined;
  // 'readable' leaves what came in the stream's buffer. Once the listener is gone, Node no longer
  // holds the stream paused: the next 'data' listener or pipe starts it, from the first byte.
  const onReadable = (): void => {
    stop();
    spoke();
  };
  const stop = (): void => {
    server.off('readable', onReadable);
  };
  server.on('readable', onReadable);
  return stop;
}
