// The fleet's commands: `worker`, `collect` and `watch`. Each runs until SIGINT or SIGTERM and then
// stops cleanly (a worker finishes the flow in hand; a collector writes its summary).

import path from 'node:path';
import { defaultRulesDir } from '../app/options.js';
import { loadRules } from '../enrich/rules.js';
import { loadCanaries } from '../inspect/canary/canary-file.js';
import { defaultNodeName, parseBusUrl } from '../fleet/fleet-names.js';
import { ConfigError } from '../util/errors.js';
import type { Output } from './capture-command.js';

export interface FleetCommandOptions {
  readonly url: string;
  readonly credsFile?: string;
  readonly caFile?: string;
}

/** Runs until a signal, then calls stop() and waits for `done`. */
async function untilSignal<T>(handle: { done: Promise<T>; stop(): void }): Promise<T> {
  const onSignal = (): void => handle.stop();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await handle.done;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function parseSeconds(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new ConfigError(`${option} ${JSON.stringify(text)}: use seconds (30, 30s, 500ms, 2m)`);
  const value = Number(match[1]) * (match[2] === 'ms' ? 1 : match[2] === 'm' ? 60_000 : 1000);
  if (value < 100) throw new ConfigError(`${option}: at least 100ms`);
  return value;
}

export async function runWorkerCommand(options: FleetCommandOptions & { rulesDir?: string; canariesFile?: string; ackWait?: string }, io: Output): Promise<number> {
  parseBusUrl(options.url);
  const rules = loadRules(path.resolve(options.rulesDir ?? defaultRulesDir()), options.rulesDir !== undefined);
  if (options.canariesFile) loadCanaries(options.canariesFile);
  const { startWorker } = await import('../fleet/fleet-worker.js');
  const handle = await startWorker({
    url: options.url, rules, ackWaitMs: options.ackWait ? parseSeconds(options.ackWait, '--ack-wait') : 30_000, name: `phonehome worker ${defaultNodeName()}/${process.pid}`,
    ...(options.canariesFile ? { canariesFile: path.resolve(options.canariesFile) } : {}), ...(options.credsFile ? { credsFile: options.credsFile } : {}), ...(options.caFile ? { caFile: options.caFile } : {}),
  }, (line) => io.out(line));
  io.err(`phonehome worker: pulling flows from ${parseBusUrl(options.url).servers}`);
  const inspected = await untilSignal(handle);
  io.err(`phonehome worker: stopped after ${inspected} flow(s)`);
  return 0;
}

export async function runCollectCommand(options: FleetCommandOptions & { outDir: string; name?: string }, io: Output): Promise<number> {
  parseBusUrl(options.url);
  const { startCollector } = await import('../fleet/fleet-collector.js');
  const handle = await startCollector({ url: options.url, outDir: path.resolve(options.outDir), ...(options.name ? { name: options.name } : {}), ...(options.credsFile ? { credsFile: options.credsFile } : {}), ...(options.caFile ? { caFile: options.caFile } : {}) }, (line) => io.err(`phonehome ${line}`));
  io.err(`phonehome collect: writing the fleet's findings to ${path.resolve(options.outDir)}`);
  const result = await untilSignal(handle);
  io.err(`phonehome collect: stopped; ${result.findings} finding(s) from ${result.nodes} node(s) in ${path.resolve(options.outDir)}`);
  return 0;
}
