// opaque.pcapng: the ciphertext of every passthrough tunnel (configured, learned from pinning,
// client certificate), kept as it passes so `decrypt` can open it once keys are found (Frida,
// PCAPdroid…). Each tunnel is a TCP connection with the device's real address and port and the
// server address and port actually connected, framed by SyntheticTcp so Wireshark reassembles it.
// One section per run session. Bounded by --opaque-limit: once this session's blocks would pass
// it, nothing more is written and the bytes are counted instead (so are those a full disk
// refused); the summary's coverage.opaque says both.

import type { ConnectionTap, TappedConnection, TunnelObserver } from '../proxy/connection-tap.js';
import { enhancedPacketBlocks } from './pcapng-blocks.js';
import { PcapngFile, type PcapngFileEvents } from './pcapng-file.js';
import { PacketClock } from './packet-clock.js';
import { SyntheticTcp } from './synthetic-tcp.js';

/** summary.json's coverage.opaque. */
export interface OpaqueStats {
  /** Tunnel bytes (both directions, TCP payload) in the file. */
  readonly recordedBytes: number;
  /** Tunnel bytes that passed but are not in the file: past --opaque-limit, or refused by the disk. */
  readonly notRecordedBytes: number;
  /** Tunnels recorded (whole or in part). */
  readonly sessions: number;
  /** Set when the limit was reached. */
  readonly limitReached?: true;
  /** The last write error, when the disk refused. */
  readonly error?: string;
}

export type RecorderLog = (level: 'info' | 'warn' | 'error', message: string) => void;

export class OpaqueRecorder {
  readonly path: string;
  readonly #file: PcapngFile;
  readonly #limitBytes: number;
  readonly #log: RecorderLog;
  readonly #clock = new PacketClock();
  #recordedBytes = 0;
  #notRecordedBytes = 0;
  #sessions = 0;
  #limitReached = false;
  #closed = false;

  /** Opens `file` (a new section); throws when it cannot be written. `limitBytes` > 0. */
  constructor(file: string, limitBytes: number, log: RecorderLog, options: { application?: string; retryMs?: number } = {}) {
    if (!(limitBytes > 0)) throw new Error(`--opaque-limit ${limitBytes}: no recorder is made for 0 (opaque.pcapng is not written)`);
    this.path = file;
    this.#limitBytes = limitBytes;
    this.#log = log;
    const events: PcapngFileEvents = { failed: (m) => log('error', m), recovered: (m) => log('info', m) };
    this.#file = new PcapngFile(file, events, { application: options.application ?? 'phonehome', comment: 'phonehome: passthrough tunnels (ciphertext)', ...(options.retryMs !== undefined ? { retryMs: options.retryMs } : {}) });
  }

  /** The observer the proxy takes (InterceptingProxyOptions.opaqueObserver). */
  readonly observe: TunnelObserver = (connection) => (this.#closed ? undefined : this.#tap(connection));

  get stats(): OpaqueStats {
    const error = this.#file.stats.error;
    return { recordedBytes: this.#recordedBytes, notRecordedBytes: this.#notRecordedBytes, sessions: this.#sessions, ...(this.#limitReached ? { limitReached: true as const } : {}), ...(error ? { error } : {}) };
  }

  close(): OpaqueStats {
    this.#closed = true;
    this.#file.close();
    return this.stats;
  }

  #tap(connection: TappedConnection): ConnectionTap {
    let tcp: SyntheticTcp | undefined;
    try {
      tcp = new SyntheticTcp(connection.client, connection.server);
    } catch (error) {
      this.#log('warn', `${this.path}: tunnel ${connection.id} is not recorded: ${(error as Error).message}`);
    }
    let opened = false;
    let recorded = false;
    const open = (): boolean => {
      if (!opened && tcp) {
        opened = true;
        if (this.#writable() && this.#put(tcp.open(), 0)) {
          recorded = true;
          this.#sessions++;
        }
      }
      return recorded;
    };
    const guarded = <A extends unknown[]>(action: (...args: A) => void) => (...args: A): void => {
      try {
        action(...args);
      } catch (error) {
        // Never the proxy's problem: the tunnel goes on, unrecorded from here.
        this.#log('warn', `${this.path}: tunnel ${connection.id}: ${(error as Error).message}`);
        tcp = undefined;
      }
    };
    return {
      data: guarded((fromClient: boolean, chunk: Buffer) => {
        // A tunnel whose handshake could not be written stays out (its bytes are counted): a
        // stream without its SYN is harder for readers than no stream.
        if (!open() || !tcp || !this.#writable()) {
          // The sequence numbers go on, so readers see the gap rather than joined-up bytes.
          tcp?.skip(fromClient, chunk.length);
          this.#notRecordedBytes += chunk.length;
          return;
        }
        this.#put(tcp.data(fromClient, chunk), chunk.length);
      }),
      end: guarded((fromClient: boolean) => {
        if (recorded && tcp && this.#writable()) this.#put(tcp.fin(fromClient), 0);
      }),
      close: guarded(() => {
        if (recorded && tcp && this.#writable()) this.#put([...tcp.fin(true), ...tcp.fin(false)], 0);
      }),
    };
  }

  /** Not closed, not past the limit, and the disk is not refusing right now: worth making packets. */
  #writable(): boolean {
    return !this.#closed && !this.#limitReached && !this.#file.refusing;
  }

  /** Writes packets carrying `payload` bytes, or counts them: past the limit, or refused by the disk. */
  #put(packets: Buffer[], payload: number): boolean {
    if (packets.length === 0) return true;
    const blocks = enhancedPacketBlocks(packets, this.#clock.next(packets.length));
    if (this.#file.stats.bytesWritten + blocks.length > this.#limitBytes) {
      this.#limitReached = true;
      this.#notRecordedBytes += payload;
      this.#log('warn', `${this.path}: --opaque-limit of ${this.#limitBytes} bytes reached; tunnel bytes from now on are counted, not recorded`);
      return false;
    }
    if (!this.#file.append(blocks)) {
      this.#notRecordedBytes += payload;
      return false;
    }
    this.#recordedBytes += payload;
    return true;
  }
}
