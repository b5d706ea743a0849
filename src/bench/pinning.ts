// Which CPUs the bench gives to whom. A proxy under test gets one CPU of its own (`taskset -c`),
// the load generator and the origin servers (the bench process itself) get the others, so each
// figure says what one core of the subject does, whatever the client costs. Pure: the bench asks
// the machine (CPU count, taskset present) and hands the answers in, so the test can ask anything.

/** Where the subject and the load run, and why, in one line for the bench's output. */
export interface CpuPlan {
  readonly pinned: boolean;
  /** taskset's CPU list for the proxy under test, e.g. "0". */
  readonly subjectCpus: string;
  /** taskset's CPU list for the load generator and origins, e.g. "1" or "1-3". */
  readonly loadCpus: string;
  readonly note: string;
}

/** One CPU (the first) for the subject, the rest for the load; unpinned below 2 CPUs or without taskset. */
export function planCpus(cpuCount: number, tasksetAvailable: boolean): CpuPlan {
  if (!Number.isInteger(cpuCount) || cpuCount < 1) throw new Error(`bench: a CPU count must be a whole number >= 1, not ${cpuCount}`);
  if (cpuCount < 2) return { pinned: false, subjectCpus: '', loadCpus: '', note: `${cpuCount} CPU: too few to give the proxy one of its own, so nothing is pinned (subject and load share it)` };
  if (!tasksetAvailable) return { pinned: false, subjectCpus: '', loadCpus: '', note: 'taskset not found (util-linux), so nothing is pinned (subject and load share the CPUs)' };
  const loadCpus = cpuCount === 2 ? '1' : `1-${cpuCount - 1}`;
  return { pinned: true, subjectCpus: '0', loadCpus, note: `each proxy pinned to CPU 0 (taskset -c 0, all its threads), load generator and origins on CPU ${loadCpus}` };
}

/** The command line that starts `command args` on the plan's subject CPU (taskset execs it: the pid is the subject's). */
export function pinnedCommand(plan: CpuPlan, command: string, args: readonly string[]): { command: string; args: string[] } {
  return plan.pinned ? { command: 'taskset', args: ['-c', plan.subjectCpus, command, ...args] } : { command, args: [...args] };
}

/** taskset's arguments that move a running process, every thread it has now, onto `cpus` (threads it starts later inherit it). */
export function tasksetPidArgs(cpus: string, pid: number): string[] {
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`bench: not a process id: ${pid}`);
  return ['-a', '-p', '-c', cpus, String(pid)];
}

/** Expands a taskset CPU list ("0", "1-3", "0,2-3") to the CPU numbers, to compare with /proc's Cpus_allowed_list. */
export function expandCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!match) throw new Error(`bench: not a CPU list: "${list}"`);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (to < from) throw new Error(`bench: not a CPU list: "${list}"`);
    for (let cpu = from; cpu <= to; cpu++) cpus.push(cpu);
  }
  return cpus;
}
