// The WireGuard configurations as text: the phone's (wg-quick format, what the official app imports
// from a file or a QR code) and the server's (what `wg setconf` takes: no Address/DNS/MTU lines,
// those are wg-quick's and we set them with `ip`).

import type { WireguardInfo } from '../../../model/wireguard-info.js';
import { validateEndpoint, type WireguardKeys, type WireguardPeerKeys } from './wireguard-keys.js';

/** How often the phone sends a keepalive: keeps NAT mappings between it and the lab open (the value wg-quick's documentation suggests). */
const PERSISTENT_KEEPALIVE_SECONDS = 25;

/**
 * The phone's configuration. Everything goes through the lab (0.0.0.0/0 and ::/0): IPv6 has no
 * route there, so apps fall back to IPv4 instead of leaving beside the tunnel. Its resolver is our
 * tunnel address, where phonehome answers DNS.
 */
export function phoneConfig(keys: WireguardKeys, client: WireguardPeerKeys, endpoint: string): string {
  validateEndpoint(endpoint);
  return [
    '[Interface]',
    `PrivateKey = ${client.privateKey}`,
    `Address = ${client.address}/32`,
    `DNS = ${keys.gateway}`,
    '',
    '[Peer]',
    `PublicKey = ${keys.server.publicKey}`,
    `Endpoint = ${endpoint}`,
    'AllowedIPs = 0.0.0.0/0, ::/0',
    `PersistentKeepalive = ${PERSISTENT_KEEPALIVE_SECONDS}`,
    '',
  ].join('\n');
}

/** The server side for `wg setconf`: our key and port, and each client allowed its one address. */
export function serverSetconf(keys: WireguardKeys, listenPort: number): string {
  if (!Number.isInteger(listenPort) || listenPort < 0 || listenPort > 65535) throw new RangeError(`not a UDP port: ${listenPort}`);
  const lines = ['[Interface]', `PrivateKey = ${keys.server.privateKey}`, `ListenPort = ${listenPort}`];
  for (const client of keys.clients) {
    lines.push('', '[Peer]', `PublicKey = ${client.publicKey}`, `AllowedIPs = ${client.address}/32`);
  }
  return `${lines.join('\n')}\n`;
}

/** What the console, the TUI and the install page show about a running endpoint. */
export function wireguardInfo(keys: WireguardKeys, interfaceName: string, endpoint: string): WireguardInfo {
  return {
    interfaceName,
    endpoint,
    gateway: keys.gateway,
    clients: keys.clients.map((client) => ({ name: client.name, address: client.address, config: phoneConfig(keys, client, endpoint) })),
  };
}
