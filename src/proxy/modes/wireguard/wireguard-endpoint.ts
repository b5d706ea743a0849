// The WireGuard endpoint of `capture --wireguard`: Debian's userspace wireguard-go (the reference
// implementation; it needs only /dev/net/tun) runs in the foreground as our child, configured with
// `wg setconf`; the tunnel gets our gateway address with `ip`, and wireguard-firewall.ts hands its
// traffic to phonehome. We never implement WireGuard ourselves.
//
// Leaving nothing behind: stop() removes the rules, restores ip_forward and stops wireguard-go
// (the interface goes with it). A run that was killed (kill -9) left its record in /run/phonehome,
// so the next start stops its orphaned wireguard-go and removes its tagged rules first; a start
// while another phonehome holds the interface is refused in one line.

import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, describeError } from '../../../util/errors.js';
import { serverSetconf } from './wireguard-config.js';
import { countDroppedQuic, insertRules, redirectRules, removeTaggedRules, type RedirectPorts } from './wireguard-firewall.js';
import type { WireguardKeys } from './wireguard-keys.js';
import { claimRunRecord, currentNetns, isRunning, processIdentity, readRunRecord, removeRunRecord, updateRunRecord, type RunRecord } from './wireguard-run-record.js';
import { findExecutable, firstLine, runCommand, runChecked, type CommandResult } from './system-command.js';

export const defaultWireguardInterface = 'phonehome-wg';

/** Where wireguard-go puts its UAPI socket (`<name>.sock`); fixed in wireguard-go, shared by every network namespace. */
const UAPI_FOLDER = '/var/run/wireguard';
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';
/** The tunnel's MTU: 1500 less WireGuard's 80 bytes of IPv6+UDP+WireGuard overhead (wg-quick's choice). */
const TUNNEL_MTU = 1420;
/** How long wireguard-go may take to create its interface and socket. */
const START_DEADLINE_MS = 10_000;
/** How long wireguard-go (ours, or an orphan of a killed run) may take to exit after SIGTERM before SIGKILL. */
const EXIT_DEADLINE_MS = 5_000;
/** While a socket exists but does not accept yet (between bind and listen), or an orphan is exiting, we look again this often. */
const RECHECK_MS = 20;
/** wireguard-go output kept for the error line. */
const MAX_CHILD_OUTPUT_BYTES = 4096;
/** Linux's IFNAMSIZ less the terminating zero. */
const MAX_INTERFACE_NAME_LENGTH = 15;
const INTERFACE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export type WireguardLog = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface WireguardEndpointOptions {
  /** UDP address wireguard-go listens on; port 0 lets it choose (see `listenPort`). */
  readonly listen: { readonly host: string; readonly port: number };
  readonly keys: WireguardKeys;
  readonly interfaceName?: string;
  readonly log: WireguardLog;
}

/** Interfaces this process runs (a second start in the same process is refused too). */
const runningHere = new Set<string>();

/** One line saying why the WireGuard mode cannot run here, or undefined when it can. */
export function wireguardUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'the WireGuard mode needs Linux (wireguard-go, a TUN device and iptables)';
  if (process.getuid?.() !== 0) return 'the WireGuard mode needs root (it creates a network interface and iptables rules)';
  if (!fs.existsSync('/dev/net/tun')) return 'the WireGuard mode needs /dev/net/tun (load the tun module, or give the container the device)';
  const packages: Record<string, string> = { 'wireguard-go': 'wireguard-go', wg: 'wireguard-tools', iptables: 'iptables', 'iptables-save': 'iptables', ip: 'iproute2' };
  for (const [command, pkg] of Object.entries(packages)) {
    if (!findExecutable(command)) return `the WireGuard mode needs ${command} (install the ${pkg} package)`;
  }
  return undefined;
}

export function validateInterfaceName(name: string): string {
  if (name.length > MAX_INTERFACE_NAME_LENGTH || !INTERFACE_NAME.test(name)) {
    throw new ConfigError(`--wireguard: ${JSON.stringify(name.slice(0, 40))} is not an interface name (1-${MAX_INTERFACE_NAME_LENGTH} letters, digits, . - _)`);
  }
  return name;
}

function uapiSocket(interfaceName: string): string {
  return path.join(UAPI_FOLDER, `${interfaceName}.sock`);
}

/** True when something accepts connections on the interface's UAPI socket (a wireguard-go serves it). */
function uapiAnswers(interfaceName: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(uapiSocket(interfaceName));
    socket.setTimeout(EXIT_DEADLINE_MS);
    const answer = (value: boolean) => () => { socket.destroy(); resolve(value); };
    socket.once('connect', answer(true));
    socket.once('error', answer(false));
    socket.once('timeout', answer(false));
  });
}

/** wireguard-go removes its socket when it stops in order; one that was killed leaves it behind. */
async function removeStaleSocket(interfaceName: string): Promise<void> {
  if (fs.existsSync(uapiSocket(interfaceName)) && !(await uapiAnswers(interfaceName))) fs.rmSync(uapiSocket(interfaceName), { force: true });
}

/** Stops our wireguard-go: SIGTERM (it closes its interface and socket), SIGKILL past the deadline. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_DEADLINE_MS);
  await exited;
  clearTimeout(timer);
}

async function interfaceExists(interfaceName: string): Promise<boolean> {
  return (await runCommand('ip', ['-o', 'link', 'show', 'dev', interfaceName])).code === 0;
}

/** Resolves once no process with this identity runs any more (looked at again every RECHECK_MS; a process we did not start gives no event). */
function whenGone(identity: RunRecord['owner'], deadlineMs: number): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  return new Promise((resolve) => {
    const look = (): void => {
      if (!isRunning(identity)) resolve(true);
      else if (Date.now() >= deadline) resolve(false);
      else setTimeout(look, RECHECK_MS);
    };
    look();
  });
}

function inUse(interfaceName: string, pid: number): ConfigError {
  return new ConfigError(`--wireguard: interface ${interfaceName} is in use by another phonehome (pid ${pid})`);
}

/**
 * Removes what a phonehome that was killed left for this interface: its wireguard-go (still
 * running as an orphan), its tagged iptables rules, its ip_forward change and a dead interface.
 * Refuses (ConfigError) when the phonehome that holds the interface still runs. Returns how many
 * rules were removed.
 */
export async function removeLeftovers(interfaceName: string): Promise<number> {
  validateInterfaceName(interfaceName);
  const record = readRunRecord(interfaceName);
  if (record && isRunning(record.owner) && record.owner.pid !== process.pid) throw inUse(interfaceName, record.owner.pid);
  if (record?.wireguardGo && isRunning(record.wireguardGo)) {
    process.kill(record.wireguardGo.pid, 'SIGTERM');
    if (!(await whenGone(record.wireguardGo, EXIT_DEADLINE_MS)) && isRunning(record.wireguardGo)) {
      process.kill(record.wireguardGo.pid, 'SIGKILL');
      await whenGone(record.wireguardGo, EXIT_DEADLINE_MS);
    }
  }
  const removed = await removeTaggedRules(interfaceName);
  await removeStaleSocket(interfaceName);
  if (record) {
    const here = record.netns === currentNetns();
    if (here && record.ipForwardBefore !== undefined) fs.writeFileSync(IP_FORWARD, record.ipForwardBefore);
    // A TUN interface normally goes with its process; one left without a wireguard-go is deleted.
    if (here && (await interfaceExists(interfaceName)) && !(await uapiAnswers(interfaceName))) {
      await runChecked('ip', ['link', 'delete', 'dev', interfaceName]);
    }
    removeRunRecord(interfaceName);
  }
  return removed;
}

/**
 * `wg setconf` from a file that only root can read, deleted right after: wg cannot read a pipe from
 * Node as /dev/stdin (Node's pipes are sockets, which open(2) refuses).
 */
async function setconfFromFile(interfaceName: string, config: string): Promise<CommandResult> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-wg-'));
  try {
    const file = path.join(folder, `${interfaceName}.conf`);
    fs.writeFileSync(file, config, { mode: 0o600, flag: 'wx' });
    return await runCommand('wg', ['setconf', interfaceName, file]);
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

/** Fails in one line when the UDP port is taken (wireguard-go binds it on every address). */
async function checkUdpPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: net.isIPv6(host) ? '::' : '0.0.0.0', port, exclusive: true }, resolve);
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw portInUse(port);
    throw new ConfigError(`--wireguard: cannot listen on UDP port ${port}: ${describeError(error)}`, { cause: error });
  } finally {
    socket.close();
  }
}

function portInUse(port: number): ConfigError {
  return new ConfigError(`--wireguard: UDP port ${port} is in use (another WireGuard or program listens there); choose another with --wireguard PORT`);
}

/** The last thing wireguard-go said that explains a failure (it prints a banner box around notices). */
function explanation(output: string): string {
  const lines = output.split('\n').map((line) => line.trim()).filter((line) => line.length > 0 && !/^[│┌└]/.test(line));
  const error = [...lines].reverse().find((line) => line.startsWith('ERROR'));
  return (error ?? lines.at(-1) ?? '').replace(/^ERROR: \([^)]*\) \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, '');
}

export class WireguardEndpoint {
  readonly interfaceName: string;
  readonly gateway: string;
  /** The UDP port wireguard-go listens on (the one asked for, or the one it chose for port 0). */
  readonly listenPort: number;
  readonly #keys: WireguardKeys;
  readonly #log: WireguardLog;
  readonly #child: ChildProcess;
  readonly #output: () => string;
  readonly #peers: ReadonlyMap<string, string>;
  #record: RunRecord;
  #redirected = false;
  #quicDropped = 0;
  #stopping: Promise<void> | undefined;

  private constructor(fields: { interfaceName: string; listenPort: number; keys: WireguardKeys; log: WireguardLog; child: ChildProcess; output: () => string; record: RunRecord }) {
    this.interfaceName = fields.interfaceName;
    this.gateway = fields.keys.gateway;
    this.listenPort = fields.listenPort;
    this.#keys = fields.keys;
    this.#log = fields.log;
    this.#child = fields.child;
    this.#output = fields.output;
    this.#record = fields.record;
    this.#peers = new Map(fields.keys.clients.map((client) => [client.address, client.name]));
    // wireguard-go dying during the run ends the tunnel, not the capture: the other modes go on.
    this.#child.once('exit', (code, signal) => {
      if (this.#stopping) return;
      const said = explanation(this.#output());
      this.#log('error', `wireguard-go for ${this.interfaceName} exited (${signal ?? `code ${code}`})${said ? `: ${said}` : ''}; the WireGuard tunnel is down, the other modes go on`);
    });
  }

  /** Starts wireguard-go for the keys' server and clients; any failure undoes what was done and throws one line. */
  static async start(options: WireguardEndpointOptions): Promise<WireguardEndpoint> {
    const unavailable = wireguardUnavailable();
    if (unavailable) throw new ConfigError(`--wireguard: ${unavailable}`);
    const interfaceName = validateInterfaceName(options.interfaceName ?? defaultWireguardInterface);
    if (runningHere.has(interfaceName)) throw inUse(interfaceName, process.pid);
    const removed = await removeLeftovers(interfaceName).catch((error: unknown) => {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`--wireguard: cannot remove what an earlier run left on ${interfaceName}: ${describeError(error)}`, { cause: error });
    });
    if (removed > 0) options.log('info', `removed ${removed} iptables rules left on ${interfaceName} by a phonehome that did not stop`);
    if (await uapiAnswers(interfaceName)) throw new ConfigError(`--wireguard: interface ${interfaceName} is in use by another WireGuard (${uapiSocket(interfaceName)} answers); stop it or choose another interface`);
    if (await interfaceExists(interfaceName)) throw new ConfigError(`--wireguard: a network interface ${interfaceName} already exists here; remove it or choose another interface`);
    await checkUdpPortFree(options.listen.host, options.listen.port);

    const owner = processIdentity(process.pid)!;
    let record: RunRecord = { owner, netns: currentNetns() };
    if (!claimRunRecord(interfaceName, record)) throw inUse(interfaceName, readRunRecord(interfaceName)?.owner.pid ?? 0);
    runningHere.add(interfaceName);

    // A socket file nobody answers on is stale (its wireguard-go was killed): only a new one counts.
    fs.mkdirSync(UAPI_FOLDER, { recursive: true, mode: 0o755 });
    fs.rmSync(uapiSocket(interfaceName), { force: true });
    const watcher = fs.watch(UAPI_FOLDER);
    // Its own process group: a Ctrl-C in the terminal reaches phonehome, which stops it in order.
    const child = spawn(findExecutable('wireguard-go')!, [interfaceName], {
      env: { ...process.env, WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    const keep = (chunk: Buffer): void => { output = (output + chunk.toString('utf8')).slice(-MAX_CHILD_OUTPUT_BYTES); };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const spawned = new Promise<void>((resolve, reject) => { child.once('spawn', resolve); child.once('error', reject); });

    const undo = async (error: unknown): Promise<never> => {
      watcher.close();
      if (child.pid !== undefined) await stopChild(child);
      await removeStaleSocket(interfaceName);
      removeRunRecord(interfaceName);
      runningHere.delete(interfaceName);
      if (error instanceof ConfigError) throw error;
      const said = explanation(output);
      throw new ConfigError(`--wireguard: cannot start the WireGuard endpoint on ${interfaceName}: ${describeError(error)}${said && !describeError(error).includes(said) ? ` (wireguard-go: ${said})` : ''}`, { cause: error });
    };

    try {
      await spawned;
      const wireguardGo = processIdentity(child.pid!);
      if (wireguardGo) {
        record = { ...record, wireguardGo };
        updateRunRecord(interfaceName, record);
      }
      await waitForUapiSocket(interfaceName, child, watcher, () => explanation(output));
      watcher.close();
      const setconf = await setconfFromFile(interfaceName, serverSetconf(options.keys, options.listen.port));
      if (setconf.code !== 0) {
        if (/address already in use/i.test(setconf.stderr)) throw portInUse(options.listen.port);
        throw new Error(`wg setconf: ${firstLine(setconf.stderr) || `exit code ${setconf.code}`}`);
      }
      const listenPort = options.listen.port || Number((await runChecked('wg', ['show', interfaceName, 'listen-port'])).trim());
      await runChecked('ip', ['address', 'add', `${options.keys.gateway}/24`, 'dev', interfaceName]);
      await runChecked('ip', ['link', 'set', 'dev', interfaceName, 'mtu', String(TUNNEL_MTU), 'up']);
      const endpoint = new WireguardEndpoint({ interfaceName, listenPort, keys: options.keys, log: options.log, child, output: () => output, record });
      const everywhere = options.listen.host === '0.0.0.0' || options.listen.host === '::' || options.listen.host === '';
      if (!everywhere) options.log('info', `wireguard-go listens on UDP port ${listenPort} of every address of this machine, not only ${options.listen.host}`);
      return endpoint;
    } catch (error) {
      return undo(error);
    }
  }

  /** The client name of a tunnel address (`10.64.77.2` or `::ffff:10.64.77.2`), or undefined. */
  peerOf(ip: string): string | undefined {
    return this.#peers.get(ip.startsWith('::ffff:') ? ip.slice('::ffff:'.length) : ip);
  }

  /**
   * Hands the tunnel's traffic to phonehome: TCP to `ports.tcp`, DNS (UDP and TCP 53) to
   * `ports.dns`, QUIC dropped, the rest forwarded and masqueraded (ip_forward set to 1 until stop).
   * A second call replaces the rules of the first.
   */
  async redirect(ports: RedirectPorts): Promise<void> {
    if (this.#stopping) throw new Error(`the WireGuard endpoint on ${this.interfaceName} is stopped`);
    const rules = redirectRules(this.interfaceName, this.#keys.subnet, ports);
    try {
      await removeTaggedRules(this.interfaceName);
      if (this.#record.ipForwardBefore === undefined) {
        const before = fs.readFileSync(IP_FORWARD, 'utf8').trim() === '1' ? '1' : '0';
        // Recorded before the change, so a kill right after still gets it restored.
        this.#record = { ...this.#record, ipForwardBefore: before };
        updateRunRecord(this.interfaceName, this.#record);
        if (before !== '1') fs.writeFileSync(IP_FORWARD, '1');
      }
      await insertRules(this.interfaceName, rules);
      this.#redirected = true;
    } catch (error) {
      this.#restoreIpForward();
      throw new ConfigError(`--wireguard: cannot redirect the tunnel's traffic on ${this.interfaceName}: ${describeError(error)}`, { cause: error });
    }
  }

  /** Packets the UDP 443 DROP rules counted; after stop, the count at stop. */
  async quicDropped(): Promise<number> {
    if (this.#redirected && !this.#stopping) {
      try {
        this.#quicDropped = await countDroppedQuic(this.interfaceName);
      } catch (error) {
        this.#log('warn', `cannot read the QUIC drop counters of ${this.interfaceName}: ${describeError(error)}`);
      }
    }
    return this.#quicDropped;
  }

  #restoreIpForward(): void {
    const before = this.#record.ipForwardBefore;
    if (before === undefined) return;
    try {
      if (before !== '1') fs.writeFileSync(IP_FORWARD, before);
      this.#record = { owner: this.#record.owner, netns: this.#record.netns, ...(this.#record.wireguardGo ? { wireguardGo: this.#record.wireguardGo } : {}) };
      updateRunRecord(this.interfaceName, this.#record);
    } catch (error) {
      this.#log('warn', `cannot restore net.ipv4.ip_forward to ${before}: ${describeError(error)}`);
    }
  }

  /** Removes the rules, restores ip_forward and stops wireguard-go (the interface goes with it). Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    if (this.#redirected) {
      try {
        this.#quicDropped = await countDroppedQuic(this.interfaceName);
      } catch (error) {
        this.#log('warn', `cannot read the QUIC drop counters of ${this.interfaceName}: ${describeError(error)}`);
      }
    }
    try {
      await removeTaggedRules(this.interfaceName);
    } catch (error) {
      this.#log('warn', `${describeError(error)}; remove them with iptables, or start again to have them removed`);
    }
    this.#restoreIpForward();
    await stopChild(this.#child);
    await removeStaleSocket(this.interfaceName);
    try {
      if (await interfaceExists(this.interfaceName)) await runChecked('ip', ['link', 'delete', 'dev', this.interfaceName]);
    } catch (error) {
      this.#log('warn', `cannot remove the interface ${this.interfaceName}: ${describeError(error)}`);
    }
    removeRunRecord(this.interfaceName);
    runningHere.delete(this.interfaceName);
  }
}

/**
 * Waits until wireguard-go's UAPI socket accepts connections: on the folder's change events (no
 * fixed sleep), looking again shortly while the file exists but does not accept yet; fails when
 * wireguard-go exits first or the deadline passes.
 */
function waitForUapiSocket(interfaceName: string, child: ChildProcess, watcher: fs.FSWatcher, said: () => string): Promise<void> {
  const socketPath = uapiSocket(interfaceName);
  return new Promise((resolve, reject) => {
    let settled = false;
    let probing = false;
    let recheck: NodeJS.Timeout | undefined;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(recheck);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      const why = said();
      finish(new Error(`wireguard-go exited (${signal ?? `code ${code}`})${why ? `: ${why}` : ''}`));
    };
    const look = (): void => {
      if (settled || probing || !fs.existsSync(socketPath)) return;
      probing = true;
      const probe = net.connect(socketPath);
      probe.once('connect', () => { probe.destroy(); finish(); });
      probe.once('error', () => {
        probing = false;
        recheck = setTimeout(look, RECHECK_MS);
      });
    };
    const deadline = setTimeout(() => finish(new Error(`wireguard-go did not open ${socketPath} within ${START_DEADLINE_MS} ms`)), START_DEADLINE_MS);
    child.once('exit', onExit);
    watcher.on('change', look);
    watcher.on('error', (error) => finish(error));
    look();
  });
}
