// When a connection we decrypted ends, did the device refuse our certificate? Only that teaches
// the passthrough policy a "pinned" host, and the evidence must be TLS evidence: an alert about
// our certificate during the handshake, or a client that closed right after the handshake without
// sending a single byte (an app's own pin check). Anything a client does after it sent a byte —
// a request we answered 400/431/502, an upstream that failed, a server that closed — shows it
// trusted us, and so did one whose device already sent data to the same host on another connection
// (Chromium closes unused pre-connects soon after a page load; a client gives up a connection
// mid-handshake), unless that connection sent an alert about our certificate. Pure, so every way a connection
// can end is one row of a table test.

import { limits } from '../limits.js';
import { classifyHandshakeError } from './layers/tls-alerts.js';

export type ConnectionEnding =
  /**
   * The TLS handshake with the device did not finish; `error` is what the TLS socket said, if
   * anything. `trustedBefore`: as below.
   */
  | { readonly stage: 'handshake'; readonly error?: unknown; readonly trustedBefore?: boolean }
  /**
   * The handshake finished, then the connection closed. `trustedBefore`: the same device already
   * sent data over another connection to this host through us (a browser's unused pre-connect
   * closing; a pinning app never gets that far).
   */
  | { readonly stage: 'after-handshake'; readonly clientSpoke: boolean; readonly msAfterHandshake: number; readonly trustedBefore?: boolean };

export interface PinningVerdict {
  /** The client refused our certificate: learn its host as pinned. */
  readonly pinned: boolean;
  /** One line: why, either way. */
  readonly reason: string;
  /** Facts for the flow (`tls:alert-48`, `tls:closed-without-request`). */
  readonly tags: readonly string[];
  /** A handshake that failed is a flow of its own (tls-failed), pinned or not. */
  readonly failedHandshake: boolean;
}

export function pinningVerdict(ending: ConnectionEnding): PinningVerdict {
  if (ending.stage === 'handshake') {
    const failure = ending.error === undefined
      ? { certificateRejected: true, reason: 'client closed the connection during the TLS handshake', alertTag: undefined }
      : classifyHandshakeError(ending.error);
    const tags = failure.alertTag ? [failure.alertTag] : [];
    // A close or reset says nothing about our certificate by itself; from a device that already
    // sent this host data through us it is a connection given up (a cancelled request, a bench
    // or a browser closing its sockets), and learning "pinned" would break its traffic for the
    // rest of the run. An alert naming our certificate is a refusal whoever sends it.
    const silent = ending.error === undefined || failure.alertTag === 'tls:reset';
    if (failure.certificateRejected && silent && ending.trustedBefore) {
      return { pinned: false, reason: `${failure.reason}, but the device already trusted our certificate for this host on another connection (given up, not a refusal)`, tags, failedHandshake: true };
    }
    return { pinned: failure.certificateRejected, reason: failure.reason, tags, failedHandshake: true };
  }
  if (ending.clientSpoke) {
    return { pinned: false, reason: 'the client sent data after the handshake: it trusted our certificate', tags: [], failedHandshake: false };
  }
  if (ending.trustedBefore) {
    return { pinned: false, reason: 'closed without sending anything, but the device already trusted our certificate for this host on another connection', tags: [], failedHandshake: false };
  }
  if (ending.msAfterHandshake > limits.pinnedCloseWindowMs) {
    // A browser's unused pre-connect idles, then closes: not a refusal.
    return { pinned: false, reason: `closed ${ending.msAfterHandshake} ms after the handshake without sending anything (idle, not a refusal)`, tags: [], failedHandshake: false };
  }
  return { pinned: true, reason: `closed ${ending.msAfterHandshake} ms after the handshake without sending a request`, tags: ['tls:closed-without-request'], failedHandshake: false };
}
