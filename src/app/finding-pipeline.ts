// Wires inspection to the event bus: every finished flow is inspected off the forwarding path —
// in a worker thread for the default detectors, in this thread for detectors handed in (tests,
// `analyze`) — pinned handshakes and opaque tunnels become findings, and each finding is emitted
// on the bus for the sinks, in the order the flows ended.

import { locateAndRule } from '../enrich/locate-and-rule.js';
import type { Rule } from '../enrich/rules.js';
import type { EventBus } from '../flow/events.js';
import type { Flow } from '../model/flow.js';
import type { Detector } from '../inspect/detect/detector.js';
import { FindingFactory } from '../inspect/finding-factory.js';
import { InspectionPool } from '../inspect/inspection-pool.js';
import { DnsTunnelWatch } from '../inspect/dns/dns-tunnel-watch.js';
import { withCanaries } from '../inspect/canary/canary-detector.js';
import type { Finding, FindingDraft } from '../model/finding.js';
import { inspectFlow, type InspectionResult } from '../inspect/inspector.js';
import { loadSqlite } from '../inspect/decode/sqlite.js';
import { flowPayloadBytes } from '../model/flow-codec.js';
import { collectAfterLargeBody } from '../util/collect-garbage.js';
import { limits } from '../limits.js';
import { withFields } from '../util/with-fields.js';

/** A garbage collection follows each time flows carrying this many body and message bytes were let go of (peak memory). */
const COLLECT_AFTER_BYTES = limits.collectGarbageAfterFlowBytes;

export interface PipelineOptions {
  /** Detectors to run in this thread; without them the default registry runs in a worker. */
  readonly detectors?: readonly Detector[];
  /** Planted values to look for too (--canaries). */
  readonly canariesFile?: string;
  /** Rules applied to every finding before it is reported. */
  readonly rules?: readonly Rule[];
  /** Finding numbers already used in the run's files (--append goes on after them). */
  readonly lastFindingNumber?: number;
  /** In a fleet: the capture node's name, carried by every finding. */
  readonly node?: string;
  /**
   * --inspect remote: hands a flow to the fleet's workers; false when it cannot (the bus is
   * down), and the flow is inspected here instead.
   */
  readonly remote?: { submit(flow: Flow): boolean };
}

export class FindingPipeline {
  readonly #bus: EventBus;
  readonly #detectors: readonly Detector[] | undefined;
  readonly #pool: InspectionPool | undefined;
  readonly #factory: FindingFactory;
  readonly #rules: readonly Rule[];
  readonly #node: string | undefined;
  readonly #remote: PipelineOptions['remote'];
  readonly #opaqueHostsReported = new Set<string>();
  /**
   * DNS tunnelling is seen across a run's DNS flows, not in one: watched here, where every flow
   * passes in the order it ended whoever inspects its payload (the worker, this thread, the fleet).
   */
  readonly #dnsTunnels = new DnsTunnelWatch();
  /** Flows are inspected concurrently but reported in order, so finding ids follow the traffic. */
  #chain: Promise<void> = Promise.resolve();
  /** Body and message bytes of the flows let go of since the last collection was asked for. */
  #bytesSinceCollection = 0;
  #problems = 0;

  constructor(bus: EventBus, options: PipelineOptions = {}) {
    this.#bus = bus;
    this.#rules = options.rules ?? [];
    this.#node = options.node;
    this.#remote = options.remote;
    this.#factory = new FindingFactory(options.lastFindingNumber ?? 0);
    this.#detectors = options.detectors && withCanaries(options.detectors, options.canariesFile);
    this.#pool = options.detectors ? undefined : new InspectionPool(options.canariesFile);
    bus.listen('flow:end', 'inspection', (flow) => this.#schedule(flow));
    bus.listen('tls:failed', 'inspection', (failure) => this.#emit(this.#factory.tlsPinned(failure)));
    bus.listen('tunnel:end', 'inspection', (flow) => {
      // One opaque finding per host and run: the flows themselves carry every tunnel.
      if (this.#opaqueHostsReported.has(flow.target.host)) return;
      this.#opaqueHostsReported.add(flow.target.host);
      this.#emit(this.#factory.opaqueTunnel(flow));
    });
  }

  /** Inspection problems (budgets hit, detector failures, backlog) seen so far. */
  get problemCount(): number {
    return this.#problems;
  }

  /** Resolves when every flow handed in so far has been inspected and reported. */
  drain(): Promise<void> {
    return this.#chain;
  }

  async close(): Promise<void> {
    await this.drain();
    await this.#pool?.close();
  }

  /** Inspects a flow in this thread and reports its findings at once (analyze: await loadSqlite() first). */
  inspectNow(flow: Flow): void {
    this.#report(flow, inspectFlow(flow, this.#detectors ?? []), this.#dnsTunnels.observe(flow));
  }

  /** `tunnel`: the DNS tunnel this flow completed the evidence of, reported after its own findings. */
  #report(flow: Flow, { drafts, problems }: InspectionResult, tunnel?: FindingDraft): void {
    this.#problems += problems.length;
    for (const problem of problems) this.#bus.log('warn', `${flow.id} ${flow.target.host}: ${problem}`);
    for (const draft of tunnel ? [...drafts, tunnel] : drafts) this.#emit(this.#factory.fromDraft(draft, flow));
  }

  /** Adds the destination's country and network (offline databases), applies the rules, hands it on. */
  #emit(finding: Finding): void {
    const ruled = locateAndRule(this.#node ? withFields(finding, { node: this.#node }) : finding, this.#rules);
    if (ruled) this.#bus.emit('finding', ruled);
  }

  #schedule(flow: Flow): void {
    if (flow.kind === 'rejected' || flow.kind === 'tls-failed' || flow.kind === 'tunnel') return;
    const tunnel = this.#dnsTunnels.observe(flow);
    if (this.#remote?.submit(flow)) {
      if (tunnel) this.#chain = this.#chain.then(() => this.#report(flow, { drafts: [], problems: [] }, tunnel));
      return;
    }
    const result: Promise<InspectionResult> = this.#pool
      ? this.#pool.inspect(flow)
      : loadSqlite().catch(() => undefined).then(() => new Promise<InspectionResult>((resolve) => setImmediate(() => resolve(inspectFlow(flow, this.#detectors ?? [])))));
    const bytes = flowPayloadBytes(flow);
    this.#chain = this.#chain.then(async () => {
      this.#report(flow, await result, tunnel);
      // The flow's bodies and messages are let go of now; collected within tens of ms rather than
      // whenever V8 sees pressure (which held two or three large bodies at once: see
      // collectAfterLargeBody). Counted over flows, not per flow: the larger ones live in shared
      // memory, which V8 does not count as memory outside its heap, so nothing else tells it that
      // parts of a stream, 8 MiB each, were let go of. gRPC parts of 64 KiB messages took a
      // capture to 493 MB RSS when only a single flow of 16 MiB led to a collection, 130 MB now.
      this.#bytesSinceCollection += bytes;
      if (this.#bytesSinceCollection < COLLECT_AFTER_BYTES) return;
      this.#bytesSinceCollection = 0;
      setImmediate(collectAfterLargeBody);
    });
  }
}
