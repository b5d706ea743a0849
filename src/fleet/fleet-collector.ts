// `phonehome collect nats://HOST:PORT --out DIR`: the fleet's findings, merged from every capture
// node and worker, written like a capture's files. A durable consumer: stopped and started again,
// it goes on where it stopped. Each finding is written once, whatever the bus redelivers (its
// node and id are remembered, and read back from findings.jsonl on a restart); a message is
// acknowledged only once its line is written.

import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { AckPolicy, DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import { categories, severities, type Finding } from '../model/finding.js';
import { writeJsonAtomically } from '../run/atomic-write.js';
import { readFindingsJsonl } from '../run/findings-reader.js';
import { FINDINGS_FILE, SUMMARY_FILE } from '../run/layout.js';
import { describeError } from '../util/errors.js';
import { toolVersion } from '../util/install-paths.js';
import { isPassingBusError, untilBusAnswers } from './bus-retry.js';
import { connectBus } from './bus-connection.js';
import { collectorName, nodeOfSubject, parseBusUrl, RECORD_STREAM } from './fleet-names.js';
import { decodeFinding, decodeFlowMessage } from './fleet-wire.js';

export interface CollectorOptions {
  readonly url: string;
  readonly outDir: string;
  /** The durable consumer's name (default: from the output folder's name). */
  readonly name?: string;
  readonly credsFile?: string;
  readonly caFile?: string;
}

export const FLEET_FLOWS_FILE = 'fleet-flows.jsonl';

interface NodeTotals { flows: number; bytesUp: number; bytesDown: number; findings: number; byCategory: Record<string, number>; bySeverity: Record<string, number>; hosts: Set<string> }

class FleetTotals {
  readonly nodes = new Map<string, NodeTotals>();
  readonly findingKeys = new Set<string>();
  readonly flowKeys = new Set<string>();

  #node(node: string): NodeTotals {
    let t = this.nodes.get(node);
    if (!t) this.nodes.set(node, (t = { flows: 0, bytesUp: 0, bytesDown: 0, findings: 0, byCategory: {}, bySeverity: {}, hosts: new Set() }));
    return t;
  }

  addFinding(finding: Finding): void {
    const t = this.#node(finding.node ?? 'unknown');
    t.findings++;
    t.byCategory[finding.category] = (t.byCategory[finding.category] ?? 0) + 1;
    t.bySeverity[finding.severity] = (t.bySeverity[finding.severity] ?? 0) + 1;
  }

  addFlow(node: string, record: { host: string; bytesUp: number; bytesDown: number }): void {
    const t = this.#node(node);
    t.flows++;
    t.bytesUp += record.bytesUp;
    t.bytesDown += record.bytesDown;
    t.hosts.add(record.host);
  }

  snapshot(url: string, startedAt: string): Record<string, unknown> {
    const nodes = [...this.nodes].sort(([a], [b]) => a.localeCompare(b));
    const sum = (pick: (t: NodeTotals) => Record<string, number>, keys: readonly string[]): Record<string, number> => Object.fromEntries(keys.map((k) => [k, nodes.reduce((n, [, t]) => n + (pick(t)[k] ?? 0), 0)]));
    return {
      v: 1, tool: { name: 'phonehome', version: toolVersion }, kind: 'fleet-collector', nats: parseBusUrl(url).servers, startedAt, updatedAt: new Date().toISOString(),
      flows: { seen: nodes.reduce((n, [, t]) => n + t.flows, 0) },
      findings: { total: nodes.reduce((n, [, t]) => n + t.findings, 0), byCategory: sum((t) => t.byCategory, categories), bySeverity: sum((t) => t.bySeverity, severities) },
      nodes: Object.fromEntries(nodes.map(([name, t]) => [name, { flows: t.flows, bytesUp: t.bytesUp, bytesDown: t.bytesDown, findings: t.findings, byCategory: t.byCategory, bySeverity: t.bySeverity, hosts: [...t.hosts].sort() }])),
    };
  }
}

async function* lines(file: string): AsyncGenerator<string> {
  if (!fs.existsSync(file)) return;
  for await (const line of readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity })) if (line.trim()) yield line;
}

export interface CollectorHandle {
  readonly done: Promise<{ findings: number; nodes: number }>;
  stop(): void;
}

export async function startCollector(options: CollectorOptions, log: (line: string) => void): Promise<CollectorHandle> {
  fs.mkdirSync(options.outDir, { recursive: true });
  const findingsFile = path.join(options.outDir, FINDINGS_FILE);
  const flowsFile = path.join(options.outDir, FLEET_FLOWS_FILE);
  const totals = new FleetTotals();
  // A restart: what is already written is not written again.
  for await (const finding of readFindingsJsonl(findingsFile, { count: 0 })) {
    totals.findingKeys.add(`${finding.node ?? ''}|${finding.id}`);
    totals.addFinding(finding);
  }
  for await (const line of lines(flowsFile)) {
    try {
      const record = JSON.parse(line) as { node: string; id: string; host: string; bytesUp: number; bytesDown: number };
      totals.flowKeys.add(`${record.node}|${record.id}`);
      totals.addFlow(record.node, record);
    } catch {
      // a line cut by a crash
    }
  }
  const findingsFd = fs.openSync(findingsFile, 'a', 0o644);
  const flowsFd = fs.openSync(flowsFile, 'a', 0o644);
  const startedAt = new Date().toISOString();
  const writeSummary = (): void => writeJsonAtomically(path.join(options.outDir, SUMMARY_FILE), totals.snapshot(options.url, startedAt));

  const bus = await connectBus({ url: options.url, name: `phonehome collect ${options.outDir}`, ...(options.credsFile ? { credsFile: options.credsFile } : {}), ...(options.caFile ? { caFile: options.caFile } : {}) });
  const durable = options.name ?? collectorName(path.basename(path.resolve(options.outDir)));
  const messages = await untilBusAnswers('the record stream\'s consumer', async () => {
    try {
      await bus.jsm.consumers.info(RECORD_STREAM, durable);
    } catch (error) {
      if (isPassingBusError(error)) throw error;
      await bus.jsm.consumers.add(RECORD_STREAM, { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: 10_000 });
    }
    const consumer = await bus.js.consumers.get(RECORD_STREAM, durable);
    return consumer.consume({ max_messages: 500 });
  }, log);
  let dirty = true;
  const timer = setInterval(() => {
    if (!dirty) return;
    dirty = false;
    try {
      writeSummary();
    } catch (error) {
      log(`collect: summary.json: ${describeError(error)}`);
    }
  }, 1000);
  const handle = (message: JsMsg): void => {
    const node = nodeOfSubject(message.subject);
    if (message.subject.endsWith('.finding')) {
      const finding = decodeFinding(message.data);
      const key = `${finding.node ?? node}|${finding.id}`;
      if (!totals.findingKeys.has(key)) {
        fs.writeSync(findingsFd, `${JSON.stringify(finding.node ? finding : { ...finding, node })}\n`);
        totals.findingKeys.add(key);
        totals.addFinding(finding.node ? finding : { ...finding, node });
        dirty = true;
      }
    } else {
      const { flow } = decodeFlowMessage(message.data);
      const key = `${node}|${flow.id}`;
      if (!totals.flowKeys.has(key)) {
        const host = flow.target.host;
        const record = { node, id: flow.id, time: flow.startedAt, kind: flow.kind, host, client: flow.client.ip, bytesUp: flow.bytesUp, bytesDown: flow.bytesDown };
        fs.writeSync(flowsFd, `${JSON.stringify(record)}\n`);
        totals.flowKeys.add(key);
        totals.addFlow(node, record);
        dirty = true;
      }
    }
  };
  const done = (async () => {
    for await (const message of messages) {
      try {
        handle(message);
        message.ack();
      } catch (error) {
        log(`collect: a record on ${message.subject} could not be read (${describeError(error)}); left out`);
        message.term();
      }
    }
    clearInterval(timer);
    writeSummary();
    fs.closeSync(findingsFd);
    fs.closeSync(flowsFd);
    await bus.close();
    return { findings: totals.findingKeys.size, nodes: totals.nodes.size };
  })();
  return { done, stop: () => void messages.close() };
}
