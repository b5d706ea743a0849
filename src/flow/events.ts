// The one typed event bus between the stages. The proxy emits flow events; inspection turns flows
// into findings; sinks (files, terminal) listen. A wrong payload is a type error, and a listener
// that throws is isolated here, whoever registered it.

import { EventEmitter } from 'node:events';
import type { Finding } from '../model/finding.js';
import type { Endpoint, Flow } from '../model/flow.js';
import { describeError } from '../util/errors.js';

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

/** A listener that threw: counted under its name; only the first error is said. */
export interface ListenerFailure {
  readonly name: string;
  readonly event: string;
  readonly count: number;
  readonly firstError: string;
}

type AnyListener = ((...args: unknown[]) => unknown) & { listener?: (...args: unknown[]) => unknown };

/**
 * Every listener call goes through emit() here, so a listener (a sink, the UI, a notice) that
 * throws can never take down the emitter: the proxy emits from a socket's close path, where a
 * throw would break the device's connection. A failing listener is said once on the log and then
 * only counted, so a sink that fails on every flow does not flood the console (mitmproxy guards
 * every addon call the same way, in one place).
 */
export class EventBus extends EventEmitter<PhonehomeEvents> {
  readonly #names = new WeakMap<object, string>();
  readonly #failures = new Map<string, { event: string; count: number; firstError: string }>();

  /** Listens under a name: the name its failures are said and counted under. */
  listen<K extends keyof PhonehomeEvents>(event: K, name: string, listener: (...args: PhonehomeEvents[K]) => void): this {
    this.#names.set(listener, name);
    return this.on(event, listener as never);
  }

  log(level: LogEntry['level'], message: string): void {
    if (this.listenerCount('log') > 0) this.emit('log', { time: new Date().toISOString(), level, message });
  }

  override emit<K extends keyof PhonehomeEvents>(event: K, ...args: PhonehomeEvents[K]): boolean {
    const listeners = this.rawListeners(event) as unknown as AnyListener[];
    if (listeners.length === 0) return false;
    for (const listener of listeners) {
      try {
        const result = listener.apply(this, args);
        // An async listener's rejection would otherwise end the process as an unhandled rejection.
        if (result instanceof Promise) result.catch((error: unknown) => this.#failed(listener, event, error));
      } catch (error) {
        this.#failed(listener, event, error);
      }
    }
    return true;
  }

  /** The listeners that threw so far, with how often (for the summary's notes). */
  listenerFailures(): ListenerFailure[] {
    return [...this.#failures].map(([name, failure]) => ({ name, ...failure }));
  }

  #failed(listener: AnyListener, event: string, error: unknown): void {
    // once() wraps the listener; the name was given to the one inside.
    const inner = listener.listener ?? listener;
    const name = this.#names.get(inner) ?? (inner.name || `a ${event} listener`);
    const known = this.#failures.get(name);
    if (known) {
      known.count++;
      return;
    }
    const firstError = describeError(error);
    // Recorded before it is said: a failing 'log' listener then only counts its own report.
    this.#failures.set(name, { event, count: 1, firstError });
    this.log('error', `${name} failed on ${event}: ${firstError} (said once; further failures are counted)`);
  }
}
