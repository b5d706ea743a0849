// Running tshark (Debian's `tshark` package) over a capture file in one pass: the arguments that
// make it print one line per frame with the decrypted TLS bytes, and the one-line errors when it is
// missing or cannot read the file. tshark is the field's own dissector: TCP reassembly, TLS 1.2 and
// 1.3 decryption from a key log or the file's Decryption Secrets Block, link types we never wrote.

import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { ConfigError } from '../util/errors.js';
import { frameFields, occurrenceSeparator } from './tshark-fields.js';

/**
 * Application dissectors that would take decrypted TLS records (by ALPN, port or heuristic) before
 * the `data` dissector prints them: phonehome's own layers read HTTP, HTTP/2 and the rest, so tshark
 * stops at TLS. Names this tshark does not know are ignored by it.
 */
const applicationDissectors = [
  'http', 'http2', 'websocket', 'grpc', 'imap', 'pop', 'smtp', 'ftp', 'xmpp', 'mqtt', 'amqp', 'coap',
  'couchbase', 'diameter', 'dnp3', 'doip', 'enip', 'ldap', 'mbtcp', 'mongo', 'opa.fe', 'q931', 'rpkirtr',
  'sip', 'skinny', 'tpkt', 'rdpmt', 'mq', '5gli', 'fix', 'credssp', 'aim', 'spdy', 'ocsp',
];

export function tsharkArguments(file: string, keylogFile: string | undefined): string[] {
  return [
    '-r', file,
    '-n', // no name resolution: the file's addresses as they are, and no lookups from a lab machine
    '-Q', // only real errors on stderr
    '-o', 'tcp.desegment_tcp_streams:TRUE',
    '-o', 'tcp.analyze_sequence_numbers:TRUE',
    // TLS on any port (the heuristic before the port table), not only on 443 and its friends.
    '-o', 'tcp.try_heuristic_first:TRUE',
    '-o', 'tls.desegment_ssl_records:TRUE',
    ...(keylogFile ? ['-o', `tls.keylog_file:${keylogFile}`] : []),
    ...applicationDissectors.flatMap((name) => ['--disable-protocol', name]),
    '-Y', 'tcp or (udp and dns)',
    '-T', 'fields',
    '-E', 'header=n',
    '-E', 'separator=/t',
    '-E', 'occurrence=a',
    '-E', `aggregator=${occurrenceSeparator}`,
    ...frameFields.flatMap((field) => ['-e', field]),
  ];
}

export type TsharkChild = ChildProcessByStdio<null, Readable, Readable>;

/** Starts tshark; rejects with one line when it is not installed. */
export function startTshark(args: readonly string[]): Promise<TsharkChild> {
  return new Promise((resolve, reject) => {
    const child = spawn('tshark', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.once('spawn', () => resolve(child));
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT'
        ? new ConfigError('reading capture files needs tshark (Wireshark\'s command line): apt-get install tshark')
        : new ConfigError(`tshark: ${error.message}`));
    });
  });
}

/** tshark's stderr lines worth repeating: not its warning about running as root. */
export function isTsharkNoise(line: string): boolean {
  return line.trim() === '' || /^Running as user "root"/.test(line) || /could be dangerous/.test(line);
}
