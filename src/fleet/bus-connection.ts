// The connection to NATS JetStream for every fleet role: the URL checked and its credentials
// taken out, TLS and creds files read, the streams and bucket made when missing. One-line errors.

import fs from 'node:fs';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { ConfigError, describeError } from '../util/errors.js';
import { ALL_FINDINGS, ALL_FLOWS, FLOW_BUCKET, RECORD_STREAM, WORK_STREAM, parseBusUrl } from './fleet-names.js';

export interface BusOptions {
  /** nats://[user:pass@]host:port (tls:// for TLS). */
  readonly url: string;
  readonly credsFile?: string;
  readonly caFile?: string;
  /** A name for this client in the server's monitoring. */
  readonly name: string;
  /** Keep trying forever after a lost connection (capture nodes, workers, collectors all do). */
  readonly waitOnFirstConnect?: boolean;
}

export interface Bus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly objects: ObjectStore;
  /** Largest message the server takes (bytes). */
  readonly maxPayload: number;
  close(): Promise<void>;
}

/** Streams and the bucket the fleet needs, created when missing (idempotent: every role calls it). */
async function ensureStorage(jsm: JetStreamManager): Promise<void> {
  const want = [
    { name: RECORD_STREAM, subjects: [ALL_FLOWS, ALL_FINDINGS], retention: RetentionPolicy.Limits },
    { name: WORK_STREAM, subjects: ['phonehome-work.*'], retention: RetentionPolicy.Workqueue },
  ];
  for (const stream of want) {
    try {
      await jsm.streams.info(stream.name);
    } catch {
      try {
        // Two minutes of publish ids are remembered: a retried publish is stored once.
        await jsm.streams.add({ name: stream.name, subjects: stream.subjects, retention: stream.retention, storage: StorageType.File, duplicate_window: 120_000_000_000 });
      } catch (error) {
        // Another node made it meanwhile.
        if (!/already in use|already exists/i.test(describeError(error))) throw error;
      }
    }
  }
}

export async function connectBus(options: BusOptions): Promise<Bus> {
  const target = parseBusUrl(options.url);
  let tls: { caFile: string } | undefined;
  if (options.caFile) {
    if (!fs.existsSync(options.caFile)) throw new ConfigError(`--nats-ca ${options.caFile}: no such file`);
    tls = { caFile: options.caFile };
  }
  let authenticator;
  if (options.credsFile) {
    let creds: Uint8Array;
    try {
      creds = fs.readFileSync(options.credsFile);
    } catch (error) {
      throw new ConfigError(`--nats-creds ${options.credsFile}: ${(error as Error).message}`);
    }
    const { credsAuthenticator } = await import('@nats-io/transport-node');
    authenticator = credsAuthenticator(creds);
  }
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: target.servers, name: options.name,
      ...(target.user !== undefined ? { user: target.user, pass: target.pass ?? '' } : {}),
      ...(authenticator ? { authenticator } : {}),
      ...(tls || target.tls ? { tls: tls ?? {} } : {}),
      maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: 5000,
      ...(options.waitOnFirstConnect ? { waitOnFirstConnect: true } : {}),
    });
  } catch (error) {
    throw new ConfigError(`cannot reach NATS at ${target.servers}: ${describeError(error)}`);
  }
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStorage(jsm);
    const js = jetstream(nc);
    const objects = await new Objm(js).create(FLOW_BUCKET, { storage: StorageType.File });
    return { nc, js, jsm, objects, maxPayload: nc.info?.max_payload ?? 1024 * 1024, close: () => nc.drain().catch(() => nc.close()) };
  } catch (error) {
    await nc.close().catch(() => undefined);
    throw new ConfigError(`NATS at ${target.servers} has no usable JetStream (start nats-server with -js): ${describeError(error)}`);
  }
}
