// The transparent mode: connections the OS redirected to us (a Linux hotspot with iptables or
// nftables REDIRECT), from devices that never heard of a proxy. The destination comes from the
// kernel; from there the shared layers take over: TLS names from SNI (no SNI: a leaf with the
// names of the server's certificate, ca/leaf-shape.ts), HTTP keeps its Host header, anything else
// is a raw stream to the original address. A connection whose original destination is phonehome
// itself is refused (no loops).
// The WireGuard tunnel arrives the same way, redirected from its interface: a client address that
// belongs to a WireGuard peer makes the connection `wireguard`, with the peer's name on the client.

import type net from 'node:net';
import type { CaptureMode, Endpoint } from '../../model/flow.js';
import type { FlowTracker } from '../flow-tracker.js';
import { parseTarget, type Target } from '../access/target.js';
import { newConnectionContext } from '../context.js';
import { clientOf } from '../layers/http1-layer.js';
import type { LayerStack } from '../layers/layer-stack.js';
import { originalDestination } from './original-destination.js';
import { withFields } from '../../util/with-fields.js';

export interface TransparentModeOptions {
  readonly tracker: FlowTracker;
  readonly layers: LayerStack;
  readonly isSelf: (target: Target) => boolean;
  /** The WireGuard peer an address belongs to (with --wireguard), or undefined. */
  readonly peerOf?: (ip: string) => string | undefined;
}

export class TransparentMode {
  readonly #options: TransparentModeOptions;

  constructor(options: TransparentModeOptions) {
    this.#options = options;
  }

  handle(socket: net.Socket): void {
    const address = clientOf(socket);
    const peer = this.#options.peerOf?.(address.ip);
    const client = peer ? withFields(address, { name: peer }) : address;
    const mode = peer ? 'wireguard' : 'transparent';
    let original: { host: string; port: number };
    try {
      original = originalDestination(socket);
    } catch (error) {
      this.#refuse(socket, client, mode, { host: '', port: 0 }, `no original destination (was it redirected?): ${(error as Error).message}`, 'transparent:no-original-destination');
      return;
    }
    const parsed = parseTarget(`${original.host.includes(':') ? `[${original.host}]` : original.host}:${original.port}`);
    if (!parsed.ok) {
      this.#refuse(socket, client, mode, original, `bad original destination: ${parsed.reason}`, 'client:bad-target');
      return;
    }
    if (this.#options.isSelf(parsed.target)) {
      // Not redirected at all (someone connected to the transparent port directly), or a loop.
      this.#refuse(socket, client, mode, parsed.target, 'the original destination is phonehome itself', 'client:loop');
      return;
    }
    // The device thinks it is talking to the server already: nothing to answer when the server
    // accepted. When it did not, the device's connection is reset: its connect() went through
    // (with us), so a refusal can no longer reach it as one, and a reset (a connection that
    // failed; curl: "Connection reset by peer") is nearer to it than a close, which reads as a
    // server that accepted and said nothing (curl: "Empty reply from server").
    this.#options.layers.enter(socket, newConnectionContext(mode, client, parsed.target), Buffer.alloc(0), { established: () => undefined, failed: () => socket.resetAndDestroy() });
  }

  #refuse(socket: net.Socket, client: Endpoint, mode: CaptureMode, target: { host: string; port: number }, reason: string, tag: string): void {
    this.#options.tracker.rejected(client, mode, target, reason, [tag]);
    socket.destroy();
  }
}
