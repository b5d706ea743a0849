// Every size, count and time cap of phonehome, with its unit in its name.
// Options that the contract exposes (--body-limit) override the matching default here.

const MiB = 1024 * 1024;

export const limits = {
  /** Largest body captured for inspection per message (`--body-limit`). */
  defaultBodyLimitBytes: 32 * MiB,
  /** Bytes of a raw (non-HTTP) stream captured per direction, per part; of UDP relayed over SOCKS5 too, per destination. */
  rawStreamCaptureBytes: 4 * MiB,
  /**
   * A raw stream still open (an IMAP session, an MQTT link) is written in parts: a part is cut once
   * its first bytes are this old, or once a side has filled its capture…
   */
  rawStreamPartIntervalMs: 60_000,
  /**
   * …where both sides have been quiet this long. A client waits for its answer between commands,
   * so the pause falls between them; 10 s, so that a slow link stalling mid-upload is not cut.
   */
  rawStreamPartQuietMs: 10_000,
  /** WebSocket and gRPC messages captured per flow (beyond it they are counted), and bytes per WebSocket message (a gRPC message may use the body limit). */
  messagesPerFlow: 10_000,
  webSocketMessageCaptureBytes: 1 * MiB,
  /**
   * A WebSocket or gRPC call still open is written as a part (a flow of its own, inspected at once)
   * when it holds this many messages, when its oldest held message is this old, or when its
   * messages hold this many bytes: findings come while it is open, a kill loses at most one part,
   * and memory does not grow with its age. (A message larger than what a part has left of its
   * budget, twice the body limit, starts the next part, so a gRPC message up to the body limit is
   * kept whole.) Parts of 64 MB (the whole budget, before) took a capture relaying 64 KiB messages
   * to a peak of 360-440 MB RSS, 8 MiB ones to 150 MB, for the same CPU.
   */
  streamPartMessages: 1_000,
  streamPartIntervalMs: 60_000,
  streamPartBytes: 8 * MiB,
  /** How long we wait for a client's first byte inside CONNECT before treating the stream as server-first (SMTP, IMAP, POP3). */
  connectSniffTimeoutMs: 500,
  /** Leaf certificates kept in memory (mitmproxy keeps 100). */
  leafCacheEntries: 1_000,
  /** Leaf validity: under 200 days, back-dated so clock skew on the device does not hurt. */
  leafValidityDays: 180,
  /**
   * Names of a server's certificate copied into the leaf for it (leaf-shape.ts). Large sites name
   * 100-200 (a Google front end: ~130); past this the rest are left out and a device that checks one
   * of them fails as pinned would.
   */
  leafMirroredNames: 500,
  certificateBackdateDays: 2,
  caValidityYears: 10,
  /** `ca info` and the start-up check warn when the CA expires within this many days. */
  caExpiryWarningDays: 60,
  /** A tunnel that completes our handshake and closes without any request within this time is an app rejecting our leaf (certificate pinning). */
  pinnedCloseWindowMs: 2_000,
  /**
   * Silence after which an established relay is closed (a tunnel, a raw stream, a WebSocket, an
   * HTTP/2 connection, an HTTP/1 request waiting for its answer): RFC 5382's floor for a NAT's
   * established-connection timeout, 2 h 4 min, so phonehome never ends a connection a home router
   * would keep. Push channels stay silent for long: FCM's heartbeat stretches to 28 minutes, and
   * long polls and gRPC streams wait minutes for their next event. At 120 s (until 2026-12-06)
   * phonehome cut them every two minutes and the device had to reconnect, which it does not do
   * direct. Devices that vanish without a word are found by TCP keepalive instead.
   */
  socketIdleTimeoutMs: 124 * 60_000,
  /** Silence on a device connection after which TCP keepalive probes start (a phone gone from the Wi-Fi). */
  deviceKeepAliveDelayMs: 60_000,
  /**
   * Largest HTTP/1 head (request line or status line, and headers) we parse from a device, and from
   * a server. Past them phonehome answers for the server (431 or 502), so each is as large as the
   * most generous common peer reads, or the device would fail only through phonehome: Go's servers
   * read 1 MiB of request head (nginx 32 KiB, Node 16 KiB); Chromium and OkHttp read 256 KiB of
   * answer head, curl 300 KiB and Java's HttpClient 384 KiB. Node's default is 16 KiB; until
   * 2026-12-07 both were 64 KiB, and a server's 100 KiB of cookies was a 502 of ours.
   */
  http1MaxRequestHeadBytes: 1024 * 1024,
  /**
   * A chunked body as its sender framed it, held for a relay that has not taken it yet
   * (chunked-framing.ts); past it the body is framed again by Node, as when not followed. The
   * relay takes it as it reads the request or answer head, so this is a bound, not a buffer that fills.
   */
  unclaimedChunkedBodyBytes: 1024 * 1024,
  /**
   * Bytes of a device's HTTP/1 request body that may wait for its server before the device is
   * paused (body-relay.ts). A server reads an upload as it comes, so direct the device's kernel
   * sends it at once. Paused whenever Node's writer said full (past 16 KiB, so at nearly every
   * read of 32 KiB, until its 'drain'), the device's bytes waited in its kernel meanwhile; one that
   * resets its connection then loses them. FFmpeg does (it closes with a TLS session ticket of
   * ours unread): through phonehome a camera's 74 kB snapshot reached its server cut at 64 kB in
   * 5 of 87 uploads on warm captures, where direct 30 of 30 arrived whole (2026-12-08, an idle
   * machine); with this, none. It also spares a pause per read: 6.2 ms of CPU per uploaded MB
   * against 7.1-7.7 (profile-capture.mjs --upload 64, two pairs). Squid reads 512 KiB of a
   * request ahead (client_request_buffer_max_size).
   */
  requestBodyReadAheadBytes: 512 * 1024,
  /**
   * The same for each side of an upgraded connection (a WebSocket, another protocol after a 101):
   * bytes that may wait for the other side before the sending side is paused. Paused at each
   * 64 KiB WebSocket message until its 'drain', the relay took about a tenth more CPU: 17.2-18.4
   * ms per echoed MB with this, against 19.4-20.0 (profile-capture.mjs --ws 64, three runs each,
   * 2026-12-08).
   */
  upgradedReadAheadBytes: 512 * 1024,
  http1MaxResponseHeadBytes: 512 * 1024,
  /** Headers must arrive within this time; bodies may take as long as they need (uploads). */
  headersTimeoutMs: 30_000,
  /**
   * An idle connection on the proxy port (absolute-form requests, which reach many servers) closes
   * after this long between requests. A connection with one destination follows its server's
   * connection instead (makeHttpServer).
   */
  keepAliveTimeoutMs: 15_000,
  /** Upstream connection pool per origin. */
  upstreamMaxSocketsPerHost: 64,
  upstreamMaxFreeSockets: 16,
  /** Servers one HTTP proxy connection keeps an upstream connection for at once (proxy-connection-upstreams.ts). */
  serversPerProxyConnection: 16,
  /** Servers whose last TLS session we keep to resume the next connection (upstream-sessions.ts). */
  upstreamTlsSessions: 1_000,
  /**
   * TLS contexts for servers, one per distinct device ClientHello (upstream-contexts.ts): a lab's
   * devices have a handful of TLS stacks each. Each holds its own copy of the roots with --upstream-ca.
   */
  upstreamTlsContexts: 64,
  /** Connections a client may hold open at once, to keep one device from exhausting descriptors. */
  maxConnections: 4_096,
  /** On stop, how long open flows may take to close after their sockets were destroyed. */
  stopGraceMs: 5_000,
  /** How long an upstream may take to connect and finish its TLS handshake. */
  upstreamConnectTimeoutMs: 15_000,
  /**
   * Servers that answered the probe before a device without h2 and without wanting a client
   * certificate are not probed again for this long (and this many are remembered).
   */
  probeMemoryMs: 10 * 60_000,
  probeMemoryEntries: 10_000,
  /**
   * After a TLS 1.3 handshake with a server that asked for a client certificate, how long we wait
   * for its first word (a session ticket, or the alert that says it required one) before answering
   * the device. Servers send tickets right after the handshake; one that sends none costs this once
   * per probe period. Servers that did not ask are not waited for.
   */
  clientCertificateProbeMs: 250,
  /** (device, host) pairs remembered as trusting our CA, so an unused connection's close is not taken for pinning. */
  trustedPairs: 100_000,
  /** How long a close without a byte waits before it counts as pinning, so a racing sibling connection can show trust first. */
  pinnedTrustGraceMs: 300,
  /** How long we wait for the rest of a TLS ClientHello that arrived in pieces. */
  clientHelloTimeoutMs: 10_000,
  /** HTTP/2 towards devices: streams open at once per connection (less when its server allows fewer). */
  h2MaxConcurrentStreams: 128,
  /**
   * HTTP/2: the largest stream window, HPACK table and connection window one side is given when
   * the other gives more (http2-session-options.ts): what a side that stops reading can leave in
   * our buffers.
   */
  h2MaxStreamWindowBytes: 16 * 1024 * 1024,
  h2MaxHeaderTableBytes: 64 * 1024,
  h2MaxConnectionWindowBytes: 16 * 1024 * 1024,
  /**
   * HTTP/2 header lists, both ways (a request from a device, an answer from a server). Node's
   * HTTP/2 (nghttp2) reads a head of at most nine frames of 16 KiB and ends the whole connection
   * past that (its guard against CONTINUATION floods; Node has no setting for it). A list whose
   * decoded size is under 128 KiB is never longer than that on the wire, so that is the size
   * phonehome announces (SETTINGS_MAX_HEADER_LIST_SIZE): a peer that would send more refuses that
   * one request, as Chromium does, rather than lose its connection. Fields: Node's default of 128
   * made an answer with 200 cookies a broken connection of ours; the size bounds them anyway.
   */
  h2MaxHeaderListBytes: 128 * 1024,
  h2MaxHeaderListPairs: 4_096,
  /** HTTP/2 rapid-reset guard (CVE-2023-44487): streams a client may reset in a burst, refilled at this rate per second. */
  h2ClientResetBurst: 200,
  h2ClientResetsPerSecond: 50,
  /** A file sink that cannot write (a full disk) keeps this many bytes of lines in memory, and retries this often. */
  sinkBacklogBytes: 64 * MiB,
  /** flows.har is built on stop (and by recover, decrypt) only from a flows.jsonl up to this size: the log is the one durable copy; `phonehome har` builds a larger run's HAR when asked. */
  harOnStopMaxLogBytes: 64 * MiB,
  /** Records a fleet node keeps for NATS while it is unreachable; past this they are counted as dropped. */
  fleetQueueBytes: 256 * MiB,
  sinkRetryMs: 2_000,
  /** A console notice (upstream certificate, DNS, refused client, pinned host) is said once per host in this time. */
  noticeIntervalMs: 60_000,
  /** Passthrough hosts learned in one run. */
  learnedPassthroughHosts: 10_000,
  /** DNS: (address, name) pairs the name map keeps; queries forwarded at once (past it, a query is dropped as a busy resolver drops it). */
  dnsNameEntries: 100_000,
  dnsMaxInFlight: 512,
  /** DNS: the largest query datagram taken from a device (EDNS buffers are at most 4096 in practice), and the largest TCP message (its 2-byte length). */
  dnsMaxQueryDatagramBytes: 4_096,
  dnsMaxTcpMessageBytes: 65_535,
  /** DNS: how long the upstream may take before the device gets SERVFAIL; a device's TCP connection idle this long is closed. */
  dnsUpstreamTimeoutMs: 5_000,
  dnsTcpIdleMs: 30_000,
  /**
   * UDP relayed over SOCKS5 (not DNS): a destination silent this long has its flow recorded and its
   * mapping dropped, as a NAT drops a UDP mapping (Linux conntrack keeps a replied one 120 s).
   */
  udpIdleMs: 120_000,
  /**
   * UDP relayed over SOCKS5: destinations one association relays at once (a call's ICE checks
   * reach a few dozen), and how many of them have their bytes captured; the others are counted
   * only, so that an association's memory stays bounded (each captured one may hold
   * `rawStreamCaptureBytes` each way).
   */
  udpDestinationsPerAssociation: 256,
  udpCapturedDestinationsPerAssociation: 16,
  /** Ciphertext of passthrough and opaque flows kept in opaque.pcapng by default (--opaque-limit), for phonehome decrypt. */
  defaultOpaqueLimitBytes: 256 * 1024 * 1024,
  /** HTTP/2 towards devices, beyond the settings above: refused streams and invalid frames a session may send before it is closed. */
  h2MaxSessionRejectedStreams: 100,
  h2MaxSessionInvalidFrames: 1_000,
  /** A socket we refused is drained for at most this long, then destroyed. */
  refusedSocketDrainMs: 5_000,
  /** Characters of text we put into a header of our own (an error reason). */
  replyHeaderValueChars: 200,
  /** Bytes of flows waiting for the inspection worker before new ones are passed over (said, never silent). */
  inspectionBacklogBytes: 256 * MiB,
  /** The inspection worker's young generation (V8's nursery): its idle memory, against how often it collects. */
  inspectionWorkerYoungGenerationMb: 8,
  /** Garbage is collected each time flows carrying this many body and message bytes were let go of (main thread, counted over flows), and after a worker batch carrying this many (inspection worker): peak memory. */
  collectGarbageAfterFlowBytes: 16 * MiB,
  collectGarbageAfterBatchBytes: 4 * MiB,
  /** summary.json's tables: distinct DNS names counted exactly (past it "at least"), hosts and devices listed per TLS version, clients and apps per client in `devices`. */
  summaryDnsNames: 100_000,
  summaryListed: 1_000,
  summaryDevices: 1_000,
  summaryAppsPerDevice: 200,
  /** Pixels the report's thumbnailer may decode for one photo (a 100-megapixel bomb is refused, not decoded). */
  thumbnailInputPixels: 100_000_000,
  /** The terminal UI: QR codes kept drawn (one per configured phone), and apps the `a` key cycles through. */
  tuiQrCodes: 64,
  tuiAppsKept: 500,
  /** Budgets for decoding one message: hitting one is recorded on the flow, never a crash or a spike. */
  decode: {
    /** Total bytes all decoders of one message may produce. */
    totalDecodedBytes: 128 * MiB,
    /** One layer may produce at most max(1 MiB, min(64 MiB, 200 x its input)). */
    layerMinOutputBytes: 1 * MiB,
    layerMaxOutputBytes: 64 * MiB,
    layerExpansionRatio: 200,
    /** Decode steps below the raw message. */
    maxDepth: 6,
    /** Layers per message (a JSON array of 100,000 base64 strings must not make 100,000 layers). */
    maxLayers: 5_000,
    /** Wall-clock time for decoding and detecting one message. */
    timeMs: 2_000,
  },
} as const;
