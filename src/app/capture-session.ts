// One run of the proxy: CA, engine, inspection pipeline, summary and file sinks, wired through
// the event bus; started by `capture` (and the UI), stopped by a signal or --duration. Stopping
// waits for open flows, inspection and the files, so every file is whole.

import fs from 'node:fs';
import path from 'node:path';
import type net from 'node:net';
import { DestinationLookup } from '../enrich/destination-lookup.js';
import { EventBus } from '../flow/events.js';
import type { Detector } from '../inspect/detect/detector.js';
import { severityRank, type Finding } from '../model/finding.js';
import { CertificateAuthority } from '../proxy/ca/certificate-authority.js';
import { InterceptingProxy } from '../proxy/intercepting-proxy.js';
import { FindingsJsonlSink } from '../sinks/findings-jsonl-sink.js';
import { buildHar, FlowLogSink } from '../sinks/flow-log-sink.js';
import { continueFlowNumbersAfter } from '../model/flow.js';
import { limits } from '../limits.js';
import { FINDINGS_FILE, FLOW_LOG, prepareRunFolder, writeRunRecord, type PreparedRun, type RunRecord } from './run-folder.js';
import { replayRun } from './recover.js';
import { KeylogFileSink } from '../sinks/keylog-file-sink.js';
import { SummaryCollector, writeJsonAtomically } from '../sinks/summary.js';
import { ConfigError, describeError } from '../util/errors.js';
import type { CaptureOptions } from './options.js';
import { FindingPipeline } from './finding-pipeline.js';
import type { FleetLink } from '../fleet/fleet-link.js';
import { safeListen } from './safe-call.js';
import { toolVersion } from './paths.js';

export interface SessionHooks {
  /** Detectors to run in the proxy's thread (tests); by default the registry runs in a worker. */
  readonly detectors?: readonly Detector[];
  /** Resolver override for upstream names (tests, benchmarks, the demo). */
  readonly lookup?: net.LookupFunction;
  /** Set by start(): the --out folder, made ready. */
  readonly prepared?: PreparedRun;
  /** Set by start(): the link to the fleet (--publish). */
  readonly fleet?: FleetLink;
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
  readonly summary = new SummaryCollector();
  /** Warnings of the start (CA expiry, --keylog, --insecure-upstream), for the front end to show. */
  readonly startupWarnings: string[] = [];
  readonly #proxy: InterceptingProxy;
  readonly #pipeline: FindingPipeline;
  readonly #keylog?: KeylogFileSink;
  readonly #startedAt = new Date().toISOString();
  #findingsSink?: FindingsJsonlSink;
  readonly #fleet: FleetLink | undefined;
  #flowLog?: FlowLogSink;
  #run?: RunRecord;
  #worstSeverity = -1;
  #stopping?: Promise<StopResult>;
  #timer?: NodeJS.Timeout;
  readonly #notes: string[] = [];
  #resolveStopped!: (result: StopResult) => void;
  readonly #stoppedPromise = new Promise<StopResult>((resolve) => { this.#resolveStopped = resolve; });

  private constructor(options: CaptureOptions, ca: CertificateAuthority, hooks: SessionHooks) {
    this.options = options;
    this.ca = ca;
    if (options.keylogFile) this.#keylog = new KeylogFileSink(options.keylogFile, (message) => this.bus.log('error', message));
    const keylog = this.#keylog;
    this.#fleet = hooks.fleet;
    const remote = hooks.fleet?.remote;
    this.#pipeline = new FindingPipeline(this.bus, { rules: options.rules, ...(hooks.fleet ? { node: hooks.fleet.options.node } : {}), ...(remote ? { remote } : {}), ...(hooks.detectors ? { detectors: hooks.detectors } : {}), ...(options.canariesFile ? { canariesFile: options.canariesFile } : {}), ...(hooks.prepared ? { lastFindingNumber: hooks.prepared.lastFindingNumber } : {}) });
    this.#proxy = new InterceptingProxy({
      listenHost: options.listenHost, listenPort: options.listenPort, ca, events: this.bus,
      bodyLimitBytes: options.bodyLimitBytes, upstreamCaPems: options.upstreamCaPems, insecureUpstream: options.insecureUpstream,
      clientCertificates: options.clientCertificates, ...(options.upstreamTlsMin ? { upstreamTlsMin: options.upstreamTlsMin } : {}),
      passthrough: options.passthrough, access: options.access, ...(options.auth ? { auth: options.auth } : {}),
      ...(hooks.lookup ? { lookup: hooks.lookup } : {}),
      ...(keylog ? { keylog: (line: Buffer) => keylog.write(line) } : {}),
      ...(options.transparent ? { transparent: options.transparent } : {}),
    });
    safeListen(this.bus, 'flow:end', 'summary', (flow) => this.summary.addFlow(flow));
    safeListen(this.bus, 'finding', 'summary', (finding) => this.#countFinding(finding));
    this.#fleet?.attach(this.bus, (finding) => this.#pipeline.emitRemote(finding));
  }

  /** Creates the output folder and files, loads or creates the CA, and starts listening. */
  static async start(options: CaptureOptions, hooks: SessionHooks = {}): Promise<CaptureSession> {
    const ca = CertificateAuthority.loadOrCreate(options.caDir);
    // Countries and networks come from offline databases: loaded once, before the first device
    // connects, so no lookup ever waits.
    await DestinationLookup.shared();
    const existedBefore = options.outDir !== undefined && fs.existsSync(options.outDir);
    // The bus first: unreachable NATS is a one-line error before anything is written.
    const fleetWarnings: string[] = [];
    const fleet = options.fleet ? await (await import('../fleet/fleet-link.js')).FleetLink.open(options.fleet, (message) => fleetWarnings.push(message)) : undefined;
    const prepared = options.outDir ? await prepareRunFolder(options.outDir, { append: options.append, force: options.force }) : undefined;
    if (prepared) continueFlowNumbersAfter(prepared.lastFlowNumber);
    const session = new CaptureSession(options, ca, { ...hooks, ...(prepared ? { prepared } : {}), ...(fleet ? { fleet } : {}) });
    session.startupWarnings.push(...fleetWarnings);
    fleet?.onLog((message) => session.bus.log('warn', message));
    session.startupWarnings.push(...(prepared?.notices ?? []));
    if (options.outDir && prepared) await session.#openFiles(options.outDir, prepared);
    try {
      await session.#proxy.start();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      session.#abandonFiles(existedBefore);
      session.#keylog?.close();
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        const transparent = (error as { listener?: string }).listener === 'transparent' && options.transparent;
        const option = transparent ? `--transparent ${transparent.host}:${transparent.port}` : `--listen ${options.listenHost}:${options.listenPort}`;
        throw new ConfigError(`${option}: ${code === 'EADDRINUSE' ? 'the port is in use' : code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : 'no such address on this machine'}`);
      }
      throw error;
    }
    // Kept as well as logged: nobody listens to the bus yet, and these must reach the user.
    session.startupWarnings.push(...ca.info().warnings);
    if (options.keylogFile) session.startupWarnings.push(`TLS keys of both sides are appended to ${options.keylogFile} (--keylog): anyone with that file can decrypt this run's traffic`);
    if (options.insecureUpstream) session.startupWarnings.push('upstream certificate verification is OFF (--insecure-upstream): servers are not authenticated');
    for (const warning of session.startupWarnings) session.bus.log('warn', warning);
    if (options.durationMs !== undefined) {
      session.#timer = setTimeout(() => void session.stop(), options.durationMs);
    }
    return session;
  }

  get port(): number {
    return this.#proxy.port;
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

  #countFinding(finding: Finding): void {
    this.summary.addFinding(finding);
    this.#worstSeverity = Math.max(this.#worstSeverity, severityRank(finding.severity));
  }

  async #openFiles(outDir: string, prepared: PreparedRun): Promise<void> {
    const events = {
      failed: (message: string) => this.bus.log('error', message),
      recovered: (message: string) => this.bus.log('info', message),
    };
    const files = { backlogLimitBytes: limits.sinkBacklogBytes, retryMs: limits.sinkRetryMs };
    const findingsSink = new FindingsJsonlSink(path.join(outDir, FINDINGS_FILE), events, { redact: this.options.redact, insecureUpstream: this.options.insecureUpstream, ...files });
    const flowLog = new FlowLogSink(path.join(outDir, FLOW_LOG), events, { redact: this.options.redact, ...files });
    this.#findingsSink = findingsSink;
    this.#flowLog = flowLog;
    // --append: the summary goes on from what the folder already holds.
    if (prepared.previous || prepared.lastFlowNumber > 0) await replayRun(outDir, this.summary);
    this.#run = {
      v: 1, tool: { name: 'phonehome', version: toolVersion }, insecureUpstream: this.options.insecureUpstream,
      passthroughConfigured: this.options.passthrough.patterns,
      sessions: [...(prepared.previous?.sessions ?? []), { startedAt: this.#startedAt, options: this.options.record }],
      finished: false,
    };
    writeRunRecord(outDir, this.#run);
    safeListen(this.bus, 'finding', FINDINGS_FILE, (finding) => findingsSink.write(finding));
    safeListen(this.bus, 'flow:end', FLOW_LOG, (flow) => flowLog.write(flow));
  }

  /** A start that failed leaves no trace of this run: the files it made are removed, never older ones. */
  #abandonFiles(folderExistedBefore: boolean): void {
    const outDir = this.options.outDir;
    this.#findingsSink?.close();
    this.#flowLog?.close();
    if (!outDir || this.#run === undefined || this.#run.sessions.length > 1) return;
    for (const name of [FINDINGS_FILE, FLOW_LOG, 'run.json']) {
      const file = path.join(outDir, name);
      if (fs.existsSync(file) && (name === 'run.json' || fs.statSync(file).size === 0)) fs.rmSync(file);
    }
    if (!folderExistedBefore && fs.readdirSync(outDir).length === 0) fs.rmdirSync(outDir);
  }

  /** Closes the durable files and builds flows.har from the flow log; returns what could not be written. */
  async #closeFiles(): Promise<string[]> {
    const problems: string[] = [];
    const outDir = this.options.outDir;
    for (const [name, sink] of [[FINDINGS_FILE, this.#findingsSink], [FLOW_LOG, this.#flowLog]] as const) {
      const stats = sink?.close();
      if (stats && (stats.dropped > 0 || stats.pending > 0)) problems.push(`${name}: ${stats.dropped + stats.pending} line(s) could not be written (${stats.error ?? 'write failed'})`);
    }
    if (outDir && this.#flowLog) {
      try {
        await buildHar(path.join(outDir, FLOW_LOG), path.join(outDir, 'flows.har'), { version: toolVersion, startedAt: this.#run?.sessions[0]?.startedAt ?? this.#startedAt, insecureUpstream: this.options.insecureUpstream, options: this.options.record });
      } catch (error) {
        problems.push(`flows.har: ${describeError(error)} (flows.jsonl keeps every flow; run phonehome recover ${outDir} when there is room)`);
      }
    }
    return problems;
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
    await this.#proxy.stop();
    await this.#pipeline.close();
    await this.#fleet?.close();
    if (this.#pipeline.problemCount > 0) this.#notes.push(`${this.#pipeline.problemCount} inspection problem(s) (budgets, detector failures): see the log`);
    const failOn = this.options.failOn;
    const problems = await this.#closeFiles();
    if (this.#keylog) {
      this.#keylog.close();
      this.#notes.push(`TLS keys of both sides were written to ${this.#keylog.path} (${this.#keylog.lines} lines): it decrypts this run's traffic, keep it like the traffic itself`);
    }
    const outDir = this.options.outDir;
    const endedAt = new Date().toISOString();
    const exitCode = problems.length > 0 ? 2 : failOn !== undefined && this.#worstSeverity >= severityRank(failOn) ? 3 : 0;
    if (outDir) {
      if (problems.length > 0) this.#notes.push(...problems.map((p) => `not written: ${p}`));
      try {
        writeJsonAtomically(path.join(outDir, 'summary.json'), this.summary.snapshot(
          { version: toolVersion, startedAt: this.#run?.sessions[0]?.startedAt ?? this.#startedAt, options: this.options.record, insecureUpstream: this.options.insecureUpstream, passthroughConfigured: this.options.passthrough.patterns },
          { endedAt, learnedPassthrough: this.options.passthrough.learned(), exitCode, failOn: failOn ?? null, notes: this.#notes, ...(this.#fleet ? { fleet: this.#fleet.facts() } : {}) },
        ));
      } catch (error) {
        problems.push(`summary.json: ${describeError(error)}`);
      }
      if (this.#run && problems.length === 0) {
        this.#run.sessions.at(-1)!.endedAt = endedAt;
        this.#run.finished = true;
        try {
          writeRunRecord(outDir, this.#run);
        } catch (error) {
          problems.push(`run.json: ${describeError(error)}`);
        }
      }
    }
    // The report is made from the files just closed, so it says exactly what they say.
    if (outDir && this.options.report && problems.length === 0) {
      try {
        const { reportRunFolder } = await import('../report/build-report.js');
        await reportRunFolder(outDir, { redact: this.options.redact });
      } catch (error) {
        problems.push(`report.html: ${describeError(error)}`);
      }
    }
    const failure = problems.length > 0 ? `evidence not fully written to ${outDir}: ${problems.join('; ')}` : undefined;
    return { exitCode: failure ? 2 : exitCode, findings: this.summary.findingCount, ...(outDir ? { outDir } : {}), ...(failure ? { failure } : {}) };
  }
}
