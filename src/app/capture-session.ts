// One run of the proxy: CA, engine and inspection pipeline, with the sinks (the run's own: summary,
// files, run record, report, fleet; the command's: console or terminal UI) on the event bus;
// started by `capture` (and the UI), stopped by a signal or --duration. Stopping waits for open
// flows and inspection, then closes the sinks in their order, so every file is whole.

import fs from 'node:fs';
import path from 'node:path';
import type net from 'node:net';
import { EntityLookup } from '../enrich/entity/entity-lookup.js';
import { DestinationLookup } from '../enrich/destination-lookup.js';
import { EventBus } from '../flow/events.js';
import type { Detector } from '../inspect/detect/detector.js';
import { CertificateAuthority } from '../proxy/ca/certificate-authority.js';
import { InterceptingProxy, type InterceptingProxyOptions } from '../proxy/intercepting-proxy.js';
import { ProxyLoops, type ProxyEngine } from '../proxy/threads/proxy-loops.js';
import { continueFlowNumbersAfter } from '../model/flow.js';
import { FINDINGS_FILE, FLOW_LOG, OPAQUE_FILE, RUN_FILE } from '../run/layout.js';
import { prepareRunFolder, type PreparedRun } from '../run/run-folder.js';
import { writeRunRecord, type RunRecord } from '../run/run-record.js';
import { replayRun } from '../run/recover.js';
import { KeylogFileSink } from '../sinks/keylog-file-sink.js';
import type { SummaryCollector } from '../sinks/summary.js';
import { SummarySink } from '../sinks/summary-sink.js';
import { RunFilesSink } from '../sinks/run-files-sink.js';
import { RunRecordSink } from '../sinks/run-record-sink.js';
import { ReportSink } from '../sinks/report-sink.js';
import { SinkRegistry } from '../sinks/sink-registry.js';
import type { RunEnding } from '../sinks/sink.js';
import { ConfigError, describeError } from '../util/errors.js';
import type { CaptureOptions } from './options.js';
import { FindingPipeline } from './finding-pipeline.js';
import type { FleetLink } from '../fleet/fleet-link.js';
import { toolVersion } from '../util/install-paths.js';
import { DnsNames } from '../proxy/dns/dns-names.js';
import { DnsListener } from '../proxy/dns/dns-listener.js';
import { systemResolver } from '../proxy/dns/dns-upstream.js';
import { WireguardEndpoint } from '../proxy/modes/wireguard/wireguard-endpoint.js';
import { loadOrCreateWireguardKeys, rememberEndpoint, type WireguardKeys } from '../proxy/modes/wireguard/wireguard-keys.js';
import { wireguardInfo } from '../proxy/modes/wireguard/wireguard-config.js';
import type { WireguardInfo } from '../model/wireguard-info.js';
import { lanAddresses } from '../sinks/console-sink.js';
import { OpaqueRecorder } from '../capture-file/opaque-recorder.js';
import { DeviceTlsRecorder } from '../capture-file/device-tls-recorder.js';
import { withoutNurseryGrowth } from '../util/young-generation.js';
import { collectGarbage } from '../util/collect-garbage.js';
import { startOldGenerationPacer, type OldGenerationPacer } from '../util/old-generation-pacer.js';
import { socketPeekAvailable } from '../proxy/socket-peek.js';

export interface SessionHooks {
  /** Detectors to run in the proxy's thread (tests); by default the registry runs in a worker. */
  readonly detectors?: readonly Detector[];
  /** Resolver override for upstream names (tests, benchmarks, the demo). */
  readonly lookup?: net.LookupFunction;
  /** Set by start(): the --out folder, made ready. */
  readonly prepared?: PreparedRun;
  /** Set by start(): the link to the fleet (--publish). */
  readonly fleet?: FleetLink;
  /** Set by start(): the WireGuard keys (--wireguard). */
  readonly wireguardKeys?: WireguardKeys;
  /** Starts the old-generation pacer (tests: a stand-in, e.g. one that finds no addon). */
  readonly startPacer?: () => OldGenerationPacer | undefined;
  /** Whether a device's first bytes can be peeked (tests: a stand-in that finds no addon). */
  readonly socketPeekAvailable?: () => boolean;
}

export interface StopResult {
  /** 0 done, 3 findings at or above --fail-on, 2 evidence could not be written (`failure` says why). */
  readonly exitCode: 0 | 2 | 3;
  readonly findings: number;
  readonly outDir?: string;
  /** One line: what could not be written, when something could not. */
  readonly failure?: string;
}

export class CaptureSession {
  readonly bus = new EventBus();
  readonly options: CaptureOptions;
  readonly ca: CertificateAuthority;
  /** Every sink of the run; a command adds its own (console, terminal UI) once the session has started. */
  readonly sinks = new SinkRegistry(this.bus);
  readonly #summary: SummarySink;
  /** Warnings of the start (CA expiry, --keylog, --insecure-upstream), for the front end to show. */
  readonly startupWarnings: string[] = [];
  readonly #proxy: ProxyEngine;
  readonly #pipeline: FindingPipeline;
  readonly #keylog?: KeylogFileSink;
  readonly #startedAt = new Date().toISOString();
  #files?: RunFilesSink;
  #run?: RunRecord;
  #stopping?: Promise<StopResult>;
  #timer?: NodeJS.Timeout;
  readonly #notes: string[] = [];
  /**
   * What the DNS answers of this run told the devices, from its `dns` flows: names address-only
   * flows. Always kept: SOCKS5's UDP ASSOCIATE carries DNS on the proxy port, --dns or not.
   */
  readonly #names = new DnsNames();
  readonly #wireguardKeys: WireguardKeys | undefined;
  #wireguard?: WireguardEndpoint;
  /** --wireguard: where the phones connect and their configurations, once the endpoint runs. */
  wireguard?: WireguardInfo;
  readonly #dnsListeners: DnsListener[] = [];
  /** opaque.pcapng: the ciphertext of passthrough tunnels, for `decrypt` (--opaque-limit). */
  #opaque?: OpaqueRecorder;
  /** --pcap: the device side of decrypted connections, with their keys. */
  #devicePcap?: DeviceTlsRecorder;
  /** Starts collecting the proxy thread's old generation before V8's limit (util/old-generation-pacer.ts); none where its addon is not built. */
  #pacer?: OldGenerationPacer;
  #resolveStopped!: (result: StopResult) => void;
  readonly #stoppedPromise = new Promise<StopResult>((resolve) => { this.#resolveStopped = resolve; });

  private constructor(options: CaptureOptions, ca: CertificateAuthority, hooks: SessionHooks) {
    this.options = options;
    this.ca = ca;
    if (options.keylogFile) this.#keylog = new KeylogFileSink(options.keylogFile, (message) => this.bus.log('error', message));
    const keylog = this.#keylog;
    this.#wireguardKeys = hooks.wireguardKeys;
    this.bus.on('flow:end', (flow) => this.#names.learnFrom(flow));
    // With --wireguard the tunnel's TCP is redirected to a transparent listener on our tunnel
    // address (REDIRECT delivers to the address of the interface it came in on), unless
    // --transparent already listens on every address.
    const transparent = options.transparent ?? (hooks.wireguardKeys ? { host: hooks.wireguardKeys.gateway, port: 0 } : undefined);
    const remote = hooks.fleet?.remote;
    this.#pipeline = new FindingPipeline(this.bus, { rules: options.rules, ...(hooks.fleet ? { node: hooks.fleet.options.node } : {}), ...(remote ? { remote } : {}), ...(hooks.detectors ? { detectors: hooks.detectors } : {}), ...(options.canariesFile ? { canariesFile: options.canariesFile } : {}), ...(hooks.prepared ? { lastFindingNumber: hooks.prepared.lastFindingNumber } : {}) });
    const proxyOptions: InterceptingProxyOptions = {
      listenHost: options.listenHost, listenPort: options.listenPort, ca, events: this.bus,
      bodyLimitBytes: options.bodyLimitBytes, upstreamCaPems: options.upstreamCaPems, insecureUpstream: options.insecureUpstream,
      clientCertificates: options.clientCertificates, ...(options.upstreamTlsMin ? { upstreamTlsMin: options.upstreamTlsMin } : {}),
      passthrough: options.passthrough, access: options.access, ...(options.auth ? { auth: options.auth } : {}),
      ...(hooks.lookup ? { lookup: hooks.lookup } : {}),
      ...(keylog ? { keylog: (line: Buffer) => keylog.write(line) } : {}),
      ...(transparent ? { transparent } : {}),
      ...(hooks.wireguardKeys ? { peerOf: (ip: string) => this.#wireguard?.peerOf(ip), wireguard: () => this.wireguard } : {}),
      nameOf: (address: string, atMs: number) => this.#names.nameOf(address, atMs),
      // The files open once the run folder is ready; until then (and after stop) nothing is tapped.
      ...(options.outDir && options.opaqueLimitBytes > 0 ? { opaqueObserver: (connection) => this.#opaque?.observe(connection) } : {}),
      ...(options.pcapFile ? { deviceTlsObserver: (connection) => this.#devicePcap?.observe(connection) } : {}),
    };
    // --threads N: N proxy loops in other processes; one (and a test's resolver) runs here, as always.
    const loops = options.threads > 1 && !hooks.lookup ? new ProxyLoops(proxyOptions, options.threads, options.proxyAuthText) : undefined;
    this.#proxy = loops ?? new InterceptingProxy(proxyOptions);
    this.#summary = new SummarySink({
      ...(options.outDir ? { outDir: options.outDir } : {}), ...(options.failOn ? { failOn: options.failOn } : {}),
      context: () => ({ version: toolVersion, startedAt: this.#firstStart, options: options.record, insecureUpstream: options.insecureUpstream, passthroughConfigured: options.passthrough.patterns }),
      learnedPassthrough: () => options.passthrough.learned(),
    });
    this.sinks.add(this.#summary);
    if (hooks.fleet) this.sinks.add(hooks.fleet);
    if (loops) this.sinks.add(loops.sink());
  }

  /**
   * Creates the output folder and files, loads or creates the CA, and starts listening. Start-up
   * (the offline tables, the CA, the worker) does not grow the young generation: an idle capture
   * kept what it grew to (util/young-generation.ts).
   */
  static start(options: CaptureOptions, hooks: SessionHooks = {}): Promise<CaptureSession> {
    return withoutNurseryGrowth(() => CaptureSession.#start(options, hooks));
  }

  static async #start(options: CaptureOptions, hooks: SessionHooks): Promise<CaptureSession> {
    const ca = CertificateAuthority.loadOrCreate(options.caDir);
    // Countries, networks and companies come from offline databases: loaded once, before the first
    // device connects, so no lookup ever waits.
    EntityLookup.configure(options.entitiesFile);
    await Promise.all([DestinationLookup.shared(), EntityLookup.shared()]);
    // Their loading's garbage is dropped at once rather than held by an idle capture.
    collectGarbage();
    const existedBefore = options.outDir !== undefined && fs.existsSync(options.outDir);
    // The bus first: unreachable NATS is a one-line error before anything is written.
    const fleetWarnings: string[] = [];
    const fleet = options.fleet ? await (await import('../fleet/fleet-link.js')).FleetLink.open(options.fleet, (message) => fleetWarnings.push(message)) : undefined;
    const wireguardKeys = options.wireguard ? loadOrCreateWireguardKeys(options.caDir, options.wireguard.clients) : undefined;
    const prepared = options.outDir ? await prepareRunFolder(options.outDir, { append: options.append, force: options.force }) : undefined;
    if (prepared) continueFlowNumbersAfter(prepared.lastFlowNumber);
    const session = new CaptureSession(options, ca, { ...hooks, ...(prepared ? { prepared } : {}), ...(fleet ? { fleet } : {}), ...(wireguardKeys ? { wireguardKeys } : {}) });
    session.startupWarnings.push(...fleetWarnings);
    fleet?.onLog((message) => session.bus.log('warn', message));
    session.startupWarnings.push(...(prepared?.notices ?? []));
    if (options.outDir && prepared) await session.#openFiles(options.outDir, prepared);
    // --pcap is a file of its own, written with or without a run folder.
    if (options.pcapFile) {
      try {
        session.#devicePcap = new DeviceTlsRecorder(options.pcapFile, (level, message) => session.bus.log(level, message));
      } catch (error) {
        session.#abandonFiles(existedBefore);
        throw new ConfigError(`--pcap ${options.pcapFile}: ${describeError(error)}`);
      }
    }
    try {
      await session.#startWireguard();
      await session.#proxy.start();
      await session.#startDns();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      await session.#stopNetwork();
      await session.#proxy.stop();
      session.#abandonFiles(existedBefore);
      session.#keylog?.close();
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        const listener = (error as { listener?: string }).listener;
        const transparent = listener === 'transparent' && options.transparent;
        const option = listener === 'dns' ? String((error as { option?: string }).option) : transparent ? `--transparent ${transparent.host}:${transparent.port}` : listener === 'transparent' && options.wireguard ? `--wireguard (the tunnel's listener on ${wireguardKeys?.gateway})` : `--listen ${options.listenHost}:${options.listenPort}`;
        throw new ConfigError(`${option}: ${code === 'EADDRINUSE' ? 'the port is in use' : code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : 'no such address on this machine'}`);
      }
      throw error;
    }
    // Its first look comes a few seconds from now, after the start-up collection below.
    session.#pacer = (hooks.startPacer ?? startOldGenerationPacer)();
    // Kept as well as logged: nobody listens to the bus yet, and these must reach the user.
    session.startupWarnings.push(...ca.info().warnings);
    // Said at every start: a Node upgraded after install leaves the addon built for the old one.
    if (!session.#pacer) session.startupWarnings.push(`no old-generation pacer: the incremental-collection addon is not built for this Node (${process.version}), so V8 collects on its own schedule and memory rises and falls more; \`node native/build.mjs\` in phonehome's folder builds it`);
    if (process.platform === 'linux' && !(hooks.socketPeekAvailable ?? socketPeekAvailable)()) session.startupWarnings.push(`ClientHellos are read in JavaScript: the socket-peek addon is not built for this Node (${process.version}), so uploads through TLS take about a third more CPU; \`node native/build.mjs\` in phonehome's folder builds it`);
    if (options.keylogFile) session.startupWarnings.push(`TLS keys of both sides are appended to ${options.keylogFile} (--keylog): anyone with that file can decrypt this run's traffic`);
    if (options.insecureUpstream) session.startupWarnings.push('upstream certificate verification is OFF (--insecure-upstream): servers are not authenticated');
    for (const warning of session.startupWarnings) session.bus.log('warn', warning);
    if (options.durationMs !== undefined) {
      session.#timer = setTimeout(() => void session.stop(), options.durationMs);
    }
    // And the garbage of starting the rest (proxy, files, worker): with the old generation's floor
    // the installed command sets (bin/phonehome.js), V8 would hold it until traffic made more.
    collectGarbage();
    return session;
  }

  get port(): number {
    return this.#proxy.port;
  }

  /** The pacer of the proxy thread's old generation, where its addon is built. */
  get oldGenerationPacer(): OldGenerationPacer | undefined {
    return this.#pacer;
  }

  /**
   * --wireguard: the endpoint and its interface come up before the proxy listens (the tunnel's
   * transparent listener binds to the tunnel address). The phones' endpoint address is chosen
   * first, so the tunnel's own address is never offered as the machine's LAN address.
   */
  async #startWireguard(): Promise<void> {
    const options = this.options.wireguard;
    const keys = this.#wireguardKeys;
    if (!options || !keys) return;
    const host = options.endpointHost ?? lanAddresses()[0];
    if (!host) this.startupWarnings.push('--wireguard: this machine has no LAN address to put in the phone\'s configuration; give --wireguard-endpoint HOST');
    const endpoint = `${(host ?? '127.0.0.1').includes(':') ? `[${host}]` : host ?? '127.0.0.1'}:${options.port}`;
    this.#wireguard = await WireguardEndpoint.start({ listen: { host: options.host, port: options.port }, keys, log: (level, message) => this.bus.log(level, message) });
    rememberEndpoint(this.options.caDir, endpoint);
    this.wireguard = wireguardInfo(keys, this.#wireguard.interfaceName, endpoint);
  }

  /** DNS listeners (the tunnel's on its address, port 53; --dns), then the tunnel's redirection to them and to the proxy. */
  async #startDns(): Promise<void> {
    const wanted: Array<{ host: string; port: number; option: string }> = [];
    if (this.#wireguardKeys) wanted.push({ host: this.#wireguardKeys.gateway, port: 53, option: '--wireguard (DNS on the tunnel address, port 53)' });
    if (this.options.dns) wanted.push({ ...this.options.dns, option: `--dns ${this.options.dns.host}:${this.options.dns.port}` });
    if (wanted.length === 0) return;
    const upstream = this.options.dnsUpstream ?? systemResolver();
    for (const where of wanted) {
      try {
        this.#dnsListeners.push(await DnsListener.start({
          host: where.host, port: where.port, upstream,
          record: (flow) => this.bus.emit('flow:end', flow),
          ...(this.#wireguard ? { peerOf: (ip: string) => this.#wireguard?.peerOf(ip) } : {}),
          isAllowed: (ip: string) => this.options.access.allows(ip),
          log: (level, message) => this.bus.log(level, message),
        }));
      } catch (error) {
        throw Object.assign(error as Error, { listener: 'dns', option: where.option });
      }
    }
    if (this.#wireguard) await this.#wireguard.redirect({ tcp: this.#proxy.transparentPort, dns: this.#dnsListeners[0]!.port });
  }

  /** opaque.pcapng and --pcap: closed once no connection can add to them; their counts go to the summary and the notes. */
  #closeRecorders(): void {
    const opaque = this.#opaque?.close();
    if (opaque) {
      this.summary.setOpaqueRecorded(opaque);
      if (opaque.limitReached) this.#notes.push(`opaque.pcapng reached --opaque-limit: ${opaque.notRecordedBytes} byte(s) of passthrough traffic were not recorded for decrypt`);
    }
    const pcap = this.#devicePcap?.close();
    if (pcap && this.#devicePcap) this.#notes.push(`the device side of ${pcap.connections} decrypted connection(s) was written to ${this.#devicePcap.path} with its TLS keys (--pcap): it decrypts this run's traffic, keep it like the traffic itself`);
  }

  /** The DNS listeners and the WireGuard endpoint (its rules, process and interface) go; the QUIC count is kept first. */
  async #stopNetwork(): Promise<void> {
    await Promise.all(this.#dnsListeners.splice(0).map((listener) => listener.stop()));
    const wireguard = this.#wireguard;
    if (!wireguard) return;
    try {
      this.summary.setQuicDropped(await wireguard.quicDropped());
    } catch (error) {
      this.bus.log('warn', `QUIC packets dropped could not be counted: ${describeError(error)}`);
    }
    await wireguard.stop();
  }

  /** The transparent listener's port, 0 without --transparent. */
  get transparentPort(): number {
    return this.#proxy.transparentPort;
  }

  get leafStats(): { issued: number; cached: number } {
    return this.#proxy.leafStats;
  }

  /** Resolves when the session has stopped (signal, --duration, or stop()). */
  get stopped(): Promise<StopResult> {
    return this.#stoppedPromise;
  }

  /** Resolves when every flow that has ended so far has been inspected and its findings reported. */
  inspected(): Promise<void> {
    return this.#pipeline.drain();
  }

  /** Counts of every flow and finding so far (with --append, the folder's earlier ones too). */
  get summary(): SummaryCollector {
    return this.#summary.collector;
  }

  /** The run's first start: this one, or with --append the folder's first session. */
  get #firstStart(): string {
    return this.#run?.sessions[0]?.startedAt ?? this.#startedAt;
  }

  async #openFiles(outDir: string, prepared: PreparedRun): Promise<void> {
    const files = new RunFilesSink(outDir, (level, message) => this.bus.log(level, message), {
      redact: this.options.redact, insecureUpstream: this.options.insecureUpstream,
      harFacts: () => ({ version: toolVersion, startedAt: this.#firstStart, insecureUpstream: this.options.insecureUpstream, options: this.options.record }),
    });
    this.#files = files;
    // --append: the summary goes on from what the folder already holds.
    if (prepared.previous || prepared.lastFlowNumber > 0) await replayRun(outDir, this.summary);
    this.#run = {
      v: 1, tool: { name: 'phonehome', version: toolVersion }, insecureUpstream: this.options.insecureUpstream,
      passthroughConfigured: this.options.passthrough.patterns,
      sessions: [...(prepared.previous?.sessions ?? []), { startedAt: this.#startedAt, options: this.options.record }],
      finished: false,
    };
    writeRunRecord(outDir, this.#run);
    if (this.options.opaqueLimitBytes > 0) this.#opaque = new OpaqueRecorder(path.join(outDir, OPAQUE_FILE), this.options.opaqueLimitBytes, (level, message) => this.bus.log(level, message));
    this.sinks.add(files, new RunRecordSink(outDir, this.#run));
    if (this.options.report) this.sinks.add(new ReportSink(outDir, { redact: this.options.redact }));
  }

  /** A start that failed leaves no trace of this run: the files it made are removed, never older ones. */
  #abandonFiles(folderExistedBefore: boolean): void {
    const outDir = this.options.outDir;
    this.#files?.abandon();
    this.#opaque?.close();
    this.#devicePcap?.close();
    if (!outDir || this.#run === undefined || this.#run.sessions.length > 1) return;
    for (const name of [FINDINGS_FILE, FLOW_LOG, RUN_FILE, OPAQUE_FILE]) {
      const file = path.join(outDir, name);
      // opaque.pcapng holds its section header from the start: made by this start, it goes too.
      if (fs.existsSync(file) && (name === RUN_FILE || name === OPAQUE_FILE || fs.statSync(file).size === 0)) fs.rmSync(file);
    }
    if (!folderExistedBefore && fs.readdirSync(outDir).length === 0) fs.rmdirSync(outDir);
  }

  /** Stops once; later calls return the same result. */
  stop(): Promise<StopResult> {
    this.#stopping ??= this.#stop().then((result) => {
      this.#resolveStopped(result);
      return result;
    });
    return this.#stopping;
  }

  async #stop(): Promise<StopResult> {
    clearTimeout(this.#timer);
    this.#pacer?.stop();
    await this.#proxy.stop();
    await this.#stopNetwork();
    this.#closeRecorders();
    await this.#pipeline.close();
    if (this.#pipeline.problemCount > 0) this.#notes.push(`${this.#pipeline.problemCount} inspection problem(s) (budgets, detector failures): see the log`);
    if (this.#keylog) {
      this.#keylog.close();
      this.#notes.push(`TLS keys of both sides were written to ${this.#keylog.path} (${this.#keylog.lines} lines): it decrypts this run's traffic, keep it like the traffic itself`);
    }
    for (const failure of this.bus.listenerFailures()) this.#notes.push(`${failure.name} failed ${failure.count} time(s), first on ${failure.event}: ${failure.firstError}`);
    const problems: string[] = [];
    const ending: RunEnding = { endedAt: new Date().toISOString(), notes: this.#notes, problems, facts: {}, exitCode: () => this.#summary.exitCode(problems.length) };
    // Fleet, files (and flows.har), summary and run.json, report, then the screen: see closeOrder.
    await this.sinks.closeAll(ending);
    const outDir = this.options.outDir;
    const failure = problems.length > 0 ? `evidence not fully written to ${outDir}: ${problems.join('; ')}` : undefined;
    return { exitCode: ending.exitCode(), findings: this.summary.findingCount, ...(outDir ? { outDir } : {}), ...(failure ? { failure } : {}) };
  }
}
