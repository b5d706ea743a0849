// `phonehome` on a terminal: the capture session with the terminal UI as one more listener on the
// event bus. Quitting (Q, ctrl-c, SIGTERM) stops the proxy, writes the files, and restores the
// terminal before anything is printed.

import fs from 'node:fs';
import path from 'node:path';
import { CaptureSession, type SessionHooks } from '../app/capture-session.js';
import { resolveCaptureOptions, type RawOptions } from '../app/options.js';
import { DestinationLookup } from '../enrich/destination-lookup.js';
import { EntityLookup } from '../enrich/entity/entity-lookup.js';
import { lanAddresses } from '../sinks/console-sink.js';
import { TuiModel, flowRow } from '../sinks/tui/tui-model.js';
import { TuiScreen } from '../sinks/tui/tui-screen.js';
import { redactFinding } from '../util/redact.js';
import { toDisplay } from '../util/sanitize.js';
import { Notices } from '../app/notices.js';
import { limits } from '../limits.js';
import type { Output } from './capture-command.js';

export async function runUi(raw: RawOptions, io: Output, hooks: SessionHooks & { session?: CaptureSession } = {}): Promise<number> {
  const session = hooks.session ?? (await CaptureSession.start(resolveCaptureOptions(raw, 'ui'), hooks));
  const options = session.options;
  const host = options.listenHost;
  const proxyAddresses = host === '0.0.0.0' || host === '::' ? lanAddresses().map((a) => `${a}:${session.port}`) : [`${host.includes(':') ? `[${host}]` : host}:${session.port}`];
  const model = new TuiModel({
    capacity: 100_000, proxyAddresses: proxyAddresses.length > 0 ? proxyAddresses : [`port ${session.port}`], insecureUpstream: options.insecureUpstream,
    ...(options.outDir ? { outDir: options.outDir } : {}), redact: options.redact ? redactFinding : (f) => f,
    wireguard: () => session.wireguard,
  });
  let quitting: Promise<number> | undefined;
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => { finish = resolve; });
  const quit = (): Promise<number> => {
    quitting ??= (async () => {
      const result = await session.stop();
      screen.destroy();
      if (result.failure) io.err(`phonehome: ${result.failure}`);
      io.err(`phonehome: stopped; ${result.findings} finding(s)${result.outDir ? `, files in ${result.outDir}` : '; no files were written (--no-files)'}`);
      finish(result.exitCode);
      return result.exitCode;
    })();
    return quitting;
  };
  const screen = new TuiScreen(model, {
    colour: !process.env['NO_COLOR'],
    onQuit: () => void quit(),
    onExport: () => {
      const finding = model.selectedFinding();
      if (!finding) return 'select a finding first';
      const file = path.join(options.outDir ?? process.cwd(), `evidence-${finding.id}.json`);
      try {
        fs.writeFileSync(file, `${JSON.stringify(finding, null, 2)}\n`);
        return `evidence written to ${file}`;
      } catch (error) {
        return `could not write ${file}: ${(error as Error).message}`;
      }
    },
  });
  session.bus.listen('finding', 'tui', (finding) => {
    model.addFinding(finding);
    screen.markDirty();
  });
  session.bus.listen('flow:end', 'tui', (flow) => {
    model.addFlow(flowRow(flow, DestinationLookup.locate(flow.destination?.ip).country, (host) => EntityLookup.of(host)), flow.client.ip);
    screen.markDirty();
  });
  // The proxy's own messages go to the hint line, never over the screen.
  session.bus.listen('log', 'tui', (entry) => {
    if (entry.level === 'warn' || entry.level === 'error') {
      model.message = toDisplay(entry.message, 200);
      screen.markDirty();
    }
  });
  new Notices(session.bus, (line) => {
    model.addEvent(toDisplay(line, 400));
    screen.markDirty();
  }, { intervalMs: limits.noticeIntervalMs });
  const lastWarning = session.startupWarnings.at(-1);
  if (lastWarning) model.message = toDisplay(lastWarning, 200);
  const onSignal = (): void => void quit();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  void session.stopped.then(() => void quit()); // --duration
  const code = await done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return code;
}
