// A TLS server that answers each connection's one HTTP/1.0 request and closes, noting the request
// line of each: the simplest server a device can be compared against, direct and through phonehome.

import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';

export interface OneRequestTlsOrigin {
  readonly port: number;
  /** The request line of each request that reached the server. */
  readonly requests: string[];
  /** TCP connections the server accepted, handshakes that failed included. */
  connections(): number;
  close(): void;
}

/** `options`: the server's key, certificate and TLS settings; `onSecure`: told of each connection once its handshake is done. */
export async function startOneRequestTlsOrigin(options: tls.TlsOptions, answer: string, onSecure?: (socket: tls.TLSSocket) => void): Promise<OneRequestTlsOrigin> {
  const requests: string[] = [];
  const server = tls.createServer(options, (socket) => {
    socket.on('error', () => undefined);
    onSecure?.(socket);
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      requests.push(head.split('\r\n')[0]!);
      socket.end(answer);
    });
  });
  // A device that refuses the handshake is part of the scenarios, not an error of the server.
  server.on('tlsClientError', () => undefined);
  let connections = 0;
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, requests, connections: () => connections, close: () => server.close() };
}
