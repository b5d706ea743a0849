// Where an exchange the HTTP/1 layer parsed goes upstream, and the plan it goes with: a request
// through relayHttpRequest (http1-request-relay.ts), an Upgrade (a WebSocket or another protocol)
// through UpgradeRelay (upgrade-relay.ts: the bytes both ways once the server said 101), each
// telling the plan's ExchangeObserver what passed.

import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { UpstreamAgents } from '../upstream.js';
import type { HttpRelay, RelayPlan } from './relay-plan.js';
import { relayHttpRequest } from './http1-request-relay.js';
import { UpgradeRelay } from './upgrade-relay.js';

export class RequestOrUpgradeRelay implements HttpRelay {
  readonly #agents: UpstreamAgents;
  readonly #upgrades: UpgradeRelay;

  constructor(agents: UpstreamAgents) {
    this.#agents = agents;
    this.#upgrades = new UpgradeRelay(agents);
  }

  relayRequest(req: http.IncomingMessage, res: http.ServerResponse, plan: RelayPlan): void {
    relayHttpRequest(req, res, plan, this.#agents);
  }

  relayUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, plan: RelayPlan): void {
    this.#upgrades.relay(req, socket, head, plan);
  }

  close(): void {
    this.#upgrades.close();
  }
}
