// Builds phonehome's three small native addons at install (npm's postinstall), with the node-gyp npm
// ships. Each is optional: where one cannot build (no compiler, not Linux), install still
// succeeds and says in one line what is lost without it.
//   original-dst    the address a redirected connection was going to (--transparent)
//   incremental-gc  starts V8's incremental marking (src/util/incremental-marking.ts)
//   socket-peek     a device's first bytes seen without reading them (src/proxy/socket-peek.ts)

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const addons = [
  { folder: 'original-dst', name: 'the original-destination addon', without: 'everything but --transparent works', linuxOnly: true },
  { folder: 'incremental-gc', name: 'the incremental-collection addon', without: "everything works; the capture's old generation is collected on V8's own schedule (RSS rises and falls more)", linuxOnly: false },
  { folder: 'socket-peek', name: 'the socket-peek addon', without: 'everything works; a ClientHello is read in JavaScript, and uploads through TLS take about a third more CPU', linuxOnly: true },
];

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

for (const addon of addons) {
  if (addon.linuxOnly && process.platform !== 'linux') {
    console.log(`phonehome: ${addon.name} is Linux only and is not built here; ${addon.without}`);
    continue;
  }
  const cwd = path.join(here, addon.folder);
  const result = nodeGyp
    ? spawnSync(process.execPath, [nodeGyp, ...args], { cwd, encoding: 'utf8' })
    : spawnSync('node-gyp', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) {
    const why = (result.stderr || result.stdout || String(result.error ?? 'node-gyp not found')).trim().split('\n').filter(Boolean).slice(-1)[0];
    console.log(`phonehome: ${addon.name} did not build (${why}); ${addon.without}`);
  }
}
process.exit(0);
