// Byte streams we do not parse: non-HTTP protocols (SMTP, IMAP, POP3…), relayed and captured for
// the detectors, and opaque TLS tunnels (passthrough: configured, or learned from pinning), relayed
// and only measured. Each is a flow with its bytes, duration and destination: one per connection,
// except a captured stream that lasts, written in parts while open (one flow per part;
// stream-relay.ts says when, stream-cut-points.ts where not).

import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { EventBus } from '../../flow/events.js';
import { newFlowId, type RawFlow, type TlsRecord, type TunnelFlow } from '../../model/flow.js';
import { limits } from '../../limits.js';
import type { TunnelObserver } from '../connection-tap.js';
import type { ConnectionContext } from '../context.js';
import { takeFirstConnection } from '../first-connection.js';
import type { FlowTracker } from '../flow-tracker.js';
import type { PassthroughReason } from '../passthrough.js';
import { tlsRecordOf } from '../tls-record.js';
import { upstreamFailure } from '../upstream.js';
import { describeError } from '../../util/errors.js';
import { mayCutStreamAfter } from './stream-cut-points.js';
import { relayStream, type StreamRelayResult } from './stream-relay.js';
import { withFields } from '../../util/with-fields.js';

/** How a mode answers its client once the upstream of an opaque tunnel is (or is not) reached. */
export interface TunnelReply {
  established(): void;
  failed(reason: string): void;
}

export class RawLayer {
  readonly #tracker: FlowTracker;
  readonly #events: EventBus;
  readonly #lookup: net.LookupFunction | undefined;
  readonly #tunnelObserver: TunnelObserver | undefined;

  /** `tunnelObserver`: sees the ciphertext of every opaque tunnel as it passes (opaque.pcapng). */
  constructor(tracker: FlowTracker, events: EventBus, lookup?: net.LookupFunction, tunnelObserver?: TunnelObserver) {
    this.#tracker = tracker;
    this.#events = events;
    this.#lookup = lookup;
    this.#tunnelObserver = tunnelObserver;
  }

  /**
   * A stream we relay and capture (up to a limit per direction) for the detectors. A decrypted one
   * (SMTPS, IMAPS, MQTT over TLS…) comes with `connect`, which opens the server side; so does the
   * rest of an HTTP/1 connection, plain or decrypted, after a request our parser refused
   * (Http1Layer), whose server connection is the one its requests went on.
   */
  relay(socket: Duplex, first: Buffer | undefined, context: ConnectionContext, why: string, connect?: () => Promise<net.Socket>): void {
    this.#tracker.begin(context.id, context.client, context.target, 'connect');
    const decrypted = context.tls !== undefined;
    const flowOf = (result: StreamRelayResult): TunnelFlow | RawFlow => {
      const unverified = context.tls?.serverUnverified;
      const tags = [...(decrypted ? ['decrypted'] : []), ...(unverified ? [`tls:accepted-invalid-certificate:${unverified}`] : []), 'stream:raw', `stream:${why}`, ...(result.errorTag ? [result.errorTag] : [])];
      if (result.up?.truncated || result.down?.truncated) tags.push('inspected:partial');
      return streamFlow('raw', decrypted ? 'tls' : 'tcp', context, result, tags);
    };
    relayStream(socket, {
      host: context.target.host, port: context.target.port, firstBytes: first, captureBytes: limits.rawStreamCaptureBytes, idleTimeoutMs: limits.socketIdleTimeoutMs, lookup: this.#lookup,
      ...(connect ? { connect } : { connected: takeFirstConnection(context) }),
      parts: { intervalMs: limits.rawStreamPartIntervalMs, quietMs: limits.rawStreamPartQuietMs, mayCut: mayCutStreamAfter, onPart: (part) => this.#tracker.record(flowOf(part)) },
    }, (result) => this.#tracker.end(flowOf(result)));
  }

  /** A device connection whose server could not be reached before it was answered (first-connection.ts): a flow that says why. */
  unreachable(context: ConnectionContext, error: unknown): void {
    const failure = upstreamFailure(error);
    this.#tracker.begin(context.id, context.client, context.target, 'connect');
    this.#tracker.end(streamFlow('raw', 'tcp', context, { bytesUp: 0, bytesDown: 0, error: failure.reason, errorTag: failure.tag }, [failure.tag]));
  }

  /** An opaque TLS tunnel: never decrypted, measured only. The mode answers its client through `reply`. */
  tunnel(socket: Duplex, head: Buffer, context: ConnectionContext, why: PassthroughReason, reply: TunnelReply): void {
    this.#tracker.begin(context.id, context.client, context.target, 'connect');
    relayStream(socket, {
      host: context.target.host, port: context.target.port, firstBytes: head, captureBytes: 0, idleTimeoutMs: limits.socketIdleTimeoutMs, lookup: this.#lookup,
      connected: takeFirstConnection(context),
      onConnected: () => reply.established(),
      onConnectFailed: (reason) => reply.failed(reason),
      ...(this.#tunnelObserver ? { observe: this.#observeTunnel(this.#tunnelObserver, context) } : {}),
    }, (result) => {
      const flow = streamFlow('tunnel', 'tls', context, result, [`passthrough:${why}`, ...(result.errorTag ? [result.errorTag] : [])]);
      this.#tracker.end(flow);
      this.#events.emit('tunnel:end', flow);
    });
  }

  #observeTunnel(observer: TunnelObserver, context: ConnectionContext): (destination: { ip: string; port: number }) => ReturnType<TunnelObserver> {
    return (destination) => {
      try {
        return observer({ id: context.id, client: context.client, server: destination, ...(context.tls?.sni ? { sni: context.tls.sni } : {}) });
      } catch (error) {
        this.#events.log('warn', `tunnel ${context.id}: not recorded: ${describeError(error)}`);
        return undefined;
      }
    };
  }
}

function streamFlow(kind: 'tunnel' | 'raw', scheme: 'tls' | 'tcp', context: ConnectionContext, result: StreamRelayResult, tags: string[]): TunnelFlow | RawFlow {
  const now = Date.now();
  // A part after the first is a flow of its own, from its own start; the first keeps the connection's.
  const place = result.part;
  const startedMs = place && place.index > 1 ? place.startedMs : context.startedMs;
  const connection = {
    id: place && place.index > 1 ? newFlowId() : context.id, startedAt: new Date(startedMs).toISOString(), endedAt: new Date(now).toISOString(), durationMs: now - startedMs,
    client: context.client, mode: context.mode, target: { host: context.target.host, port: context.target.port },
    ...(context.tls?.sni ? { sni: context.tls.sni } : {}),
    ...(context.tls?.alpn ? { alpn: context.tls.alpn } : {}),
    ...withTls(tlsRecordOf(context)),
    ...(result.destination ? { destination: result.destination } : {}),
    bytesUp: result.bytesUp, bytesDown: result.bytesDown,
    ...(result.error ? { error: result.error } : {}), tags,
  };
  // A tunnel is measured only (its captureBytes is 0): what each side sent is a raw stream's.
  if (kind === 'tunnel') return withFields(connection, { kind, scheme: 'tls' as const });
  const part = place ? { part: { of: context.id, index: place.index, firstMessage: 0, last: place.last, bytesBefore: place.bytesBefore } } : {};
  return withFields(connection, result.up && result.down ? { kind, scheme, stream: { up: result.up, down: result.down }, ...part } : { kind, scheme, ...part });
}

function withTls(record: TlsRecord | undefined): { tls?: TlsRecord } {
  return record ? { tls: record } : {};
}
