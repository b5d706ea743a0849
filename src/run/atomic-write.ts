// A run's JSON documents (summary.json, the fleet's merged summary) are replaced whole: written
// beside the target, then renamed over it, so a reader or a crash never meets half a document.

import fs from 'node:fs';

/** Written whole or not at all: a reader never sees half a summary. */
export function writeJsonAtomically(file: string, value: unknown): void {
  const partial = `${file}.partial`;
  fs.writeFileSync(partial, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o644 });
  fs.renameSync(partial, file);
}
