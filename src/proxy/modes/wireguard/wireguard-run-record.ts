// Who runs a WireGuard interface: a small record in /run/phonehome/ (wiped at boot, like the
// interfaces themselves) with the pids of the phonehome and the wireguard-go that own it, and the
// ip_forward value to restore. A start reads it to tell a running phonehome (refused) from one
// that was killed (its leftovers are removed). A pid is only taken for the same process when its
// start time matches too, so a recycled pid is never mistaken for ours, and never signalled.

import fs from 'node:fs';
import path from 'node:path';
import { parseProcStat } from '../../../util/proc-stat.js';

/** /run is a tmpfs on Linux: records vanish with a reboot, as the interfaces and rules do. */
export const RUN_RECORD_FOLDER = '/run/phonehome';
const MAX_RECORD_BYTES = 64 * 1024;

export interface ProcessIdentity {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks since boot when the process started. */
  readonly startTime: string;
}

export interface RunRecord {
  readonly owner: ProcessIdentity;
  readonly wireguardGo?: ProcessIdentity;
  /** The network namespace the rules and sysctl belong to (`net:[inode]`). */
  readonly netns: string;
  /** ip_forward before we set it (restored on stop, or by the next start after a kill). */
  readonly ipForwardBefore?: string;
}

/** The identity of a running process, or undefined when there is none with that pid. */
export function processIdentity(pid: number): ProcessIdentity | undefined {
  try {
    const stat = parseProcStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    // A zombie has exited; it only waits for its parent to read its status.
    return stat.state !== 'Z' ? { pid, startTime: stat.startTime } : undefined;
  } catch {
    return undefined;
  }
}

/** True when the process of `identity` still runs (same pid and same start time). */
export function isRunning(identity: ProcessIdentity | undefined): boolean {
  if (!identity) return false;
  return processIdentity(identity.pid)?.startTime === identity.startTime;
}

export function currentNetns(): string {
  try {
    return fs.readlinkSync('/proc/self/ns/net');
  } catch {
    return 'unknown';
  }
}

export function runRecordFile(interfaceName: string): string {
  return path.join(RUN_RECORD_FOLDER, `wireguard-${interfaceName}.json`);
}

/** The record of an interface, or undefined when there is none or it is unreadable (treated as stale). */
export function readRunRecord(interfaceName: string): RunRecord | undefined {
  try {
    const file = runRecordFile(interfaceName);
    if (fs.statSync(file).size > MAX_RECORD_BYTES) return undefined;
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<RunRecord>;
    const valid = (identity: unknown): identity is ProcessIdentity =>
      typeof identity === 'object' && identity !== null && Number.isInteger((identity as ProcessIdentity).pid) && (identity as ProcessIdentity).pid > 0 && typeof (identity as ProcessIdentity).startTime === 'string';
    if (!valid(data.owner) || typeof data.netns !== 'string') return undefined;
    return {
      owner: data.owner,
      netns: data.netns,
      ...(valid(data.wireguardGo) ? { wireguardGo: data.wireguardGo } : {}),
      ...(data.ipForwardBefore === '0' || data.ipForwardBefore === '1' ? { ipForwardBefore: data.ipForwardBefore } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Claims an interface: creates its record only when there is none (exclusive create), so two
 * starts at the same moment cannot both win. Returns false when another record exists.
 */
export function claimRunRecord(interfaceName: string, record: RunRecord): boolean {
  fs.mkdirSync(RUN_RECORD_FOLDER, { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(runRecordFile(interfaceName), JSON.stringify(record), { flag: 'wx', mode: 0o600 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Updates the record of an interface we hold (written whole, then renamed over the old one). */
export function updateRunRecord(interfaceName: string, record: RunRecord): void {
  const file = runRecordFile(interfaceName);
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(record), { mode: 0o600 });
  fs.renameSync(temporary, file);
}

export function removeRunRecord(interfaceName: string): void {
  fs.rmSync(runRecordFile(interfaceName), { force: true });
}
