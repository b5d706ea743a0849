// The options of `capture` and the UI, declared once: this table drives parsing, --help and
// validation. Messages name the option and say what to write instead.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { limits } from '../limits.js';
import { parseSeverity, severities, type Severity } from '../model/finding.js';
import { ClientAccess, defaultAllowedClients } from '../proxy/access/client-access.js';
import { ProxyAuth } from '../proxy/access/proxy-auth.js';
import { PassthroughPolicy } from '../proxy/passthrough.js';
import type { ClientCertificate, UpstreamTlsMin } from '../proxy/upstream.js';
import { parseClientCertificates, parseUpstreamTlsMin } from './upstream-tls-options.js';
import { transparentUnavailable } from '../proxy/modes/original-destination.js';
import { wireguardUnavailable } from '../proxy/modes/wireguard/wireguard-endpoint.js';
import { validateClientName } from '../proxy/modes/wireguard/wireguard-keys.js';
import { parseDnsUpstream } from '../proxy/dns/dns-upstream.js';
import { loadCanaries } from '../inspect/canary/canary-file.js';
import { loadRules, type Rule } from '../enrich/rules.js';
import type { FleetOptions } from '../fleet/fleet-link.js';
import { defaultNodeName, parseBusUrl, validateNodeName } from '../fleet/fleet-names.js';
import { ConfigError } from '../util/errors.js';
import { defaultCaDir, installRoot } from '../util/install-paths.js';
import { resolveProxyLoops } from '../proxy/threads/loop-count.js';

export interface OptionSpec {
  readonly name: string;
  readonly kind: 'string' | 'boolean' | 'list';
  readonly value?: string;
  readonly defaultText: string;
  readonly help: string;
  /** The value a string option takes when it is given bare (`--wireguard` alone). */
  readonly omittedValue?: string;
}

export const defaultWireguardPort = 51820;

export const captureOptionSpecs: readonly OptionSpec[] = [
  { name: 'listen', kind: 'string', value: 'HOST:PORT', defaultText: '0.0.0.0:8080', help: 'where devices connect' },
  { name: 'ca-dir', kind: 'string', value: 'DIR', defaultText: 'certs/ of the installation, or PHONEHOME_CA_DIR', help: 'CA certificate and key (key mode 0600)' },
  { name: 'out', kind: 'string', value: 'DIR', defaultText: './phonehome-run-<time> (the live view too, unless --no-files)', help: 'where the run\'s files go' },
  { name: 'duration', kind: 'string', value: 'SECONDS', defaultText: 'until a signal', help: 'stop after this long (also 90s, 10m, 2h)' },
  { name: 'upstream-ca', kind: 'list', value: 'FILE', defaultText: 'Node\'s bundled Mozilla roots', help: 'extra CA (PEM) trusted for upstream servers (repeatable)' },
  { name: 'insecure-upstream', kind: 'boolean', defaultText: 'off', help: 'skip upstream verification (recorded in every output)' },
  { name: 'upstream-tls-min', kind: 'string', value: '1.0|1.1|1.2', defaultText: '1.2', help: 'oldest TLS spoken to servers, for old lab servers (devices may always use TLS 1.0-1.3)' },
  { name: 'client-cert', kind: 'list', value: 'HOST=CERT.pem[,KEY.pem]', defaultText: 'none', help: "the device's client certificate for a server that requires one (mutual TLS; without it such hosts pass through) (repeatable)" },
  { name: 'passthrough', kind: 'list', value: 'PATTERN', defaultText: 'none', help: 'hosts never decrypted, * wildcards (repeatable)' },
  { name: 'allow-client', kind: 'list', value: 'CIDR', defaultText: 'loopback + private ranges', help: 'who may use the proxy, added to the defaults (repeatable)' },
  { name: 'proxy-auth', kind: 'string', value: 'USER:PASS', defaultText: 'none', help: 'require proxy authentication' },
  { name: 'rules', kind: 'string', value: 'DIR', defaultText: 'rules/', help: 'rule files' },
  { name: 'canaries', kind: 'string', value: 'FILE', defaultText: 'none', help: 'known planted values to find in any encoding' },
  { name: 'entities', kind: 'string', value: 'FILE|none', defaultText: 'Ghostery trackerdb + our mobile table', help: 'the company database: a newer trackerdb.json, or none' },
  { name: 'fail-on', kind: 'string', value: 'SEVERITY', defaultText: 'none', help: `exit 3 when a finding at or above it was made (${severities.join(', ')})` },
  { name: 'body-limit', kind: 'string', value: 'BYTES', defaultText: '32 MiB', help: 'largest body inspected per message (also 512k, 64m, 1g)' },
  { name: 'redact', kind: 'boolean', defaultText: 'off', help: 'evidence excerpts masked in all outputs' },
  { name: 'append', kind: 'boolean', defaultText: 'off', help: '--out holds a finished run: add a new session to it (ids go on)' },
  { name: 'force', kind: 'boolean', defaultText: 'off', help: '--out holds a finished run: move it aside to DIR.moved-<time> (never deleted)' },
  { name: 'no-files', kind: 'boolean', defaultText: 'off', help: 'the live view and demo write no files (they do by default)' },
  { name: 'transparent', kind: 'string', value: 'HOST:PORT', defaultText: 'off', help: 'also accept connections redirected by the OS (Linux REDIRECT; see transparent-rules)' },
  { name: 'wireguard', kind: 'string', value: '[HOST:]PORT', omittedValue: String(defaultWireguardPort), defaultText: 'off', help: `a WireGuard endpoint (UDP, ${defaultWireguardPort} when given bare; Linux, root): the tunnel's TCP goes through phonehome, its DNS is answered and recorded, QUIC dropped` },
  { name: 'wireguard-client', kind: 'list', value: 'NAME', defaultText: 'one client, phone', help: 'a peer to configure (repeatable); keys kept beside the CA, stable across runs' },
  { name: 'wireguard-endpoint', kind: 'string', value: 'HOST', defaultText: 'the first LAN address', help: "the address the phone's configuration points at" },
  { name: 'dns', kind: 'string', value: 'HOST:PORT', defaultText: 'off (on the tunnel address with --wireguard)', help: 'answer, forward and record DNS (UDP and TCP), e.g. for a hotspot' },
  { name: 'dns-upstream', kind: 'string', value: 'IP[:PORT]', defaultText: 'the system resolver', help: 'where DNS queries are forwarded' },
  { name: 'publish', kind: 'string', value: 'nats://HOST:PORT', defaultText: 'off', help: 'also publish flows and findings to NATS JetStream (fleet); local files are still written' },
  { name: 'node', kind: 'string', value: 'NAME', defaultText: 'the host name', help: "this capture node's name in the fleet" },
  { name: 'inspect', kind: 'string', value: 'local|remote', defaultText: 'local', help: 'remote: leave inspection to fleet workers (needs --publish)' },
  { name: 'publish-optional', kind: 'boolean', defaultText: 'off', help: 'start without the bus when NATS cannot be reached (a warning, not exit 1)' },
  { name: 'nats-creds', kind: 'string', value: 'FILE', defaultText: 'none', help: 'NATS credentials file (JWT + nkey)' },
  { name: 'nats-ca', kind: 'string', value: 'FILE', defaultText: 'none', help: 'CA (PEM) for TLS to NATS' },
  { name: 'report', kind: 'boolean', defaultText: 'off', help: 'on stop, also write report.html (the HTML evidence report) into --out' },
  { name: 'keylog', kind: 'string', value: 'FILE', defaultText: 'SSLKEYLOGFILE if set', help: 'append TLS keys of both sides (NSS key log, for Wireshark); mode 0600, sensitive' },
  { name: 'opaque-limit', kind: 'string', value: 'BYTES', defaultText: '256 MiB', help: 'ciphertext of passthrough and opaque flows kept in opaque.pcapng, for phonehome decrypt (0: none; also 64m, 1g)' },
  { name: 'pcap', kind: 'string', value: 'FILE', defaultText: 'off', help: 'also write the device side, decrypted, as pcapng with its keys embedded (Wireshark opens it decrypted); sensitive' },
  { name: 'threads', kind: 'string', value: 'N', defaultText: 'PHONEHOME_THREADS, else 1 on up to 2 cores, cores - 1 above (at most 3)', help: 'proxy event loops (processes) accepting on the same port(s), 1 to 8; one process writes the files (not with --wireguard)' },
];

export interface CaptureOptions {
  readonly listenHost: string;
  readonly listenPort: number;
  readonly caDir: string;
  readonly outDir?: string;
  readonly durationMs?: number;
  readonly upstreamCaFiles: readonly string[];
  readonly upstreamCaPems: readonly string[];
  readonly insecureUpstream: boolean;
  readonly passthrough: PassthroughPolicy;
  /** --upstream-tls-min (undefined: TLS 1.2). */
  readonly upstreamTlsMin?: UpstreamTlsMin;
  /** --client-cert, by lower-case host. */
  readonly clientCertificates: ReadonlyMap<string, ClientCertificate>;
  readonly allowClient: readonly string[];
  readonly access: ClientAccess;
  readonly auth?: ProxyAuth;
  readonly failOn?: Severity;
  readonly bodyLimitBytes: number;
  readonly redact: boolean;
  /** --report: write report.html into the run folder on stop. */
  readonly report: boolean;
  /** --publish and its companions: this run is a node of a fleet. */
  readonly fleet?: FleetOptions;
  /** --canaries, validated at start (the inspection worker reads the same file). */
  readonly canariesFile?: string;
  readonly canaryCount: number;
  /** --append / --force: what to do when --out holds a finished run (without either: refuse). */
  readonly append: boolean;
  readonly force: boolean;
  /** --transparent: the listener for connections redirected by the OS. */
  readonly transparent?: { readonly host: string; readonly port: number };
  /** --wireguard and its companions: the tunnel endpoint to run. */
  readonly wireguard?: WireguardOptions;
  /** --dns: a DNS listener besides the tunnel's own (a hotspot's devices). */
  readonly dns?: { readonly host: string; readonly port: number };
  /** --dns-upstream (undefined: the system resolver). */
  readonly dnsUpstream?: { readonly ip: string; readonly port: number };
  /** --keylog, or SSLKEYLOGFILE: where TLS secrets of both sides are appended. */
  readonly keylogFile?: string;
  /** --opaque-limit: bytes of ciphertext kept in opaque.pcapng (0: the file is not written). */
  readonly opaqueLimitBytes: number;
  /** --pcap: the device side of decrypted traffic, with its keys, as pcapng. */
  readonly pcapFile?: string;
  /** --threads: proxy event loops sharing the listening port(s); 1 runs the proxy in this process, as always. */
  readonly threads: number;
  /** --proxy-auth as given, for proxy loops in other processes (they build their own ProxyAuth). */
  readonly proxyAuthText?: string;
  readonly rules: readonly Rule[];
  /** --entities: a trackerdb.json to use instead of the installed one, or `none`. */
  readonly entitiesFile?: string;
  /** The options as given, for summary.json and the HAR (the proxy password is masked). */
  readonly record: Record<string, unknown>;
}

export interface WireguardOptions {
  /** Where the endpoint listens (UDP). */
  readonly host: string;
  readonly port: number;
  /** The peers to configure, by name. */
  readonly clients: readonly string[];
  /** --wireguard-endpoint: the host the phones' configurations point at (else the first LAN address). */
  readonly endpointHost?: string;
}

/** `--wireguard PORT`, `HOST:PORT` or `[V6]:PORT`. */
function parseWireguardListen(text: string): { host: string; port: number } {
  try {
    const listen = parseListen(text);
    if (listen.port === 0) throw new ConfigError('port 0');
    return listen;
  } catch {
    throw new ConfigError(`--wireguard ${JSON.stringify(text)}: use a UDP port or HOST:PORT, e.g. 51820 or 0.0.0.0:51820`);
  }
}

/** --wireguard-endpoint: a host name or an address the phone can reach, nothing that could break the .conf. */
function parseEndpointHost(text: string): string {
  const bare = text.replace(/^\[(.*)\]$/, '$1');
  if (net.isIP(bare) || /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(bare)) return bare;
  throw new ConfigError(`--wireguard-endpoint ${JSON.stringify(text)}: use the host name or address the phone reaches this machine at (no port: it is --wireguard's)`);
}

export function parseListen(text: string): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text);
  const v4 = /^([^:[\]]*):(\d{1,5})$/.exec(text);
  const portOnly = /^(\d{1,5})$/.exec(text);
  const host = v6?.[1] ?? v4?.[1] ?? (portOnly ? '0.0.0.0' : undefined);
  const port = Number(v6?.[2] ?? v4?.[2] ?? portOnly?.[1]);
  if (host === undefined || !Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--listen ${JSON.stringify(text)}: use HOST:PORT, e.g. 0.0.0.0:8080 or [::]:8080`);
  const hostname = host === '' ? '0.0.0.0' : host;
  if (!net.isIP(hostname) && hostname !== 'localhost') throw new ConfigError(`--listen ${JSON.stringify(text)}: the host must be an IP address (0.0.0.0 for every interface)`);
  return { host: hostname === 'localhost' ? '127.0.0.1' : hostname, port };
}

export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text.trim());
  if (!match) throw new ConfigError(`--duration ${JSON.stringify(text)}: use seconds, or a number with s, m or h (90, 10m, 2h)`);
  const ms = Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 's' | 'm' | 'h'];
  if (ms <= 0) throw new ConfigError('--duration must be more than 0');
  return ms;
}

export function parseByteSize(text: string, option: string): number {
  const match = /^(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(text.trim());
  if (!match) throw new ConfigError(`${option} ${JSON.stringify(text)}: use a number of bytes, optionally with k, m or g (binary units), e.g. 32m`);
  const unit = (match[2] ?? 'b').toLowerCase()[0] as 'b' | 'k' | 'm' | 'g';
  const bytes = Number(match[1]) * { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[unit];
  if (!Number.isSafeInteger(bytes)) throw new ConfigError(`${option} is too large`);
  return bytes;
}

function readPemFile(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`--upstream-ca ${file}: ${(error as Error).message}`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`--upstream-ca ${file}: not a PEM certificate file`);
  return text;
}

/** --entities FILE (made absolute) or `none`; undefined: the installed databases. */
export function entitiesOption(value: string | undefined): string | undefined {
  return value === undefined || value === 'none' ? value : path.resolve(value);
}

/** The rules shipped with phonehome (`rules/` of the installation). */
export function defaultRulesDir(): string {
  return path.join(installRoot, 'rules');
}

export type RawOptions = Record<string, string | boolean | string[] | undefined>;

/** --publish, --node, --inspect, --publish-optional, --nats-creds, --nats-ca. */
function fleetOptions(str: (name: string) => string | undefined, raw: RawOptions): FleetOptions | undefined {
  const url = str('publish');
  const inspect = str('inspect') ?? 'local';
  if (inspect !== 'local' && inspect !== 'remote') throw new ConfigError(`--inspect ${JSON.stringify(inspect)}: use local or remote`);
  if (url === undefined) {
    for (const name of ['node', 'nats-creds', 'nats-ca']) if (str(name) !== undefined) throw new ConfigError(`--${name} is for a fleet node: add --publish nats://HOST:PORT`);
    if (inspect === 'remote') throw new ConfigError('--inspect remote leaves inspection to fleet workers: add --publish nats://HOST:PORT');
    if (raw['publish-optional'] === true) throw new ConfigError('--publish-optional goes with --publish nats://HOST:PORT');
    return undefined;
  }
  parseBusUrl(url);
  const node = validateNodeName(str('node') ?? defaultNodeName());
  for (const name of ['nats-creds', 'nats-ca']) {
    const file = str(name);
    if (file !== undefined && !fs.existsSync(file)) throw new ConfigError(`--${name} ${file}: no such file`);
  }
  return {
    url, node, inspect, optional: raw['publish-optional'] === true, maxQueueBytes: limits.fleetQueueBytes,
    ...(str('nats-creds') ? { credsFile: path.resolve(str('nats-creds')!) } : {}),
    ...(str('nats-ca') ? { caFile: path.resolve(str('nats-ca')!) } : {}),
  };
}

export function resolveCaptureOptions(raw: RawOptions, mode: 'capture' | 'ui', now = new Date(), env: NodeJS.ProcessEnv = process.env): CaptureOptions {
  const str = (name: string): string | undefined => raw[name] as string | undefined;
  const list = (name: string): string[] => (raw[name] as string[] | undefined) ?? [];
  const listen = parseListen(str('listen') ?? '0.0.0.0:8080');
  const failOnText = str('fail-on');
  const failOn = failOnText === undefined ? undefined : parseSeverity(failOnText);
  if (failOnText !== undefined && !failOn) throw new ConfigError(`--fail-on ${JSON.stringify(failOnText)}: use one of ${severities.join(', ')}`);
  const upstreamCaFiles = list('upstream-ca');
  const upstreamCaPems = upstreamCaFiles.map(readPemFile);
  const allowClient = list('allow-client');
  const access = new ClientAccess([...defaultAllowedClients, ...allowClient]);
  const passthrough = new PassthroughPolicy(list('passthrough'));
  const upstreamTlsMin = parseUpstreamTlsMin(str('upstream-tls-min'));
  const clientCertificates = parseClientCertificates(list('client-cert'));
  const proxyAuth = str('proxy-auth');
  const auth = proxyAuth === undefined ? undefined : new ProxyAuth(proxyAuth);
  const bodyLimitBytes = str('body-limit') === undefined ? limits.defaultBodyLimitBytes : parseByteSize(str('body-limit')!, '--body-limit');
  const durationMs = str('duration') === undefined ? undefined : parseDuration(str('duration')!);
  const rulesDir = path.resolve(str('rules') ?? defaultRulesDir());
  const rules = loadRules(rulesDir, str('rules') !== undefined);
  const canariesFile = str('canaries') === undefined ? undefined : path.resolve(str('canaries')!);
  const canaryCount = canariesFile ? loadCanaries(canariesFile).length : 0;
  const entitiesFile = entitiesOption(str('entities'));
  const transparentText = str('transparent');
  let transparent: { host: string; port: number } | undefined;
  if (transparentText !== undefined) {
    try {
      transparent = parseListen(transparentText);
    } catch {
      throw new ConfigError(`--transparent ${JSON.stringify(transparentText)}: use HOST:PORT, e.g. 0.0.0.0:8443`);
    }
    const why = transparentUnavailable();
    if (why) throw new ConfigError(`--transparent: ${why}`);
  }
  const wireguard = wireguardOptions(str, list);
  if (wireguard && transparent && transparent.host !== '0.0.0.0' && transparent.host !== '::') {
    throw new ConfigError(`--transparent ${transparentText} with --wireguard: the tunnel's connections are redirected to the same listener, so it must listen on every address (0.0.0.0:PORT)`);
  }
  const dnsText = str('dns');
  let dns: { host: string; port: number } | undefined;
  if (dnsText !== undefined) {
    try {
      dns = parseListen(dnsText);
    } catch {
      throw new ConfigError(`--dns ${JSON.stringify(dnsText)}: use HOST:PORT, e.g. 0.0.0.0:53`);
    }
  }
  const dnsUpstreamText = str('dns-upstream');
  if (dnsUpstreamText !== undefined && !dns && !wireguard) throw new ConfigError('--dns-upstream is where phonehome forwards DNS: add --dns HOST:PORT or --wireguard');
  const dnsUpstream = dnsUpstreamText === undefined ? undefined : parseDnsUpstream(dnsUpstreamText);
  const opaqueLimitBytes = str('opaque-limit') === undefined ? limits.defaultOpaqueLimitBytes : parseByteSize(str('opaque-limit')!, '--opaque-limit');
  if (str('opaque-limit') !== undefined && raw['no-files'] === true) throw new ConfigError('--opaque-limit and --no-files: opaque.pcapng is one of the run\'s files');
  const pcapFile = str('pcap') === undefined ? undefined : path.resolve(str('pcap')!);
  const fleet = fleetOptions(str, raw);
  const keylogText = str('keylog') ?? (env['SSLKEYLOGFILE'] || undefined);
  const keylogFile = keylogText === undefined ? undefined : path.resolve(keylogText);
  const threads = resolveProxyLoops(str('threads'), env, { wireguard: wireguard !== undefined });
  const stamp = now.toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z');
  if (raw['append'] === true && raw['force'] === true) throw new ConfigError('--append and --force: choose one (add a session to the run in --out, or move it aside)');
  if (raw['no-files'] === true && str('out') !== undefined) throw new ConfigError('--no-files and --out: choose one');
  if (raw['no-files'] === true && raw['report'] === true) throw new ConfigError('--report and --no-files: the report is made from the run\'s files');
  if (raw['no-files'] === true && mode === 'capture') throw new ConfigError('--no-files is for the live view and the demo; capture always writes its files');
  // Every run keeps its evidence unless told not to: capture, the live view and the demo alike.
  const outDir = str('out') ?? (raw['no-files'] === true ? undefined : path.resolve(`phonehome-run-${stamp}`));
  const record: Record<string, unknown> = {
    listen: `${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`,
    caDir: str('ca-dir') ?? defaultCaDir(),
    out: outDir ?? null,
    durationSeconds: durationMs === undefined ? null : durationMs / 1000,
    upstreamCa: upstreamCaFiles,
    insecureUpstream: raw['insecure-upstream'] === true,
    passthrough: list('passthrough'),
    upstreamTlsMin: upstreamTlsMin ?? 'TLSv1.2',
    // Hosts only: the certificates are the device's secrets and stay out of the run's files.
    clientCertificates: [...clientCertificates.keys()],
    allowClient: [...defaultAllowedClients, ...allowClient],
    proxyAuth: auth ? 'on' : 'off',
    failOn: failOn ?? null,
    bodyLimitBytes,
    redact: raw['redact'] === true,
    report: raw['report'] === true,
    fleet: fleet ? { nats: parseBusUrl(fleet.url).servers, node: fleet.node, inspect: fleet.inspect } : null,
    canaries: canariesFile ? { file: canariesFile, count: canaryCount } : null,
    rules: { dir: rulesDir, names: rules.map((r) => r.name) },
    entities: entitiesFile ?? null,
    transparent: transparent ? `${transparent.host.includes(':') ? `[${transparent.host}]` : transparent.host}:${transparent.port}` : null,
    wireguard: wireguard ? { listen: `${wireguard.host.includes(':') ? `[${wireguard.host}]` : wireguard.host}:${wireguard.port}`, clients: wireguard.clients, endpoint: wireguard.endpointHost ?? null } : null,
    dns: dns ? `${dns.host.includes(':') ? `[${dns.host}]` : dns.host}:${dns.port}` : null,
    dnsUpstream: dnsUpstream ? `${dnsUpstream.ip.includes(':') ? `[${dnsUpstream.ip}]` : dnsUpstream.ip}:${dnsUpstream.port}` : null,
    // Said in every summary: whoever holds this file can read the run's decrypted traffic.
    keylog: keylogFile ? { file: keylogFile, from: str('keylog') !== undefined ? '--keylog' : 'SSLKEYLOGFILE', sensitive: true } : null,
    opaqueLimitBytes: outDir ? opaqueLimitBytes : 0,
    // Like the key log: whoever holds this file reads the decrypted traffic.
    pcap: pcapFile ? { file: pcapFile, sensitive: true } : null,
    threads,
  };
  return {
    listenHost: listen.host, listenPort: listen.port, caDir: path.resolve(str('ca-dir') ?? defaultCaDir()),
    ...(outDir ? { outDir: path.resolve(outDir) } : {}),
    ...(durationMs !== undefined ? { durationMs } : {}),
    upstreamCaFiles, upstreamCaPems, insecureUpstream: raw['insecure-upstream'] === true, passthrough, clientCertificates, ...(upstreamTlsMin ? { upstreamTlsMin } : {}),
    append: raw['append'] === true, force: raw['force'] === true, allowClient, access, ...(auth ? { auth } : {}), ...(failOn ? { failOn } : {}), bodyLimitBytes,
    redact: raw['redact'] === true, report: raw['report'] === true, ...(fleet ? { fleet } : {}), record, canaryCount, rules, ...(canariesFile ? { canariesFile } : {}), ...(entitiesFile ? { entitiesFile } : {}), ...(keylogFile ? { keylogFile } : {}), ...(transparent ? { transparent } : {}),
    ...(wireguard ? { wireguard } : {}), ...(dns ? { dns } : {}), ...(dnsUpstream ? { dnsUpstream } : {}),
    opaqueLimitBytes: outDir ? opaqueLimitBytes : 0, ...(pcapFile ? { pcapFile } : {}), threads, ...(proxyAuth !== undefined ? { proxyAuthText: proxyAuth } : {}),
  };
}

/** --wireguard, --wireguard-client, --wireguard-endpoint; undefined without --wireguard. */
function wireguardOptions(str: (name: string) => string | undefined, list: (name: string) => string[]): WireguardOptions | undefined {
  const text = str('wireguard');
  if (text === undefined) {
    for (const name of ['wireguard-client', 'wireguard-endpoint']) {
      if (str(name) !== undefined || list(name).length > 0) throw new ConfigError(`--${name} configures the WireGuard endpoint: add --wireguard [HOST:]PORT`);
    }
    return undefined;
  }
  const listen = parseWireguardListen(text);
  const clients = [...new Set(list('wireguard-client').map((name) => validateClientName(name)))];
  const endpointText = str('wireguard-endpoint');
  // The tunnel's connections arrive redirected: the original-destination addon is needed as well.
  const why = wireguardUnavailable() ?? transparentUnavailable();
  if (why) throw new ConfigError(`--wireguard: ${why}`);
  return { ...listen, clients: clients.length > 0 ? clients : ['phone'], ...(endpointText !== undefined ? { endpointHost: parseEndpointHost(endpointText) } : {}) };
}

export function optionsHelp(specs: readonly OptionSpec[]): string {
  const left = specs.map((s) => `  --${s.name}${s.value ? ` ${s.value}` : ''}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return specs.map((s, i) => `${left[i]!.padEnd(width)}${s.help} [default: ${s.defaultText}]`).join('\n');
}
