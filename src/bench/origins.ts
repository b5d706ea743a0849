// The servers the bench's load goes to, in the bench process (on the load CPUs): HTTPS origins
// on 127.0.0.1 and on 30 more loopback addresses (each a "new host" for the first-byte figure),
// and an HTTP/2 origin. `?size=N` asks for an N-byte answer; request bodies are read and dropped.
// A WebSocket to any path of the HTTPS origins is echoed, each message sent back as it came.

import https from 'node:https';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { WebSocketServer } from 'ws';
import type { CertificateAuthority } from '../proxy/ca/certificate-authority.js';
import { chunk, writeBody } from './body-pump.js';

export const NEW_HOSTS = 30;

export type Origins = Awaited<ReturnType<typeof startOrigins>>;

export async function startOrigins(originCa: CertificateAuthority): Promise<{ port: number; newHostIps: string[]; close(): void }> {
  const servers: https.Server[] = [];
  const handler: Parameters<typeof https.createServer>[1] = (req, res) => {
    const size = Number(new URL(req.url ?? '/', 'https://x').searchParams.get('size') ?? 2);
    req.on('data', () => undefined);
    req.on('end', () => {
      if (size <= chunk.length) {
        res.end(chunk.subarray(0, size));
        return;
      }
      res.writeHead(200, { 'content-length': size });
      writeBody(res, size);
    });
  };
  const ips = ['127.0.0.1', ...Array.from({ length: NEW_HOSTS }, (_, i) => `127.0.0.${i + 2}`)];
  let port = 0;
  for (const ip of ips) {
    const leaf = originCa.issueLeaf(ip);
    const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem, keepAliveTimeout: 30_000 }, handler);
    echoWebSockets(server);
    server.listen(port, ip);
    await once(server, 'listening');
    port = (server.address() as net.AddressInfo).port;
    servers.push(server);
  }
  return { port, newHostIps: ips.slice(1), close: () => servers.forEach((s) => { s.closeAllConnections(); s.close(); }) };
}

/** A WebSocket to any path of `server` gets each message sent back as it came (the WebSocket row's origin). */
export function echoWebSockets(server: https.Server): void {
  const echo = new WebSocketServer({ server, perMessageDeflate: false });
  echo.on('connection', (socket) => socket.on('message', (data, binary) => socket.send(data, { binary })));
}

/** An HTTP/2 origin (TLS, ALPN h2) with the same answers as the HTTP/1.1 ones. */
export async function startH2Origin(originCa: CertificateAuthority): Promise<{ port: number; close(): void }> {
  const leaf = originCa.issueLeaf('127.0.0.1');
  const server = http2.createSecureServer({ key: leaf.keyPem, cert: leaf.certPem });
  server.on('stream', (stream, headers) => {
    const size = Number(new URL(String(headers[':path'] ?? '/'), 'https://x').searchParams.get('size') ?? 2);
    stream.on('error', () => undefined);
    stream.resume();
    stream.on('end', () => {
      stream.respond({ ':status': 200 });
      stream.end(chunk.subarray(0, Math.min(size, chunk.length)));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}
