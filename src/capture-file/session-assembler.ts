// From tshark's frame lines to RecordedSessions: one per TCP stream (tshark numbers them), with the
// client (the side that sent the SYN), the TLS facts, the application bytes in order (tshark's
// decrypted TLS records, or the TCP payload of a plain stream) and the bytes on the wire. A session
// is handed on as soon as it closes (both FINs, or a RST), so memory holds only the open ones, and
// each of those keeps at most `keepBytesPerDirection` bytes each way: the rest is counted and tagged.

import type { Endpoint } from '../model/flow.js';
import type { RecordedChunk, RecordedSession, RecordedTls } from './recorded-session.js';
import type { FrameLine } from './tshark-fields.js';

const SYN = 0x02;
const FIN = 0x01;
const RST = 0x04;
const ACK = 0x10;
const tlsApplicationData = '23';
const clientHello = '1';
const serverHello = '2';

const tlsVersions: Record<string, string> = { '0x0300': 'SSLv3', '0x0301': 'TLSv1', '0x0302': 'TLSv1.1', '0x0303': 'TLSv1.2', '0x0304': 'TLSv1.3' };

/** IANA names of the suites phones meet; any other is kept as its number (`0x00ff`). */
const cipherNames: Record<string, string> = {
  '0x1301': 'TLS_AES_128_GCM_SHA256',
  '0x1302': 'TLS_AES_256_GCM_SHA384',
  '0x1303': 'TLS_CHACHA20_POLY1305_SHA256',
  '0xc02b': 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  '0xc02c': 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  '0xc02f': 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  '0xc030': 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  '0xcca8': 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
  '0xcca9': 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  '0xc013': 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
  '0xc014': 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
  '0x009c': 'TLS_RSA_WITH_AES_128_GCM_SHA256',
  '0x009d': 'TLS_RSA_WITH_AES_256_GCM_SHA384',
  '0x002f': 'TLS_RSA_WITH_AES_128_CBC_SHA',
  '0x0035': 'TLS_RSA_WITH_AES_256_CBC_SHA',
};

interface TlsFacts {
  sni?: string;
  alpn?: string;
  version?: string;
  cipher?: string;
  applicationRecords: boolean;
  decrypted: boolean;
}

interface OpenSession {
  client: Endpoint;
  server: Endpoint;
  startedAt: string;
  endedAt: string;
  tls?: TlsFacts;
  /** Runs of bytes from one side; each becomes one chunk when the session is handed on. */
  runs: Array<{ fromClient: boolean; time: string; parts: Buffer[] }>;
  kept: { up: number; down: number };
  bytesUp: number;
  bytesDown: number;
  finFromClient: boolean;
  finFromServer: boolean;
  tags: Set<string>;
}

export interface AssemblerOptions {
  /** Application bytes kept per direction of one session (like the live body limit). */
  readonly keepBytesPerDirection: number;
  readonly onSession: (session: RecordedSession) => void;
}

export class SessionAssembler {
  readonly #open = new Map<string, OpenSession>();
  /** Streams already handed on: their last ACKs must not open a new session. */
  readonly #closed = new Set<string>();
  readonly #options: AssemblerOptions;
  #sessions = 0;

  constructor(options: AssemblerOptions) {
    this.#options = options;
  }

  get sessions(): number {
    return this.#sessions;
  }

  get openSessions(): number {
    return this.#open.size;
  }

  frame(line: FrameLine, time: string): void {
    const stream = line.first('tcp.stream');
    if (stream === undefined || this.#closed.has(stream)) return;
    const source = addressOf(line, 'src');
    const destination = addressOf(line, 'dst');
    const sourcePort = Number(line.last('tcp.srcport'));
    const destinationPort = Number(line.last('tcp.dstport'));
    if (!source || !destination) return;
    const flags = Number.parseInt(line.last('tcp.flags') ?? '0', 16);
    let session = this.#open.get(stream);
    if (!session) {
      session = opened(source, sourcePort, destination, destinationPort, flags, time);
      this.#open.set(stream, session);
    }
    session.endedAt = time;
    const fromClient = source === session.client.ip && sourcePort === session.client.port;
    if (line.has('tcp.analysis.lost_segment')) session.tags.add('pcap:gap');
    const retransmitted = line.has('tcp.analysis.retransmission');
    const payloadLength = Number(line.last('tcp.len') ?? '0');
    if (!retransmitted && payloadLength > 0) {
      if (fromClient) session.bytesUp += payloadLength;
      else session.bytesDown += payloadLength;
    }

    if (line.has('tls.record.content_type') || line.has('tls.record.opaque_type') || line.has('tls.handshake.type')) this.#tlsFrame(session, line, fromClient, time);
    else if (!session.tls && !retransmitted && payloadLength > 0) {
      const payload = line.last('tcp.payload');
      if (payload) this.#keep(session, fromClient, time, Buffer.from(payload, 'hex'));
    }

    if (flags & FIN) {
      if (fromClient) session.finFromClient = true;
      else session.finFromServer = true;
    }
    if (flags & RST || (session.finFromClient && session.finFromServer)) this.#close(stream, session);
  }

  /** The end of the file: what is still open is handed on as it is. */
  finish(): void {
    for (const [stream, session] of this.#open) {
      session.tags.add('pcap:unfinished');
      this.#close(stream, session);
    }
  }

  #tlsFrame(session: OpenSession, line: FrameLine, fromClient: boolean, time: string): void {
    const tls = (session.tls ??= { applicationRecords: false, decrypted: false });
    const handshakes = line.all('tls.handshake.type');
    if (fromClient && handshakes.includes(clientHello)) {
      const sni = line.first('tls.handshake.extensions_server_name');
      if (sni) tls.sni = sni;
    }
    if (!fromClient) {
      if (handshakes.includes(serverHello)) {
        const version = line.first('tls.handshake.extensions.supported_version') ?? line.first('tls.handshake.version');
        if (version) tls.version = tlsVersions[version] ?? version;
        const cipher = line.first('tls.handshake.ciphersuite');
        if (cipher) tls.cipher = cipherNames[cipher] ?? cipher;
      }
      // From the server, ALPN is its choice (in the ServerHello, or the decrypted EncryptedExtensions of TLS 1.3).
      const alpn = line.first('tls.handshake.extensions_alpn_str');
      if (alpn) tls.alpn = alpn;
    }
    if (line.all('tls.record.content_type').includes(tlsApplicationData) || line.all('tls.record.opaque_type').includes(tlsApplicationData)) tls.applicationRecords = true;
    for (const hex of line.all('data.data')) {
      tls.decrypted = true;
      this.#keep(session, fromClient, time, Buffer.from(hex, 'hex'));
    }
  }

  #keep(session: OpenSession, fromClient: boolean, time: string, data: Buffer): void {
    const direction = fromClient ? 'up' : 'down';
    const room = this.#options.keepBytesPerDirection - session.kept[direction];
    if (room <= 0) {
      session.tags.add('pcap:truncated');
      return;
    }
    const kept = data.length > room ? data.subarray(0, room) : data;
    if (kept.length < data.length) session.tags.add('pcap:truncated');
    session.kept[direction] += kept.length;
    // Consecutive bytes from one side are one chunk: the layers read a stream, not segments.
    const last = session.runs.at(-1);
    if (last && last.fromClient === fromClient) {
      last.parts.push(kept);
      last.time = time;
    } else session.runs.push({ fromClient, time, parts: [kept] });
  }

  #close(stream: string, session: OpenSession): void {
    this.#open.delete(stream);
    this.#closed.add(stream);
    this.#sessions++;
    let tls: RecordedTls | undefined;
    if (session.tls) {
      const facts = session.tls;
      if (facts.applicationRecords && !facts.decrypted) session.tags.add('tls:no-keys');
      tls = {
        ...(facts.sni ? { sni: facts.sni } : {}),
        ...(facts.alpn ? { alpn: facts.alpn } : {}),
        ...(facts.version ? { version: facts.version } : {}),
        ...(facts.cipher ? { cipher: facts.cipher } : {}),
        decrypted: facts.decrypted,
      };
    }
    this.#options.onSession({
      client: session.client,
      server: session.server,
      startedAt: session.startedAt,
      endedAt: session.endedAt,
      ...(tls ? { tls } : {}),
      // Bytes of a TLS session that was not opened are ciphertext: not chunks (RecordedTls says so).
      chunks: tls && !tls.decrypted ? [] : session.runs.map((run): RecordedChunk => ({ fromClient: run.fromClient, time: run.time, data: Buffer.concat(run.parts) })),
      bytesUp: session.bytesUp,
      bytesDown: session.bytesDown,
      tags: [...session.tags],
    });
  }
}

function addressOf(line: FrameLine, side: 'src' | 'dst'): string | undefined {
  return line.last(side === 'src' ? 'ipv6.src' : 'ipv6.dst') ?? line.last(side === 'src' ? 'ip.src' : 'ip.dst');
}

/**
 * The client is the side that sent the SYN. A capture that began mid-connection has none: the
 * side on the higher port is taken for the client then (phones connect from ephemeral ports).
 */
function opened(source: string, sourcePort: number, destination: string, destinationPort: number, flags: number, time: string): OpenSession {
  const syn = (flags & SYN) !== 0;
  const sourceIsClient = syn ? (flags & ACK) === 0 : sourcePort > destinationPort;
  const a = { ip: source, port: sourcePort };
  const b = { ip: destination, port: destinationPort };
  return {
    client: sourceIsClient ? a : b,
    server: sourceIsClient ? b : a,
    startedAt: time,
    endedAt: time,
    runs: [],
    kept: { up: 0, down: 0 },
    bytesUp: 0,
    bytesDown: 0,
    finFromClient: false,
    finFromServer: false,
    tags: new Set(syn ? [] : ['pcap:no-handshake']),
  };
}
