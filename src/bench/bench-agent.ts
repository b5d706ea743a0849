// The load generator's connections through a subject: CONNECT, then TLS to the subject's leaf,
// keep-alive, no Nagle (as a phone's HTTP stack does). Like proxy/client's TunnelAgent, with one
// difference: the TLS name may be chosen per subject. mockttp issues leaves with DNS names only,
// so to reach an origin by IP through it the client names the host (bench-127-0-0-2.test for
// 127.0.0.2) in SNI and checks the leaf against that name; the request still goes to the IP.
// Every subject gets this same agent, so the client's own cost is the same for all of them.

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { connectTunnel } from '../proxy/client/tunnel-agent.js';

/** The SNI name for a host a subject cannot name by IP (undefined: the host itself, no SNI for an IP). */
export type TlsNameFor = (host: string) => string | undefined;

/** bench-127-0-0-2.test for 127.0.0.2: a DNS name per IP, so a subject still issues one leaf per host. */
export const dnsNameForIp: TlsNameFor = (host) => (net.isIP(host) ? `bench-${host.replace(/[.:]/g, '-')}.test` : undefined);

export class BenchTunnelAgent extends https.Agent {
  readonly #proxyPort: number;
  readonly #trust: string;
  readonly #tlsNameFor: TlsNameFor | undefined;

  constructor(proxyPort: number, trust: string, tlsNameFor: TlsNameFor | undefined, options: https.AgentOptions = {}) {
    super({ keepAlive: true, ...options });
    this.#proxyPort = proxyPort;
    this.#trust = trust;
    this.#tlsNameFor = tlsNameFor;
  }

  override createConnection(options: http.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): undefined {
    const host = options.host ?? 'localhost';
    connectTunnel(this.#proxyPort, `${host.includes(':') ? `[${host}]` : host}:${options.port}`).then(({ socket, status }) => {
      if (status !== 200) {
        socket.destroy();
        throw new Error(`CONNECT answered ${status}`);
      }
      socket.setNoDelay(true);
      const servername = this.#tlsNameFor?.(host) ?? (net.isIP(host) ? undefined : host);
      const secure = tls.connect({ socket, host, ca: this.#trust, servername, ...(servername ? { checkServerIdentity: (_host: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(servername, cert) } : {}) });
      secure.once('secureConnect', () => callback?.(null, secure));
      secure.once('error', (err) => callback?.(err, secure));
    }).catch((err: Error) => callback?.(err, new net.Socket()));
    return undefined;
  }
}
