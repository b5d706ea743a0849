// Command-line parsing on node:util parseArgs, driven by the option tables.

import { parseArgs } from 'node:util';
import { ConfigError } from '../util/errors.js';
import type { OptionSpec, RawOptions } from '../app/options.js';

export function parseOptions(args: string[], specs: readonly OptionSpec[], positionals: { min: number; max: number; usage: string }): { values: RawOptions; positionals: string[] } {
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
