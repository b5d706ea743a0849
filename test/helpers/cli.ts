// The built CLI as scripts use it: run a command to its end, or start `capture` and learn its port.

import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { installRoot } from '../../src/util/install-paths.js';

export const cli = path.join(installRoot, 'dist', 'cli.js');

/** Starts `phonehome capture` on 127.0.0.1:0 and resolves with the port from its banner. */
export async function startCapture(args: string[]): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const child = spawn(process.execPath, [cli, 'capture', '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(stdout);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`capture exited ${code}: ${stderr}`)));
  });
  return { child, port, stderr: () => stderr };
}
