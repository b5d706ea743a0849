// TLS to a server over a TCP connection phonehome opens itself, not one tls.connect opens. The
// bytes take the same native path, but the TCP socket stays within reach, so that a device's reset
// can reset the server's connection (connection-reset.ts). Under a socket that tls.connect made,
// Node has only the TLS handle and cannot reset: until 2026-12-07 a device that reset a connection
// phonehome decrypts reached its server as a clean close, where direct the server reads ECONNRESET.

import net from 'node:net';
import tls from 'node:tls';
import { layeredOver } from './connection-reset.js';

/** Where the TCP connection goes. */
export interface TcpTarget {
  readonly host: string;
  readonly port: number;
  readonly lookup?: net.LookupFunction | undefined;
}

/**
 * tls.connect with `options` over `connected` (a connection made earlier, first-connection.ts) or a
 * new TCP connection to the server. `options` gets the socket and the host (which names the server
 * for the certificate check when there is no `servername`, as in tls.connect); it is the caller's
 * own object for this one connection, filled by assignment (util/with-fields.ts says why).
 */
/**
 * tls.connect's options, with `requestOCSP`, which tls.connect hands to the TLSSocket it makes
 * (status_request in the ClientHello) though @types/node leaves it out of ConnectionOptions.
 */
export type UpstreamTlsOptions = tls.ConnectionOptions & { requestOCSP?: boolean };

export function connectTlsOverTcp(options: UpstreamTlsOptions, server: TcpTarget, connected?: net.Socket): tls.TLSSocket {
  const tcp = connected ?? net.connect({ host: server.host, port: server.port, noDelay: true, ...(server.lookup ? { lookup: server.lookup } : {}) });
  options.socket = tcp;
  options.host = server.host;
  const secure = tls.connect(options);
  layeredOver(secure, tcp);
  return secure;
}
