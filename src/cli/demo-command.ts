// `phonehome demo [--headless] [--out DIR]`: the proxy, a local cloud and a simulated leaky
// phone, shown in the UI (one step every few seconds, about a minute in all), or with
// --headless run at once and written to files only.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CaptureSession } from '../app/capture-session.js';
import { DestinationLookup } from '../enrich/destination-lookup.js';
import { demoAddresses } from '../app/demo-places.js';
import { demoLookup, phoneSteps, runPhone, startDemoCloud } from '../app/demo.js';
import { resolveCaptureOptions } from '../app/options.js';
import { ConsoleSink } from '../sinks/console-sink.js';
import type { Output } from './capture-command.js';

/** One phone step every few seconds, so a person can watch; PHONEHOME_DEMO_PACE_MS changes it (tests). */
const UI_PACE_MS = Number(process.env['PHONEHOME_DEMO_PACE_MS'] ?? 6_000);

export async function runDemo(raw: { headless?: boolean; out?: string; noFiles?: boolean }, io: Output, interactive: boolean): Promise<number> {
  const headless = raw.headless === true || !interactive;
  const cloud = await startDemoCloud();
  DestinationLookup.place(demoAddresses);
  const caDir = fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-demo-ca-'));
  try {
    // Like the live view, the demo keeps its files (./phonehome-run-<time>) unless --no-files.
    const options = resolveCaptureOptions({ listen: '127.0.0.1:0', 'ca-dir': caDir, 'upstream-ca': [cloud.caFile], ...(raw.out ? { out: raw.out } : {}), ...(raw.noFiles ? { 'no-files': true } : {}) }, 'ui');
    const session = await CaptureSession.start(options, { lookup: demoLookup });
    const steps = phoneSteps(session.port, session.ca.certPem, cloud);
    if (headless) {
      session.sinks.add(new ConsoleSink(io, { redact: options.redact, messages: false }));
      await runPhone(steps, 0, (name, error) => io.err(`phonehome demo: phone: ${name}${error ? ` (${error})` : ''}`));
      const result = await session.stop();
      if (result.failure) io.err(`phonehome demo: ${result.failure}`);
      io.err(`phonehome demo: ${result.findings} finding(s)${result.outDir ? `, files in ${result.outDir}` : '; no files were written (--no-files)'}`);
      return result.exitCode === 2 ? 2 : 0;
    }
    const { runUi } = await import('./ui-command.js');
    let stopped = false;
    void session.stopped.then(() => { stopped = true; });
    void runPhone(steps, UI_PACE_MS, () => undefined, () => stopped);
    return await runUi({}, io, { session });
  } finally {
    cloud.close();
    fs.rmSync(caDir, { recursive: true, force: true });
  }
}
