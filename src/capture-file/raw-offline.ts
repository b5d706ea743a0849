// Recorded bytes no protocol layer reads, as the live RawLayer records them: a non-HTTP stream
// (SMTP, IMAP, MQTT…) becomes one 'raw' flow with what each side sent, captured up to the raw
// stream limit; a TLS session no key opened becomes one 'tunnel' flow, measured only; and the
// part of an HTTP session after what could be parsed becomes a raw remainder with the reason.

import { BodyCapture } from '../flow/body-capture.js';
import type { Flow } from '../model/flow.js';
import { limits } from '../limits.js';
import { connectionFlowBase, unique, type OfflineConnection } from './offline-connection.js';
import type { RecordedDirection } from './recorded-direction.js';

function capture(direction: RecordedDirection, from: number): ReturnType<BodyCapture['result']> {
  const body = new BodyCapture(limits.rawStreamCaptureBytes);
  for (const piece of direction.pieces(from, direction.length)) body.push(piece.data);
  return body.result();
}

/**
 * A raw flow of the bytes from `upFrom` and `downFrom` on. `why`: how we know it is not ours to
 * parse (`not-http`, `server-speaks-first`…, as the live layer says), or `unparsed` with `error`.
 */
export function rawFlow(connection: OfflineConnection, up: RecordedDirection, down: RecordedDirection, why: string, from?: { up: number; down: number; error?: string; tags?: readonly string[] }): Flow {
  const upFrom = from?.up ?? 0;
  const downFrom = from?.down ?? 0;
  const session = connection.session;
  const startedAt = from ? earliest(up.timeAt(upFrom, session.endedAt), down.timeAt(downFrom, session.endedAt)) : session.startedAt;
  const upBody = capture(up, upFrom);
  const downBody = capture(down, downFrom);
  const tags = unique([...connection.baseTags, ...(session.tls ? ['decrypted'] : []), 'stream:raw', `stream:${why}`, ...(from?.tags ?? [])]);
  if (upBody.truncated || downBody.truncated) tags.push('inspected:partial');
  return {
    ...connectionFlowBase(connection, 'raw', session.tls ? 'tls' : 'tcp', startedAt, session.endedAt),
    stream: { up: upBody, down: downBody },
    bytesUp: up.length - upFrom, bytesDown: down.length - downFrom,
    ...(from?.error ? { error: from.error } : {}),
    tags,
  };
}

/** A TLS session we hold no keys for: one tunnel flow with the bytes on the wire. */
export function tunnelFlow(connection: OfflineConnection): Flow {
  const session = connection.session;
  return {
    ...connectionFlowBase(connection, 'tunnel', 'tls', session.startedAt, session.endedAt),
    bytesUp: session.bytesUp, bytesDown: session.bytesDown,
    tags: unique([...connection.baseTags, 'opaque:no-keys']),
  };
}

function earliest(a: string, b: string): string {
  return a < b ? a : b;
}
