// A capture node in the fleet (--publish), one of the run's sinks: the connection, the publisher
// fed from the event bus, and the findings workers make for this node's flows, put back on the bus
// for its own files and UI (best effort: the collector is where every finding is sure to meet).

import type { Subscription } from '@nats-io/transport-node';
import type { EventBus } from '../flow/events.js';
import type { Finding } from '../model/finding.js';
import { connectBus, type Bus } from './bus-connection.js';
import { FleetPublisher } from './fleet-publisher.js';
import { findingSubject, parseBusUrl } from './fleet-names.js';
import { decodeFinding } from './fleet-wire.js';
import type { Sink, SinkStats } from '../sinks/sink.js';

export interface FleetOptions {
  readonly url: string;
  readonly node: string;
  readonly inspect: 'local' | 'remote';
  /** Start without the bus when it cannot be reached (a warning instead of exit 1). */
  readonly optional: boolean;
  readonly credsFile?: string;
  readonly caFile?: string;
  readonly maxQueueBytes: number;
}

/** How long the stop waits for the queue to reach the bus. */
const CLOSE_DEADLINE_MS = 5000;

export class FleetLink implements Sink {
  readonly name = 'fleet';
  /** First: its counts go into the summary. */
  readonly closes = 'publish';
  readonly options: FleetOptions;
  readonly publisher: FleetPublisher;
  readonly #bus: Bus;
  #subscription?: Subscription;
  readonly #local = new Set<string>();

  #log: (message: string) => void;

  private constructor(options: FleetOptions, bus: Bus, log: (message: string) => void) {
    this.options = options;
    this.#bus = bus;
    this.#log = log;
    this.publisher = new FleetPublisher(bus, options.node, { maxQueueBytes: options.maxQueueBytes, log: (message) => this.#log(message) });
  }

  /** Where the link's notices go once the session's log exists. */
  onLog(log: (message: string) => void): void {
    this.#log = log;
  }

  /** Connects; undefined (with a warning) when the bus is unreachable and --publish-optional. */
  static async open(options: FleetOptions, log: (message: string) => void): Promise<FleetLink | undefined> {
    try {
      const bus = await connectBus({ url: options.url, name: `phonehome capture ${options.node}`, ...(options.credsFile ? { credsFile: options.credsFile } : {}), ...(options.caFile ? { caFile: options.caFile } : {}) });
      return new FleetLink(options, bus, log);
    } catch (error) {
      if (!options.optional) throw error;
      log(`fleet: ${(error as Error).message}; going on without the bus (--publish-optional)`);
      return undefined;
    }
  }

  /** For the pipeline with --inspect remote. */
  get remote(): { submit(flow: import('../model/flow.js').Flow): boolean } | undefined {
    return this.options.inspect === 'remote' ? { submit: (flow) => this.publisher.submitWork(flow) } : undefined;
  }

  /** Publishes the run's flows and findings; puts the workers' findings for this node on the bus. */
  attach(bus: EventBus): void {
    bus.listen('flow:end', 'fleet publisher', (flow) => { if (flow.kind !== 'rejected') this.publisher.publishFlowRecord(flow); });
    bus.listen('finding', 'fleet publisher', (finding) => {
      this.#local.add(finding.id);
      this.publisher.publishFinding(finding);
    });
    if (this.options.inspect !== 'remote') return;
    this.#subscription = this.#bus.nc.subscribe(findingSubject(this.options.node), {
      callback: (error, message) => {
        if (error) return;
        let finding: Finding;
        try {
          finding = decodeFinding(message.data);
        } catch {
          return;
        }
        if (this.#local.has(finding.id)) return;
        this.publisher.markRemote(finding.id);
        this.#local.add(finding.id);
        bus.emit('finding', finding);
      },
    });
  }

  /** What summary.json says about the fleet. */
  facts(): Record<string, unknown> {
    const target = parseBusUrl(this.options.url);
    return { node: this.options.node, nats: target.servers, inspect: this.options.inspect, connectedAtStop: this.publisher.connected, ...this.publisher.counts };
  }

  async close(): Promise<SinkStats> {
    this.#subscription?.unsubscribe();
    await this.publisher.close(CLOSE_DEADLINE_MS);
    const counts = this.publisher.counts;
    return { written: counts.flowsPublished + counts.findingsPublished + counts.workPublished, skipped: counts.dropped, facts: this.facts() };
  }
}
