// `phonehome wireguard config [--client NAME] [--ca-dir DIR] [--qr] [--endpoint HOST[:PORT]]`: the
// phone's WireGuard configuration (what the official app imports), as text or a terminal QR code.
// The keys are created when missing, so a phone can be set up before the first capture; the
// endpoint is the one given, else the one the last capture announced, else this machine's first
// LAN address, so what is printed here is what `capture --wireguard` will answer.

import net from 'node:net';
import { defaultWireguardPort } from '../app/options.js';
import { phoneConfig } from '../proxy/modes/wireguard/wireguard-config.js';
import { loadOrCreateWireguardKeys, readWireguardKeys, validateClientName, type WireguardKeys } from '../proxy/modes/wireguard/wireguard-keys.js';
import { onBlack, terminalQr } from '../util/wireguard-qr.js';
import { lanAddresses } from '../sinks/console-sink.js';
import { ConfigError } from '../util/errors.js';
import type { Output } from './capture-command.js';

/** The client a first capture configures when no --wireguard-client is given. */
const DEFAULT_CLIENT = 'phone';

export interface WireguardConfigRequest {
  readonly caDir: string;
  readonly client?: string;
  readonly endpoint?: string;
  readonly qr: boolean;
  /** Paint the QR code white on black (a terminal without NO_COLOR); plain half blocks otherwise. */
  readonly colour: boolean;
}

/**
 * `--endpoint HOST`, `HOST:PORT`, `[V6]:PORT` or a bare IPv6 address, as the `HOST:PORT` written
 * into the configuration (the port defaults to WireGuard's 51820). Nothing else reaches the file.
 */
export function parseEndpointOption(text: string): string {
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$/.exec(text);
  const named = /^([A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))(?::(\d{1,5}))?$/.exec(text);
  const [host, portText] = bracketed && net.isIPv6(bracketed[1]!) ? [`[${bracketed[1]}]`, bracketed[2]]
    : net.isIPv6(text) ? [`[${text}]`, undefined]
      : named ? [named[1]!, named[2]] : [undefined, undefined];
  const port = portText === undefined ? defaultWireguardPort : Number(portText);
  if (host === undefined || port < 1 || port > 65535) {
    throw new ConfigError(`--endpoint ${JSON.stringify(text.slice(0, 80))}: use the HOST or HOST:PORT the phone reaches this machine at, e.g. 192.168.1.20:${defaultWireguardPort}`);
  }
  return `${host}:${port}`;
}

function endpointFor(request: WireguardConfigRequest, keys: WireguardKeys): string {
  if (request.endpoint !== undefined) return parseEndpointOption(request.endpoint);
  if (keys.endpoint) return keys.endpoint;
  const lan = lanAddresses()[0];
  if (!lan) throw new ConfigError('this machine has no LAN address the phone could reach: give --endpoint HOST[:PORT]');
  return `${lan}:${defaultWireguardPort}`;
}

/** validateClientName, its message naming this command's option. */
function clientOption(name: string): string {
  try {
    return validateClientName(name);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(error.message.replace(/^--wireguard-client: /, '--client '));
    throw error;
  }
}

export function runWireguardConfig(request: WireguardConfigRequest, io: Output): number {
  const wanted = request.client === undefined ? undefined : clientOption(request.client);
  const keys = readWireguardKeys(request.caDir) ?? loadOrCreateWireguardKeys(request.caDir, [wanted ?? DEFAULT_CLIENT]);
  const client = wanted === undefined ? keys.clients[0] : keys.clients.find((c) => c.name === wanted);
  if (!client) {
    const names = keys.clients.map((c) => c.name);
    throw new ConfigError(`--client ${wanted ?? ''}: no such WireGuard client in ${request.caDir}; configured: ${names.length > 0 ? names.join(', ') : 'none'} (capture --wireguard-client NAME adds one)`);
  }
  const endpoint = endpointFor(request, keys);
  const config = phoneConfig(keys, client, endpoint);
  if (wanted === undefined && keys.clients.length > 1) {
    io.err(`phonehome: client ${client.name}; also configured: ${keys.clients.slice(1).map((c) => c.name).join(', ')} (choose with --client NAME)`);
  }
  if (!request.qr) {
    io.out(config.trimEnd());
    return 0;
  }
  io.out(`WireGuard client ${client.name} (${client.address}), endpoint ${endpoint}: scan with the WireGuard app`);
  const qr = terminalQr(config);
  io.out(request.colour ? onBlack(qr) : qr);
  return 0;
}
