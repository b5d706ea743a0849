// A capture session as `phonehome capture --out DIR` starts it, for integration tests: a fresh
// folder holding its CA and run, 127.0.0.1:0, trusting the test origins' CA, *.test resolved to
// 127.0.0.1. Options a test needs on top (--fail-on, --canaries, --keylog…) go in `raw`.

import fs from 'node:fs';
import path from 'node:path';
import { CaptureSession, type SessionHooks } from '../../src/app/capture-session.js';
import { resolveCaptureOptions, type RawOptions } from '../../src/app/options.js';
import { getOriginCa, tempDir, testLookup } from './lab.js';

let originCaPath: string | undefined;
/** The test origins' CA certificate as a file, for --upstream-ca (written once per process). */
export function originCaFile(): string {
  if (!originCaPath) {
    originCaPath = path.join(tempDir('phonehome-origin-ca-file-'), 'origin.pem');
    fs.writeFileSync(originCaPath, getOriginCa().certPem);
  }
  return originCaPath;
}

export interface CaptureRun {
  readonly session: CaptureSession;
  /** The run folder (--out). */
  readonly out: string;
  /** The temporary folder holding the run and the CA, for a test's own files. */
  readonly work: string;
}

export async function startCaptureRun(raw: RawOptions = {}, hooks: SessionHooks = {}): Promise<CaptureRun> {
  const work = tempDir();
  const out = path.join(work, 'run');
  const options = resolveCaptureOptions({ listen: '127.0.0.1:0', 'ca-dir': path.join(work, 'ca'), out, 'upstream-ca': [originCaFile()], ...raw }, 'capture');
  const session = await CaptureSession.start(options, { lookup: testLookup, ...hooks });
  return { session, out, work };
}
