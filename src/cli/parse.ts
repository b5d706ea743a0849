// Command-line parsing on node:util parseArgs, driven by the option tables.

import { parseArgs } from 'node:util';
import { ConfigError } from '../util/errors.js';
import type { OptionSpec, RawOptions } from '../app/options.js';

/**
 * An option whose value may be left out (`--wireguard` alone means its default port): parseArgs
 * has no such kind, so a bare one is given its `omittedValue` before parsing.
 */
function fillOmittedValues(args: string[], specs: readonly OptionSpec[]): string[] {
  const omitted = new Map(specs.filter((s) => s.omittedValue !== undefined).map((s) => [`--${s.name}`, s.omittedValue!]));
  if (omitted.size === 0) return args;
  return args.map((arg, i) => {
    const value = omitted.get(arg);
    const next = args[i + 1];
    return value !== undefined && (next === undefined || next.startsWith('-')) ? `${arg}=${value}` : arg;
  });
}

export function parseOptions(givenArgs: string[], specs: readonly OptionSpec[], positionals: { min: number; max: number; usage: string }): { values: RawOptions; positionals: string[] } {
  const args = fillOmittedValues(givenArgs, specs);
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { help: { type: 'boolean' } };
  for (const spec of specs) options[spec.name] = spec.kind === 'boolean' ? { type: 'boolean' } : spec.kind === 'list' ? { type: 'string', multiple: true } : { type: 'string' };
  let parsed: { values: RawOptions; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true }) as { values: RawOptions; positionals: string[] };
  } catch (error) {
    throw new ConfigError(`${(error as Error).message.split('\n')[0]} (usage: ${positionals.usage})`);
  }
  if (!parsed.values['help'] && (parsed.positionals.length < positionals.min || parsed.positionals.length > positionals.max)) {
    throw new ConfigError(`usage: ${positionals.usage}`);
  }
  return parsed;
}
