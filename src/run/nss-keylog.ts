// TLS key logs in NSS format (what SSLKEYLOGFILE, friTap, PCAPdroid and PiRogue write): each line
// is `LABEL <client random> <secret>` in hex, `#` starts a comment. `decrypt` takes several such
// files, checks every line (a malformed one is named by file and line, in one line) and merges
// them into one file only this user can read, which the capture-file reader hands to tshark.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, describeError } from '../util/errors.js';
import { eachLine } from '../util/file-lines.js';

/** The labels of the NSS key log format: TLS 1.2 and older (a master secret), TLS 1.3 (one secret per traffic key). */
const TLS12_LABELS = new Set(['CLIENT_RANDOM', 'RSA']);
const TLS13_LABELS = new Set([
  'CLIENT_EARLY_TRAFFIC_SECRET', 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET',
  'CLIENT_TRAFFIC_SECRET_0', 'SERVER_TRAFFIC_SECRET_0', 'EARLY_EXPORTER_SECRET', 'EXPORTER_SECRET',
]);
/** Encrypted ClientHello secrets: valid lines that open nothing by themselves, kept for tshark. */
const OTHER_LABELS = new Set(['ECH_SECRET', 'ECH_CONFIG']);

/** No key log line is near this long; a longer one is not a key log (a binary file, a pcap given by mistake). */
const MAX_LINE_BYTES = 4096;

export interface KeylogCounts {
  /** TLS 1.2 (and older) sessions with keys: CLIENT_RANDOM and RSA lines. */
  tls12: number;
  /** TLS 1.3 secret lines (several per session). */
  tls13: number;
  /** Comment and blank lines, skipped. */
  skipped: number;
}

const HEX = /^[0-9a-fA-F]+$/;

/** Why a key log line is not one, or undefined when it is; `kind` says what it holds. */
export function checkKeylogLine(line: string): { kind: 'tls12' | 'tls13' | 'other' | 'skip' } | { problem: string } {
  const text = line.trim();
  if (text === '' || text.startsWith('#')) return { kind: 'skip' };
  const parts = text.split(/\s+/);
  const [label, first, secret] = parts;
  if (parts.length !== 3) return { problem: `expected LABEL CLIENT_RANDOM SECRET (3 fields), found ${parts.length}` };
  const known = TLS12_LABELS.has(label!) || TLS13_LABELS.has(label!) || OTHER_LABELS.has(label!);
  if (!known) return { problem: `unknown label ${JSON.stringify(label!.slice(0, 40))} (NSS key log labels: CLIENT_RANDOM, CLIENT_HANDSHAKE_TRAFFIC_SECRET, …)` };
  if (OTHER_LABELS.has(label!)) return HEX.test(first!) && HEX.test(secret!) ? { kind: 'other' } : { problem: `${label} fields are not hex` };
  // RSA lines name the session by the first 8 bytes of the encrypted pre-master secret, the others by the 32-byte client random.
  const firstHex = label === 'RSA' ? 16 : 64;
  if (!HEX.test(first!) || first!.length !== firstHex) return { problem: `${label}: the ${label === 'RSA' ? 'encrypted pre-master prefix' : 'client random'} should be ${firstHex} hex digits, found ${JSON.stringify(first!.slice(0, 80))}` };
  // TLS 1.2 master secrets and pre-master secrets are 48 bytes; TLS 1.3 secrets are a hash long (SHA-256: 32, SHA-384: 48).
  const lengths = TLS12_LABELS.has(label!) ? [96] : [64, 96];
  if (!HEX.test(secret!) || !lengths.includes(secret!.length)) return { problem: `${label}: the secret should be ${lengths.join(' or ')} hex digits, found ${secret!.length} character(s)` };
  return { kind: TLS12_LABELS.has(label!) ? 'tls12' : 'tls13' };
}

/** Checks one key log file and hands each valid line (without its line end) to `onLine`; throws a one-line ConfigError naming the file and line. */
export async function readKeylogFile(file: string, onLine: (line: string) => void): Promise<KeylogCounts> {
  const counts: KeylogCounts = { tls12: 0, tls13: 0, skipped: 0 };
  let lineNumber = 0;
  let problem: string | undefined;
  try {
    if (!fs.statSync(file).isFile()) throw new ConfigError(`--keylog ${file}: not a file`);
    await eachLine(file, (bytes, start, end) => {
      lineNumber++;
      if (problem) return;
      if (end - start > MAX_LINE_BYTES) {
        problem = `line ${lineNumber}: longer than ${MAX_LINE_BYTES} bytes, not a key log line`;
        return;
      }
      const line = bytes.toString('utf8', start, end).replace(/\r$/, '');
      const checked = checkKeylogLine(line);
      if ('problem' in checked) {
        problem = `line ${lineNumber}: ${checked.problem}`;
        return;
      }
      if (checked.kind === 'skip') {
        counts.skipped++;
        return;
      }
      if (checked.kind !== 'other') counts[checked.kind]++;
      onLine(line.trim());
    }, 64 * 1024);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const message = describeError(error);
    // eachLine refuses a line longer than its buffer: a binary file.
    throw new ConfigError(`--keylog ${file}: ${/a line longer than/.test(message) ? 'not a key log (a line longer than 64 KiB)' : message}`);
  }
  if (problem) throw new ConfigError(`--keylog ${file}: ${problem}`);
  if (counts.tls12 + counts.tls13 === 0) throw new ConfigError(`--keylog ${file}: no keys in it (no CLIENT_RANDOM or TLS 1.3 secret lines)`);
  return counts;
}

export interface MergedKeylog {
  /** One file holding every valid line of every key log given, mode 0600, in a 0700 folder of its own. */
  readonly file: string;
  readonly counts: KeylogCounts;
  /** Removes the file and its folder. */
  remove(): void;
}

/** Every file checked, then merged into one private temporary file; nothing is left behind on error. */
export async function mergeKeylogFiles(files: readonly string[]): Promise<MergedKeylog> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-keys-'));
  const remove = (): void => fs.rmSync(folder, { recursive: true, force: true });
  const file = path.join(folder, 'keys.log');
  const counts: KeylogCounts = { tls12: 0, tls13: 0, skipped: 0 };
  const fd = fs.openSync(file, 'w', 0o600);
  try {
    for (const input of files) {
      let pending: string[] = [];
      const flush = (): void => {
        if (pending.length > 0) fs.writeSync(fd, `${pending.join('\n')}\n`);
        pending = [];
      };
      const one = await readKeylogFile(input, (line) => {
        pending.push(line);
        if (pending.length >= 1024) flush();
      });
      flush();
      counts.tls12 += one.tls12;
      counts.tls13 += one.tls13;
      counts.skipped += one.skipped;
    }
  } catch (error) {
    fs.closeSync(fd);
    remove();
    throw error;
  }
  fs.closeSync(fd);
  return { file, counts, remove };
}
