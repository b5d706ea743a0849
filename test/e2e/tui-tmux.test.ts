// The real thing in a real pseudo-terminal: `phonehome demo` in tmux, keys sent with send-keys,
// the screen read with capture-pane (polled with a deadline, never a fixed sleep). Skipped where
// tmux is not installed; .ci/run installs it.

import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { haveTmux, tmuxSession } from '../helpers/tmux.js';
import { installRoot } from '../../src/util/install-paths.js';

const session = `phonehome-test-${process.pid}`;
const { tmux, screenShows } = tmuxSession(session);

t.test('phonehome demo in a real terminal: findings appear with their apps and companies, help opens, Q quits and restores the shell', { skip: haveTmux ? false : 'tmux is not installed' }, async (t) => {
  const cli = path.join(installRoot, 'dist', 'cli.js');
  // The live view keeps its evidence like capture does; here in a folder of the test's own.
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-tmux-')), 'run');
  tmux('new-session', '-d', '-s', session, '-x', '110', '-y', '30', `PHONEHOME_DEMO_PACE_MS=150 TERM=xterm-256color NCURSES_NO_UTF8_ACS=1 ${process.execPath} ${cli} demo --out ${out}; echo "EXITED $?"; sleep 60`);
  t.teardown(() => { spawnSync('tmux', ['kill-session', '-t', session]); });
  const screen = await screenShows(/HIGH +photo .*JPEG camera photo/);
  t.match(screen, /proxy: 127\.0\.0\.1:\d+ {2}CA: http:\/\/phonehome\.cert\//);
  await screenShows(/CRITICAL credential/);
  // Who sent it and who got it: the gallery's WebView names its package (X-Requested-With), and
  // the demo's servers play companies.
  const who = await screenShows(/GET +gallery\.cloud\.\S* +\S*miui\.gallery +\/album\//);
  t.match(who, /HIGH +photo +CN Xiaomi/, 'the company beside the country');
  tmux('send-keys', '-t', session, '?');
  await screenShows(/Q, C-c +quit: stop, write files, restore the terminal/);
  tmux('send-keys', '-t', session, 'Escape');
  await screenShows(/Findings \(newest first\)/);
  tmux('resize-window', '-t', session, '-x', '70', '-y', '20');
  await screenShows(/Findings/);
  tmux('send-keys', '-t', session, 'Q');
  const after = await screenShows(/EXITED 0/);
  t.match(after, /phonehome: stopped; \d+ finding\(s\), files in/, 'quitting says where the files are');
  t.ok(fs.existsSync(path.join(out, 'flows.har')) && fs.existsSync(path.join(out, 'summary.json')), 'and they are there');
  t.ok(fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8').includes('"category":"photo"'));
  t.notMatch(after, /Findings \(newest first\)/, 'the alternate screen is gone');
});
