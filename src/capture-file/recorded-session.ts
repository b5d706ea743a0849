// One TCP connection read back from a capture file (a pcap/pcapng of any origin, or phonehome's own
// opaque.pcapng): who talked to whom, what TLS said, and the application bytes each side sent, in
// the order they passed — decrypted where keys were at hand. The capture-file reader makes these;
// the offline protocol layers turn each into the same Flows a live capture records.

import type { Endpoint } from '../model/flow.js';

export interface RecordedChunk {
  readonly fromClient: boolean;
  /** When the segment that completed this chunk was captured (ISO 8601). */
  readonly time: string;
  readonly data: Buffer;
}

export interface RecordedTls {
  /** The ClientHello's server name, when there was one. */
  readonly sni?: string;
  /** The protocol the server chose by ALPN (`h2`, `http/1.1`), when it did. */
  readonly alpn?: string;
  /** `TLSv1.2`, `TLSv1.3`… when the handshake said. */
  readonly version?: string;
  readonly cipher?: string;
  /** True when keys opened the session: `chunks` then hold plaintext; otherwise they are empty. */
  readonly decrypted: boolean;
}

export interface RecordedSession {
  /** The side that opened the connection (SYN), and the side it reached. */
  readonly client: Endpoint;
  readonly server: Endpoint;
  readonly startedAt: string;
  readonly endedAt: string;
  /** Present when the connection carried TLS. */
  readonly tls?: RecordedTls;
  /** Application bytes in the order they passed, each chunk from one side (plaintext, or decrypted TLS). */
  readonly chunks: readonly RecordedChunk[];
  /** Bytes each way on the wire (TCP payload, so ciphertext for TLS), whether or not they were opened. */
  readonly bytesUp: number;
  readonly bytesDown: number;
  /** Facts worth keeping on the flows: `pcap:gap` (bytes missing from the capture), `tls:no-keys`… */
  readonly tags: readonly string[];
}
