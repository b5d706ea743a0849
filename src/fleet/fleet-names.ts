// Where the fleet's records live on NATS JetStream. One stream holds what every capture node
// publishes (flow records without bodies, findings), one work-queue stream the flows waiting for
// a worker, one object-store bucket the flows too large for a message.
//
//   phonehome.<node>.flow      a flow's record (metadata, no bodies)         stream PHONEHOME
//   phonehome.<node>.finding   a finding, made by the node or by a worker    stream PHONEHOME
//   phonehome-work.<node>      a whole flow to inspect (--inspect remote)     stream PHONEHOME_WORK (work queue)
//   object store phonehome-flows  flows over the message size, by name       <node>.<flow id>

import os from 'node:os';
import { ConfigError } from '../util/errors.js';

export const RECORD_STREAM = 'PHONEHOME';
export const WORK_STREAM = 'PHONEHOME_WORK';
export const FLOW_BUCKET = 'phonehome-flows';
export const WORKER_CONSUMER = 'phonehome-workers';

export const flowSubject = (node: string): string => `phonehome.${node}.flow`;
export const findingSubject = (node: string): string => `phonehome.${node}.finding`;
export const workSubject = (node: string): string => `phonehome-work.${node}`;
export const ALL_FLOWS = 'phonehome.*.flow';
export const ALL_FINDINGS = 'phonehome.*.finding';

/** The node in a record subject: phonehome.<node>.finding. */
export function nodeOfSubject(subject: string): string {
  return subject.split('.')[1] ?? '';
}

/** A node name becomes a subject token: letters, digits, - and _, at most 64. */
export function validateNodeName(name: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new ConfigError(`--node ${JSON.stringify(name)}: use 1 to 64 letters, digits, - or _ (it becomes part of NATS subjects)`);
  return name;
}

/** The default node name: this machine's host name, made a valid token. */
export function defaultNodeName(): string {
  return os.hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64) || 'node';
}

/** A durable consumer name for a collector (one per output folder name). */
export function collectorName(label: string): string {
  return `phonehome-collect-${label.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40) || 'default'}`;
}

/** nats://[user:pass@]host:port (tls:// for TLS), checked, with its credentials taken out. */
export function parseBusUrl(url: string): { servers: string; user?: string; pass?: string; tls: boolean } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${JSON.stringify(url)} is not a NATS URL (nats://HOST:PORT)`);
  }
  if (!['nats:', 'tls:'].includes(parsed.protocol) || !parsed.hostname) throw new ConfigError(`${JSON.stringify(url)}: use nats://HOST:PORT (or tls://HOST:PORT)`);
  const port = parsed.port || '4222';
  const host = parsed.hostname.includes(':') && !parsed.hostname.startsWith('[') ? `[${parsed.hostname}]` : parsed.hostname;
  return {
    servers: `${host}:${port}`,
    ...(parsed.username ? { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) } : {}),
    tls: parsed.protocol === 'tls:',
  };
}
