// Every size, count and time cap of phonehome, with its unit in its name.
// Options that the contract exposes (--body-limit) override the matching default here.

const MiB = 1024 * 1024;

export const limits = {
  /** Largest body captured for inspection per message (`--body-limit`). */
  defaultBodyLimitBytes: 32 * MiB,
  /** Bytes of a raw (non-HTTP) stream captured per direction. */
  rawStreamCaptureBytes: 4 * MiB,
  /** WebSocket messages captured per connection, and bytes per message. */
  webSocketMessagesPerFlow: 10_000,
  webSocketMessageCaptureBytes: 1 * MiB,
  /** How long we wait for a client's first byte inside CONNECT before treating the stream as server-first (SMTP, IMAP, POP3). */
  connectSniffTimeoutMs: 500,
  /** Leaf certificates kept in memory (mitmproxy keeps 100). */
  leafCacheEntries: 1_000,
  /** Leaf validity: under 200 days, back-dated so clock skew on the device does not hurt. */
  leafValidityDays: 180,
  certificateBackdateDays: 2,
  caValidityYears: 10,
  /** `ca info` and the start-up check warn when the CA expires within this many days. */
  caExpiryWarningDays: 60,
  /** A tunnel that completes our handshake and closes without any request within this time is an app rejecting our leaf (certificate pinning). */
  pinnedCloseWindowMs: 2_000,
  /** Idle time before a client or tunnel socket is closed. */
  socketIdleTimeoutMs: 120_000,
  /** Headers must arrive within this time; bodies may take as long as they need (uploads). */
  headersTimeoutMs: 30_000,
  keepAliveTimeoutMs: 15_000,
  /** Upstream connection pool per origin. */
  upstreamMaxSocketsPerHost: 64,
  upstreamMaxFreeSockets: 16,
  /** Connections a client may hold open at once, to keep one device from exhausting descriptors. */
  maxConnections: 4_096,
  /** On stop, how long open flows may take to close after their sockets were destroyed. */
  stopGraceMs: 5_000,
  /** Passthrough hosts learned in one run. */
  learnedPassthroughHosts: 10_000,
} as const;
