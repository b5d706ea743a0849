// The "lab day" (issue #24): `phonehome capture` as its own process with 20 simulated phones on
// it — each its own client address (127.0.0.2 …), app User-Agent and keep-alive connections, a few
// over SOCKS5 — doing a phone's mix at a phone's pace (lab-day-device.ts), every action also made
// direct to the same origin at the same moment. It samples the capture's CPU % and RSS every ~10 s
// and ends with the added latency per kind of action (p50/p99 of through − direct), whether RSS
// stayed flat, and the checks of the soak: every completed flow is in flows.jsonl, and the
// summary's devices list has every phone. `npm run labday -- 30` runs 30 minutes and writes
// docs/lab-day.json and docs/lab-day.svg; test/e2e/lab-day.test.ts runs a short one in CI.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { ChildProcess } from 'node:child_process';
import { startCapture, startSoakOrigin, stopCapture, recordedFlows } from './soak.js';
import { LabDevice, type ActionKind, type DeviceTally, type LatencyPair } from './lab-day-device.js';
import { addedLatency, cpuFigures, cpuPercent, labDayWarmUpSeconds, rssAtMinutes, rssFlatness, type AddedLatency, type Flatness, type LabDaySample } from './lab-day-figures.js';
import { labDayPlot } from './lab-day-plot.js';
import { clockTicksPerSecond, processTreeTicks, statusMb } from './proc-cpu.js';

export interface LabDayOptions {
  readonly seconds: number;
  readonly devices: number;
  /** How many of the devices (the last ones) reach the capture over SOCKS5 instead of HTTP CONNECT. */
  readonly socksDevices: number;
  readonly sampleEverySeconds: number;
  /** Mean seconds between actions of each kind, per device. */
  readonly gaps: Record<ActionKind, number>;
  readonly onSample?: (sample: LabDaySample) => void;
}

/** A phone's pace: an API call every ~3 s, a WebSocket message every ~5 s, a photo a minute, the pinned app every ~2 minutes. */
export const PHONE_PACE: Record<ActionKind, number> = { api: 3, websocket: 5, upload: 60, pinned: 120 };

export interface LabDayResult {
  readonly minutes: number;
  readonly devices: number;
  readonly samples: LabDaySample[];
  readonly latency: AddedLatency[];
  readonly cpu: { meanPercent: number; peakPercent: number } | undefined;
  readonly rssAt: Array<{ minute: number; rssMb: number }>;
  /** RSS held to its level once every phone has made every kind of action (labDayWarmUpSeconds). */
  readonly rssFlat: Flatness | undefined;
  /** The same from the first minute: the rule of the runs before 2026-12-06, kept to compare. */
  readonly rssFlatFromMinute1: Flatness | undefined;
  /** Through the capture, by the flow kind it should record; and what flows.jsonl holds of those kinds. */
  readonly completed: Record<keyof Omit<DeviceTally, 'errors'>, number>;
  readonly recorded: Record<string, number>;
  readonly missing: number;
  readonly harWhole: boolean;
  readonly errors: number;
  readonly lastErrors: string[];
  /** The summary's `devices`: client addresses with their flow counts and the model their User-Agent names. */
  readonly summaryDevices: Array<{ client: string; flows: number; model: string | null }>;
  readonly photoBytes: number;
  readonly exitCode: number | null;
}

/** A camera photo as a phone uploads it: a JPEG of noise (so it does not compress away) with EXIF naming the camera and a place. */
async function makePhoto(): Promise<Buffer> {
  return sharp({ create: { width: 1280, height: 960, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .jpeg({ quality: 80 })
    .withExif({ IFD0: { Make: 'LabPhone', Model: 'Lab Phone 9', DateTime: '2026:12:03 09:30:00' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2400/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 900/100' } })
    .toBuffer();
}

export async function labDay(options: LabDayOptions): Promise<LabDayResult> {
  if (options.devices < 1 || options.devices > 250) throw new Error(`lab day: 1 to 250 devices (127.0.0.2 …), not ${options.devices}`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-labday-'));
  let capture: ChildProcess | undefined;
  try {
    const photo = await makePhoto();
    const origin = await startSoakOrigin(work);
    const out = path.join(work, 'run');
    const { child, proxyPort, trust } = await startCapture(work, out);
    capture = child;
    const hz = clockTicksPerSecond();
    const started = Date.now();
    const pairs: LatencyPair[] = [];
    const devices = Array.from({ length: options.devices }, (_, index) => new LabDevice({
      index,
      address: `127.0.0.${index + 2}`,
      route: index >= options.devices - options.socksDevices ? { via: 'socks5', proxyPort } : { via: 'http-connect', proxyPort },
      captureCa: trust,
      originCa: origin.originCa.certPem,
      originPort: origin.port,
      photo,
      gaps: options.gaps,
      started,
      onPair: (pair) => pairs.push(pair),
    }));
    const completedSoFar = (): number => devices.reduce((sum, d) => sum + d.tally.http + d.tally.websocket + d.tally.tunnel + d.tally['tls-failed'], 0);

    const samples: LabDaySample[] = [];
    let previous = { at: performance.now(), ticks: processTreeTicks(child.pid!) };
    const sample = (first: boolean): void => {
      const now = { at: performance.now(), ticks: processTreeTicks(child.pid!) };
      const s: LabDaySample = {
        seconds: Math.round((Date.now() - started) / 1000),
        rssMb: Math.round(statusMb(child.pid!, 'VmRSS') ?? 0),
        cpuPercent: first ? null : Math.round(cpuPercent(previous.ticks, now.ticks, hz, (now.at - previous.at) / 1000) * 10) / 10,
        flows: completedSoFar(),
      };
      previous = now;
      samples.push(s);
      options.onSample?.(s);
    };
    sample(true);
    const sampler = setInterval(() => sample(false), options.sampleEverySeconds * 1000);
    const running = devices.map((d) => d.run());
    const deadline = setTimeout(() => devices.forEach((d) => d.stop()), options.seconds * 1000);
    await Promise.all(running);
    clearTimeout(deadline);
    sample(false);
    clearInterval(sampler);
    await Promise.all(devices.map((d) => d.close()));
    const exitCode = await stopCapture(child);
    origin.close();

    const { byKind, harWhole } = await recordedFlows(out);
    const completed = { http: 0, websocket: 0, tunnel: 0, 'tls-failed': 0 };
    for (const device of devices) for (const kind of Object.keys(completed) as Array<keyof typeof completed>) completed[kind] += device.tally[kind];
    const recorded = Object.fromEntries(Object.keys(completed).map((kind) => [kind, byKind.get(kind) ?? 0]));
    const missing = Object.entries(completed).reduce((sum, [kind, count]) => sum + Math.max(0, count - (recorded[kind] ?? 0)), 0);
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as { devices?: Array<{ client: string; flows: number; model: string | null }> };
    const minutes = options.seconds / 60;
    return {
      minutes,
      devices: options.devices,
      samples,
      latency: addedLatency(pairs),
      cpu: cpuFigures(samples),
      rssAt: rssAtMinutes(samples, [1, 5, 10, 15, 20, 25, 30].filter((m) => m <= minutes)),
      rssFlat: rssFlatness(samples, labDayWarmUpSeconds(options.gaps)),
      rssFlatFromMinute1: rssFlatness(samples, 60),
      completed,
      recorded,
      missing,
      harWhole,
      errors: devices.reduce((sum, d) => sum + d.tally.errors, 0),
      lastErrors: [...new Set(devices.map((d) => d.lastError).filter(Boolean))].slice(0, 5),
      summaryDevices: (summary.devices ?? []).map(({ client, flows, model }) => ({ client, flows, model })),
      photoBytes: photo.length,
      exitCode,
    };
  } finally {
    // On a failure half-way, the capture must not outlive the run.
    if (capture && capture.exitCode === null && capture.signalCode === null) capture.kill('SIGKILL');
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The result as lines for a terminal (and the README's table comes from the same figures). */
export function describeLabDay(result: LabDayResult): string {
  const ms = (v: number): string => `${v.toFixed(1)} ms`;
  const lines = [
    `${result.devices} devices, ${result.minutes.toFixed(1)} minutes, photo ${Math.round(result.photoBytes / 1024)} KB`,
    'added latency (through − direct, same moment):',
    ...result.latency.map((l) => `  ${l.kind.padEnd(9)} ${String(l.pairs).padStart(6)} pairs  p50 ${ms(l.addedP50)}  p99 ${ms(l.addedP99)}  (direct p50 ${ms(l.directP50)}, through p50 ${ms(l.throughP50)})`),
    result.cpu ? `capture CPU: mean ${result.cpu.meanPercent.toFixed(1)} %, peak ${result.cpu.peakPercent.toFixed(1)} % of one core` : 'capture CPU: no interval sampled',
    `RSS: ${result.rssAt.map((r) => `${r.minute} min ${r.rssMb} MB`).join(', ')}`,
    flatness('RSS after the warm-up (every phone has made every kind of action)', result.rssFlat),
    flatness('from the first minute (the rule before 2026-12-06)', result.rssFlatFromMinute1),
    `flows completed ${JSON.stringify(result.completed)}, recorded ${JSON.stringify(result.recorded)}, missing ${result.missing}; flows.har whole: ${result.harWhole}`,
    `summary devices: ${result.summaryDevices.length} (${result.summaryDevices.map((d) => d.client).sort((a, b) => Number(a.split('.')[3]) - Number(b.split('.')[3])).join(' ')})`,
    `errors: ${result.errors}${result.lastErrors.length ? ` (${result.lastErrors.join('; ')})` : ''}; capture exit ${result.exitCode}`,
  ];
  return `${lines.join('\n')}\n`;
}

function flatness(title: string, flat: Flatness | undefined): string {
  if (!flat) return `${title}: the run ended within it`;
  const at = flat.warmUpSeconds % 60 === 0 ? `${flat.warmUpSeconds / 60} min` : `${flat.warmUpSeconds} s`;
  return `${title}: ${flat.minMb}–${flat.maxMb} MB against ${flat.referenceMb} MB at ${at}, at most ${(flat.maxDeviation * 100).toFixed(1)} % off: ${flat.flat ? 'flat (±10 %)' : 'NOT flat (±10 %)'}`;
}

/** The run's JSON (samples and figures, with when and on what) and its SVG plot, where asked. */
export function writeLabDayFiles(result: LabDayResult, files: { json?: string; svg?: string }): void {
  if (files.json) fs.writeFileSync(files.json, `${JSON.stringify({ measured: new Date().toISOString(), host: `${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? 'unknown'}`, ...result }, null, 1)}\n`);
  if (files.svg) fs.writeFileSync(files.svg, labDayPlot(result.samples, `phonehome capture, lab day: ${result.devices} devices, ${Number(result.minutes.toFixed(1))} minutes`));
}

/** Reads `MINUTES [--devices N] [--socks N] [--json FILE] [--svg FILE]`; a wrong option is a one-line error. */
export function parseLabDayArgs(argv: readonly string[]): { minutes: number; devices: number; socks: number; json?: string; svg?: string } {
  const parsed: { minutes: number; devices: number; socks: number; json?: string; svg?: string } = { minutes: 30, devices: 20, socks: 4 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new Error(`labday: ${arg} needs a value`);
      return next;
    };
    const count = (text: string, max: number, what = arg): number => {
      const n = Number(text);
      if (!/^\d+(\.\d+)?$/.test(text) || n <= 0 || n > max) throw new Error(`labday: ${what} takes a number above 0 up to ${max}, not "${text}"`);
      return n;
    };
    if (arg === '--devices') parsed.devices = Math.round(count(value(), 250));
    else if (arg === '--socks') parsed.socks = Math.round(count(value(), 250));
    else if (arg === '--json') parsed.json = value();
    else if (arg === '--svg') parsed.svg = value();
    else if (i === 0 && /^\d/.test(arg)) parsed.minutes = count(arg, 24 * 60, 'MINUTES');
    else throw new Error(`labday: unknown option "${arg}" (known: MINUTES, --devices N, --socks N, --json FILE, --svg FILE)`);
  }
  if (parsed.socks > parsed.devices) throw new Error(`labday: --socks ${parsed.socks} is more than --devices ${parsed.devices}`);
  return parsed;
}

// `node dist-bench/bench/lab-day.js MINUTES [...]` (`npm run labday` builds it first)
if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  let args: ReturnType<typeof parseLabDayArgs>;
  try {
    args = parseLabDayArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const result = await labDay({
    seconds: args.minutes * 60, devices: args.devices, socksDevices: args.socks, sampleEverySeconds: 10, gaps: PHONE_PACE,
    onSample: (s) => process.stdout.write(`${(s.seconds / 60).toFixed(1).padStart(5)} min  RSS ${String(s.rssMb).padStart(4)} MB  CPU ${s.cpuPercent === null ? '   –' : s.cpuPercent.toFixed(1).padStart(5)} %  flows ${s.flows}\n`),
  });
  process.stdout.write(`\n${describeLabDay(result)}`);
  writeLabDayFiles(result, args);
  process.exit(result.missing === 0 && result.exitCode === 0 && result.summaryDevices.length >= result.devices ? 0 : 1);
}
