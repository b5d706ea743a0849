// The app column in a real terminal: `phonehome` (the live view) in tmux, a WebView-style request
// through it carrying `X-Requested-With: <package>`, and the flow list showing that package; the
// `a` key filters on it, the help explains the column, and an 80-column terminal still shows it.
// The screen is read with capture-pane, polled with a deadline (never a fixed sleep). Skipped
// where tmux is not installed; .ci/run installs it.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { haveTmux, tmuxSession } from '../helpers/tmux.js';
import { cli } from '../helpers/cli.js';
import { getOriginCa, httpsViaProxy, startOrigin, tempDir } from '../helpers/lab.js';

const session = `phonehome-tui-app-${process.pid}`;
const { tmux, screenShows } = tmuxSession(session);

t.test('a request naming its app (X-Requested-With) shows that app in the live view', { skip: haveTmux ? false : 'tmux is not installed' }, async (t) => {
  const origin = await startOrigin({ tls: true, hostname: '127.0.0.1', handler: (req, res) => { req.resume(); req.on('end', () => res.end('<html>notes</html>')); } });
  t.teardown(() => origin.close());
  const dir = tempDir('phonehome-tui-app-');
  const originCa = path.join(dir, 'origin-ca.pem');
  fs.writeFileSync(originCa, getOriginCa().certPem);
  const caDir = path.join(dir, 'ca');
  const args = ['--listen', '127.0.0.1:0', '--out', path.join(dir, 'run'), '--ca-dir', caDir, '--upstream-ca', originCa];
  tmux('-u', 'new-session', '-d', '-s', session, '-x', '120', '-y', '30', `TERM=xterm-256color NCURSES_NO_UTF8_ACS=1 ${process.execPath} ${cli} ${args.join(' ')}; echo "EXITED $?"; sleep 60`);
  t.teardown(() => { spawnSync('tmux', ['kill-session', '-t', session]); });
  const start = await screenShows(/proxy: 127\.0\.0\.1:\d+/);
  const proxyPort = Number(/proxy: 127\.0\.0\.1:(\d+)/.exec(start)![1]);
  const exported = spawnSync(process.execPath, [cli, 'ca', 'export', '--ca-dir', caDir], { encoding: 'utf8' });
  t.equal(exported.status, 0, exported.stderr);

  const webView = await httpsViaProxy({ proxyPort, host: '127.0.0.1', port: origin.port, path: '/notes/sync', method: 'GET', trust: exported.stdout, headers: { 'X-Requested-With': 'com.example.notes', 'User-Agent': 'Mozilla/5.0 (Linux; Android 4.4.2; HM NOTE 1W Build/KOT49H) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/30.0.0.0 Mobile Safari/537.36' } });
  t.equal(webView.body.toString(), '<html>notes</html>', 'the request went through unchanged');
  await httpsViaProxy({ proxyPort, host: '127.0.0.1', port: origin.port, path: '/plain', method: 'GET', trust: exported.stdout, headers: { 'User-Agent': 'curl/8.5.0' } });

  // Wait for both flows in one frame: the live view may draw the first before the second reaches
  // it (seen with three test files at a time on two cores).
  const screen = await screenShows(/\/plain[\s\S]*\/notes\/sync/);
  t.match(screen, /GET +127\.0\.0\.1 +com\.example\.notes +\/notes\/sync/, 'the app the request named');
  t.match(screen, /GET +127\.0\.0\.1 {2,}\/plain/, 'a flow with no app leaves the column blank');
  t.match(screen, /a:app/, 'the hint line names the a key');

  tmux('send-keys', '-t', session, 'a');
  const filtered = await screenShows(/\[filter: app:com\.example\.notes\]/);
  t.match(filtered, /app 1 of 1: com\.example\.notes/);
  t.notMatch(filtered, /\/plain/, 'only the app\'s flows are listed');
  tmux('send-keys', '-t', session, 'a');
  await screenShows(/all apps/);

  tmux('send-keys', '-t', session, '?');
  await screenShows(/App column: the app that sent it/);
  tmux('send-keys', '-t', session, 'Escape');
  await screenShows(/Flows \(newest first\)/);

  tmux('resize-window', '-t', session, '-x', '80', '-y', '24');
  await screenShows(/GET +127\.0\.0\.1\s+…?(com\.)?example\.notes +\/notes\//);

  tmux('send-keys', '-t', session, 'Q');
  const after = await screenShows(/EXITED 0/);
  t.match(after, /phonehome: stopped/);
});
