// The dispatch table is the one place a command is declared: each command's --help, its usage
// line in errors and `phonehome --help` are made from it, so none can forget an option or a command.

import t from 'tap';
import { commands, main, topLevelHelp } from '../../../src/cli/main.js';
import { usageLine, type Command } from '../../../src/cli/command.js';

/** Runs the CLI in-process; stdout is not a terminal, so nothing interactive starts. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = { isTTY: false } as NodeJS.WriteStream;
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) }, stdout);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Every runnable command with the words that name it: `analyze`, `ca export`… */
const everyCommand: Array<[string, Command]> = Object.entries(commands).flatMap(([name, entry]) =>
  entry.kind === 'command' ? [[name, entry] as [string, Command]] : Object.entries(entry.subcommands).map(([sub, cmd]) => [`${name} ${sub}`, cmd] as [string, Command]));

t.test('each command answers --help with its usage line, what it does, and every option of its table with value, help and default', async (t) => {
  // The contract's commands (design.md): a row lost from the table would silently drop one.
  t.same(everyCommand.map(([name]) => name).sort(), ['analyze', 'ca export', 'ca info', 'capture', 'collect', 'compare', 'decrypt', 'demo', 'har', 'recover', 'report', 'rules check', 'transparent-rules', 'watch', 'wireguard config', 'worker'], 'every command of the contract');
  for (const [name, cmd] of everyCommand) {
    const help = await cli([...name.split(' '), '--help']);
    t.equal(help.code, 0, `${name} --help exits 0`);
    t.equal(help.err, '', `${name} --help says nothing on stderr`);
    const lines = help.out.split('\n');
    t.equal(lines[0], `usage: ${usageLine(name, cmd)}`, `${name}: the usage line first`);
    t.equal(lines[1], cmd.about, `${name}: then what it does`);
    for (const option of cmd.options) {
      const row = lines.find((l) => l.startsWith(`  --${option.name}${option.value ? ` ${option.value}` : ''} `));
      t.ok(row, `${name} --help lists --${option.name}`);
      t.ok(row?.includes(option.help), `${name} --${option.name}: its help`);
      t.ok(row?.endsWith(`[default: ${option.defaultText}]`), `${name} --${option.name}: its default`);
      t.ok(option.help.length > 0 && option.defaultText.length > 0, `${name} --${option.name} has a help text and a default`);
      if (!cmd.compactUsage) t.ok(lines[0]!.includes(`--${option.name}`), `${name}: --${option.name} in the usage line`);
    }
    const listed = lines.filter((l) => /^ {2}--/.test(l)).length;
    t.equal(listed, cmd.options.length, `${name}: no option listed that is not in its table`);
  }
});

t.test('phonehome --help and the dispatch table agree: every command listed, nothing listed that is not a command', async (t) => {
  const help = await cli(['--help']);
  t.equal(help.code, 0);
  t.equal(help.out, topLevelHelp());
  const usageSection = help.out.split('\n\n')[1]!.split('\n').filter((l) => l.startsWith('  phonehome '));
  for (const [name, cmd] of everyCommand) t.ok(usageSection.includes(`  ${usageLine(name, cmd)}`), `phonehome --help lists ${usageLine(name, cmd)}`);
  const named = usageSection.map((l) => l.split(' ')[3]!).filter((word) => !['[options]', '--version', 'COMMAND'].includes(word));
  t.same([...new Set(named)].sort(), Object.keys(commands).sort(), 'the commands phonehome --help names are the table\'s');
  t.equal(usageSection.length, everyCommand.length + 3, 'one usage line per command, plus [options], --version and COMMAND --help');
});

t.test('an unknown option is a one-line usage error naming it, exit 1, for every command', async (t) => {
  for (const [name, cmd] of everyCommand) {
    const result = await cli([...name.split(' '), '--bogus']);
    t.equal(result.code, 1, `${name} --bogus`);
    t.ok(result.err.startsWith("phonehome: Unknown option '--bogus'"), `${name}: names the option`);
    t.ok(result.err.endsWith(`(usage: ${usageLine(name, cmd)})`), `${name}: and the usage`);
    t.notMatch(result.err, /\n/, 'one line');
  }
});

t.test('errors carry the usage line the table makes', async (t) => {
  const rows: Array<[string[], string]> = [
    [['decrypt'], 'phonehome: usage: phonehome decrypt RUN_DIR --keylog FILE [--keylog FILE…]'],
    [['decrypt', 'run'], 'phonehome: --keylog FILE is required (usage: phonehome decrypt RUN_DIR --keylog FILE [--keylog FILE…])'],
    [['transparent-rules'], 'phonehome: --interface is required (usage: phonehome transparent-rules --interface IF [--port N] [--undo])'],
    [['analyze'], 'phonehome: usage: phonehome analyze FILE.har|FILE.pcap|FILE.pcapng [--keylog FILE…] [--out DIR] [--fail-on SEVERITY] [--canaries FILE] [--rules DIR] [--entities FILE|none] [--report]'],
    [['compare', 'one'], 'phonehome: usage: phonehome compare BASE_DIR RUN_DIR [--fail-on SEVERITY]'],
    [['rules'], 'phonehome: usage: phonehome rules check [DIR]'],
    [['rules', 'list'], 'phonehome: usage: phonehome rules check [DIR]'],
    [['ca'], 'phonehome: usage: phonehome ca export|info'],
    [['ca', 'import'], 'phonehome: usage: phonehome ca export|info'],
    [['wireguard', 'export'], 'phonehome: usage: phonehome wireguard config [--client NAME] [--ca-dir DIR] [--qr] [--endpoint HOST[:PORT]]'],
    [['collect', 'nats://127.0.0.1:4222'], "phonehome: collect needs --out DIR (where the fleet's findings are written)"],
    [['frobnicate'], 'phonehome: unknown command "frobnicate"; see phonehome --help'],
    [['toString'], 'phonehome: unknown command "toString"; see phonehome --help'],
  ];
  for (const [args, message] of rows) {
    const result = await cli(args);
    t.equal(result.code, 1, args.join(' '));
    t.equal(result.err, message, args.join(' '));
  }
});

t.test('a subcommand is found wherever it stands among the options; a group without one answers --help with every subcommand', async (t) => {
  const after = await cli(['wireguard', '--ca-dir', '/nonexistent/ca', 'config', '--help']);
  t.equal(after.code, 0);
  t.match(after.out, /^usage: phonehome wireguard config /, 'the value of --ca-dir is not taken for the subcommand');
  const group = await cli(['ca', '--help']);
  t.equal(group.code, 0);
  t.match(group.out, /^usage: phonehome ca export \[--format pem\|der\|p12\] \[--out FILE\] \[--ca-dir DIR\]\n {7}phonehome ca info \[--json\] \[--ca-dir DIR\]\n/);
  t.match(group.out, /--format pem\|der\|p12 .*\[default: pem\]/);
  t.match(group.out, /--json .*\[default: off\]/);
  const single = await cli(['wireguard', '--help']);
  t.equal(single.out, (await cli(['wireguard', 'config', '--help'])).out, 'a group of one subcommand answers with that subcommand\'s help');
});
