// The built installation where another user can reach it. A clone inside a folder only its owner
// may enter (a home directory of mode 0700, a `mktemp -d`) keeps dist/cli.js from everyone else,
// so a test that runs the CLI as another user runs it from a copy under the temp folder: hard
// links where the file system allows (a couple of seconds, no space), a plain copy otherwise.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { installRoot } from '../../src/util/install-paths.js';

/** What the built CLI reads at run time (package.json says the files are ES modules). */
const runtimeEntries = ['package.json', 'dist', 'node_modules', 'rules', 'assets', 'native'];

export type InstallForUser =
  | { readonly cli: string; remove(): void }
  | { readonly unreachable: string };

/** Copies the installation to a folder `user` can enter and read, or says why it cannot. */
export function installForAnotherUser(user: string): InstallForUser {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-install-'));
  const remove = (): void => fs.rmSync(root, { recursive: true, force: true });
  fs.chmodSync(root, 0o755);
  const entries = runtimeEntries.map((name) => path.join(installRoot, name)).filter((p) => fs.existsSync(p));
  const linked = spawnSync('cp', ['-al', ...entries, root], { encoding: 'utf8' });
  if (linked.status !== 0) {
    const copied = spawnSync('cp', ['-a', ...entries, root], { encoding: 'utf8' });
    if (copied.status !== 0) {
      remove();
      return { unreachable: `cannot copy the installation to ${root}: ${copied.stderr.trim()}` };
    }
  }
  const cli = path.join(root, 'dist', 'cli.js');
  // The temp folder itself may sit where the user cannot go (TMPDIR inside a private home).
  if (spawnSync('runuser', ['-u', user, '--', 'test', '-r', cli]).status !== 0) {
    remove();
    return { unreachable: `${user} cannot read ${cli} (is ${os.tmpdir()} closed to others?)` };
  }
  return { cli, remove };
}
