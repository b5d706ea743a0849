// Is a run folder being written right now? A live capture keeps its flows.jsonl and findings.jsonl
// open for the whole session, while a killed one left run.json saying "unfinished" with nobody
// holding the files. Commands that change a run (decrypt) must tell the two apart: recovering or
// appending to a folder a capture is still writing would interleave two writers in one log.
// Linux: the open files of each process are links in /proc/PID/fd. Processes of other users
// cannot be read there and are not seen (a capture run as root, read by a user, is missed).

import fs from 'node:fs';
import path from 'node:path';
import { FINDINGS_FILE, FLOW_LOG } from './layout.js';

/** The id of another process holding the run's durable logs open, or undefined when none is seen. */
export function liveWriterOf(dir: string, procRoot = '/proc'): number | undefined {
  let real: string;
  try {
    real = fs.realpathSync(dir);
  } catch {
    return undefined;
  }
  const targets = new Set([FLOW_LOG, FINDINGS_FILE].map((name) => path.join(real, name)));
  let pids: string[];
  try {
    pids = fs.readdirSync(procRoot).filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    let fds: string[];
    try {
      fds = fs.readdirSync(path.join(procRoot, pid, 'fd'));
    } catch {
      continue; // gone, or another user's
    }
    for (const fd of fds) {
      try {
        if (targets.has(fs.readlinkSync(path.join(procRoot, pid, 'fd', fd)))) return Number(pid);
      } catch {
        // closed while we looked
      }
    }
  }
  return undefined;
}
