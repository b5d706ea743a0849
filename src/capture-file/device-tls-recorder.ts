// capture --pcap FILE: the device side of every connection phonehome decrypts — the TLS bytes
// between the device and phonehome, both ways — as pcapng, with that connection's keys in a
// Decryption Secrets Block placed before the packets they open, so Wireshark (and tshark -Y http)
// shows it decrypted with no key file. A connection's packets wait in memory until its handshake
// is done (the keys come while the handshake is under way, after the device's first flight has
// passed): then its secrets and packets are written, and from then on its packets go out as they
// pass. The wait is bounded (a handshake is a few kilobytes); a key that comes later (a TLS 1.3
// key update) gets its own block, before the packets that follow. The file holds keys: mode 0600.

import type { TappedConnection, TlsConnectionTap, DeviceTlsObserver } from '../proxy/connection-tap.js';
import { decryptionSecretsBlock, enhancedPacketBlocks } from './pcapng-blocks.js';
import { PcapngFile } from './pcapng-file.js';
import { PacketClock } from './packet-clock.js';
import type { RecorderLog } from './opaque-recorder.js';
import { SyntheticTcp } from './synthetic-tcp.js';

/** Bytes of one connection's packets kept while its handshake is under way. */
const HANDSHAKE_WAIT_BYTES = 256 * 1024;

export interface DeviceTlsStats {
  readonly connections: number;
  /** TLS bytes (both directions) in the file. */
  readonly recordedBytes: number;
  /** TLS bytes not in the file (refused by the disk). */
  readonly notRecordedBytes: number;
  /** Key log lines written in secrets blocks. */
  readonly keyLines: number;
  readonly error?: string;
}

export class DeviceTlsRecorder {
  readonly path: string;
  readonly #file: PcapngFile;
  readonly #log: RecorderLog;
  readonly #clock = new PacketClock();
  #connections = 0;
  #recordedBytes = 0;
  #notRecordedBytes = 0;
  #keyLines = 0;
  #closed = false;

  /** Opens `file` (a new section, mode 0600); throws when it cannot be written. */
  constructor(file: string, log: RecorderLog, options: { application?: string; retryMs?: number } = {}) {
    this.path = file;
    this.#log = log;
    this.#file = new PcapngFile(file, { failed: (m) => log('error', m), recovered: (m) => log('info', m) }, {
      application: options.application ?? 'phonehome', comment: 'phonehome: the device side of decrypted connections, with their TLS keys', mode: 0o600,
      ...(options.retryMs !== undefined ? { retryMs: options.retryMs } : {}),
    });
  }

  /** The observer the proxy takes (InterceptingProxyOptions.deviceTlsObserver). */
  readonly observe: DeviceTlsObserver = (connection) => (this.#closed ? undefined : this.#tap(connection));

  get stats(): DeviceTlsStats {
    const error = this.#file.stats.error;
    return { connections: this.#connections, recordedBytes: this.#recordedBytes, notRecordedBytes: this.#notRecordedBytes, keyLines: this.#keyLines, ...(error ? { error } : {}) };
  }

  close(): DeviceTlsStats {
    this.#closed = true;
    this.#file.close();
    return this.stats;
  }

  #tap(connection: TappedConnection): TlsConnectionTap | undefined {
    const tcp = new SyntheticTcp(connection.client, connection.server);
    this.#connections++;
    // Until the handshake is done: packets and keys wait (bounded), then go out keys first.
    let waiting: { packets: Buffer[]; bytes: number; payload: number } | undefined = { packets: tcp.open(), bytes: 0, payload: 0 };
    let keys: Buffer[] = [];
    let gone = false;
    const flush = (): void => {
      const blocks: Buffer[] = [];
      if (keys.length > 0) blocks.push(decryptionSecretsBlock(Buffer.concat(keys)));
      const packets = waiting?.packets ?? [];
      if (packets.length > 0) blocks.push(enhancedPacketBlocks(packets, this.#clock.next(packets.length)));
      const payload = waiting?.payload ?? 0;
      if (blocks.length > 0) this.#put(Buffer.concat(blocks), payload, keys.length);
      keys = [];
      waiting = undefined;
    };
    const packets = (made: Buffer[], payload: number): void => {
      if (this.#closed) return;
      if (waiting) {
        waiting.packets.push(...made);
        waiting.payload += payload;
        for (const p of made) waiting.bytes += p.length;
        if (waiting.bytes > HANDSHAKE_WAIT_BYTES) flush();
        return;
      }
      if (keys.length > 0) flush();
      this.#put(enhancedPacketBlocks(made, this.#clock.next(made.length)), payload, 0);
    };
    const guard = (what: string, action: () => void): void => {
      try {
        action();
      } catch (error) {
        // Never the proxy's problem: the connection goes on, unrecorded from here.
        if (!gone) this.#log('warn', `${this.path}: ${connection.id}: ${what}: ${(error as Error).message}`);
        gone = true;
      }
    };
    return {
      data: (fromClient, chunk) => guard('packet', () => {
        if (gone) return;
        if (this.#file.refusing && !waiting) {
          tcp.skip(fromClient, chunk.length);
          this.#notRecordedBytes += chunk.length;
          return;
        }
        packets(tcp.data(fromClient, chunk), chunk.length);
      }),
      keylog: (line) => guard('key', () => {
        if (!gone) keys.push(Buffer.from(line));
      }),
      secure: () => guard('handshake', () => {
        if (!gone && waiting) flush();
      }),
      end: (fromClient) => guard('end', () => {
        if (!gone) packets(tcp.fin(fromClient), 0);
      }),
      close: () => guard('close', () => {
        if (gone) return;
        packets([...tcp.fin(true), ...tcp.fin(false)], 0);
        if (waiting || keys.length > 0) flush();
        gone = true;
      }),
    };
  }

  #put(blocks: Buffer, payload: number, keyLines: number): void {
    if (this.#file.append(blocks)) {
      this.#recordedBytes += payload;
      this.#keyLines += keyLines;
    } else {
      this.#notRecordedBytes += payload;
    }
  }
}
