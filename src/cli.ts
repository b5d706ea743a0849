#!/usr/bin/env node
// Entry point of the `phonehome` command (package.json bin).

import { main } from './cli/main.js';
import { describeError } from './util/errors.js';

// A last resort, not the fix: every input is validated where it enters. Should something still
// throw asynchronously, say so and keep the proxy up rather than drop every device's traffic.
process.on('uncaughtException', (error) => {
  process.stderr.write(`phonehome: internal error (kept running): ${describeError(error)}\n`);
});

const io = {
  out: (line: string) => process.stdout.write(`${line}\n`),
  err: (line: string) => process.stderr.write(`${line}\n`),
};

const code = await main(process.argv.slice(2), io, process.stdout);
process.exitCode = code;
// Stop lingering handles (keep-alive sockets) from holding the process open after a finished command.
setImmediate(() => process.exit(code));
