// Turns detector drafts and proxy events into complete findings (contract format, v1).

import type { TlsFailure } from '../flow/events.js';
import { flowHost, type Flow } from '../model/flow.js';
import { severityRank, type Finding, type FindingDraft, type Severity } from '../model/finding.js';

export class FindingFactory {
  #next: number;

  /** `lastNumber`: ids already used in the run's files (--append); numbering goes on after them. */
  constructor(lastNumber = 0) {
    this.#next = lastNumber + 1;
  }

  #id(): string {
    return `f-${String(this.#next++).padStart(6, '0')}`;
  }

  /** `id`: given by a fleet worker (one derived from the flow, the same on every redelivery). */
  fromDraft(draft: FindingDraft, flow: Flow, id?: string): Finding {
    // Data coming *to* the device is at most low unless a rule raises it (design: severities). A
    // planted value is the exception: seen in a response, the server already had it.
    const capped = draft.direction === 'response' && !draft.canary && severityRank(draft.severity) > severityRank('low');
    const severity: Severity = capped ? 'low' : draft.severity;
    return {
      v: 1, id: id ?? this.#id(), time: flow.endedAt, flowId: flow.id,
      category: draft.category, severity, direction: draft.direction, detector: draft.detector, summary: draft.summary,
      ...(flow.request ? { method: flow.request.method, url: flow.request.url } : {}),
      host: flowHost(flow), client: clientOf(flow), ...(flow.mode ? { mode: flow.mode } : {}),
      ...(flow.app ? { app: flow.app } : {}),
      destination: destinationOf(flow),
      evidence: draft.evidence, details: draft.details, canary: draft.canary ?? null,
      // Flows `phonehome decrypt` opened from the run's ciphertext, with keys brought afterwards.
      ...(flow.tags.includes('decrypted-later') ? { decryptedLater: true } : {}),
    };
  }

  tlsPinned(failure: TlsFailure): Finding {
    const name = failure.sni && failure.sni !== failure.host ? `${failure.sni} (CONNECT ${failure.host})` : failure.host;
    return {
      v: 1, id: this.#id(), time: failure.time, flowId: failure.flowId,
      category: 'tls-pinned', severity: 'low', direction: 'none', detector: 'tls/pinned',
      summary: `${name}:${failure.port} refused phonehome's certificate (${failure.reason})${failure.learnedPassthrough ? '; its traffic now passes through undecrypted' : ''}`,
      host: failure.host, client: failure.client.name ? { ip: failure.client.ip, name: failure.client.name } : { ip: failure.client.ip },
      destination: { port: failure.port, country: null, asn: null, org: null },
      evidence: { path: ['tls:handshake'], bytes: 0 },
      details: { sni: failure.sni ?? null, reason: failure.reason, learnedPassthrough: failure.learnedPassthrough },
      canary: null,
    };
  }

  opaqueTunnel(flow: Flow): Finding {
    return {
      v: 1, id: this.#id(), time: flow.endedAt, flowId: flow.id,
      category: 'opaque', severity: 'info', direction: 'both', detector: 'tunnel/opaque',
      summary: `${flow.target.host}:${flow.target.port} ${opaqueWhy(flow)}: ${flow.bytesUp} bytes up, ${flow.bytesDown} down`,
      host: flowHost(flow), client: clientOf(flow), ...(flow.mode ? { mode: flow.mode } : {}),
      destination: destinationOf(flow),
      evidence: { path: ['tunnel'], bytes: flow.bytesUp },
      details: { bytesUp: flow.bytesUp, bytesDown: flow.bytesDown, durationMs: flow.durationMs },
      canary: null,
    };
  }
}

function destinationOf(flow: Flow): Finding['destination'] {
  return flow.destination ? { ip: flow.destination.ip, port: flow.destination.port, country: null, asn: null, org: null } : { port: flow.target.port, country: null, asn: null, org: null };
}

/** The finding's client: the address, and the WireGuard peer's name when the flow came through the tunnel. */
function clientOf(flow: Flow): Finding['client'] {
  return flow.client.name ? { ip: flow.client.ip, name: flow.client.name } : { ip: flow.client.ip };
}

/** Why a tunnel's bytes were not read, as its tags say. */
function opaqueWhy(flow: Flow): string {
  if (flow.tags.includes('opaque:no-keys')) return 'was not decrypted (the capture file and --keylog had no keys for it)';
  if (flow.tags.includes('passthrough:client-certificate')) return 'passed through undecrypted (the server requires a client certificate only the device holds)';
  if (flow.tags.includes('passthrough:invalid-certificate')) return 'passed through undecrypted (the server\'s certificate does not verify, and the device refused one as invalid)';
  return `passed through undecrypted (${flow.tags.includes('passthrough:learned') ? 'pinned app' : '--passthrough'})`;
}
