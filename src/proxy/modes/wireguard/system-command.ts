// Running the system tools the WireGuard mode needs (wg, ip, iptables): found once in PATH or the
// sbin folders (root's tools live there, and a PATH set by sudo or a service may lack them),
// spawned with an argument array (never a shell), output bounded, time bounded.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Largest output we keep per stream (iptables-save of a busy host fits; a runaway tool does not fill memory). */
const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;
/** A system tool that takes longer than this is stuck (iptables waiting on a lock held forever). */
const COMMAND_TIMEOUT_MS = 20_000;
const SYSTEM_FOLDERS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const found = new Map<string, string | undefined>();

/** The absolute path of an executable, or undefined when it is not installed. */
export function findExecutable(name: string): string | undefined {
  if (found.has(name)) return found.get(name);
  const folders = [...(process.env['PATH'] ?? '').split(path.delimiter).filter((folder) => path.isAbsolute(folder)), ...SYSTEM_FOLDERS];
  let result: string | undefined;
  for (const folder of folders) {
    const candidate = path.join(folder, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) {
        result = candidate;
        break;
      }
    } catch {
      // not here
    }
  }
  found.set(name, result);
  return result;
}

/** The first line of a tool's complaint, for one-line errors. */
export function firstLine(text: string): string {
  return text.split('\n').map((line) => line.trim()).find((line) => line.length > 0) ?? '';
}

/** Runs `name args…`, feeding `input` on stdin; resolves with its exit code and output (never rejects for a non-zero exit). */
export function runCommand(name: string, args: readonly string[], input?: string): Promise<CommandResult> {
  const executable = findExecutable(name);
  if (!executable) return Promise.reject(new Error(`${name} is not installed`));
  return new Promise((resolve, reject) => {
    const child = spawn(executable, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], timeout: COMMAND_TIMEOUT_MS, killSignal: 'SIGKILL' });
    const collect = (stream: NodeJS.ReadableStream): (() => string) => {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        if (size >= MAX_OUTPUT_BYTES) return;
        chunks.push(chunk.subarray(0, MAX_OUTPUT_BYTES - size));
        size += chunk.length;
      });
      return () => Buffer.concat(chunks).toString('utf8');
    };
    const stdout = collect(child.stdout!);
    const stderr = collect(child.stderr!);
    child.once('error', (error) => reject(new Error(`${name}: ${error.message}`)));
    child.once('close', (code, signal) => {
      if (signal === 'SIGKILL' && code === null) {
        reject(new Error(`${name} ${args.join(' ')} did not finish within ${COMMAND_TIMEOUT_MS} ms`));
        return;
      }
      resolve({ code, stdout: stdout(), stderr: stderr() });
    });
    if (input !== undefined) {
      child.stdin!.on('error', () => { /* the tool exited without reading: its exit code says why */ });
      child.stdin!.end(input);
    }
  });
}

/** Runs a command that must succeed; throws one line (the tool's own complaint) otherwise. */
export async function runChecked(name: string, args: readonly string[], input?: string): Promise<string> {
  const result = await runCommand(name, args, input);
  if (result.code !== 0) {
    throw new Error(`${name} ${args.join(' ')}: ${firstLine(result.stderr) || firstLine(result.stdout) || `exit code ${result.code}`}`);
  }
  return result.stdout;
}
