// One recorded session (a TCP connection read back from a capture file) turned into the Flows a
// live capture would have recorded for it. The protocol is decided as the live stack decides it
// (next-layer.ts, next-layer-after-tls.ts): ALPN first, then the client's first bytes — the
// HTTP/2 preface, an HTTP/1 request line — else a raw stream. A TLS session no key opened is one
// opaque tunnel. Pure and synchronous over the session's bytes; damaged input gives whatever was
// whole plus a raw remainder or an error on the flow, never a throw.

import { newFlowId, type Flow } from '../model/flow.js';
import { decideNextLayer } from '../proxy/layers/next-layer.js';
import { decideAfterTls } from '../proxy/layers/next-layer-after-tls.js';
import { describeError } from '../util/errors.js';
import { http1Flows } from './http1-offline.js';
import { http2Flows } from './http2-offline.js';
import { offlineConnection, type OfflineConnection, type OfflineOptions } from './offline-connection.js';
import { rawFlow, tunnelFlow } from './raw-offline.js';
import { RecordedDirection } from './recorded-direction.js';
import type { RecordedSession } from './recorded-session.js';

export type { OfflineOptions };

/** Which offline layer reads a session, and for a raw one, why (the live layer's words). */
export type OfflineLayer = { readonly layer: 'tunnel' | 'http1' | 'http2' } | { readonly layer: 'raw'; readonly why: string };

/** How many of the client's first bytes decide (the HTTP/2 preface is 24). */
const SNIFF_BYTES = 24;

export function chooseLayer(session: RecordedSession, first: Buffer): OfflineLayer {
  if (session.tls && !session.tls.decrypted) return { layer: 'tunnel' };
  // A server that spoke first (an SMTP or IMAP greeting) had a client that waited: the live stack
  // decides such a connection on the server's first bytes, before the client's.
  const serverFirst = session.chunks.find((chunk) => chunk.data.length > 0)?.fromClient === false;
  const bytes = first.length > 0 && !serverFirst ? first : undefined;
  // The whole session is known: a client that sent nothing was silent, never still to be waited for.
  const quiet = serverFirst ? 'server-speaks-first' : 'client-silent';
  const decided = session.tls ? decideAfterTls(session.tls.alpn, session.server.port, bytes, quiet) : decideNextLayer(bytes, session.server.port, quiet);
  switch (decided.layer) {
    case 'http1':
    case 'http2':
      return { layer: decided.layer };
    case 'tls':
      // A ClientHello the capture reader did not take for TLS: opaque all the same.
      return { layer: 'tunnel' };
    case 'raw':
    case 'starttls':
      return { layer: 'raw', why: decided.why };
    case 'wait':
      return { layer: 'raw', why: 'client-silent' };
  }
}

export function sessionToFlows(session: RecordedSession, options: OfflineOptions): Flow[] {
  let connection: OfflineConnection | undefined;
  let up: RecordedDirection | undefined;
  let down: RecordedDirection | undefined;
  try {
    connection = offlineConnection(session, options);
    up = RecordedDirection.of(session, true);
    down = RecordedDirection.of(session, false);
    const layer = chooseLayer(session, up.slice(0, SNIFF_BYTES));
    switch (layer.layer) {
      case 'tunnel':
        return [tunnelFlow(connection)];
      case 'http1':
        return http1Flows(connection, up, down);
      case 'http2':
        return http2Flows(connection);
      case 'raw':
        return [rawFlow(connection, up, down, layer.why)];
    }
  } catch (error) {
    // A bug of ours, or input past every check: the session is still recorded, as raw bytes.
    const reason = `the offline layers could not read this session: ${describeError(error)}`;
    try {
      if (connection && up && down) return [rawFlow(connection, up, down, 'unparsed', { up: 0, down: 0, error: reason, tags: ['offline:failed'] })];
    } catch {
      // fall through to the bare record below
    }
    return [bareFlow(session, options, reason)];
  }
}

/** The least a session can be recorded as, built from nothing that could fail again. */
function bareFlow(session: RecordedSession, options: OfflineOptions, error: string): Flow {
  return {
    id: newFlowId(), kind: 'raw', scheme: session.tls ? 'tls' : 'tcp', startedAt: session.startedAt, endedAt: session.endedAt, durationMs: 0,
    client: session.client, target: { host: session.server.ip, port: session.server.port }, destination: session.server,
    bytesUp: session.bytesUp, bytesDown: session.bytesDown, error, tags: [...(options.tags ?? []), 'offline:failed'],
  };
}
