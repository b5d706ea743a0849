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
import { HarFileSink } from '../sinks/har-file-sink.js';
import { KeylogFileSink } from '../sinks/keylog-file-sink.js';
import { SummaryCollector, writeJsonAtomically } from '../sinks/summary.js';
import { ConfigError, describeError } from '../util/errors.js';
import type { CaptureOptions } from './options.js';
import { FindingPipeline } from './finding-pipeline.js';
import { safeListen } from './safe-call.js';
import { toolVersion } from './paths.js';

export interface SessionHooks {
  /** Detectors to run in the proxy's thread (tests); by default the registry runs in a worker. */
  readonly detectors?: readonly Detector[];
  /** Resolver override for upstream names (tests, benchmarks, the demo). */
  readonly lookup?: net.LookupFunction;
}

export interface StopResult {
  readonly exitCode: 0 | 3;
  readonly findings: number;
  readonly outDir?: string;
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
  #harSink?: HarFileSink;
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
    this.#pipeline = new FindingPipeline(this.bus, { rules: options.rules, ...(hooks.detectors ? { detectors: hooks.detectors } : {}), ...(options.canariesFile ? { canariesFile: options.canariesFile } : {}) });
    this.#proxy = new InterceptingProxy({
      listenHost: options.listenHost, listenPort: options.listenPort, ca, events: this.bus,
      bodyLimitBytes: options.bodyLimitBytes, upstreamCaPems: options.upstreamCaPems, insecureUpstream: options.insecureUpstream,
      passthrough: options.passthrough, access: options.access, ...(options.auth ? { auth: options.auth } : {}),
      ...(hooks.lookup ? { lookup: hooks.lookup } : {}),
      ...(keylog ? { keylog: (line: Buffer) => keylog.write(line) } : {}),
      ...(options.transparent ? { transparent: options.transparent } : {}),
    });
    safeListen(this.bus, 'flow:end', 'summary', (flow) => this.summary.addFlow(flow));
    safeListen(this.bus, 'finding', 'summary', (finding) => this.#countFinding(finding));
  }

  /** Creates the output folder and files, loads or creates the CA, and starts listening. */
  static async start(options: CaptureOptions, hooks: SessionHooks = {}): Promise<CaptureSession> {
    const ca = CertificateAuthority.loadOrCreate(options.caDir);
    // Countries and networks come from offline databases: loaded once, before the first device
    // connects, so no lookup ever waits.
    await DestinationLookup.shared();
    const session = new CaptureSession(options, ca, hooks);
    if (options.outDir) session.#openFiles(options.outDir);
    try {
      await session.#proxy.start();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      await session.#closeFiles();
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

  #openFiles(outDir: string): void {
    try {
      fs.mkdirSync(outDir, { recursive: true });
      fs.accessSync(outDir, fs.constants.W_OK);
    } catch (error) {
      throw new ConfigError(`--out ${outDir}: ${describeError(error)}`);
    }
    const findingsSink = new FindingsJsonlSink(path.join(outDir, 'findings.jsonl'), { redact: this.options.redact, insecureUpstream: this.options.insecureUpstream });
    const harSink = new HarFileSink(path.join(outDir, 'flows.har'), { version: toolVersion, startedAt: this.#startedAt, insecureUpstream: this.options.insecureUpstream, options: this.options.record }, { redact: this.options.redact });
    this.#findingsSink = findingsSink;
    this.#harSink = harSink;
    safeListen(this.bus, 'finding', 'findings.jsonl', (finding) => findingsSink.write(finding));
    safeListen(this.bus, 'flow:end', 'flows.har', (flow) => harSink.write(flow));
  }

  async #closeFiles(): Promise<void> {
    this.#findingsSink?.close();
    await this.#harSink?.close();
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
    if (this.#pipeline.problemCount > 0) this.#notes.push(`${this.#pipeline.problemCount} inspection problem(s) (budgets, detector failures): see the log`);
    const failOn = this.options.failOn;
    const exitCode = failOn !== undefined && this.#worstSeverity >= severityRank(failOn) ? 3 : 0;
    await this.#closeFiles();
    if (this.#keylog) {
      this.#keylog.close();
      this.#notes.push(`TLS keys of both sides were written to ${this.#keylog.path} (${this.#keylog.lines} lines): it decrypts this run's traffic, keep it like the traffic itself`);
    }
    const outDir = this.options.outDir;
    if (outDir) {
      writeJsonAtomically(path.join(outDir, 'summary.json'), this.summary.snapshot(
        { version: toolVersion, startedAt: this.#startedAt, options: this.options.record, insecureUpstream: this.options.insecureUpstream, passthroughConfigured: this.options.passthrough.patterns },
        { endedAt: new Date().toISOString(), learnedPassthrough: this.options.passthrough.learned(), exitCode, failOn: failOn ?? null, notes: this.#notes },
      ));
    }
    return { exitCode, findings: this.summary.findingCount, ...(outDir ? { outDir } : {}) };
  }
}
