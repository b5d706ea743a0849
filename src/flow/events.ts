// The one typed event bus between the stages. The proxy emits flow events; inspection turns flows
// into findings; sinks (files, terminal) listen. A wrong payload is a type error.

import { EventEmitter } from 'node:events';
import type { Finding } from '../model/finding.js';
import type { Endpoint, Flow } from '../model/flow.js';

export interface FlowStart {
  readonly id: string;
  readonly time: string;
  readonly client: Endpoint;
  readonly target: { readonly host: string; readonly port: number };
  readonly how: 'connect' | 'request';
}

export interface TlsFailure {
  readonly flowId: string;
  readonly time: string;
  readonly client: Endpoint;
  readonly host: string;
  readonly port: number;
  readonly sni?: string;
  readonly reason: string;
  /** The host now goes through as an opaque tunnel for the rest of the run. */
  readonly learnedPassthrough: boolean;
}

export interface LogEntry {
  readonly time: string;
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
}

/** A connection refused by client access (not loopback, private, or --allow-client). */
export interface ClientRefusal {
  readonly time: string;
  readonly ip: string;
}

export interface PhonehomeEvents {
  'flow:start': [FlowStart];
  'flow:end': [Flow];
  'tunnel:end': [Flow];
  'tls:failed': [TlsFailure];
  'client:refused': [ClientRefusal];
  finding: [Finding];
  log: [LogEntry];
}

export class EventBus extends EventEmitter<PhonehomeEvents> {
  log(level: LogEntry['level'], message: string): void {
    if (this.listenerCount('log') > 0) this.emit('log', { time: new Date().toISOString(), level, message });
  }
}
