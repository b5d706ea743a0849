// Listeners (sinks, the UI) must not take the proxy down: a listener that throws is reported on
// the log, counted, and the proxy carries on (mitmproxy's `safecall`).

import type { EventBus, PhonehomeEvents } from '../flow/events.js';
import { describeError } from '../util/errors.js';

export const listenerFailures = new Map<string, number>();

export function safeListen<K extends keyof PhonehomeEvents>(bus: EventBus, event: K, name: string, fn: (...args: PhonehomeEvents[K]) => void): void {
  bus.on(event, ((...args: PhonehomeEvents[K]) => {
    try {
      fn(...args);
    } catch (error) {
      listenerFailures.set(name, (listenerFailures.get(name) ?? 0) + 1);
      if (event !== 'log') bus.log('error', `${name} failed on ${event}: ${describeError(error)}`);
    }
  }) as never);
}
