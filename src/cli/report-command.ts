// `phonehome report RUN_DIR [--out FILE] [--baseline RUN_DIR] [--redact]`: one self-contained HTML
// evidence report of a run folder; what was written is said on stderr.

import path from 'node:path';
import type { Output } from './capture-command.js';

export async function runReport(runDir: string, options: { out?: string; baseline?: string; redact: boolean }, io: Output): Promise<number> {
  const { reportRunFolder } = await import('../report/build-report.js');
  const written = await reportRunFolder(path.resolve(runDir), { ...(options.out ? { out: path.resolve(options.out) } : {}), ...(options.baseline ? { baselineDir: path.resolve(options.baseline) } : {}), redact: options.redact });
  io.err(`phonehome: report of ${written.findings} finding(s), ${written.thumbnails} thumbnail(s), ${Math.round(written.bytes / 1024)} kB: ${written.file}`);
  return 0;
}
