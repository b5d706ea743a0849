// A real client program run to its end (curl, openssl, python3…), never with spawnSync: a client of
// a lab that runs in this process needs the event loop to keep turning while it works.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { within } from './lab.js';

export interface ProgramRun {
  readonly code: number | null;
  /** Read as Latin-1: every byte kept, whatever the program printed. */
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command args` with `input` on its stdin (then closed), to its exit. */
export async function runProgram(command: string, args: readonly string[], input = '', timeoutMs = 30_000): Promise<ProgramRun> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString('latin1'); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString('latin1'); });
  // A program that exits before reading all of its input is not an error of the test's.
  child.stdin.on('error', () => undefined);
  child.stdin.end(input);
  const [code] = (await within(once(child, 'exit'), timeoutMs, `${command} to exit`)) as [number | null];
  return { code, stdout, stderr };
}

/** Runs `command args` and resolves with its output; a non-zero exit rejects with its stderr. */
export async function runClient(command: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
  const run = await runProgram(command, args, '', timeoutMs);
  if (run.code !== 0) throw new Error(`${command} exited ${run.code}: ${run.stderr}`);
  return run.stdout;
}
