// Command dispatch. Exit codes (contract): 0 done, 1 bad usage or configuration (one line on
// stderr), 2 runtime failure, 3 findings at or above --fail-on.

import path from 'node:path';
import { captureOptionSpecs, defaultRulesDir, defaultWireguardPort, entitiesOption, optionsHelp, type OptionSpec } from '../app/options.js';
import { loadRules } from '../enrich/rules.js';
import { EntityLookup } from '../enrich/entity/entity-lookup.js';
import { defaultCaDir, toolVersion } from '../app/paths.js';
import { ConfigError, PhonehomeError, describeError } from '../util/errors.js';
import { parseSeverity, severities, severityRank, type Severity } from '../model/finding.js';
import { runAnalyze } from './analyze-command.js';
import { runCaExport, runCaInfo } from './ca-command.js';
import { runCapture, type Output } from './capture-command.js';
import { parseOptions } from './parse.js';
import { defaultTransparentPort, transparentRules, validateInterface } from './transparent-rules.js';

const HELP = `phonehome ${toolVersion} — finds personal data leaving a device, and says where it went

usage:
  phonehome [options]                 live view on a terminal; the same as capture otherwise
  phonehome capture [options]         headless proxy until SIGINT/SIGTERM or --duration
  phonehome analyze FILE.har|FILE.pcap|FILE.pcapng [--keylog FILE…] [--out DIR] [--fail-on SEVERITY] [--canaries FILE] [--rules DIR] [--entities FILE|none] [--report]
  phonehome rules check [DIR]
  phonehome recover RUN_DIR           rebuild flows.har and summary.json of a run that was killed
  phonehome decrypt RUN_DIR --keylog FILE [--keylog FILE…]   open the run's recorded opaque TLS with keys obtained later
  phonehome report RUN_DIR [--out FILE] [--baseline RUN_DIR] [--redact]   one HTML evidence report (RUN_DIR/report.html)
  phonehome compare BASE_DIR RUN_DIR [--fail-on SEVERITY]   what is new (and gone) since a baseline run
  phonehome transparent-rules --interface IF [--port N] [--undo]   iptables commands for --transparent (printed, not run)
  phonehome worker nats://HOST:PORT [--rules DIR] [--canaries FILE] [--ack-wait SECONDS]   a fleet inspection worker
  phonehome collect nats://HOST:PORT --out DIR [--name NAME]   the fleet's findings, merged, written to DIR
  phonehome watch nats://HOST:PORT    the terminal UI over the whole fleet (a node column)
  phonehome demo [--headless] [--out DIR] [--no-files]   proxy + a simulated leaky phone + a local cloud
  phonehome ca export [--format pem|der|p12] [--out FILE] [--ca-dir DIR]
  phonehome ca info [--json] [--ca-dir DIR]
  phonehome wireguard config [--client NAME] [--ca-dir DIR] [--qr] [--endpoint HOST[:PORT]]   the phone's configuration for --wireguard
  phonehome --version

options of capture and the live view:
${optionsHelp(captureOptionSpecs)}

exit codes: 0 done, 1 bad usage or configuration, 2 runtime failure, 3 findings at or above --fail-on
`;

const stringOption = (name: string, value: string, help: string): OptionSpec => ({ name, kind: 'string', value, defaultText: '', help });

/** Each command's own usage, answered to `--help` anywhere in its arguments, before anything runs. */
const USAGE: Record<string, string> = {
  capture: `usage: phonehome capture [options]\nheadless proxy until SIGINT/SIGTERM or --duration; writes findings.jsonl, flows.jsonl, flows.har, summary.json\n\noptions:\n${optionsHelp(captureOptionSpecs)}`,
  analyze: 'usage: phonehome analyze FILE.har|FILE.pcap|FILE.pcapng [--keylog FILE…] [--out DIR] [--fail-on SEVERITY] [--canaries FILE] [--rules DIR] [--entities FILE|none] [--report]\nruns the detectors over a HAR file (a truncated one too: every whole entry is read) or a capture file (pcap, pcapng, read with tshark: TLS opened with --keylog key logs or the file\'s own secrets block, other TLS counted as opaque; --out also gets flows.jsonl and flows.har); --report also writes the HTML evidence report (DIR/report.html, or FILE.report.html without --out); --entities takes a newer trackerdb.json for the companies behind hosts, or none',
  compare: 'usage: phonehome compare BASE_DIR RUN_DIR [--fail-on SEVERITY]\nwhat a run has that a baseline run has not (and what is gone): destinations, categories, findings, as JSON Lines; exit 3 on a new finding at or above --fail-on',
  report: 'usage: phonehome report RUN_DIR [--out FILE] [--baseline RUN_DIR] [--redact]\none self-contained HTML evidence report of a run (default RUN_DIR/report.html): what left the device and where, a map, a timeline, every finding with its evidence, what could not be seen; with --baseline, what is new since that run; --redact masks personal values and leaves photos out',
  worker: 'usage: phonehome worker nats://HOST:PORT [--rules DIR] [--canaries FILE] [--ack-wait SECONDS] [--nats-creds FILE] [--nats-ca FILE]\na fleet inspection worker: pulls the flows capture nodes publish with --inspect remote, inspects them (same detectors, canaries and rules as a local run), publishes the findings; a flow is acknowledged only after its findings are stored, and one left unacknowledged for --ack-wait (default 30s) goes to another worker',
  collect: 'usage: phonehome collect nats://HOST:PORT --out DIR [--name NAME] [--nats-creds FILE] [--nats-ca FILE]\nthe fleet\'s findings, merged from every capture node, written to DIR/findings.jsonl (each once), with DIR/summary.json (per-node counts) and DIR/fleet-flows.jsonl; a durable consumer: restarted, it goes on where it stopped',
  watch: 'usage: phonehome watch nats://HOST:PORT [--nats-creds FILE] [--nats-ca FILE]\nthe terminal UI over the whole fleet\'s flows and findings, with the node in the device column',
  decrypt: 'usage: phonehome decrypt RUN_DIR --keylog FILE [--keylog FILE…]\nopens the TLS sessions a run recorded undecrypted (RUN_DIR/opaque.pcapng: pinned apps, --passthrough) with keys obtained afterwards, in NSS key log format (friTap, PCAPdroid, SSLKEYLOGFILE, PiRogue); their flows (tagged decrypted-later) and findings ("decryptedLater": true) are added to the run as a new session, ids going on, and flows.har, summary.json and report.html are rebuilt; sessions without keys stay opaque and are counted',
  recover: 'usage: phonehome recover RUN_DIR\nrebuilds flows.har and summary.json of a run that was killed (kill -9, a crash, a power cut) from flows.jsonl and findings.jsonl',
  ca: 'usage: phonehome ca export [--format pem|der|p12] [--out FILE] [--ca-dir DIR]\n       phonehome ca info [--json] [--ca-dir DIR]\nthe CA certificate (to stdout without --out), or where the CA lives, its fingerprint and validity',
  wireguard: `usage: phonehome wireguard config [--client NAME] [--ca-dir DIR] [--qr] [--endpoint HOST[:PORT]]\nthe phone's WireGuard configuration for capture --wireguard (what the official app imports), as text or, with --qr, a QR code to scan; keys are created beside the CA when missing; the endpoint is --endpoint (port ${defaultWireguardPort} unless given), else the one the last capture announced, else this machine's first LAN address`,
  rules: 'usage: phonehome rules check [DIR]\nvalidates rule files (the shipped rules/ by default); errors as file:line',
  demo: 'usage: phonehome demo [--headless] [--out DIR] [--no-files]\nthe proxy, a local cloud and a simulated leaky phone on loopback, in the terminal UI (--headless: files and console only); files go to ./phonehome-run-<time> unless --out or --no-files',
  'transparent-rules': `usage: phonehome transparent-rules --interface IF [--port N] [--undo]\nprints the iptables commands that redirect a hotspot interface's TCP to phonehome capture --transparent (default port ${defaultTransparentPort}); it runs nothing`,
};

export async function main(argv: string[], io: Output, stdout: NodeJS.WriteStream): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === '--help' || command === '-h' || command === 'help') {
      io.out(HELP.trimEnd());
      return 0;
    }
    if (command === '--version' || command === '-v') {
      io.out(toolVersion);
      return 0;
    }
    if (command === undefined || command.startsWith('--')) {
      const { values } = parseOptions(argv, captureOptionSpecs, { min: 0, max: 0, usage: 'phonehome [options]' });
      if (values['help']) return (io.out(HELP.trimEnd()), 0);
      // The terminal UI only on a real terminal (blessed would write escape codes into a pipe).
      if (stdout.isTTY && process.stdin.isTTY && process.env['TERM'] !== 'dumb') {
        const { runUi } = await import('./ui-command.js');
        return await runUi(values, io);
      }
      return await runCapture(values, 'capture', io);
    }
    if (USAGE[command] && rest.some((a) => a === '--help' || a === '-h')) {
      io.out(USAGE[command]!);
      return 0;
    }
    switch (command) {
      case 'capture': {
        const { values } = parseOptions(rest, captureOptionSpecs, { min: 0, max: 0, usage: 'phonehome capture [options]' });
        return await runCapture(values, 'capture', io);
      }
      case 'analyze': {
        const specs = [stringOption('out', 'DIR', ''), stringOption('fail-on', 'SEVERITY', ''), stringOption('canaries', 'FILE', ''), stringOption('rules', 'DIR', ''), stringOption('entities', 'FILE|none', ''), { name: 'report', kind: 'boolean', defaultText: '', help: '' } as OptionSpec, { name: 'keylog', kind: 'list', value: 'FILE', defaultText: '', help: '' } as OptionSpec];
        const { values, positionals } = parseOptions(rest, specs, { min: 1, max: 1, usage: 'phonehome analyze FILE.har|FILE.pcap|FILE.pcapng [--keylog FILE…] [--out DIR] [--fail-on SEVERITY] [--canaries FILE] [--rules DIR] [--entities FILE|none] [--report]' });
        // The company database is the process's (like the country database): set before the analysis loads it.
        EntityLookup.configure(entitiesOption(values['entities'] as string | undefined));
        return await runAnalyze(positionals[0]!, values['out'] as string | undefined, values['fail-on'] as string | undefined, io, values['canaries'] as string | undefined, values['rules'] as string | undefined, values['report'] === true, (values['keylog'] as string[] | undefined) ?? []);
      }
      case 'ca': {
        const [sub, ...caArgs] = rest;
        if (sub === 'export') {
          const { values } = parseOptions(caArgs, [stringOption('format', 'FORMAT', ''), stringOption('out', 'FILE', ''), stringOption('ca-dir', 'DIR', '')], { min: 0, max: 0, usage: 'phonehome ca export [--format pem|der|p12] [--out FILE] [--ca-dir DIR]' });
          return runCaExport((values['ca-dir'] as string | undefined) ?? defaultCaDir(), (values['format'] as string | undefined) ?? 'pem', values['out'] as string | undefined, stdout);
        }
        if (sub === 'info') {
          const { values } = parseOptions(caArgs, [{ name: 'json', kind: 'boolean', defaultText: '', help: '' }, stringOption('ca-dir', 'DIR', '')], { min: 0, max: 0, usage: 'phonehome ca info [--json] [--ca-dir DIR]' });
          return runCaInfo((values['ca-dir'] as string | undefined) ?? defaultCaDir(), values['json'] === true, io);
        }
        throw new ConfigError('usage: phonehome ca export|info');
      }
      case 'wireguard': {
        const usage = 'phonehome wireguard config [--client NAME] [--ca-dir DIR] [--qr] [--endpoint HOST[:PORT]]';
        const { values, positionals } = parseOptions(rest, [stringOption('client', 'NAME', ''), stringOption('ca-dir', 'DIR', ''), { name: 'qr', kind: 'boolean', defaultText: '', help: '' }, stringOption('endpoint', 'HOST[:PORT]', '')], { min: 1, max: 1, usage });
        if (positionals[0] !== 'config') throw new ConfigError(`usage: ${usage}`);
        const { runWireguardConfig } = await import('./wireguard-command.js');
        const str = (name: string): string | undefined => values[name] as string | undefined;
        return runWireguardConfig({ caDir: str('ca-dir') ?? defaultCaDir(), ...(str('client') !== undefined ? { client: str('client')! } : {}), ...(str('endpoint') !== undefined ? { endpoint: str('endpoint')! } : {}), qr: values['qr'] === true, colour: stdout.isTTY === true && !process.env['NO_COLOR'] }, io);
      }
      case 'rules': {
        const { positionals } = parseOptions(rest, [], { min: 1, max: 2, usage: 'phonehome rules check [DIR]' });
        if (positionals[0] !== 'check') throw new ConfigError('usage: phonehome rules check [DIR]');
        const dir = path.resolve(positionals[1] ?? defaultRulesDir());
        const rules = loadRules(dir, true);
        io.out(`${rules.length} rule(s) in ${new Set(rules.map((r) => r.source)).size} file(s) in ${dir}: OK`);
        for (const rule of rules) io.out(`  ${rule.name}  (${path.basename(rule.source)})`);
        return 0;
      }
      case 'compare': {
        const usage = 'phonehome compare BASE_DIR RUN_DIR [--fail-on SEVERITY]';
        const { values, positionals } = parseOptions(rest, [stringOption('fail-on', 'SEVERITY', '')], { min: 2, max: 2, usage });
        const failOnText = values['fail-on'] as string | undefined;
        const failOn = failOnText === undefined ? undefined : parseSeverity(failOnText);
        if (failOnText !== undefined && !failOn) throw new ConfigError(`--fail-on ${JSON.stringify(failOnText)}: use one of ${severities.join(', ')}`);
        const { compareRuns, loadRun } = await import('../app/compare.js');
        const lines = compareRuns(await loadRun(path.resolve(positionals[0]!)), await loadRun(path.resolve(positionals[1]!)));
        for (const line of lines) io.out(JSON.stringify(line));
        const worst = (lines.at(-1) as { worstNew: Severity | null }).worstNew;
        return failOn !== undefined && worst !== null && severityRank(worst) >= severityRank(failOn) ? 3 : 0;
      }
      case 'report': {
        const usage = 'phonehome report RUN_DIR [--out FILE] [--baseline RUN_DIR] [--redact]';
        const { values, positionals } = parseOptions(rest, [stringOption('out', 'FILE', ''), stringOption('baseline', 'RUN_DIR', ''), { name: 'redact', kind: 'boolean', defaultText: '', help: '' }], { min: 1, max: 1, usage });
        const { reportRunFolder } = await import('../report/build-report.js');
        const out = values['out'] as string | undefined;
        const baseline = values['baseline'] as string | undefined;
        const written = await reportRunFolder(path.resolve(positionals[0]!), { ...(out ? { out: path.resolve(out) } : {}), ...(baseline ? { baselineDir: path.resolve(baseline) } : {}), redact: values['redact'] === true });
        io.err(`phonehome: report of ${written.findings} finding(s), ${written.thumbnails} thumbnail(s), ${Math.round(written.bytes / 1024)} kB: ${written.file}`);
        return 0;
      }
      case 'worker':
      case 'collect':
      case 'watch': {
        const natsSpecs = [stringOption('nats-creds', 'FILE', ''), stringOption('nats-ca', 'FILE', '')];
        const specs = command === 'worker' ? [...natsSpecs, stringOption('rules', 'DIR', ''), stringOption('canaries', 'FILE', ''), stringOption('ack-wait', 'SECONDS', '')]
          : command === 'collect' ? [...natsSpecs, stringOption('out', 'DIR', ''), stringOption('name', 'NAME', '')] : natsSpecs;
        const { values, positionals } = parseOptions(rest, specs, { min: 1, max: 1, usage: USAGE[command]!.split('\n')[0]!.replace(/^usage: /, '') });
        const str = (name: string): string | undefined => values[name] as string | undefined;
        const common = { url: positionals[0]!, ...(str('nats-creds') ? { credsFile: str('nats-creds')! } : {}), ...(str('nats-ca') ? { caFile: str('nats-ca')! } : {}) };
        const fleet = await import('./fleet-commands.js');
        if (command === 'worker') return await fleet.runWorkerCommand({ ...common, ...(str('rules') ? { rulesDir: str('rules')! } : {}), ...(str('canaries') ? { canariesFile: str('canaries')! } : {}), ...(str('ack-wait') ? { ackWait: str('ack-wait')! } : {}) }, io);
        if (command === 'collect') {
          if (!str('out')) throw new ConfigError('collect needs --out DIR (where the fleet\'s findings are written)');
          return await fleet.runCollectCommand({ ...common, outDir: str('out')!, ...(str('name') ? { name: str('name')! } : {}) }, io);
        }
        const { runWatchCommand } = await import('./watch-command.js');
        return await runWatchCommand(common, io);
      }
      case 'recover': {
        const usage = 'phonehome recover RUN_DIR';
        const { positionals } = parseOptions(rest, [], { min: 1, max: 1, usage });
        const { recoverRun } = await import('../app/recover.js');
        const dir = path.resolve(positionals[0]!);
        const recovered = await recoverRun(dir);
        io.err(`phonehome: recovered ${recovered.flows} flow(s) and ${recovered.findings} finding(s) in ${dir}${recovered.cutFlowLines + recovered.cutFindingLines > 0 ? `; ${recovered.cutFlowLines + recovered.cutFindingLines} line(s) cut by the stop left out` : ''}`);
        return 0;
      }
      case 'decrypt': {
        const usage = 'phonehome decrypt RUN_DIR --keylog FILE [--keylog FILE…]';
        const { values, positionals } = parseOptions(rest, [{ name: 'keylog', kind: 'list', value: 'FILE', defaultText: '', help: '' }], { min: 1, max: 1, usage });
        const keylogs = (values['keylog'] as string[] | undefined) ?? [];
        if (keylogs.length === 0) throw new ConfigError(`--keylog FILE is required (usage: ${usage})`);
        const { runDecrypt } = await import('./decrypt-command.js');
        return await runDecrypt(positionals[0]!, keylogs, io);
      }
      case 'transparent-rules': {
        const usage = 'phonehome transparent-rules --interface IF [--port N] [--undo]';
        const { values } = parseOptions(rest, [stringOption('interface', 'IF', ''), stringOption('port', 'N', ''), { name: 'undo', kind: 'boolean', defaultText: '', help: '' }], { min: 0, max: 0, usage });
        if (typeof values['interface'] !== 'string') throw new ConfigError(`--interface is required (usage: ${usage})`);
        const portText = (values['port'] as string | undefined) ?? String(defaultTransparentPort);
        const port = Number(portText);
        if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) throw new ConfigError(`--port ${JSON.stringify(portText)}: use a port number from 1 to 65535`);
        for (const line of transparentRules(validateInterface(values['interface']), port, values['undo'] === true)) io.out(line);
        return 0;
      }
      case 'demo': {
        const usage = 'phonehome demo [--headless] [--out DIR] [--no-files]';
        const { values } = parseOptions(rest, [{ name: 'headless', kind: 'boolean', defaultText: '', help: '' }, stringOption('out', 'DIR', ''), { name: 'no-files', kind: 'boolean', defaultText: '', help: '' }], { min: 0, max: 0, usage });
        const { runDemo } = await import('./demo-command.js');
        return await runDemo({ headless: values['headless'] === true, ...(values['out'] ? { out: values['out'] as string } : {}), noFiles: values['no-files'] === true }, io, stdout.isTTY === true && process.stdin.isTTY === true && process.env['TERM'] !== 'dumb');
      }
      default:
        throw new ConfigError(`unknown command ${JSON.stringify(command)}; see phonehome --help`);
    }
  } catch (error) {
    if (error instanceof PhonehomeError) {
      io.err(`phonehome: ${error.message}`);
      return 1;
    }
    io.err(`phonehome: runtime failure: ${describeError(error)}`);
    return 2;
  }
}
