// `phonehome` on a terminal: the capture session with the terminal UI as its front-end sink.
// Quitting (Q, ctrl-c, SIGTERM) stops the proxy, writes the files, and restores the terminal (the
// UI sink closes last) before anything is printed.

import fs from 'node:fs';
import path from 'node:path';
import { CaptureSession, type SessionHooks } from '../app/capture-session.js';
import { resolveCaptureOptions, type RawOptions } from '../app/options.js';
import { lanAddresses } from '../sinks/console-sink.js';
import { TuiModel } from '../sinks/tui/tui-model.js';
import { TuiScreen } from '../sinks/tui/tui-screen.js';
import { TuiSink } from '../sinks/tui-sink.js';
import { redactFinding } from '../util/redact.js';
import { toDisplay } from '../util/sanitize.js';
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
      const result = await session.stop(); // closes the screen too
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
  session.sinks.add(new TuiSink(model, screen));
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
