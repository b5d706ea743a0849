// What phonehome could and could not see, per flow: the coverage ledger's one classifier, shared
// by summary.json and the terminal UI. Pure: a finished Flow in, its class and byte counts out.
// "Inspected" bytes are the ones the detectors were given (captured bodies, messages, raw-stream
// captures); passed-through tunnels, failed handshakes and bytes past a capture limit are not.

import type { Flow, HttpFlow, RawFlow, WebSocketFlow } from '../model/flow.js';
import { encryptedDnsOf, type EncryptedDns } from './encrypted-dns.js';
import { withFields } from '../util/with-fields.js';

export type CoverageClass =
  /** decrypted HTTP/1, HTTP/2, gRPC or WebSocket, read whole */
  | 'decrypted'
  /** clear-text HTTP or WebSocket, read whole */
  | 'plain'
  /** read, but a body, message or stream was longer than its capture limit */
  | 'partial'
  /** a non-HTTP stream (SMTP, IMAP…), captured up to its limit */
  | 'raw'
  /** a DNS question answered by phonehome's listener: the name was inspected, the answer recorded */
  | 'dns'
  /** an opaque tunnel: a host that pinned its certificate (learned in this run) */
  | 'passthrough-learned'
  /** an opaque tunnel: a host given with --passthrough */
  | 'passthrough-configured'
  /** an opaque tunnel: the server asks for a client certificate only the device holds (mutual TLS) */
  | 'passthrough-client-certificate'
  /** an opaque tunnel: the server's certificate does not verify, and the device refused a leaf as invalid */
  | 'passthrough-invalid-certificate'
  /** TLS read from a capture file (analyze FILE.pcap) that no key opened */
  | 'no-keys'
  /** a client that refused our certificate: nothing passed */
  | 'tls-failed'
  /** refused before it went anywhere (not part of the ledger) */
  | 'rejected';

export interface FlowCoverage {
  readonly class: CoverageClass;
  /** Nothing of this flow's payload reached the detectors. */
  readonly unseen: boolean;
  readonly bytesUp: number;
  readonly bytesUpInspected: number;
  readonly bytesDown: number;
  readonly bytesDownInspected: number;
  /**
   * DNS over TLS or HTTPS to a public resolver (encrypted-dns.ts): with `unseen`, the names it
   * carried went by without reaching the DNS listener or the detectors.
   */
  readonly encryptedDns?: EncryptedDns;
}

/** Bytes of one direction the detectors were given: a raw stream's capture, or an exchange's bodies and messages. */
function captured(flow: HttpFlow | WebSocketFlow | RawFlow, fromClient: boolean): number {
  if (flow.kind === 'raw') return flow.stream ? (fromClient ? flow.stream.up : flow.stream.down).bytes.length : 0;
  const messages = flow.messages?.filter((m) => m.fromClient === fromClient).reduce((n, m) => n + m.data.length, 0) ?? 0;
  const body = fromClient ? flow.request.body.bytes.length : flow.response?.body.bytes.length ?? 0;
  return messages + body;
}

function inspected(flow: HttpFlow | WebSocketFlow | RawFlow): { bytesUpInspected: number; bytesDownInspected: number } {
  return { bytesUpInspected: Math.min(flow.bytesUp, captured(flow, true)), bytesDownInspected: Math.min(flow.bytesDown, captured(flow, false)) };
}

function tunnelClass(flow: Flow): CoverageClass {
  if (flow.tags.includes('passthrough:configured')) return 'passthrough-configured';
  if (flow.tags.includes('passthrough:client-certificate')) return 'passthrough-client-certificate';
  if (flow.tags.includes('passthrough:invalid-certificate')) return 'passthrough-invalid-certificate';
  if (flow.tags.includes('opaque:no-keys')) return 'no-keys';
  return 'passthrough-learned';
}

export function coverageOf(flow: Flow): FlowCoverage {
  const encrypted = encryptedDnsOf(flow);
  const bytes = { bytesUp: flow.bytesUp, bytesDown: flow.bytesDown, ...(encrypted ? { encryptedDns: encrypted } : {}) };
  const nothing = withFields(bytes, { bytesUpInspected: 0, bytesDownInspected: 0 });
  switch (flow.kind) {
    case 'rejected': return { class: 'rejected', unseen: true, ...nothing };
    case 'tls-failed': return { class: 'tls-failed', unseen: true, ...nothing };
    case 'tunnel': return { class: tunnelClass(flow), unseen: true, ...nothing };
    // The whole message was read: its question went through the detectors, its answer is recorded.
    case 'dns': return { class: 'dns', unseen: false, ...bytes, bytesUpInspected: flow.bytesUp, bytesDownInspected: flow.bytesDown };
    case 'raw': return { class: 'raw', unseen: false, ...bytes, ...inspected(flow) };
    case 'http':
    case 'websocket': {
      const cls: CoverageClass = flow.tags.includes('inspected:partial') ? 'partial' : flow.scheme === 'https' || flow.scheme === 'wss' ? 'decrypted' : 'plain';
      return { class: cls, unseen: false, ...bytes, ...inspected(flow) };
    }
  }
}
