// The servers one device's HTTP proxy connection reaches with absolute-form requests (http:// and
// https:// URLs, ws:// upgrades), each with a connection of its own that lives no longer than the
// device's connection. Direct, a device that makes three connections for three requests shows the
// server three connections, and two devices never share one; through a shared pool the server saw
// one connection for all of them (found by wget, which starts a new process and connection for each
// fetch). A proxy connection can name many servers, where a direct one names one: each server gets
// its own upstream, as the device would have had, up to a bound; past it the least recently used
// one is let go (closed once its exchange in flight is over).

import type { Duplex } from 'node:stream';
import { limits } from '../../limits.js';
import { formatAuthority, type Target } from '../access/target.js';
import type { ConnectionAgent } from '../connection-agent.js';

export class ProxyConnectionUpstreams {
  /** A new upstream, in clear or over TLS that phonehome makes itself (an https:// URL). */
  readonly #newAgent: (tls: boolean) => ConnectionAgent;
  readonly #byConnection = new WeakMap<Duplex, Map<string, ConnectionAgent>>();
  /** Device connections whose end no longer goes to their servers (leftTheParser). */
  readonly #left = new WeakSet<Duplex>();

  constructor(newAgent: (tls: boolean) => ConnectionAgent) {
    this.#newAgent = newAgent;
  }

  /**
   * `socket` left the proxy's parser (an upgrade, a CONNECT, a request it refused): what the
   * device sends now is not a request of these upstreams', so its end is not theirs to pass on.
   */
  leftTheParser(socket: Duplex): void {
    this.#left.add(socket);
  }

  /** The upstream of `target` for requests on the device connection `socket`, over TLS when `tls`. */
  agentFor(socket: Duplex, target: Target, tls = false): ConnectionAgent {
    let agents = this.#byConnection.get(socket);
    if (!agents) {
      const mine = new Map<string, ConnectionAgent>();
      agents = mine;
      this.#byConnection.set(socket, mine);
      socket.once('close', () => {
        for (const agent of mine.values()) agent.release();
        mine.clear();
      });
      // The device's end reaches each of its servers after its requests there, as it would have
      // reached the one it talked to direct (ConnectionAgent.endWritingAfterRequests).
      socket.once('end', () => {
        if (this.#left.has(socket)) return;
        for (const agent of mine.values()) agent.endWritingAfterRequests();
      });
    }
    const key = `${tls ? 'https' : 'http'}://${formatAuthority(target)}`;
    const known = agents.get(key);
    if (known) {
      // Most recently used last: the first entry is the one to let go.
      agents.delete(key);
      agents.set(key, known);
      return known;
    }
    if (agents.size >= limits.serversPerProxyConnection) {
      const [oldestKey, oldest] = agents.entries().next().value!;
      agents.delete(oldestKey);
      oldest.release();
    }
    const agent = this.#newAgent(tls);
    agents.set(key, agent);
    return agent;
  }
}
