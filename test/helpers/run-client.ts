// A real client program run to its end (curl, python3…), never with spawnSync: a client of a lab
// that runs in this process needs the event loop to keep turning while it works.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { within } from './lab.js';

/** Runs `command args` and resolves with its output; a non-zero exit rejects with its stderr. */
export async function runClient(command: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
  const child = spawn(command, args);
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const [code] = (await within(once(child, 'exit'), timeoutMs, command)) as [number | null];
  if (code !== 0) throw new Error(`${command} exited ${code}: ${err}`);
  return out;
}
