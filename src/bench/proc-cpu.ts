// CPU time and memory of a process as Linux keeps them in /proc. The CPU of a subject is its own
// process's (every thread: /proc/PID/stat sums them) plus any process it started, so a proxy that
// forks helpers is charged for them too.

import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { parseProcStat, type ProcStat } from '../util/proc-stat.js';

/** What the tree's sum needs of a process's stat. */
type TreeStat = Pick<ProcStat, 'pid' | 'ppid' | 'ticks'>;

/** The ticks of `root` and every process below it. */
export function treeTicks(stats: readonly TreeStat[], root: number): number {
  const children = new Map<number, TreeStat[]>();
  for (const stat of stats) {
    const siblings = children.get(stat.ppid);
    if (siblings) siblings.push(stat);
    else children.set(stat.ppid, [stat]);
  }
  let total = 0;
  const seen = new Set<number>();
  const pending = stats.filter((s) => s.pid === root);
  while (pending.length > 0) {
    const stat = pending.pop()!;
    if (seen.has(stat.pid)) continue;
    seen.add(stat.pid);
    total += stat.ticks;
    pending.push(...(children.get(stat.pid) ?? []));
  }
  return total;
}

/** Every process's stat now (processes that end while being read are skipped). */
function allProcStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      stats.push(parseProcStat(fs.readFileSync(`/proc/${entry}/stat`, 'utf8')));
    } catch {
      // gone meanwhile
    }
  }
  return stats;
}

/** CPU ticks spent so far by `pid` and its descendants. */
export function processTreeTicks(pid: number): number {
  return treeTicks(allProcStats(), pid);
}

/** Clock ticks per second (getconf CLK_TCK; 100 on every Linux we know when getconf is missing). */
export function clockTicksPerSecond(): number {
  const answer = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const value = Number(answer.stdout?.trim());
  return answer.status === 0 && Number.isInteger(value) && value > 0 ? value : 100;
}

/** A /proc/PID/status field in kB as MB (VmRSS now, VmHWM the peak), or undefined once the process is gone. */
export function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Number.isFinite(kb) ? kb / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The CPUs each thread of `pid` may run on (Cpus_allowed_list), to check that pinning took. */
export function threadCpuLists(pid: number): string[] {
  const lists: string[] = [];
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        const list = /Cpus_allowed_list:\s+(\S+)/.exec(fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))?.[1];
        if (list) lists.push(list);
      } catch {
        // thread ended meanwhile
      }
    }
  } catch {
    // process gone
  }
  return lists;
}
