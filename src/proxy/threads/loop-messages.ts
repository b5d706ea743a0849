// What the primary and its proxy loops (cluster workers, --threads) say to each other over the
// IPC channel. The channel uses Node's 'advanced' serialization (the structured clone of V8), so
// a flow's Buffers cross as bytes, without base64 or JSON, and arrive as Buffers.

import type { IssuedLeaf } from '../ca/certificate-authority.js';
import type { LeafShape } from '../ca/leaf-shape.js';
import type { ClientCertificate, UpstreamTlsMin } from '../upstream.js';
import type { LearnedHost } from '../../model/learned-host.js';
import type { DnsAnswer, Flow } from '../../model/flow.js';
import type { ClientRefusal, LogEntry, TlsFailure } from '../../flow/events.js';
import type { TappedConnection } from '../connection-tap.js';

/** Everything a proxy loop needs to run the same proxy as the primary would: plain data only. */
export interface LoopConfig {
  /** 1-based; said in the primary's lines about the loop and counted per loop in summary.json. */
  readonly loop: number;
  readonly listenHost: string;
  readonly listenPort: number;
  readonly transparent?: { readonly host: string; readonly port: number };
  /** The CA folder: the primary has loaded or created the CA before any loop starts. */
  readonly caDir: string;
  readonly bodyLimitBytes: number;
  readonly upstreamCaPems: readonly string[];
  readonly insecureUpstream: boolean;
  readonly upstreamTlsMin?: UpstreamTlsMin;
  readonly clientCertificates: ReadonlyArray<readonly [string, ClientCertificate]>;
  readonly passthroughPatterns: readonly string[];
  /** Hosts learned before this loop started (a loop that replaces one that died). */
  readonly learned: readonly LearnedHost[];
  readonly allowClient: readonly string[];
  readonly proxyAuth?: string;
  /** Which of the primary's observers exist: the loop forwards only what someone records. */
  readonly keylog: boolean;
  readonly opaque: boolean;
  readonly deviceTls: boolean;
  /** Flows to bare addresses are named from the run's DNS answers (the primary's listeners, any loop's SOCKS5 UDP). */
  readonly dnsNames: boolean;
}

export type TapKind = 'opaque' | 'device-tls';

/** Primary → loop. */
export type ToLoop =
  | { readonly t: 'start'; readonly config: LoopConfig }
  | { readonly t: 'leaf'; readonly shape: LeafShape; readonly leaf: IssuedLeaf }
  | { readonly t: 'learned'; readonly entry: LearnedHost }
  | { readonly t: 'dns'; readonly name: string; readonly answers: readonly DnsAnswer[]; readonly atMs: number }
  /** The primary records nothing (more) of this tap: stop sending its bytes. */
  | { readonly t: 'tap-off'; readonly key: number }
  | { readonly t: 'stop' };

export type TapOp =
  | { readonly op: 'data'; readonly fromClient: boolean; readonly chunk: Buffer }
  | { readonly op: 'end'; readonly fromClient: boolean }
  | { readonly op: 'keylog'; readonly line: Buffer }
  | { readonly op: 'secure' }
  | { readonly op: 'close' };

/** Loop → primary. */
export type FromLoop =
  /** The loop's module is loaded and listens for messages (one sent before would be lost). */
  | { readonly t: 'ready' }
  | { readonly t: 'listening'; readonly port: number; readonly transparentPort: number }
  | { readonly t: 'start-failed'; readonly message: string; readonly code?: string; readonly listener?: string }
  | { readonly t: 'flow'; readonly flow: Flow; readonly tunnel: boolean }
  | { readonly t: 'tls-failed'; readonly failure: TlsFailure }
  | { readonly t: 'refused'; readonly refusal: ClientRefusal }
  | { readonly t: 'log'; readonly entry: LogEntry }
  | { readonly t: 'leaf'; readonly shape: LeafShape; readonly leaf: IssuedLeaf }
  | { readonly t: 'learned'; readonly entry: LearnedHost }
  | { readonly t: 'keylog'; readonly line: Buffer }
  | { readonly t: 'tap-open'; readonly key: number; readonly kind: TapKind; readonly connection: TappedConnection }
  | ({ readonly t: 'tap'; readonly key: number } & TapOp)
  /** Sent last, after every flow of the loop: the primary may close the sinks once each loop said it. */
  | { readonly t: 'stopped'; readonly leavesIssued: number; readonly tapBytesDropped: number; readonly flowsCut: number };
