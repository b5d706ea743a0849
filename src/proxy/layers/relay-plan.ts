// The plan an exchange the HTTP/1 layer parsed goes upstream with, and the relay that takes it:
// shared by the layer (which makes plans), request-or-upgrade-relay.ts (which dispatches them) and
// the relays themselves, so none of them imports another for its types (or to tell a WebSocket
// upgrade from another).

import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { ExchangeObserver } from '../recorder/exchange-recorder.js';

/** What the engine decided for one request or upgrade, and how it wants to hear about it. */
export interface RelayPlan {
  readonly tls: boolean;
  /** Upstream host (DNS name or IP) and port: the validated CONNECT target or absolute URL. */
  readonly host: string;
  readonly port: number;
  /**
   * TLS server name to send and verify upstream: the client's SNI when it gave one, else its
   * target's name; '' for a client that gave only an address (no SNI, as it sent none: upstream-identity.ts).
   */
  readonly servername?: string;
  /**
   * The device uses phonehome as its HTTP proxy (absolute-form to the proxy port, or inside its
   * CONNECT tunnel): what it addresses to a proxy is ours and does not go on, as it would not
   * send it to its server direct: an absolute-form target becomes origin-form, Proxy-* fields
   * stay here (wget sends them inside its TLS tunnel too). False where the device does not speak
   * HTTP to phonehome (SOCKS5, transparent, WireGuard): its head goes on as written, to its server
   * or to a proxy of its own.
   */
  readonly sentToUsAsProxy: boolean;
  /** Skip upstream certificate verification for this request (only with --insecure-upstream). */
  readonly insecure: boolean;
  /** The device connection's own upstream agent (decrypted connections); the shared pool otherwise. */
  readonly agent?: http.Agent;
  readonly observer: ExchangeObserver;
  /**
   * For an upgrade: gives the device's connection back to the parser that read the request, when
   * the server refused the upgrade and both sides keep the connection for the next request.
   */
  readonly resume?: (socket: Duplex) => void;
}

/** Relays HTTP/1.x requests and upgrades (WebSockets and others) to the planned upstream. */
export interface HttpRelay {
  relayRequest(req: http.IncomingMessage, res: http.ServerResponse, plan: RelayPlan): void;
  relayUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, plan: RelayPlan): void;
  close(): void;
}

/** Whether an upgrade request asks for a WebSocket (any other protocol is relayed as bytes). */
export function isWebSocketUpgrade(req: http.IncomingMessage): boolean {
  return req.headers.upgrade?.toLowerCase() === 'websocket';
}
