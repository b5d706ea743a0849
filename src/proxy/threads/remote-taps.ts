// Connection taps across the IPC channel (--threads). The files that record ciphertext
// (opaque.pcapng) and the device side of decrypted connections (--pcap) are written by the primary
// alone; a proxy loop hands it each tapped connection's bytes as they pass. An observer may only
// look and must never slow the relay, so the bytes not yet written to the channel are bounded:
// past the bound a tap's bytes are dropped (and counted), never waited for.

import type { ConnectionTap, DeviceTlsObserver, TappedConnection, TlsConnectionTap, TunnelObserver } from '../connection-tap.js';
import type { FromLoop, TapKind, TapOp } from './loop-messages.js';

/** Bytes of tapped traffic a loop lets wait in its channel before it drops more. */
export const tapBacklogBytes = 32 * 1024 * 1024;

/** The loop's side: observers that forward to the primary. */
export class TapSender {
  readonly #send: (message: FromLoop, sent?: () => void) => void;
  readonly #off = new Set<number>();
  #nextKey = 1;
  #inFlight = 0;
  dropped = 0;

  constructor(send: (message: FromLoop, sent?: () => void) => void) {
    this.#send = send;
  }

  /** The primary records nothing (more) of this tap. */
  off(key: number): void {
    this.#off.add(key);
  }

  tunnelObserver(): TunnelObserver {
    return (connection) => this.#open('opaque', connection);
  }

  deviceTlsObserver(): DeviceTlsObserver {
    return (connection) => this.#open('device-tls', connection);
  }

  #open(kind: TapKind, connection: TappedConnection): TlsConnectionTap {
    const key = this.#nextKey++;
    this.#send({ t: 'tap-open', key, kind, connection: { id: connection.id, client: connection.client, server: connection.server, ...(connection.sni ? { sni: connection.sni } : {}) } });
    const op = (message: TapOp): void => {
      if (this.#off.has(key)) return;
      this.#send({ t: 'tap', key, ...message });
    };
    const tap: TlsConnectionTap = {
      data: (fromClient, chunk) => {
        if (this.#off.has(key)) return;
        if (this.#inFlight + chunk.length > tapBacklogBytes) {
          this.dropped += chunk.length;
          return;
        }
        this.#inFlight += chunk.length;
        // Serialized at once (the channel copies it), so the chunk is not kept past the call.
        this.#send({ t: 'tap', key, op: 'data', fromClient, chunk }, () => { this.#inFlight -= chunk.length; });
      },
      end: (fromClient) => op({ op: 'end', fromClient }),
      keylog: (line) => op({ op: 'keylog', line }),
      secure: () => op({ op: 'secure' }),
      close: () => {
        op({ op: 'close' });
        this.#off.delete(key);
      },
    };
    return tap;
  }
}

/** The primary's side: the real recorders' taps, per loop, by the loop's key. */
export class TapReceiver {
  readonly #observers: { readonly opaque?: TunnelObserver; readonly 'device-tls'?: DeviceTlsObserver };
  readonly #taps = new Map<number, ConnectionTap | TlsConnectionTap>();

  constructor(observers: { readonly opaque?: TunnelObserver; readonly 'device-tls'?: DeviceTlsObserver }) {
    this.#observers = observers;
  }

  /** Returns false when nobody records this connection (the loop is then told to stop sending). */
  open(key: number, kind: TapKind, connection: TappedConnection): boolean {
    const tap = this.#observers[kind]?.(connection);
    if (!tap) return false;
    this.#taps.set(key, tap);
    return true;
  }

  /** Returns false when the key is not (or no longer) recorded. */
  apply(key: number, message: TapOp): boolean {
    const tap = this.#taps.get(key);
    if (!tap) return false;
    switch (message.op) {
      case 'data': tap.data(message.fromClient, message.chunk); break;
      case 'end': tap.end(message.fromClient); break;
      case 'keylog': if ('keylog' in tap) tap.keylog(message.line); break;
      case 'secure': if ('secure' in tap) tap.secure(); break;
      case 'close': tap.close(); this.#taps.delete(key); break;
    }
    return true;
  }

  /** The loop is gone: its connections are over, as far as the files can tell. */
  closeAll(): void {
    for (const tap of this.#taps.values()) tap.close();
    this.#taps.clear();
  }
}
