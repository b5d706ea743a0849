// How a simulated device of the lab day reaches a server through the capture from its own loopback
// address (127.0.0.N, so the capture sees N different clients): an HTTP CONNECT tunnel as most
// phones' proxy settings make, or SOCKS5 as a tun2socks app does. Both end in a plain socket to the
// target, over which the device then speaks TLS itself; `DeviceAgent` is the keep-alive
// https.Agent that does this for every connection it opens, or dials the server direct. (proxy/client's
// TunnelAgent and bench-agent.ts's BenchTunnelAgent always leave from 127.0.0.1 and speak CONNECT only.)

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';

export type Route = { via: 'direct' } | { via: 'http-connect' | 'socks5'; proxyPort: number };

/** A CONNECT tunnel to `host:port` through the proxy at 127.0.0.1:proxyPort, opened from `localAddress`. */
async function connectTunnelFrom(localAddress: string, proxyPort: number, host: string, port: number): Promise<net.Socket> {
  const authority = `${host}:${port}`;
  const req = http.request({ host: '127.0.0.1', port: proxyPort, localAddress, method: 'CONNECT', path: authority, headers: { host: authority } });
  req.end();
  const [res, socket] = (await Promise.race([once(req, 'connect'), once(req, 'response')])) as [http.IncomingMessage, net.Socket | undefined];
  if (res.statusCode !== 200 || !socket) {
    socket?.destroy();
    res.resume();
    throw new Error(`lab day: CONNECT ${authority} answered ${res.statusCode}`);
  }
  return socket;
}

/** Reads exactly `n` bytes from a socket that is not yet flowing (the SOCKS5 replies are a few bytes each). */
async function readExactly(socket: net.Socket, n: number): Promise<Buffer> {
  let buffered = Buffer.alloc(0);
  while (buffered.length < n) {
    const chunk = socket.read() as Buffer | null;
    if (chunk) {
      buffered = Buffer.concat([buffered, chunk]);
      continue;
    }
    const [event] = await Promise.race([once(socket, 'readable').then(() => ['readable'] as const), once(socket, 'close').then(() => ['close'] as const)]);
    if (event === 'close') throw new Error(`lab day: the SOCKS5 proxy closed after ${buffered.length} of ${n} bytes`);
  }
  // Anything past the reply belongs to the tunnel: give it back.
  if (buffered.length > n) socket.unshift(buffered.subarray(n));
  return buffered.subarray(0, n);
}

/** A SOCKS5 CONNECT (no authentication, IPv4 target) through the proxy, opened from `localAddress`. */
async function socks5From(localAddress: string, proxyPort: number, host: string, port: number): Promise<net.Socket> {
  if (!net.isIPv4(host)) throw new Error(`lab day: the SOCKS5 dialer takes an IPv4 address, not "${host}"`);
  const socket = net.connect({ host: '127.0.0.1', port: proxyPort, localAddress });
  await once(socket, 'connect');
  socket.write(Buffer.from([5, 1, 0]));
  const [, method] = await readExactly(socket, 2);
  if (method !== 0) throw new Error(`lab day: the SOCKS5 proxy chose method ${method}`);
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16BE(port);
  socket.write(Buffer.concat([Buffer.from([5, 1, 0, 1, ...host.split('.').map(Number)]), portBytes]));
  const reply = await readExactly(socket, 10);
  if (reply[1] !== 0) throw new Error(`lab day: SOCKS5 CONNECT ${host}:${port} answered ${reply[1]}`);
  return socket;
}

/** A plain socket from `localAddress` to `host:port`, by the route. */
export async function dial(route: Route, localAddress: string, host: string, port: number): Promise<net.Socket> {
  let socket: net.Socket;
  if (route.via === 'direct') {
    socket = net.connect({ host, port, localAddress });
    await once(socket, 'connect');
  } else {
    socket = route.via === 'socks5' ? await socks5From(localAddress, route.proxyPort, host, port) : await connectTunnelFrom(localAddress, route.proxyPort, host, port);
  }
  // As a phone's stack does: without it, Nagle costs ~40 ms a request on a kept-alive connection.
  socket.setNoDelay(true);
  return socket;
}

/** A keep-alive https.Agent whose connections leave from one device's address by one route. */
export class DeviceAgent extends https.Agent {
  readonly #route: Route;
  readonly #localAddress: string;
  readonly #trust: string;

  constructor(route: Route, localAddress: string, trust: string, options: https.AgentOptions = {}) {
    super({ keepAlive: true, ...options });
    this.#route = route;
    this.#localAddress = localAddress;
    this.#trust = trust;
  }

  override createConnection(options: http.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): undefined {
    const host = options.host ?? '127.0.0.1';
    dial(this.#route, this.#localAddress, host, Number(options.port)).then((socket) => {
      const secure = tls.connect({ socket, host, ca: this.#trust, servername: net.isIP(host) ? undefined : host });
      secure.once('secureConnect', () => callback?.(null, secure));
      secure.once('error', (err) => callback?.(err, secure));
    }).catch((err: Error) => callback?.(err, new net.Socket()));
    return undefined;
  }
}
