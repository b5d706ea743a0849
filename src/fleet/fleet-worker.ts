// `phonehome worker nats://HOST:PORT`: a fleet inspection worker. Pulls the flows capture nodes
// publish with --inspect remote from the work-queue stream, inspects them with the same decode
// chain, detectors, canaries and rules as a local run, publishes the findings under the node
// that saw the flow, and acknowledges the flow only after its findings are stored. Killed midway,
// its flow is redelivered to another worker after the ack wait; the findings' ids come from the
// flow, and JetStream's publish ids store each one once.

import { AckPolicy, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { EntityLookup } from '../enrich/entity/entity-lookup.js';
import { DestinationLookup } from '../enrich/destination-lookup.js';
import type { Rule } from '../enrich/rules.js';
import { locateAndRule } from '../enrich/locate-and-rule.js';
import { withCanaries } from '../inspect/canary/canary-detector.js';
import { loadSqlite } from '../inspect/decode/sqlite.js';
import type { Detector } from '../inspect/detect/detector.js';
import { defaultDetectors } from '../inspect/detect/registry.js';
import { FindingFactory } from '../inspect/finding-factory.js';
import { inspectFlow } from '../inspect/inspector.js';
import type { Flow } from '../model/flow.js';
import type { Finding } from '../model/finding.js';
import { describeError } from '../util/errors.js';
import { connectBus, type Bus } from './bus-connection.js';
import { isPassingBusError, untilBusAnswers } from './bus-retry.js';
import { findingSubject, WORK_STREAM, WORKER_CONSUMER } from './fleet-names.js';
import { decodeFlowMessage, decodeWorkItem, encodeFinding } from './fleet-wire.js';

export interface WorkerOptions {
  readonly url: string;
  readonly rules: readonly Rule[];
  readonly canariesFile?: string;
  /** How long a flow may stay unacknowledged before another worker gets it. */
  readonly ackWaitMs: number;
  readonly credsFile?: string;
  readonly caFile?: string;
  readonly name: string;
}

/** A worker's finding id: the flow's number and the finding's place, the same on every redelivery. */
export function workerFindingId(flowId: string, index: number): string {
  return `f-${flowId.replace(/^fl-/, '')}.${index + 1}`;
}

/** The findings of one flow, complete (country, network, rules) and carrying their node. */
export function inspectForFleet(flow: Flow, node: string, detectors: readonly Detector[], rules: readonly Rule[]): { findings: Finding[]; problems: string[] } {
  const factory = new FindingFactory();
  const { drafts, problems } = inspectFlow(flow, detectors);
  const findings = drafts
    .map((draft, i) => locateAndRule({ ...factory.fromDraft(draft, flow, workerFindingId(flow.id, i)), node }, rules))
    .filter((f): f is Finding => f !== undefined);
  return { findings, problems };
}

async function ensureConsumer(bus: Bus, ackWaitMs: number): Promise<void> {
  try {
    await bus.jsm.consumers.info(WORK_STREAM, WORKER_CONSUMER);
  } catch (error) {
    // Only a missing consumer is made here; a busy bus is waited out by the caller.
    if (isPassingBusError(error)) throw error;
    try {
      await bus.jsm.consumers.add(WORK_STREAM, { durable_name: WORKER_CONSUMER, ack_policy: AckPolicy.Explicit, ack_wait: nanos(ackWaitMs), max_ack_pending: 1000 });
    } catch (error) {
      if (!/already in use|already exists/i.test(describeError(error))) throw error;
    }
  }
}

export interface WorkerHandle {
  /** Resolves with the number of flows inspected when the worker has stopped. */
  readonly done: Promise<number>;
  stop(): void;
}

export async function startWorker(options: WorkerOptions, log: (line: string) => void): Promise<WorkerHandle> {
  const bus = await connectBus({ url: options.url, name: options.name, ...(options.credsFile ? { credsFile: options.credsFile } : {}), ...(options.caFile ? { caFile: options.caFile } : {}) });
  await Promise.all([DestinationLookup.shared(), EntityLookup.shared(), loadSqlite()]);
  const detectors: readonly Detector[] = withCanaries(defaultDetectors, options.canariesFile);
  // One flow at a time: inspection is CPU work, and what is not taken stays for other workers.
  const messages = await untilBusAnswers('the work queue\'s consumer', async () => {
    await ensureConsumer(bus, options.ackWaitMs);
    const consumer = await bus.js.consumers.get(WORK_STREAM, WORKER_CONSUMER);
    return consumer.consume({ max_messages: 1 });
  }, log);
  let inspected = 0;
  const handle = async (message: JsMsg): Promise<void> => {
    const item = decodeWorkItem(message.data);
    let flow: Flow;
    if ('objectName' in item) {
      const data = await bus.objects.getBlob(item.objectName);
      if (!data) {
        log(`worker: ${item.node} ${item.flowId}: its stored flow is gone; skipped`);
        message.term();
        return;
      }
      flow = decodeFlowMessage(data).flow;
    } else {
      flow = item.flow;
    }
    log(`inspecting ${item.node} ${flow.id}`);
    const { findings, problems } = inspectForFleet(flow, item.node, detectors, options.rules);
    for (const problem of problems) log(`worker: ${item.node} ${flow.id}: ${problem}`);
    for (const finding of findings) await bus.js.publish(findingSubject(item.node), encodeFinding(finding), { msgID: `${item.node}:${finding.id}`, timeout: 5000 });
    // Acknowledged once the findings are stored: a worker that dies before this has its flow redone.
    await message.ackAck();
    if ('objectName' in item) await bus.objects.delete(item.objectName).catch(() => undefined);
    inspected++;
    log(`inspected ${item.node} ${flow.id}: ${findings.length} finding(s)`);
  };
  const done = (async () => {
    for await (const message of messages) {
      try {
        await handle(message);
      } catch (error) {
        // Not acknowledged: redelivered after the ack wait, to this worker or another.
        log(`worker: a flow could not be inspected or its findings not published (${describeError(error)}); it will be redelivered`);
        message.nak(1000);
      }
    }
    await bus.close();
    return inspected;
  })();
  return { done, stop: () => void messages.close() };
}
