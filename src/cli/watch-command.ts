// `phonehome watch nats://HOST:PORT`: the terminal UI over the whole fleet. An ordered consumer
// reads every capture node's flow records and findings from the start of the stream; the device
// column shows the node before the device's address.

import { DeliverPolicy } from '@nats-io/jetstream';
import { EntityLookup } from '../enrich/entity/entity-lookup.js';
import { DestinationLookup } from '../enrich/destination-lookup.js';
import { connectBus } from '../fleet/bus-connection.js';
import { nodeOfSubject, parseBusUrl, RECORD_STREAM } from '../fleet/fleet-names.js';
import { decodeFinding, decodeFlowMessage } from '../fleet/fleet-wire.js';
import { TuiModel, flowRow } from '../sinks/tui/tui-model.js';
import { TuiScreen } from '../sinks/tui/tui-screen.js';
import { ConfigError, describeError } from '../util/errors.js';
import type { Output } from './capture-command.js';
import type { FleetCommandOptions } from './fleet-commands.js';

export async function runWatchCommand(options: FleetCommandOptions, io: Output): Promise<number> {
  if (!process.stdout.isTTY || !process.stdin.isTTY || process.env['TERM'] === 'dumb') throw new ConfigError('watch is a terminal UI: run it on a terminal (scripts read the collector\'s files: phonehome collect)');
  const servers = parseBusUrl(options.url).servers;
  const bus = await connectBus({ url: options.url, name: 'phonehome watch', ...(options.credsFile ? { credsFile: options.credsFile } : {}), ...(options.caFile ? { caFile: options.caFile } : {}) });
  await Promise.all([DestinationLookup.shared(), EntityLookup.shared()]);
  const model = new TuiModel({ capacity: 100_000, proxyAddresses: [`fleet on ${servers}`], insecureUpstream: false, redact: (f) => f });
  let finish!: () => void;
  const done = new Promise<void>((resolve) => { finish = resolve; });
  const screen = new TuiScreen(model, { colour: !process.env['NO_COLOR'], onQuit: () => finish(), onExport: () => 'export is for a capture; the collector writes the fleet\'s files' });
  // The record stream holds flows and findings only (filter_subjects needs nats-server 2.10).
  const consumer = await bus.js.consumers.get(RECORD_STREAM, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume();
  void (async () => {
    for await (const message of messages) {
      const node = nodeOfSubject(message.subject);
      try {
        if (message.subject.endsWith('.finding')) {
          const finding = decodeFinding(message.data);
          model.addFinding({ ...finding, client: { ip: `${finding.node ?? node} ${finding.client.ip}` } });
        } else {
          const { flow } = decodeFlowMessage(message.data);
          model.addFlow(flowRow(flow, DestinationLookup.locate(flow.destination?.ip).country, (host) => EntityLookup.of(host)), `${node} ${flow.client.ip}`);
        }
        screen.markDirty();
      } catch (error) {
        model.message = `a record on ${message.subject} could not be read: ${describeError(error)}`;
      }
    }
  })();
  const onSignal = (): void => finish();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  messages.stop();
  screen.destroy();
  await bus.close();
  io.err('phonehome watch: stopped');
  return 0;
}
