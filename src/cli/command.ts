// What a command is: its option table, its positionals, a summary for `phonehome --help`, a
// paragraph for its own `--help`, and what it runs. The usage line, the `--help` text and the
// parsing are all made from this one declaration, so they cannot disagree.

import { optionsHelp, type OptionSpec } from '../app/options.js';
import { ConfigError } from '../util/errors.js';
import type { Output } from './capture-command.js';
import { parseOptions } from './parse.js';

/** An option of a command's table; `required` only changes how the usage line shows it (the command says what is missing). */
export interface CommandOption extends OptionSpec {
  readonly required?: boolean;
}

type ValueOfKind<K> = K extends 'boolean' ? boolean : K extends 'list' ? string[] : string;

/** The parsed values, typed by the table: a string option is a string, a list a string[], a flag a boolean. */
export type OptionValues<T extends readonly CommandOption[]> = { readonly [S in T[number] as S['name']]?: ValueOfKind<S['kind']> };

export interface CommandContext {
  readonly io: Output;
  readonly stdout: NodeJS.WriteStream;
}

/** What a command's `run` gets besides its values: the context and its own usage line, for its errors. */
export interface RunContext extends CommandContext {
  readonly usage: string;
}

export interface CommandSpec<T extends readonly CommandOption[]> {
  /** The positionals as the usage line shows them ('RUN_DIR', '[DIR]', '' for none), and how many may be given. */
  readonly positionals: { readonly usage: string; readonly min: number; readonly max: number };
  readonly options: T;
  /** One line in `phonehome --help`. */
  readonly summary: string;
  /** What the command does, under its usage line in its own `--help`. */
  readonly about: string;
  /** Show `[options]` in the usage line instead of every option (capture's table is long). */
  readonly compactUsage?: boolean;
  readonly run: (values: OptionValues<T>, positionals: string[], context: RunContext) => Promise<number> | number;
}

/** A command with its option types erased, as the dispatch table holds it. */
export interface Command {
  readonly kind: 'command';
  readonly positionals: CommandSpec<readonly CommandOption[]>['positionals'];
  readonly options: readonly CommandOption[];
  readonly summary: string;
  readonly about: string;
  readonly compactUsage: boolean;
  readonly run: (values: Record<string, unknown>, positionals: string[], context: RunContext) => Promise<number> | number;
}

/** A command made of subcommands (`ca export`, `ca info`). */
export interface CommandGroup {
  readonly kind: 'group';
  readonly about: string;
  readonly subcommands: Readonly<Record<string, Command>>;
}

/** `const T`: the option names stay literal types, so `run` gets typed values. */
export function command<const T extends readonly CommandOption[]>(spec: CommandSpec<T>): Command {
  return { kind: 'command', ...spec, compactUsage: spec.compactUsage === true, run: spec.run as Command['run'] };
}

export function commandGroup(spec: Omit<CommandGroup, 'kind'>): CommandGroup {
  return { kind: 'group', ...spec };
}

function optionUsage(option: CommandOption): string {
  const shown = `--${option.name}${option.value ? ` ${option.value}` : ''}`;
  if (option.kind === 'list') return option.required ? `${shown} [${shown}…]` : `[${shown}…]`;
  return option.required ? shown : `[${shown}]`;
}

/** `phonehome decrypt RUN_DIR --keylog FILE [--keylog FILE…]`, from the table. */
export function usageLine(name: string, cmd: Command): string {
  const options = cmd.compactUsage ? ['[options]'] : cmd.options.map(optionUsage);
  return ['phonehome', name, cmd.positionals.usage, ...options].filter((part) => part !== '').join(' ');
}

/** Every usage line of a table entry: one for a command, one per subcommand for a group. */
export function usageLines(name: string, entry: Command | CommandGroup): string[] {
  return entry.kind === 'command' ? [usageLine(name, entry)] : Object.entries(entry.subcommands).map(([sub, cmd]) => usageLine(`${name} ${sub}`, cmd));
}

/** A command's `--help`: usage, what it does, and each option with its value, help and default. */
export function commandHelp(name: string, cmd: Command): string {
  const options = cmd.options.length > 0 ? `\n\noptions:\n${optionsHelp(cmd.options)}` : '';
  return `usage: ${usageLine(name, cmd)}\n${cmd.about}${options}`;
}

export function groupHelp(name: string, group: CommandGroup): string {
  const only = Object.entries(group.subcommands);
  if (only.length === 1) return commandHelp(`${name} ${only[0]![0]}`, only[0]![1]);
  const [first, ...others] = usageLines(name, group);
  const usage = [`usage: ${first}`, ...others.map((line) => `       ${line}`)].join('\n');
  const subs = Object.entries(group.subcommands).map(([sub, cmd]) => {
    const options = cmd.options.length > 0 ? `\n${optionsHelp(cmd.options)}` : '';
    return `${name} ${sub}: ${cmd.about}${options}`;
  });
  return `${usage}\n${group.about}\n\n${subs.join('\n\n')}`;
}

/**
 * The first argument that is not an option nor an option's value: the subcommand, wherever it
 * stands (`wireguard --qr config` as well as `wireguard config --qr`).
 */
function firstPositional(args: readonly string[], group: CommandGroup): number {
  const taking = new Set(Object.values(group.subcommands).flatMap((cmd) => cmd.options.filter((o) => o.kind !== 'boolean' && o.omittedValue === undefined).map((o) => `--${o.name}`)));
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('-')) return i;
    if (taking.has(arg)) i++;
  }
  return -1;
}

export function isHelpRequest(args: readonly string[]): boolean {
  return args.some((a) => a === '--help' || a === '-h');
}

/**
 * Runs a table entry with the arguments after its name. `--help` anywhere answers the usage
 * before anything runs (no CA created, no folder written).
 */
export async function dispatch(name: string, entry: Command | CommandGroup, args: string[], context: CommandContext): Promise<number> {
  if (entry.kind === 'group') {
    const at = firstPositional(args, entry);
    const sub = at >= 0 ? args[at]! : undefined;
    const cmd = sub !== undefined && Object.hasOwn(entry.subcommands, sub) ? entry.subcommands[sub]! : undefined;
    if (!cmd || sub === undefined) {
      if (isHelpRequest(args)) return (context.io.out(groupHelp(name, entry)), 0);
      const subs = Object.keys(entry.subcommands);
      throw new ConfigError(`usage: ${subs.length === 1 ? usageLine(`${name} ${subs[0]}`, entry.subcommands[subs[0]!]!) : `phonehome ${name} ${subs.join('|')}`}`);
    }
    return dispatch(`${name} ${sub}`, cmd, [...args.slice(0, at), ...args.slice(at + 1)], context);
  }
  if (isHelpRequest(args)) return (context.io.out(commandHelp(name, entry)), 0);
  const usage = usageLine(name, entry);
  const { values, positionals } = parseOptions(args, entry.options, { ...entry.positionals, usage });
  return await entry.run(values, positionals, { ...context, usage });
}
