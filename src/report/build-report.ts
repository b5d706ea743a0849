// `phonehome report RUN_DIR [--out FILE] [--baseline RUN_DIR]`, `capture --report` and
// `analyze --report`: the model worked out, rendered, and written whole (a .partial file renamed
// into place, so a reader never opens half a report).

import fs from 'node:fs';
import path from 'node:path';
import { loadRun } from '../run/run-view.js';
import { buildReportModel, type ReportLimits } from './report-model.js';
import { renderReport } from './report-page.js';
import { runFolderSource, type ReportSource } from './report-source.js';

export interface ReportOptions {
  readonly baselineDir?: string;
  readonly redact?: boolean;
  readonly limits?: ReportLimits;
}

export interface WrittenReport {
  readonly file: string;
  readonly bytes: number;
  readonly findings: number;
  readonly thumbnails: number;
}

export async function writeReport(source: ReportSource, file: string, options: ReportOptions = {}): Promise<WrittenReport> {
  // The baseline is read as `compare` reads it: its findings and its summary's destinations.
  const baseline = options.baselineDir ? await loadRun(options.baselineDir) : undefined;
  const model = await buildReportModel(source, { ...(options.redact ? { redact: true } : {}), ...(baseline ? { baseline } : {}), ...(options.limits ? { limits: options.limits } : {}) });
  const html = renderReport(model);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.partial`;
  fs.writeFileSync(partial, html, { mode: 0o644 });
  fs.renameSync(partial, file);
  return { file, bytes: Buffer.byteLength(html), findings: model.findings.length, thumbnails: [...model.thumbnails.values()].filter((t) => t.kind === 'image').length };
}

/** The report of a run folder, by default into the folder as report.html. */
export async function reportRunFolder(dir: string, options: ReportOptions & { out?: string } = {}): Promise<WrittenReport> {
  return writeReport(await runFolderSource(dir), options.out ?? path.join(dir, 'report.html'), options);
}
