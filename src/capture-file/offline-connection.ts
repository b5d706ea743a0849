// The connection a recorded session was, described as the live layers describe theirs: a
// ConnectionContext (client, target, TLS facts), so URLs (urlAuthority), connection tags and TLS
// records come from the very functions the live proxy uses, and flows read back from a capture
// file name their hosts exactly as live flows do.

import { newFlowId, type CaptureMode, type Endpoint, type FlowBase } from '../model/flow.js';
import { validateHost, type Target } from '../proxy/access/target.js';
import { urlAuthority, type ConnectionContext } from '../proxy/context.js';
import { connectionTags } from '../proxy/layers/http1-layer.js';
import { pathOf } from '../proxy/layers/request-path.js';
import { tlsRecordOf } from '../proxy/tls-record.js';
import type { RecordedSession } from './recorded-session.js';

export interface OfflineOptions {
  readonly bodyLimitBytes: number;
  /** Tags every flow of the session gets (`decrypted-later`…). */
  readonly tags?: readonly string[];
  /**
   * How the connection reached the recorder. A capture taps the wire, where only addresses are
   * known, as on a redirected connection: so the default is `transparent`, whose URLs take their
   * host from Host/:authority, else the SNI, else the address.
   */
  readonly mode?: CaptureMode;
}

export interface OfflineConnection {
  readonly session: RecordedSession;
  readonly context: ConnectionContext;
  readonly options: OfflineOptions;
  /** options.tags, then the session's own facts (`pcap:gap`…), without repeats. */
  readonly baseTags: readonly string[];
  readonly destination: Endpoint;
}

export function offlineConnection(session: RecordedSession, options: OfflineOptions): OfflineConnection {
  const checked = validateHost(session.server.ip);
  const target: Target = { host: checked.ok ? checked.host : session.server.ip, port: session.server.port, hostKind: checked.ok ? checked.hostKind : 'ipv4' };
  const tls = session.tls;
  const context: ConnectionContext = {
    // Names the recorded connection, so the exchanges on it can share what one revealed (Flow.connection).
    id: `${session.client.ip}:${session.client.port}@${session.startedAt}`, mode: options.mode ?? 'transparent', client: session.client, target, startedMs: Date.parse(session.startedAt) || 0, exchanges: 0,
    ...(tls ? {
      tls: {
        offered: { alpn: tls.alpn ? [tls.alpn] : [] },
        ...(tls.sni ? { sni: tls.sni } : {}),
        ...(tls.alpn ? { alpn: tls.alpn } : {}),
        ...(tls.version ? { version: tls.version } : {}),
        ...(tls.cipher ? { cipher: tls.cipher } : {}),
      },
    } : {}),
  };
  return { session, context, options, baseTags: unique([...(options.tags ?? []), ...session.tags]), destination: { ip: session.server.ip, port: session.server.port } };
}

/** The URL of a request as the live layers write it (`authority`: Host or :authority). */
export function requestUrl(connection: OfflineConnection, authority: string | undefined, requestTarget: string, webSocket = false): string {
  const secure = connection.context.tls !== undefined;
  const scheme = webSocket ? (secure ? 'wss' : 'ws') : secure ? 'https' : 'http';
  return `${scheme}://${urlAuthority(connection.context, authority)}${pathOf(requestTarget || '/')}`;
}

/** Tags of an exchange: the session's, then the live layer's (`decrypted`/`plain`, mismatches). */
export function exchangeTags(connection: OfflineConnection, authority: string | undefined): string[] {
  return unique([...connection.baseTags, ...connectionTags(connection.context, authority)]);
}

/** The fields every flow of the connection shares. */
export function connectionFlowBase<K extends 'raw' | 'tunnel', S extends 'tcp' | 'tls'>(connection: OfflineConnection, kind: K, scheme: S, startedAt: string, endedAt: string): Omit<FlowBase, 'bytesUp' | 'bytesDown' | 'tags'> & { kind: K; scheme: S } {
  const { session, context } = connection;
  const tls = tlsRecordOf(context);
  return {
    id: newFlowId(), kind, scheme, ...times(startedAt, endedAt),
    client: session.client, mode: context.mode, target: { host: context.target.host, port: context.target.port },
    ...(session.tls?.sni ? { sni: session.tls.sni } : {}),
    ...(session.tls?.alpn ? { alpn: session.tls.alpn } : {}),
    ...(tls ? { tls } : {}),
    destination: connection.destination,
  };
}

export function times(startedAt: string, endedAt: string): { startedAt: string; endedAt: string; durationMs: number } {
  const duration = Date.parse(endedAt) - Date.parse(startedAt);
  return { startedAt, endedAt, durationMs: Number.isFinite(duration) && duration > 0 ? duration : 0 };
}

export function unique(tags: readonly string[]): string[] {
  return [...new Set(tags)];
}
