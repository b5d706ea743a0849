#!/usr/bin/env node
// Entry point of the `phonehome` command (package.json bin).

import { main } from './cli/main.js';
import { describeError } from './util/errors.js';

// Whoever reads our output may go away (a harness that crashed, `| head`, a closed SSH session).
// That is not an error of ours: console output stops quietly, the files go on, and signals still
// stop the run. (Writing about a failed write to a closed stderr used to loop at 100% of a core.)
const gone = { stdout: false, stderr: false };
process.stdout.on('error', () => { gone.stdout = true; });
process.stderr.on('error', () => { gone.stderr = true; });

function write(stream: 'stdout' | 'stderr', line: string): void {
  if (gone[stream]) return;
  try {
    process[stream].write(`${line}\n`);
  } catch {
    gone[stream] = true;
  }
}

// A last resort, not the fix: every input is validated where it enters. Should something still
// throw asynchronously, say so (once per kind, never about our own console) and keep the proxy up
// rather than drop every device's traffic.
const reported = new Set<string>();
process.on('uncaughtException', (error) => {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED') return;
  const text = describeError(error);
  if (reported.has(text)) return;
  reported.add(text);
  write('stderr', `phonehome: internal error (kept running): ${text}`);
});

// Node's deprecation warnings are addressed to us, not to the user, and a line on stderr lands in
// the middle of the terminal UI. One was printed in every run where a device sent an address as
// its TLS server name (DEP0123): phonehome passes it on as the device sent it, which is the point.
// The tests, which do not run through here, still show them.
process.noDeprecation = true;

const io = {
  out: (line: string) => write('stdout', line),
  err: (line: string) => write('stderr', line),
};

const code = await main(process.argv.slice(2), io, process.stdout);
process.exitCode = code;
// Stop lingering handles (keep-alive sockets) from holding the process open after a finished command.
setImmediate(() => process.exit(code));
