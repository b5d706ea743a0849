// How many proxy event loops a capture runs (--threads). The primary process that writes the
// files and runs inspection needs a core of its own, so: one loop on a machine of up to two cores
// (a second loop there takes CPU from the writer and the inspection worker, and the hand-off
// between processes costs more than it gives), one fewer than the cores above that, and by default
// three at most: measured, the primary's per-flow cost (receiving the flow, the flow line, the
// hand-off to inspection) is about a third of a loop's per-request cost, so one primary feeds about
// three busy loops and more add nothing but memory (README, "Using more cores"). --threads may ask
// for up to eight, to measure that on a bigger machine.

import os from 'node:os';
import { ConfigError } from '../../util/errors.js';

/** Loops --threads may ask for. */
export const maxProxyLoops = 8;

/** Loops the default runs at most: what one primary feeds (README's scaling model). */
export const defaultMaxProxyLoops = 3;

/** The default for a machine with `cores` CPUs. */
export function defaultProxyLoops(cores: number = os.availableParallelism()): number {
  return cores <= 2 ? 1 : Math.min(cores - 1, defaultMaxProxyLoops);
}

function parseLoops(text: string, what: string): number {
  const n = /^\d{1,3}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > maxProxyLoops) throw new ConfigError(`${what} ${JSON.stringify(text)}: use a number of proxy loops from 1 to ${maxProxyLoops}`);
  return n;
}

/**
 * --threads as given, else PHONEHOME_THREADS, else the machine's default. The WireGuard endpoint
 * redirects the tunnel to one listener in one process, so --wireguard runs one loop: asked for
 * more it says so; by default it quietly takes one.
 */
export function resolveProxyLoops(given: string | undefined, env: NodeJS.ProcessEnv, context: { wireguard: boolean }, cores?: number): number {
  if (given !== undefined) {
    const n = parseLoops(given, '--threads');
    if (n > 1 && context.wireguard) throw new ConfigError(`--threads ${n} with --wireguard: the tunnel's endpoint runs in one process; use --threads 1`);
    return n;
  }
  if (context.wireguard) return 1;
  const fromEnv = env['PHONEHOME_THREADS'];
  if (fromEnv !== undefined && fromEnv !== '') return parseLoops(fromEnv, 'PHONEHOME_THREADS');
  return defaultProxyLoops(cores);
}
