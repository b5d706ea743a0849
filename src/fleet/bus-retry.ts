// Fleet processes start while the bus may be busy or coming back: a JetStream request that times
// out, or finds no responder while nats-server restarts, will succeed a moment later. Such
// failures are waited out (said once) instead of ending a worker or collector that was started to
// run for days; anything else — refused credentials, a bad configuration — still ends it at once.

import { NoRespondersError, RequestError, TimeoutError } from '@nats-io/transport-node';
import { describeError } from '../util/errors.js';

/** A failure that passes by itself once the server answers again. */
export function isPassingBusError(error: unknown): boolean {
  if (error instanceof TimeoutError || error instanceof NoRespondersError) return true;
  if (error instanceof RequestError) return error.isNoResponders() || error.cause instanceof TimeoutError;
  return false;
}

/** First wait, and the longest, between attempts. */
const FIRST_WAIT_MS = 250;
const LONGEST_WAIT_MS = 5000;

/**
 * Runs `attempt` until it succeeds or fails for a reason that will not pass. `say` hears one line
 * when the first attempt fails (what is being waited for, and why) and one when it succeeds after all.
 */
export async function untilBusAnswers<T>(what: string, attempt: () => Promise<T>, say: (line: string) => void): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      const result = await attempt();
      if (tries > 1) say(`fleet: ${what}: done after ${tries} attempts`);
      return result;
    } catch (error) {
      if (!isPassingBusError(error)) throw error;
      if (tries === 1) say(`fleet: ${what}: ${describeError(error)}; trying again until the bus answers`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(FIRST_WAIT_MS * 2 ** (tries - 1), LONGEST_WAIT_MS)));
    }
  }
}
