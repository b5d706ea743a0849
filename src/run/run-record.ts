// run.json: what a run folder holds (the tool and version that wrote it, its sessions and their
// options) and whether its run finished. Written whole and renamed into place, so a reader never
// sees half of it.

import fs from 'node:fs';
import path from 'node:path';
import { RUN_FILE } from './layout.js';

export interface RunSession {
  readonly startedAt: string;
  endedAt?: string;
  readonly options: Record<string, unknown>;
  recovered?: true;
}

/** run.json: what the folder holds. */
export interface RunRecord {
  readonly v: 1;
  readonly tool: { readonly name: 'phonehome'; readonly version: string };
  readonly insecureUpstream: boolean;
  readonly passthroughConfigured: readonly string[];
  sessions: RunSession[];
  finished: boolean;
}

export function readRunRecord(dir: string): RunRecord | undefined {
  try {
    const record = JSON.parse(fs.readFileSync(path.join(dir, RUN_FILE), 'utf8')) as RunRecord;
    return record && record.v === 1 && Array.isArray(record.sessions) ? record : undefined;
  } catch {
    return undefined;
  }
}

export function writeRunRecord(dir: string, record: RunRecord): void {
  const file = path.join(dir, RUN_FILE);
  fs.writeFileSync(`${file}.partial`, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
  fs.renameSync(`${file}.partial`, file);
}
