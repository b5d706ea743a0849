// The device's side of the proxy: an https.Agent whose connections go through an HTTP proxy with
// CONNECT, as a phone's HTTP stack does it (keep-alive capable). It is the demo's simulated phone
// and the client of the tests and benchmarks; it lives beside the proxy because it speaks the
// proxy's own protocol and, like everything under proxy/, opens sockets.

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';

/** Opens a CONNECT tunnel; resolves with the raw socket and the proxy's status. */
export async function connectTunnel(proxyPort: number, authority: string, headers: Record<string, string> = {}): Promise<{ socket: net.Socket; status: number; head: Buffer }> {
  const req = http.request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: authority, headers: { host: authority, ...headers } });
  req.end();
  const [res, socket, head] = (await once(req, 'connect')) as [http.IncomingMessage, net.Socket, Buffer];
  return { socket, status: res.statusCode ?? 0, head };
}

export class TunnelAgent extends https.Agent {
  readonly #proxyPort: number;
  readonly #trust: string;
  tunnelsOpened = 0;

  constructor(proxyPort: number, trust: string, options: https.AgentOptions = {}) {
    super({ keepAlive: true, ...options });
    this.#proxyPort = proxyPort;
    this.#trust = trust;
  }

  override createConnection(options: http.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): undefined {
    this.tunnelsOpened++;
    const host = options.host ?? 'localhost';
    connectTunnel(this.#proxyPort, `${host.includes(':') ? `[${host}]` : host}:${options.port}`).then(({ socket, status }) => {
      if (status !== 200) throw new Error(`CONNECT answered ${status}`);
      // As a phone's HTTP stack does: without it, Nagle on the tunnel socket costs ~40 ms per request.
      socket.setNoDelay(true);
      const secure = tls.connect({ socket, host, ca: this.#trust, servername: net.isIP(host) ? undefined : host });
      secure.once('secureConnect', () => callback?.(null, secure));
      secure.once('error', (err) => callback?.(err, secure));
    }).catch((err: Error) => callback?.(err, new net.Socket()));
    return undefined;
  }
}
