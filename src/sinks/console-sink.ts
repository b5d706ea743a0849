// Human lines on stdout for headless runs: what to do, then one line per finding (and per flow
// with --verbose). Every payload-derived string goes through toDisplay() first.

import os from 'node:os';
import type { EventBus } from '../flow/events.js';
import { Notices } from '../app/notices.js';
import { limits } from '../limits.js';
import type { Flow } from '../model/flow.js';
import type { Finding } from '../model/finding.js';
import { redactFinding } from '../util/redact.js';
import { toDisplay } from '../util/sanitize.js';
import { flowStatus } from './flow-status.js';
import { nothingWritten, type Sink, type SinkStats } from './sink.js';

const SEVERITY_MARK: Record<Finding['severity'], string> = { info: '·', low: '-', medium: '!', high: '!!', critical: '!!!' };

export function lanAddresses(): string[] {
  const addresses: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const entry of list ?? []) if (!entry.internal && entry.family === 'IPv4') addresses.push(entry.address);
  }
  return addresses;
}

export function bannerLines(listenHost: string, port: number, outDir: string | undefined, caFingerprint: string): string[] {
  const wildcard = listenHost === '0.0.0.0' || listenHost === '::';
  const where = wildcard ? lanAddresses().map((a) => `${a}:${port}`) : [`${listenHost.includes(':') ? `[${listenHost}]` : listenHost}:${port}`];
  return [
    `phonehome listening on ${listenHost.includes(':') ? `[${listenHost}]` : listenHost}:${port}`,
    `  device proxy setting: ${where.length > 0 ? where.join(' or ') : `this machine's address, port ${port}`}`,
    '  install the CA on the device: open http://phonehome.cert/ in its browser once the proxy is set',
    `  CA fingerprint (SHA-256): ${caFingerprint}`,
    outDir ? `  writing findings.jsonl, flows.jsonl and summary.json to ${outDir} (flows.har on stop while flows.jsonl is at most ${limits.harOnStopMaxLogBytes / 1048576} MiB)` : '  not writing files (give --out DIR to keep a record)',
  ];
}

function clock(iso: string): string {
  return iso.slice(11, 19);
}

export function findingLine(finding: Finding): string {
  const host = finding.destination.country ? `${finding.host} [${finding.destination.country}]` : finding.host;
  // Who sent it and who got it, where known: `com.miui.gallery → api.xiaomi.com [CN] Xiaomi (vendor cloud)`.
  const { entity, purpose, firstParty } = finding.destination;
  const company = entity ? ` ${entity} (${[purpose, firstParty ? 'first party' : undefined].filter(Boolean).join(', ')})` : '';
  const where = `${finding.app ? `${finding.app.id} → ` : ''}${host}${company}`;
  return `${clock(finding.time)} ${SEVERITY_MARK[finding.severity].padEnd(3)} ${finding.severity.toUpperCase().padEnd(8)} ${finding.category.padEnd(10)} ${toDisplay(where, 80)}  ${toDisplay(finding.summary, 300)}`;
}

export function flowLine(flow: Flow): string {
  const what = flow.kind === 'dns' ? `DNS ${flow.dns.type} ${flow.dns.name}${flow.dns.answers.length > 0 ? ` → ${flow.dns.answers.slice(0, 3).map((a) => a.data).join(', ')}` : ''}` : flow.request ? `${flow.request.method} ${flow.request.url}` : `${flow.kind} ${flow.target.host}:${flow.target.port}`;
  const status = flowStatus(flow);
  return `${clock(flow.endedAt)}     flow ${status.padEnd(4)} ${toDisplay(what, 200)} ↑${flow.bytesUp} ↓${flow.bytesDown}${flow.error ? `  (${toDisplay(flow.error, 160)})` : ''}`;
}

export interface ConsoleSinkOptions {
  /** --redact: findings are printed as findings.jsonl writes them. */
  readonly redact: boolean;
  /** The proxy's messages and notices on stderr (the demo's headless run prints findings only). */
  readonly messages: boolean;
}

/** The console as a sink: a line per finding on stdout; notices and the proxy's messages on stderr. */
export class ConsoleSink implements Sink {
  readonly name = 'console';
  readonly closes = 'display';
  readonly #io: { out(line: string): void; err(line: string): void };
  readonly #options: ConsoleSinkOptions;
  #findings = 0;

  constructor(io: { out(line: string): void; err(line: string): void }, options: ConsoleSinkOptions) {
    this.#io = io;
    this.#options = options;
  }

  attach(bus: EventBus): void {
    bus.listen('finding', 'console', (finding) => {
      this.#io.out(findingLine(this.#options.redact ? redactFinding(finding) : finding));
      this.#findings++;
    });
    if (!this.#options.messages) return;
    new Notices(bus, (line) => this.#io.err(`phonehome: ${toDisplay(line, 400)}`), { intervalMs: limits.noticeIntervalMs });
    bus.listen('log', 'console', (entry) => {
      if (entry.level !== 'debug') this.#io.err(`phonehome: ${entry.level}: ${toDisplay(entry.message, 400)}`);
    });
  }

  async close(): Promise<SinkStats> {
    return { ...nothingWritten, written: this.#findings };
  }
}
