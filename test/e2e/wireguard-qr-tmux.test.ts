// The QR code as a person sees it: `phonehome wireguard config --qr` in a real terminal (tmux),
// the screen read back with capture-pane and decoded with jsQR to exactly the text that
// `phonehome wireguard config` prints. Skipped where tmux is not installed; .ci/run installs it.

import t from 'tap';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { haveTmux, tmuxSession } from '../helpers/tmux.js';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/lab.js';
import { decodeTerminalQr, qrLines } from '../helpers/qr-decode.js';

const session = `phonehome-wg-qr-${process.pid}`;
const { tmux, screenShows } = tmuxSession(session);

t.test('the terminal QR code of `wireguard config --qr`, read off a tmux screen, is the configuration', { skip: haveTmux ? false : 'tmux is not installed' }, async (t) => {
  const caDir = path.join(tempDir(), 'ca');
  const args = ['wireguard', 'config', '--ca-dir', caDir, '--endpoint', '192.0.2.10:51820'];
  const text = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  t.equal(text.status, 0, text.stderr);
  // -u: UTF-8 whatever the locale; NO_COLOR unset so the code is painted as on a user's terminal.
  tmux('-u', 'new-session', '-d', '-s', session, '-x', '100', '-y', '40', `env -u NO_COLOR TERM=xterm-256color ${process.execPath} ${cli} ${args.join(' ')} --qr; echo "EXITED $?"; sleep 60`);
  t.teardown(() => { spawnSync('tmux', ['kill-session', '-t', session]); });
  const screen = await screenShows(/EXITED \d+/);
  t.match(screen, /EXITED 0/);
  t.match(screen, /^WireGuard client phone \(10\.64\.77\.2\), endpoint 192\.0\.2\.10:51820: scan with the WireGuard app$/m);
  const lines = qrLines(screen);
  t.ok(lines.length >= 29, `${lines.length} lines of code on the screen`);
  t.equal(decodeTerminalQr(screen), text.stdout, 'decodes to exactly what `phonehome wireguard config` prints');
  const painted = tmux('capture-pane', '-p', '-e', '-t', session);
  t.match(painted, /\x1b\[[\d;]*(40|48;5;0)[\d;]*m[ ▀▄█]{21,}/, 'painted on black (reads right on a light terminal too)');
});
