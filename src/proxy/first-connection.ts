// A tunnel (CONNECT, SOCKS) is answered only once its server has accepted a TCP connection, as a
// proxy that connects first answers: a server that refuses, a name that does not resolve, a
// network that is down reach the device as the mode says them (SOCKS5's reply code, a 502 to
// CONNECT), and a redirected connection is reset. Until 2026-12-06 phonehome answered yes first and
// connected when the device had spoken: a device whose server refused finished a TLS handshake with
// our certificate and then met an empty close (curl: exit 52, "Empty reply from server", where
// direct it says exit 7, "Failed to connect"), so an app that falls back to another server on a
// refused connection might not, and the record showed a connection that never was.
// The connection that answered is the one the device's traffic rides on: the first layer that
// connects takes it (takeFirstConnection), so the server sees one connection per device
// connection, as direct. One never taken goes when the device's does.

import net from 'node:net';
import type { ConnectionContext } from './context.js';

/** A TCP connection to the context's target, resolved once the server accepted it; unread until taken. */
export function openFirstConnection(context: ConnectionContext, lookup: net.LookupFunction | undefined, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: context.target.host, port: context.target.port, noDelay: true, ...(lookup ? { lookup } : {}) });
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`the server did not accept a connection within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
    const failed = (error: Error): void => {
      clearTimeout(timer);
      reject(error);
    };
    socket.once('error', failed);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', failed);
      // What the server says before the device has spoken (a mail server's greeting) waits in
      // the socket: nothing reads it until the layer that takes it does. (Not pause(): a paused
      // socket stays paused when Node's HTTP client starts reading it.)
      socket.on('error', ignoreUntilTaken);
      resolve(socket);
    });
  });
}

/**
 * The context's first connection, for the first layer that connects; undefined when it was taken
 * or has failed (the layer then connects itself). A server's greeting or end waits in it, unread.
 */
export function takeFirstConnection(context: ConnectionContext): net.Socket | undefined {
  const socket = context.firstConnection;
  if (!socket) return undefined;
  context.firstConnection = undefined;
  socket.off('error', ignoreUntilTaken);
  if (socket.destroyed) return undefined;
  return socket;
}

/** An error of a connection no layer holds yet: it is destroyed, and the layer that comes connects anew. */
function ignoreUntilTaken(): void {}
