// The run folder (--out) and its life: run.json says a run is under way or finished; a folder
// holding a finished run is never silently mixed with a new one (--append adds a session with ids
// that go on, --force moves the old run aside, never deleting it); an unfinished run (a crash, a
// kill -9, a power cut) is recovered before anything else touches the folder.

import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { ConfigError, describeError } from '../util/errors.js';
import { FINDINGS_FILE, FLOW_LOG, HAR_FILE, HAR_PARTIAL_FILE, SUMMARY_FILE } from './layout.js';
import { readRunRecord, type RunRecord } from './run-record.js';
import { recoverRun } from './recover.js';

export type RunState = 'none' | 'unfinished' | 'finished';

/** What a folder holds: nothing of ours, a run that did not stop cleanly, or a finished run. */
export function runStateOf(dir: string): RunState {
  const has = (name: string): boolean => fs.existsSync(path.join(dir, name));
  const record = readRunRecord(dir);
  if (record) return record.finished ? 'finished' : 'unfinished';
  // Folders written before run.json existed: a half-written HAR and no summary is a crash.
  if ((has(FLOW_LOG) || has(HAR_PARTIAL_FILE)) && !has(SUMMARY_FILE)) return 'unfinished';
  if (has(SUMMARY_FILE) || has(HAR_FILE) || has(FINDINGS_FILE)) return 'finished';
  return 'none';
}

export interface PreparedRun {
  /** Flow and finding numbers already used in the folder (--append goes on after them). */
  readonly lastFlowNumber: number;
  readonly lastFindingNumber: number;
  readonly previous?: RunRecord;
  /** Said once on the console: what was done to the folder before the run starts. */
  readonly notices: string[];
}

/**
 * Makes `dir` ready for a new run, or refuses in one line. Recovers an unfinished run first, then:
 * an empty folder is used as is; a finished run needs --append (a new session in the same files)
 * or --force (the old run is moved to `DIR.moved-<time>`).
 */
export async function prepareRunFolder(dir: string, options: { append: boolean; force: boolean; now?: Date }): Promise<PreparedRun> {
  const notices: string[] = [];
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (error) {
    throw new ConfigError(`--out ${dir}: ${describeError(error)}`);
  }
  let state = runStateOf(dir);
  if (state === 'unfinished') {
    const recovered = await recoverRun(dir);
    notices.push(`--out ${dir} held a run that did not stop cleanly: recovered ${recovered.flows} flow(s) and ${recovered.findings} finding(s) into ${SUMMARY_FILE}${recovered.harBuilt ? ` and ${HAR_FILE}` : ''}`);
    state = 'finished';
  }
  if (state === 'none') return { lastFlowNumber: 0, lastFindingNumber: 0, notices };
  if (options.force) {
    const stamp = (options.now ?? new Date()).toISOString().replace(/[:.]/g, '-');
    const aside = `${dir.replace(/[\\/]+$/, '')}.moved-${stamp}`;
    fs.renameSync(dir, aside);
    fs.mkdirSync(dir, { recursive: true });
    notices.push(`--force: the run that was in ${dir} is now in ${aside}`);
    return { lastFlowNumber: 0, lastFindingNumber: 0, notices };
  }
  if (!options.append) {
    const started = readRunRecord(dir)?.sessions[0]?.startedAt;
    throw new ConfigError(`--out ${dir} holds a finished run${started ? ` (started ${started})` : ''}: add --append to add a session to it, --force to move it aside, or choose another --out`);
  }
  const [lastFlowNumber, lastFindingNumber] = await Promise.all([
    lastNumberIn(path.join(dir, FLOW_LOG), /"connection":"fl-(\d+)"/),
    lastNumberIn(path.join(dir, FINDINGS_FILE), /"id":"f-(\d+)"/),
  ]);
  const previous = readRunRecord(dir);
  notices.push(`--append: a new session in ${dir}; ids go on after fl-${String(lastFlowNumber).padStart(6, '0')} and f-${String(lastFindingNumber).padStart(6, '0')}`);
  return { lastFlowNumber, lastFindingNumber, ...(previous ? { previous } : {}), notices };
}

/** The largest number a line's id carries (ids sit near the start of each line). */
async function lastNumberIn(file: string, pattern: RegExp): Promise<number> {
  if (!fs.existsSync(file)) return 0;
  let last = 0;
  const lines = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    const match = pattern.exec(line.slice(0, 4096));
    if (match) last = Math.max(last, Number(match[1]));
  }
  return last;
}
