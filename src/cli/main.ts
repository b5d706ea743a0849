// Command dispatch. Exit codes (contract): 0 done, 1 bad usage or configuration (one line on
// stderr), 2 runtime failure, 3 findings at or above --fail-on.

import { captureOptionSpecs, defaultWireguardPort, entitiesOption, optionsHelp, type OptionSpec } from '../app/options.js';
import { defaultCaDir, toolVersion } from '../util/install-paths.js';
import { ConfigError, PhonehomeError, describeError } from '../util/errors.js';
import { severities } from '../model/finding.js';
import type { Output } from './capture-command.js';
import { command, commandGroup, dispatch, usageLines, type Command, type CommandGroup, type CommandOption } from './command.js';
import { parseOptions } from './parse.js';
import { defaultTransparentPort } from './transparent-rules.js';
import { limits } from '../limits.js';

/** How much flows.jsonl a stop still builds flows.har from, as the help says it. */
const harOnStopCap = `${limits.harOnStopMaxLogBytes / 1048576} MiB`;

/**
 * One of capture's options, as it is declared there, for a command that takes the same; its name
 * and kind kept as literal types, so the command's values are typed.
 */
function captureOption<const N extends string, const K extends OptionSpec['kind']>(name: N, kind: K): OptionSpec & { readonly name: N; readonly kind: K } {
  const spec = captureOptionSpecs.find((s) => s.name === name);
  if (spec?.kind !== kind) throw new Error(`capture has no ${kind} option --${name}`);
  return spec as OptionSpec & { readonly name: N; readonly kind: K };
}

const caDirOption = captureOption('ca-dir', 'string');
const natsOptions = [captureOption('nats-creds', 'string'), captureOption('nats-ca', 'string')] as const;
const failOnOption = { name: 'fail-on', kind: 'string', value: 'SEVERITY', defaultText: 'none', help: `exit 3 when a new finding at or above it was made (${severities.join(', ')})` } as const satisfies CommandOption;

/** Commands that only do something on a terminal (the live view, the demo's UI). */
function interactive(stdout: NodeJS.WriteStream): boolean {
  return stdout.isTTY === true && process.stdin.isTTY === true && process.env['TERM'] !== 'dumb';
}

// The dispatch table: every command, its option table, positionals, summary and run. Usage lines,
// `phonehome --help`, each command's `--help` and the parsing are all made from it (command.ts).
// A new command goes here: its code in one file (src/cli/<name>-command.ts, loaded on use by
// `run`) and one row below; test/unit/cli/command-table.test.ts checks the row's help lists every
// option and that `phonehome --help` shows it.
export const commands: Readonly<Record<string, Command | CommandGroup>> = {
  capture: command({
    positionals: { usage: '', min: 0, max: 0 },
    options: captureOptionSpecs,
    compactUsage: true,
    summary: 'headless proxy until SIGINT/SIGTERM or --duration',
    about: `headless proxy until SIGINT/SIGTERM or --duration; writes findings.jsonl, flows.jsonl, summary.json, and flows.har when flows.jsonl is at most ${harOnStopCap} (else phonehome har builds it)`,
    run: async (values, _positionals, { io }) => (await import('./capture-command.js')).runCapture(values, io),
  }),
  analyze: command({
    positionals: { usage: 'FILE.har|FILE.pcap|FILE.pcapng', min: 1, max: 1 },
    options: [
      { name: 'keylog', kind: 'list', value: 'FILE', defaultText: "the capture file's own secrets block", help: 'TLS keys (NSS key log) that open a pcap or pcapng file\'s TLS (repeatable; not for HAR files)' },
      { name: 'out', kind: 'string', value: 'DIR', defaultText: 'none: findings on stdout', help: 'write findings.jsonl and summary.json there (and flows.jsonl, flows.har for a capture file)' },
      { ...failOnOption, help: `exit 3 when a finding at or above it was made (${severities.join(', ')})` },
      captureOption('canaries', 'string'),
      captureOption('rules', 'string'),
      captureOption('entities', 'string'),
      { name: 'report', kind: 'boolean', defaultText: 'off', help: 'also write the HTML evidence report (DIR/report.html, or FILE.report.html without --out)' },
    ],
    summary: 'the detectors over a HAR or a pcap/pcapng file',
    about: 'runs the detectors over a HAR file (a truncated one too: every whole entry is read) or a capture file (pcap, pcapng, read with tshark: TLS opened with --keylog key logs or the file\'s own secrets block, other TLS counted as opaque; --out also gets flows.jsonl and flows.har); --report also writes the HTML evidence report (DIR/report.html, or FILE.report.html without --out); --entities takes a newer trackerdb.json for the companies behind hosts, or none',
    run: async (values, [file], { io }) => {
      // The company database is the process's (like the country database): set before the analysis loads it.
      const { EntityLookup } = await import('../enrich/entity/entity-lookup.js');
      EntityLookup.configure(entitiesOption(values.entities));
      const { runAnalyze } = await import('./analyze-command.js');
      return await runAnalyze(file!, values.out, values['fail-on'], io, values.canaries, values.rules, values.report === true, values.keylog ?? []);
    },
  }),
  rules: commandGroup({
    about: 'rule files (the shipped rules/, or your own folder)',
    subcommands: {
      check: command({
        positionals: { usage: '[DIR]', min: 0, max: 1 },
        options: [],
        summary: 'validates rule files',
        about: 'validates rule files (the shipped rules/ by default); errors as file:line',
        run: async (_values, [dir], { io }) => (await import('./rules-command.js')).runRulesCheck(dir, io),
      }),
    },
  }),
  recover: command({
    positionals: { usage: 'RUN_DIR', min: 1, max: 1 },
    options: [],
    summary: 'rebuild summary.json (and flows.har) of a run that was killed',
    about: `rebuilds summary.json, and flows.har when flows.jsonl is at most ${harOnStopCap}, of a run that was killed (kill -9, a crash, a power cut) from flows.jsonl and findings.jsonl`,
    run: async (_values, [dir], { io }) => (await import('./recover-command.js')).runRecover(dir!, io),
  }),
  har: command({
    positionals: { usage: 'RUN_DIR', min: 1, max: 1 },
    options: [
      { name: 'out', kind: 'string', value: 'FILE', defaultText: 'RUN_DIR/flows.har', help: 'where the HAR is written' },
    ],
    summary: 'build flows.har of a run from its flows.jsonl',
    about: `builds the HAR 1.2 file of a run from flows.jsonl, its durable record (a stop builds flows.har itself only when flows.jsonl is at most ${harOnStopCap}); the same file the stop would have written; lines cut by a crash are left out and counted`,
    run: async (values, [dir], { io }) => (await import('./har-command.js')).runHar(dir!, values.out, io),
  }),
  decrypt: command({
    positionals: { usage: 'RUN_DIR', min: 1, max: 1 },
    options: [
      { name: 'keylog', kind: 'list', value: 'FILE', required: true, defaultText: 'none: at least one is needed', help: 'TLS keys obtained after the run, NSS key log format (friTap, PCAPdroid, SSLKEYLOGFILE, PiRogue) (repeatable)' },
    ],
    summary: "open the run's recorded opaque TLS with keys obtained later",
    about: `opens the TLS sessions a run recorded undecrypted (RUN_DIR/opaque.pcapng: pinned apps, --passthrough) with keys obtained afterwards, in NSS key log format (friTap, PCAPdroid, SSLKEYLOGFILE, PiRogue); their flows (tagged decrypted-later) and findings ("decryptedLater": true) are added to the run as a new session, ids going on, and summary.json, report.html and flows.har (up to ${harOnStopCap} of flows.jsonl) are rebuilt; sessions without keys stay opaque and are counted`,
    run: async (values, [dir], { io, usage }) => {
      const keylogs = values.keylog ?? [];
      if (keylogs.length === 0) throw new ConfigError(`--keylog FILE is required (usage: ${usage})`);
      return await (await import('./decrypt-command.js')).runDecrypt(dir!, keylogs, io);
    },
  }),
  report: command({
    positionals: { usage: 'RUN_DIR', min: 1, max: 1 },
    options: [
      { name: 'out', kind: 'string', value: 'FILE', defaultText: 'RUN_DIR/report.html', help: 'where the report is written' },
      { name: 'baseline', kind: 'string', value: 'RUN_DIR', defaultText: 'none', help: 'an earlier run: the report says what is new since it' },
      { name: 'redact', kind: 'boolean', defaultText: 'off', help: 'personal values masked, photos left out' },
    ],
    summary: 'one HTML evidence report (RUN_DIR/report.html)',
    about: 'one self-contained HTML evidence report of a run (default RUN_DIR/report.html): what left the device and where, a map, a timeline, every finding with its evidence, what could not be seen; with --baseline, what is new since that run; --redact masks personal values and leaves photos out',
    run: async (values, [dir], { io }) => (await import('./report-command.js')).runReport(dir!, { ...(values.out !== undefined ? { out: values.out } : {}), ...(values.baseline !== undefined ? { baseline: values.baseline } : {}), redact: values.redact === true }, io),
  }),
  compare: command({
    positionals: { usage: 'BASE_DIR RUN_DIR', min: 2, max: 2 },
    options: [failOnOption],
    summary: 'what is new (and gone) since a baseline run',
    about: 'what a run has that a baseline run has not (and what is gone): destinations, categories, findings, as JSON Lines; exit 3 on a new finding at or above --fail-on',
    run: async (values, [base, run], { io }) => (await import('./compare-command.js')).runCompare(base!, run!, values['fail-on'], io),
  }),
  'transparent-rules': command({
    positionals: { usage: '', min: 0, max: 0 },
    options: [
      { name: 'interface', kind: 'string', value: 'IF', required: true, defaultText: 'none: required', help: 'the hotspot interface whose devices are redirected (wlan0, ap0)' },
      { name: 'port', kind: 'string', value: 'N', defaultText: String(defaultTransparentPort), help: 'the port of capture --transparent' },
      { name: 'undo', kind: 'boolean', defaultText: 'off', help: 'the commands that remove the redirection' },
    ],
    summary: 'iptables commands for --transparent (printed, not run)',
    about: `prints the iptables commands that redirect a hotspot interface's TCP to phonehome capture --transparent (default port ${defaultTransparentPort}); it runs nothing`,
    run: async (values, _positionals, { io, usage }) => (await import('./transparent-rules.js')).runTransparentRules({ ...(values.interface !== undefined ? { interface: values.interface } : {}), ...(values.port !== undefined ? { port: values.port } : {}), undo: values.undo === true }, usage, (line) => io.out(line)),
  }),
  worker: command({
    positionals: { usage: 'nats://HOST:PORT', min: 1, max: 1 },
    options: [
      captureOption('rules', 'string'),
      captureOption('canaries', 'string'),
      { name: 'ack-wait', kind: 'string', value: 'SECONDS', defaultText: '30s', help: 'a flow left unacknowledged this long goes to another worker (also 500ms, 2m)' },
      ...natsOptions,
    ],
    summary: 'a fleet inspection worker',
    about: 'a fleet inspection worker: pulls the flows capture nodes publish with --inspect remote, inspects them (same detectors, canaries and rules as a local run), publishes the findings; a flow is acknowledged only after its findings are stored, and one left unacknowledged for --ack-wait (default 30s) goes to another worker',
    run: async (values, [url], { io }) => (await import('./fleet-commands.js')).runWorkerCommand({
      url: url!, ...(values['nats-creds'] ? { credsFile: values['nats-creds'] } : {}), ...(values['nats-ca'] ? { caFile: values['nats-ca'] } : {}),
      ...(values.rules ? { rulesDir: values.rules } : {}), ...(values.canaries ? { canariesFile: values.canaries } : {}), ...(values['ack-wait'] ? { ackWait: values['ack-wait'] } : {}),
    }, io),
  }),
  collect: command({
    positionals: { usage: 'nats://HOST:PORT', min: 1, max: 1 },
    options: [
      { name: 'out', kind: 'string', value: 'DIR', required: true, defaultText: 'none: required', help: 'where findings.jsonl, summary.json and fleet-flows.jsonl are written' },
      { name: 'name', kind: 'string', value: 'NAME', defaultText: "from --out's folder name", help: 'the durable consumer: a collector restarted under the same name goes on where it stopped' },
      ...natsOptions,
    ],
    summary: "the fleet's findings, merged, written to DIR",
    about: 'the fleet\'s findings, merged from every capture node, written to DIR/findings.jsonl (each once), with DIR/summary.json (per-node counts) and DIR/fleet-flows.jsonl; a durable consumer: restarted, it goes on where it stopped',
    run: async (values, [url], { io }) => {
      if (!values.out) throw new ConfigError('collect needs --out DIR (where the fleet\'s findings are written)');
      return await (await import('./fleet-commands.js')).runCollectCommand({
        url: url!, ...(values['nats-creds'] ? { credsFile: values['nats-creds'] } : {}), ...(values['nats-ca'] ? { caFile: values['nats-ca'] } : {}),
        outDir: values.out, ...(values.name ? { name: values.name } : {}),
      }, io);
    },
  }),
  watch: command({
    positionals: { usage: 'nats://HOST:PORT', min: 1, max: 1 },
    options: [...natsOptions],
    summary: 'the terminal UI over the whole fleet (a node column)',
    about: 'the terminal UI over the whole fleet\'s flows and findings, with the node in the device column',
    run: async (values, [url], { io }) => (await import('./watch-command.js')).runWatchCommand({ url: url!, ...(values['nats-creds'] ? { credsFile: values['nats-creds'] } : {}), ...(values['nats-ca'] ? { caFile: values['nats-ca'] } : {}) }, io),
  }),
  demo: command({
    positionals: { usage: '', min: 0, max: 0 },
    options: [
      { name: 'headless', kind: 'boolean', defaultText: 'off', help: 'no terminal UI: files and console only' },
      { name: 'out', kind: 'string', value: 'DIR', defaultText: './phonehome-run-<time>', help: 'where the run\'s files go' },
      { name: 'no-files', kind: 'boolean', defaultText: 'off', help: 'write no files' },
    ],
    summary: 'proxy + a simulated leaky phone + a local cloud',
    about: 'the proxy, a local cloud and a simulated leaky phone on loopback, in the terminal UI (--headless: files and console only); files go to ./phonehome-run-<time> unless --out or --no-files',
    run: async (values, _positionals, { io, stdout }) => (await import('./demo-command.js')).runDemo({ headless: values.headless === true, ...(values.out ? { out: values.out } : {}), noFiles: values['no-files'] === true }, io, interactive(stdout)),
  }),
  ca: commandGroup({
    about: 'the CA certificate (to stdout without --out), or where the CA lives, its fingerprint and validity',
    subcommands: {
      export: command({
        positionals: { usage: '', min: 0, max: 0 },
        options: [
          { name: 'format', kind: 'string', value: 'pem|der|p12', defaultText: 'pem', help: 'the certificate\'s encoding (der and p12 are binary: give --out or redirect stdout)' },
          { name: 'out', kind: 'string', value: 'FILE', defaultText: 'stdout', help: 'where the certificate is written' },
          caDirOption,
        ],
        summary: 'the CA certificate (to stdout without --out)',
        about: 'the CA certificate, to install on the device (created with its key when missing)',
        run: async (values, _positionals, { stdout }) => (await import('./ca-command.js')).runCaExport(values['ca-dir'] ?? defaultCaDir(), values.format ?? 'pem', values.out, stdout),
      }),
      info: command({
        positionals: { usage: '', min: 0, max: 0 },
        options: [
          { name: 'json', kind: 'boolean', defaultText: 'off', help: 'as one JSON object' },
          caDirOption,
        ],
        summary: 'where the CA lives, its fingerprint and validity',
        about: 'where the CA lives, its fingerprint and validity, and its file name for an Android system store',
        run: async (values, _positionals, { io }) => (await import('./ca-command.js')).runCaInfo(values['ca-dir'] ?? defaultCaDir(), values.json === true, io),
      }),
    },
  }),
  wireguard: commandGroup({
    about: 'the WireGuard side of capture --wireguard',
    subcommands: {
      config: command({
        positionals: { usage: '', min: 0, max: 0 },
        options: [
          { name: 'client', kind: 'string', value: 'NAME', defaultText: 'the first configured client (phone)', help: 'which configured peer' },
          caDirOption,
          { name: 'qr', kind: 'boolean', defaultText: 'off', help: 'a QR code to scan with the WireGuard app, instead of the text' },
          { name: 'endpoint', kind: 'string', value: 'HOST[:PORT]', defaultText: "the last capture's, else the first LAN address", help: `the address the phone reaches this machine at (port ${defaultWireguardPort} unless given)` },
        ],
        summary: "the phone's configuration for --wireguard",
        about: `the phone's WireGuard configuration for capture --wireguard (what the official app imports), as text or, with --qr, a QR code to scan; keys are created beside the CA when missing; the endpoint is --endpoint (port ${defaultWireguardPort} unless given), else the one the last capture announced, else this machine's first LAN address`,
        run: async (values, _positionals, { io, stdout }) => (await import('./wireguard-command.js')).runWireguardConfig({
          caDir: values['ca-dir'] ?? defaultCaDir(), ...(values.client !== undefined ? { client: values.client } : {}), ...(values.endpoint !== undefined ? { endpoint: values.endpoint } : {}),
          qr: values.qr === true, colour: stdout.isTTY === true && !process.env['NO_COLOR'],
        }, io),
      }),
    },
  }),
};

/** `phonehome [options]`: the live view on a terminal, capture otherwise; it takes capture's options. */
const liveViewSummary = 'live view on a terminal; the same as capture otherwise';

/** `phonehome --help`: every row of the table with its usage lines and summary. */
export function topLevelHelp(): string {
  const rows = Object.entries(commands).flatMap(([name, entry]) => {
    const lines = usageLines(name, entry);
    const subSummaries = entry.kind === 'group' ? Object.values(entry.subcommands).map((c) => c.summary) : [entry.summary];
    return lines.map((line, i) => `  ${line}\n      ${subSummaries[i]}`);
  });
  return `phonehome ${toolVersion} — finds personal data leaving a device, and says where it went

usage:
  phonehome [options]
      ${liveViewSummary}
${rows.join('\n')}
  phonehome --version
  phonehome COMMAND --help
      a command's options, each with its default

options of capture and the live view:
${optionsHelp(captureOptionSpecs)}

exit codes: 0 done, 1 bad usage or configuration, 2 runtime failure, 3 findings at or above --fail-on`;
}

export async function main(argv: string[], io: Output, stdout: NodeJS.WriteStream): Promise<number> {
  try {
    const [name, ...rest] = argv;
    if (name === '--help' || name === '-h' || name === 'help') {
      io.out(topLevelHelp());
      return 0;
    }
    if (name === '--version' || name === '-v') {
      io.out(toolVersion);
      return 0;
    }
    if (name === undefined || name.startsWith('--')) {
      const { values } = parseOptions(argv, captureOptionSpecs, { min: 0, max: 0, usage: 'phonehome [options]' });
      if (values['help']) return (io.out(topLevelHelp()), 0);
      // The terminal UI only on a real terminal (blessed would write escape codes into a pipe).
      if (interactive(stdout)) {
        const { runUi } = await import('./ui-command.js');
        return await runUi(values, io);
      }
      const { runCapture } = await import('./capture-command.js');
      return await runCapture(values, io);
    }
    const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
    if (!entry) throw new ConfigError(`unknown command ${JSON.stringify(name)}; see phonehome --help`);
    return await dispatch(name, entry, rest, { io, stdout });
  } catch (error) {
    if (error instanceof PhonehomeError) {
      io.err(`phonehome: ${error.message}`);
      return 1;
    }
    io.err(`phonehome: runtime failure: ${describeError(error)}`);
    return 2;
  }
}
