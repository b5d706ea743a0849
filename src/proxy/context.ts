// One ConnectionContext follows a client connection through the layers: who the client is, how it
// arrived (the mode), where it was going, and what TLS and ALPN said. A mode creates it once it
// knows the destination; every layer after that reads it (and adds the TLS facts).

import type net from 'node:net';
import { isRedirected, newFlowId, type CaptureMode, type Endpoint } from '../model/flow.js';
import { formatAuthority, parseTarget, type Target } from './access/target.js';
import type { ConnectionAgent } from './connection-agent.js';
import type { ClientHelloResult } from './layers/client-hello.js';
import type { DeviceOffer } from './upstream.js';

export interface TlsFacts {
  /** The validated server name of the ClientHello, when there was one (lower case, no trailing dot). */
  sni?: string;
  /**
   * The server name as the device wrote it, when validating it changed it (upper case, a trailing
   * dot): what its server is sent (upstreamServername). Until 2026-12-07 a server read `big.test`
   * where the device sent `BIG.TEST` or `big.test.`, which a server may answer otherwise.
   */
  sniAsSent?: string;
  /**
   * The ClientHello had no server name at all (an SSL 2.0-format hello, Java 6, IoT stacks): its
   * server is sent none either (upstreamServername), and its certificate is still checked against
   * the target's name when the device gave one. Until 2026-12-07 a device that named its server
   * in a CONNECT had that name sent as SNI, where direct the server read none: a server with
   * several sites on one address may answer the two otherwise.
   */
  noSniSent?: true;
  /**
   * What the client's ClientHello offered that the connections to its server follow (its ALPN
   * list, versions, suites, schemes, groups, OCSP request, one kind of server key): read once, and
   * handed as it is to upstream.ts (deviceOffer).
   */
  offered: DeviceOffer;
  /** What we answered (`h2`, `http/1.1`), once the handshake is done. */
  alpn?: string;
  handshakeAtMs?: number;
  /** The device side's TLS version (`TLSv1`…`TLSv1.3`) and cipher suite (IANA name), once agreed. */
  version?: string;
  cipher?: string;
  /** The server side's, when we learned them before answering the device. */
  upstreamVersion?: string;
  upstreamCipher?: string;
  /**
   * Why the server's certificate did not verify (Node's code), when the device was shown a leaf as
   * invalid (ca/leaf-shape.ts, mirroredInvalidShape) rather than a good one.
   */
  serverUnverified?: string;
  /** The device sent at least one byte after the handshake: whatever happens next, it trusted us. */
  clientSpoke?: boolean;
}

export interface ConnectionContext {
  /** Id of the connection-level flow (tunnel, raw stream or failed handshake); exchanges get their own. */
  readonly id: string;
  readonly mode: CaptureMode;
  readonly client: Endpoint;
  readonly target: Target;
  readonly startedMs: number;
  tls?: TlsFacts;
  /** HTTP requests and HTTP/2 streams seen so far. */
  exchanges: number;
  /** A decrypted connection's own upstream for HTTP/1 and WebSockets (one server connection for it, as direct). */
  upstreamAgent?: ConnectionAgent;
  /** The server's TCP connection opened before the device was answered, until a layer takes it (first-connection.ts). */
  firstConnection?: net.Socket;
}

export function newConnectionContext(mode: CaptureMode, client: Endpoint, target: Target): ConnectionContext {
  return { id: newFlowId(), mode, client, target, startedMs: Date.now(), exchanges: 0 };
}

/** What a device's ClientHello told (`sni`: its server name, once validated), before our handshake with it. */
export function tlsFactsOfHello(hello: Extract<ClientHelloResult, { kind: 'client-hello' }>, sni: string | undefined): TlsFacts {
  const offered: DeviceOffer = {
    alpn: hello.alpn, versions: hello.versions, suites: hello.suites, ...(hello.schemes ? { schemes: hello.schemes } : {}), ...(hello.groups ? { groups: hello.groups } : {}),
    ...(hello.serverKey ? { serverKey: hello.serverKey } : {}), ...(hello.asksOcsp ? { asksOcsp: true } : {}),
  };
  return {
    offered, ...(sni !== undefined ? { sni } : {}),
    ...(sni !== undefined && hello.sni !== undefined && hello.sni !== sni ? { sniAsSent: hello.sni } : {}),
    ...(hello.sni === undefined ? { noSniSent: true } : {}),
  };
}

/** What the device's ClientHello offered that the connections to its server follow (upstream.ts). */
export function deviceOffer(context: ConnectionContext): DeviceOffer {
  const facts = context.tls;
  if (!facts) return NO_OFFER;
  return facts.serverUnverified ? { ...facts.offered, acceptsUnverified: true } : facts.offered;
}

/** What a connection without a ClientHello offered: nothing. */
export const NO_OFFER: DeviceOffer = { alpn: [] };

/**
 * The name to send and verify upstream: the device's SNI, else the target when it is a name. A
 * device whose ClientHello had no server name gets none sent (TlsFacts.noSniSent): the server's
 * certificate is then checked against the target's name by tls.connect itself (its host), or,
 * for a device that gave only an address, as upstream-identity.ts says.
 */
export function upstreamServername(context: ConnectionContext): string | undefined {
  return context.tls?.noSniSent ? undefined : upstreamNameOf(context.tls?.sniAsSent ?? context.tls?.sni, context.target);
}

/** The name our leaf for this connection names: the validated SNI, else the target when it is a name. */
export function leafServername(context: ConnectionContext): string | undefined {
  return upstreamNameOf(context.tls?.sni, context.target);
}

/** upstreamServername from a device's SNI and its target, where no context is at hand (an exchange's route). */
export function upstreamNameOf(sni: string | undefined, target: Target): string | undefined {
  return sni ?? (target.hostKind === 'dns' ? target.host : undefined);
}

/** The port a scheme implies, so URLs leave it out like clients do. */
export function defaultPortOf(context: ConnectionContext): number {
  return context.tls ? 443 : 80;
}

/**
 * The authority a flow's URL shows. A proxy client names its target (CONNECT, SOCKS, absolute URL);
 * a redirected connection only has an address, so its URL takes the name the client used — the
 * Host header (or :authority), else the SNI — while the connection still goes to the address.
 */
export function urlAuthority(context: ConnectionContext, claimed: string | undefined): string {
  const port = defaultPortOf(context);
  if (isRedirected(context.mode)) {
    const named = claimed ? parseTarget(claimed, context.target.port) : undefined;
    if (named?.ok) return formatAuthority({ host: named.target.host, port: context.target.port }, port);
    if (context.tls?.sni) return formatAuthority({ host: context.tls.sni, port: context.target.port }, port);
  }
  return formatAuthority(context.target, port);
}
