// One line of /proc/PID/stat (or /proc/PID/task/TID/stat for a thread), as Linux writes it (proc(5)).
// The bench reads it for CPU time, the WireGuard mode for a process's start time, and tests for
// whether a thread has stopped. The command name (field 2) is in parentheses and may hold spaces
// and ')', so the fields are counted after the last ')'.

export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** The state letter: R running, S sleeping, T stopped (SIGSTOP), Z exited but not yet reaped… */
  readonly state: string;
  /** utime + stime, in clock ticks. */
  readonly ticks: number;
  /** Field 22: clock ticks since boot when the process started. With the pid it names one process: pids are reused, start times are not. */
  readonly startTime: string;
}

/** Parses one stat line; throws on anything else. */
export function parseProcStat(line: string): ProcStat {
  const close = line.lastIndexOf(')');
  const pid = Number(line.slice(0, line.indexOf('(')).trim());
  // After ") ": state(3) ppid(4) ... utime(14) stime(15) ... starttime(22): index 0 here is field 3.
  const fields = line.slice(close + 2).trim().split(/\s+/);
  const state = fields[0] ?? '';
  const ppid = Number(fields[1]);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const startTime = fields[19] ?? '';
  if (close < 0 || !Number.isInteger(pid) || !Number.isInteger(ppid) || !Number.isFinite(utime) || !Number.isFinite(stime) || !/^\d+$/.test(startTime)) {
    throw new Error(`not a /proc stat line: ${line.slice(0, 80)}`);
  }
  return { pid, ppid, state, ticks: utime + stime, startTime };
}
