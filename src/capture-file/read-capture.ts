// Reading any capture file (pcap or pcapng: tcpdump, PCAPdroid, PiRogue with its embedded
// Decryption Secrets Block, phonehome's own opaque.pcapng) into RecordedSessions and DNS exchanges,
// with tshark doing the dissection in one pass. tshark's output is read line by line as it comes,
// and every session is handed on when it closes: memory holds the open sessions only, each within
// its byte budget, whatever the size of the file.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { once } from 'node:events';
import { limits } from '../limits.js';
import { ConfigError } from '../util/errors.js';
import { DnsExchanges, type RecordedDns } from './dns-exchanges.js';
import type { RecordedSession } from './recorded-session.js';
import { SessionAssembler } from './session-assembler.js';
import { parseFrameLine } from './tshark-fields.js';
import { isTsharkNoise, startTshark, tsharkArguments } from './tshark-process.js';

export interface ReadCaptureOptions {
  /** NSS key log files (SSLKEYLOGFILE, friTap, PCAPdroid, PiRogue): used together. */
  readonly keylogFiles?: readonly string[];
  /** Application bytes kept per direction of a session; the rest is counted and tagged `pcap:truncated`. */
  readonly keepBytesPerDirection?: number;
  readonly onSession: (session: RecordedSession) => void;
  readonly onDns?: (exchange: RecordedDns) => void;
}

export interface ReadCaptureResult {
  /** TCP sessions handed to onSession. */
  readonly sessions: number;
  /** DNS-over-UDP exchanges handed to onDns. */
  readonly dns: number;
  /** TCP and DNS frames tshark read. */
  readonly packets: number;
  /** The capture file's size. */
  readonly bytes: number;
  /** What tshark said about the file (cut short, malformed…), one line each. */
  readonly problems: readonly string[];
}

/** tshark's complaints kept for the report; a damaged file can produce thousands. */
const maxProblems = 20;

export async function readCaptureFile(file: string, options: ReadCaptureOptions): Promise<ReadCaptureResult> {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (error) {
    throw new ConfigError(`${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const keys = mergeKeylogs(options.keylogFiles ?? []);
  try {
    const child = await startTshark(tsharkArguments(file, keys?.file));
    const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
    const problems: string[] = [];
    readline.createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
      if (!isTsharkNoise(line) && problems.length < maxProblems) problems.push(line.replace(/^tshark: /, '').trim());
    });
    const assembler = new SessionAssembler({ keepBytesPerDirection: options.keepBytesPerDirection ?? limits.defaultBodyLimitBytes, onSession: options.onSession });
    const dns = new DnsExchanges((exchange) => options.onDns?.(exchange));
    let packets = 0;
    for await (const text of readline.createInterface({ input: child.stdout, crlfDelay: Infinity })) {
      if (text === '') continue;
      packets++;
      const line = parseFrameLine(text);
      const time = isoTime(line.first('frame.time_epoch'));
      if (line.has('tcp.stream')) assembler.frame(line, time);
      else {
        const payload = line.last('udp.payload');
        const source = line.last('ipv6.src') ?? line.last('ip.src');
        const destination = line.last('ipv6.dst') ?? line.last('ip.dst');
        if (payload && source && destination) dns.datagram({ ip: source, port: Number(line.last('udp.srcport')) }, { ip: destination, port: Number(line.last('udp.dstport')) }, time, Buffer.from(payload, 'hex'));
      }
    }
    const [code] = await closed;
    if (code !== 0 && packets === 0) throw new ConfigError(`${file}: ${problems[0] ?? `tshark could not read it (exit ${code})`}`);
    assembler.finish();
    dns.finish();
    return { sessions: assembler.sessions, dns: dns.count, packets, bytes: size, problems };
  } finally {
    keys?.remove();
  }
}

function isoTime(epoch: string | undefined): string {
  const seconds = Number(epoch);
  return new Date(Number.isFinite(seconds) ? seconds * 1000 : 0).toISOString();
}

/**
 * tshark takes one key log: a single one is read where it is (decrypt hands over the one it has
 * already checked and merged); several are joined into a private temporary file (mode 0600,
 * removed after the read), since key logs are secrets.
 */
function mergeKeylogs(files: readonly string[]): { file: string; remove(): void } | undefined {
  if (files.length === 0) return undefined;
  const readable = (file: string): void => {
    try {
      fs.accessSync(file, fs.constants.R_OK);
    } catch (error) {
      throw new ConfigError(`--keylog ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    }
  };
  if (files.length === 1) {
    readable(files[0]!);
    return { file: files[0]!, remove: () => undefined };
  }
  const contents = files.map((file) => {
    readable(file);
    return fs.readFileSync(file);
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-keylog-'));
  const merged = path.join(dir, 'keys.log');
  // Each file ends on a line of its own, even when one lacks its final newline.
  fs.writeFileSync(merged, Buffer.concat(contents.flatMap((data) => [data, Buffer.from('\n')])), { mode: 0o600 });
  return { file: merged, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
