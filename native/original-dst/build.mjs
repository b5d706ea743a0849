// Builds the original-destination addon at install (npm's postinstall), with the node-gyp npm
// ships. It is optional: where it cannot build (no compiler, not Linux), install still succeeds,
// says so in one line, and only --transparent is unavailable.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
if (process.platform !== 'linux') {
  console.log('phonehome: --transparent is Linux only; the original-destination addon is not built here');
  process.exit(0);
}
let nodeGyp = process.env['npm_config_node_gyp'];
if (!nodeGyp) {
  try {
    nodeGyp = createRequire(path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    nodeGyp = undefined;
  }
}
// Build against the headers of the Node that runs us (npm passes its nodedir setting; otherwise
// the headers beside this Node), never downloaded: this machine may have no network but a registry.
const nodeDir = process.env['npm_config_nodedir'] || path.join(path.dirname(process.execPath), '..');
const args = ['rebuild', ...(fs.existsSync(path.join(nodeDir, 'include', 'node', 'node_api.h')) ? [`--nodedir=${nodeDir}`] : [])];
const result = nodeGyp
  ? spawnSync(process.execPath, [nodeGyp, ...args], { cwd: here, encoding: 'utf8' })
  : spawnSync('node-gyp', args, { cwd: here, encoding: 'utf8' });
if (result.status !== 0) {
  const why = (result.stderr || result.stdout || String(result.error ?? 'node-gyp not found')).trim().split('\n').filter(Boolean).slice(-1)[0];
  console.log(`phonehome: the original-destination addon did not build (${why}); everything but --transparent works`);
}
process.exit(0);
