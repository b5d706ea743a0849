// The WireGuard keys of `--wireguard`: the server's pair and one pair per client (peer), kept in
// <CA folder>/wireguard.json beside the CA key (0600, written atomically) and never changed once
// written, so a phone configured once keeps working across runs. Clients named later are added
// with the next free tunnel address; a file we did not write (or a damaged one) is refused and
// left untouched.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../../util/errors.js';

export interface WireguardPeerKeys {
  /** `--wireguard-client` name, e.g. `phone`. */
  readonly name: string;
  /** Base64 (standard) of the 32 raw X25519 bytes, as `wg` writes them. */
  readonly privateKey: string;
  readonly publicKey: string;
  /** The client's address inside the tunnel, e.g. `10.64.77.2`. */
  readonly address: string;
}

export interface WireguardKeys {
  readonly server: { readonly privateKey: string; readonly publicKey: string };
  /** The tunnel's network, e.g. `10.64.77.0/24`. */
  readonly subnet: string;
  /** Our address inside the tunnel (the phones' gateway and DNS server), e.g. `10.64.77.1`. */
  readonly gateway: string;
  readonly clients: readonly WireguardPeerKeys[];
  /** The last `HOST:PORT` a capture announced to the phones. */
  readonly endpoint?: string;
}

export const WIREGUARD_KEYS_FILE = 'wireguard.json';
/** Marks the file as ours: a file without it is someone else's and is never overwritten. */
const FILE_FORMAT = 'phonehome-wireguard-keys/1';
/** A private /24 unlikely to collide with a lab's LAN (10.64.0.0/10 is carrier-grade NAT's neighbour, rarely a home network). */
const DEFAULT_NETWORK = '10.64.77';
/** .1 is the gateway, .255 the broadcast: clients get .2 to .254. */
const FIRST_CLIENT_HOST = 2;
const LAST_CLIENT_HOST = 254;
const MAX_CLIENT_NAME_LENGTH = 32;
/** Largest wireguard.json we read (253 clients take about 50 KiB). */
const MAX_FILE_BYTES = 1024 * 1024;

/** DER header of a PKCS#8 X25519 private key; the raw 32 bytes follow (RFC 8410). */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=$/;
const CLIENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const ENDPOINT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

/**
 * A client name goes into the configuration file, a file name and the install page's URL: letters,
 * digits, `-` and `_` only (no spaces, dots, slashes, control or look-alike characters). Returns the
 * name unchanged, or throws a one-line ConfigError.
 */
export function validateClientName(name: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_CLIENT_NAME_LENGTH || !CLIENT_NAME.test(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name) : String(name);
    throw new ConfigError(`--wireguard-client: ${shown} is not a client name (1-${MAX_CLIENT_NAME_LENGTH} letters, digits, - or _, starting with a letter or digit)`);
  }
  return name;
}

/** `HOST:PORT` or `[IPv6]:PORT`, nothing else (it is written into the phones' configuration). */
export function validateEndpoint(endpoint: string): string {
  const port = Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
  if (!ENDPOINT.test(endpoint) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(`--wireguard-endpoint: ${JSON.stringify(endpoint.slice(0, 80))} is not HOST:PORT`);
  }
  return endpoint;
}

function rawToBase64(base64url: string | undefined): string {
  if (!base64url) throw new Error('the key has no raw bytes');
  return Buffer.from(base64url, 'base64url').toString('base64');
}

/** A new X25519 pair, as `wg genkey | wg pubkey` would give (base64 of the raw 32 bytes). */
export function generateKeyPair(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('x25519');
  return { privateKey: rawToBase64(privateKey.export({ format: 'jwk' }).d), publicKey: rawToBase64(publicKey.export({ format: 'jwk' }).x) };
}

/** The public key of a base64 private key (what `wg pubkey` prints). */
export function publicKeyOf(privateKey: string): string {
  if (!BASE64_KEY.test(privateKey)) throw new Error('not a base64 WireGuard key');
  const key = crypto.createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, Buffer.from(privateKey, 'base64')]), format: 'der', type: 'pkcs8' });
  return rawToBase64(crypto.createPublicKey(key).export({ format: 'jwk' }).x);
}

function keysFile(caDir: string): string {
  return path.join(caDir, WIREGUARD_KEYS_FILE);
}

function refuse(file: string, why: string): never {
  throw new ConfigError(`${file} is not a phonehome WireGuard key file (${why}); move it away to create new keys (phones must then be configured again)`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkedPair(file: string, value: unknown, what: string): { privateKey: string; publicKey: string } {
  if (!isRecord(value) || typeof value['privateKey'] !== 'string' || typeof value['publicKey'] !== 'string') refuse(file, `${what} has no keys`);
  const { privateKey, publicKey } = value as { privateKey: string; publicKey: string };
  if (!BASE64_KEY.test(privateKey) || !BASE64_KEY.test(publicKey)) refuse(file, `${what} has a key that is not 32 bytes of base64`);
  if (publicKeyOf(privateKey) !== publicKey) refuse(file, `${what}'s public key does not belong to its private key`);
  return { privateKey, publicKey };
}

/** Checks every field: what we hand to wireguard-go and the phones must be exactly what we wrote. */
function parseKeys(file: string, text: string): WireguardKeys {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    refuse(file, 'not JSON');
  }
  if (!isRecord(data) || data['format'] !== FILE_FORMAT) refuse(file, `no "format": "${FILE_FORMAT}"`);
  const server = checkedPair(file, data['server'], 'the server');
  const network = typeof data['subnet'] === 'string' ? /^(10\.\d{1,3}\.\d{1,3})\.0\/24$/.exec(data['subnet'])?.[1] : undefined;
  if (!network || network.split('.').some((part) => Number(part) > 255)) refuse(file, 'the subnet is not a 10.x.y.0/24');
  const subnet = `${network}.0/24`;
  const gateway = `${network}.1`;
  if (data['gateway'] !== gateway) refuse(file, `the gateway is not ${gateway}`);
  if (!Array.isArray(data['clients'])) refuse(file, 'no client list');
  const names = new Set<string>();
  const addresses = new Set<string>();
  const clients = (data['clients'] as unknown[]).map((entry, index): WireguardPeerKeys => {
    if (!isRecord(entry) || typeof entry['name'] !== 'string' || typeof entry['address'] !== 'string') refuse(file, `client ${index + 1} has no name or address`);
    const name = entry['name'] as string;
    const address = entry['address'] as string;
    if (!CLIENT_NAME.test(name) || name.length > MAX_CLIENT_NAME_LENGTH) refuse(file, `client ${index + 1} has a name that is not allowed`);
    const host = address.startsWith(`${network}.`) ? Number(address.slice(network.length + 1)) : NaN;
    if (!/^\d{1,3}$/.test(address.slice(network.length + 1)) || !(host >= FIRST_CLIENT_HOST && host <= LAST_CLIENT_HOST)) refuse(file, `client ${name} has an address outside ${subnet}`);
    if (names.has(name) || addresses.has(address)) refuse(file, `client ${name} or its address ${address} is listed twice`);
    names.add(name);
    addresses.add(address);
    return { name, address, ...checkedPair(file, entry, `client ${name}`) };
  });
  const endpoint = data['endpoint'];
  if (endpoint !== undefined && (typeof endpoint !== 'string' || !ENDPOINT.test(endpoint))) refuse(file, 'the endpoint is not HOST:PORT');
  return { server, subnet, gateway, clients, ...(endpoint !== undefined ? { endpoint: endpoint as string } : {}) };
}

/** The keys in `<caDir>/wireguard.json`, or undefined when there is no such file. */
export function readWireguardKeys(caDir: string): WireguardKeys | undefined {
  const file = keysFile(caDir);
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) refuse(file, 'not a regular file');
    if (stat.size > MAX_FILE_BYTES) refuse(file, `larger than ${MAX_FILE_BYTES} bytes`);
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  return parseKeys(file, text);
}

/**
 * Writes the file in one step: a reader (another phonehome, `phonehome wireguard config`) sees
 * the old or the new content, never half of it. The temporary file is 0600 from its creation. A
 * new file is linked into place, which fails when one appeared meanwhile (returns false): a file
 * is only ever replaced by its own updated content.
 */
function writeKeys(caDir: string, keys: WireguardKeys, create: boolean): boolean {
  const file = keysFile(caDir);
  const temporary = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  const content = `${JSON.stringify({ format: FILE_FORMAT, ...keys }, null, 2)}\n`;
  try {
    const fd = fs.openSync(temporary, 'wx', 0o600);
    try {
      fs.writeFileSync(fd, content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (create) {
      fs.linkSync(temporary, file);
      fs.rmSync(temporary);
    } else {
      fs.renameSync(temporary, file);
    }
    return true;
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    if (create && (error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new ConfigError(`cannot write ${file}: ${(error as Error).message}`, { cause: error });
  }
}

function nextFreeAddress(keys: { subnet: string; clients: readonly WireguardPeerKeys[] }): string {
  const network = keys.subnet.slice(0, keys.subnet.lastIndexOf('.'));
  const taken = new Set(keys.clients.map((client) => client.address));
  for (let host = FIRST_CLIENT_HOST; host <= LAST_CLIENT_HOST; host += 1) {
    if (!taken.has(`${network}.${host}`)) return `${network}.${host}`;
  }
  throw new ConfigError(`--wireguard-client: the tunnel ${keys.subnet} has no free address left (${LAST_CLIENT_HOST - FIRST_CLIENT_HOST + 1} clients)`);
}

/**
 * The keys for a capture: read from `<caDir>/wireguard.json`, created there when missing, with
 * every client of `clientNames` present (new ones get new keys and the next free address; existing
 * ones are never changed, and clients not named this time are kept).
 */
export function loadOrCreateWireguardKeys(caDir: string, clientNames: readonly string[]): WireguardKeys {
  const keys = addClients(caDir, clientNames);
  // Another phonehome created the file between our read and our write: take its keys.
  return keys ?? addClients(caDir, clientNames) ?? refuse(keysFile(caDir), 'it changed while it was being created');
}

function addClients(caDir: string, clientNames: readonly string[]): WireguardKeys | undefined {
  const wanted = [...new Set(clientNames.map(validateClientName))];
  const existing = readWireguardKeys(caDir);
  let keys: WireguardKeys = existing ?? { server: generateKeyPair(), subnet: `${DEFAULT_NETWORK}.0/24`, gateway: `${DEFAULT_NETWORK}.1`, clients: [] };
  for (const name of wanted) {
    if (keys.clients.some((client) => client.name === name)) continue;
    keys = { ...keys, clients: [...keys.clients, { name, ...generateKeyPair(), address: nextFreeAddress(keys) }] };
  }
  if (existing && keys.clients.length === existing.clients.length) return existing;
  try {
    fs.mkdirSync(caDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new ConfigError(`cannot create the CA folder ${caDir}: ${(error as Error).message}`, { cause: error });
  }
  return writeKeys(caDir, keys, !existing) ? keys : undefined;
}

/** Stores the `HOST:PORT` a capture announced, so `phonehome wireguard config` prints the same later. */
export function rememberEndpoint(caDir: string, endpoint: string): void {
  validateEndpoint(endpoint);
  const keys = readWireguardKeys(caDir);
  if (!keys) throw new ConfigError(`${keysFile(caDir)} does not exist: there are no WireGuard keys to remember an endpoint for`);
  if (keys.endpoint === endpoint) return;
  writeKeys(caDir, { ...keys, endpoint }, false);
}
