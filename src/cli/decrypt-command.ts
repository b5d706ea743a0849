// `phonehome decrypt RUN_DIR --keylog FILE [--keylog FILE…]`: a run's recorded opaque TLS sessions
// opened with keys obtained afterwards, added to the run as a new session (src/run/decrypt-later.ts).
// The new findings go to stdout as JSON Lines (as analyze prints them); what was done, to stderr.

import path from 'node:path';
import { decryptLater } from '../run/decrypt-later.js';
import { readCaptureFile } from '../capture-file/read-capture.js';
import { sessionToFlows } from '../capture-file/session-to-flows.js';
import type { Output } from './capture-command.js';

function kB(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} kB`;
}

export async function runDecrypt(runDir: string, keylogFiles: readonly string[], io: Output): Promise<number> {
  const dir = path.resolve(runDir);
  const result = await decryptLater(dir, {
    keylogFiles: keylogFiles.map((f) => path.resolve(f)),
    readCapture: readCaptureFile, sessionToFlows,
    notice: (message) => io.err(`phonehome: ${message}`),
  });
  for (const finding of result.findings) io.out(JSON.stringify(finding));
  const { opened, withoutKeys, alreadyOpened, flowIds } = result;
  const tlsSessions = opened.sessions + withoutKeys.sessions + alreadyOpened.sessions;
  const ids = flowIds.length === 0 ? '' : flowIds.length === 1 ? ` (${flowIds[0]})` : ` (${flowIds[0]}…${flowIds.at(-1)})`;
  io.err(`phonehome: keys opened ${opened.sessions} of ${tlsSessions} TLS session(s) in opaque.pcapng (${kB(opened.bytes)}); ${withoutKeys.sessions} stayed opaque (${kB(withoutKeys.bytes)})${alreadyOpened.sessions > 0 ? `; ${alreadyOpened.sessions} were opened by an earlier decrypt and not added again` : ''}`);
  io.err(`phonehome: added ${flowIds.length} flow(s)${ids} and ${result.findings.length} finding(s) to ${dir} as a new session; ${result.reportRebuilt ? 'flows.har, summary.json and report.html' : 'flows.har and summary.json'} rebuilt`);
  return 0;
}
