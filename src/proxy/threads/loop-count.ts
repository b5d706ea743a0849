// How many proxy event loops a capture runs (--threads). One loop carries about 9,000 small
// requests a second on a core of its own (README, Performance), and the primary process that
// writes the files and runs inspection needs a core too: so one loop on a machine of up to two
// cores (a second loop there only takes CPU from the writer and the inspection worker), and one
// fewer than the cores above that. Eight at most: past that the primary's per-flow cost (the flow
// line, the hand-off to inspection) is the limit, not the loops (README, "Using more cores").

import os from 'node:os';
import { ConfigError } from '../../util/errors.js';

/** Loops a capture never exceeds: one primary feeds about this many (README's scaling model). */
export const maxProxyLoops = 8;

/** The default for a machine with `cores` CPUs. */
export function defaultProxyLoops(cores: number = os.availableParallelism()): number {
  return cores <= 2 ? 1 : Math.min(cores - 1, maxProxyLoops);
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
