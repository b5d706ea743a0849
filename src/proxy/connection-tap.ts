// Observers of the bytes a connection carries, for capture files (opaque.pcapng, --pcap): the proxy
// tells an observer who talks to whom, and hands it each chunk as it passes. An observer only
// looks: it must not keep a chunk past the call (it copies what it needs), must not throw, and
// never changes what is relayed. When no observer is given, nothing is attached at all.

import type { Endpoint } from '../model/flow.js';

export interface TappedConnection {
  /** The flow id of the connection (tunnel or decrypted connection). */
  readonly id: string;
  /** The device. */
  readonly client: Endpoint;
  /** The server end: the address and port actually connected when there is one. */
  readonly server: { readonly ip: string; readonly port: number };
  readonly sni?: string;
}

export interface ConnectionTap {
  /** Bytes one side sent, as they pass. */
  data(fromClient: boolean, chunk: Buffer): void;
  /** One side ended its sending (a FIN). */
  end(fromClient: boolean): void;
  /** The connection is gone (said once, last). */
  close(): void;
}

/** The device side of a TLS connection phonehome terminates: its ciphertext and its keys. */
export interface TlsConnectionTap extends ConnectionTap {
  /** One NSS key log line of this connection (newline included). */
  keylog(line: Buffer): void;
  /** The handshake is done: every key the records so far need has been given. */
  secure(): void;
}

/** Opaque tunnels (passthrough): the ciphertext between device and server, relayed untouched. */
export type TunnelObserver = (connection: TappedConnection) => ConnectionTap | undefined;

/** Decrypted connections: the TLS bytes between the device and phonehome. */
export type DeviceTlsObserver = (connection: TappedConnection) => TlsConnectionTap | undefined;
