// The differential experiment as a user runs it: two captures through the real proxy, one where
// the phone also uploads a photo; `capture --report` writes each run's report; `report --baseline`
// shows the photo as new; `compare --fail-on high` prints it and exits 3; `analyze --report` makes
// the report of a HAR; usage errors are one line.

import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { cli, startCapture } from '../helpers/cli.js';
import { httpsViaProxy, startOrigin, tempDir } from '../helpers/lab.js';
import { originCaFile } from '../helpers/capture-run.js';

const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
const photo = fs.readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'photos', 'camera.jpg'));
const sms = JSON.stringify({ messages: [{ address: '+33612345678', body: 'Rendez-vous demain à 18h devant la gare', date: 1413131405000, type: 1 }] });

t.test('two runs, one with a photo: capture --report, report --baseline, compare --fail-on high', async (t) => {
  const origin = await startOrigin({ tls: true, hostname: '127.0.0.1', handler: (req, res) => { req.resume(); req.on('end', () => res.end('{"ok":true}')); } });
  t.teardown(() => origin.close());
  const dir = tempDir();
  const originCa = originCaFile();
  const caDir = path.join(dir, 'ca');

  const capture = async (name: string, withPhoto: boolean): Promise<string> => {
    const out = path.join(dir, name);
    const { child, port } = await startCapture(['--out', out, '--ca-dir', caDir, '--upstream-ca', originCa, '--report']);
    t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
    const trust = run(['ca', 'export', '--ca-dir', caDir]).stdout;
    await httpsViaProxy({ proxyPort: port, host: '127.0.0.1', port: origin.port, method: 'POST', path: '/v2/sms', headers: { 'content-type': 'application/json' }, body: sms, trust });
    if (withPhoto) {
      const boundary = 'b0undary';
      const body = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="IMG_20141012_183005.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`), photo, Buffer.from(`\r\n--${boundary}--\r\n`)]);
      await httpsViaProxy({ proxyPort: port, host: '127.0.0.1', port: origin.port, method: 'POST', path: '/upload', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body, trust });
    }
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    t.equal(code, 0, `${name}: capture exits 0`);
    t.ok(fs.existsSync(path.join(out, 'report.html')), `${name}: --report wrote report.html on stop`);
    return out;
  };
  const base = await capture('without-photo', false);
  const withPhoto = await capture('with-photo', true);

  const html = fs.readFileSync(path.join(withPhoto, 'report.html'), 'utf8');
  t.match(html, /<img class="thumb"/, 'the captured photo is in its run\'s report');

  const cmpFile = path.join(dir, 'cmp.html');
  const made = run(['report', withPhoto, '--baseline', base, '--out', cmpFile]);
  t.equal(made.status, 0, made.stderr);
  const cmp = fs.readFileSync(cmpFile, 'utf8');
  const section = /<section id="comparison">([\s\S]*?)<\/section>/.exec(cmp)?.[1] ?? '';
  t.match(section, /New findings \(1\)[\s\S]*JPEG/, 'the photo is the one new finding');
  t.match(section, /New categories \(1\)[\s\S]*Photos/);
  t.notMatch(section, /Findings gone since the baseline \([1-9]/, 'the SMS, sent in both runs, is not gone');

  const compared = run(['compare', base, withPhoto, '--fail-on', 'high']);
  t.equal(compared.status, 3, 'a new high finding: exit 3');
  const lines = compared.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; change?: string; category?: string });
  t.same(lines.filter((l) => l.kind === 'finding').map((l) => [l.change, l.category]), [['new', 'photo']]);

  const analysis = path.join(dir, 'analysis');
  const analyzed = run(['analyze', path.join(withPhoto, 'flows.har'), '--out', analysis, '--report']);
  t.equal(analyzed.status, 0, analyzed.stderr);
  const analyzedReport = fs.readFileSync(path.join(analysis, 'report.html'), 'utf8');
  t.match(analyzedReport, /data-count-category="photo">1</, 'analyze --report: the photo, from the HAR alone');
  t.match(analyzedReport, /<img class="thumb"/, 'with its thumbnail, found again in the HAR\'s upload');
});

t.test('report: --help, and usage errors in one line with exit 1', async (t) => {
  const help = run(['report', '--help']);
  t.equal(help.status, 0);
  t.match(help.stdout, /^usage: phonehome report RUN_DIR \[--out FILE\] \[--baseline RUN_DIR\] \[--redact\]/);
  for (const [args, message] of [
    [['report'], /^phonehome: .*usage: phonehome report RUN_DIR/],
    [['report', path.join(tempDir(), 'nope')], /^phonehome: .* is not a folder\n$/],
    [['report', tempDir()], /has no summary\.json \(a run that was killed\? phonehome recover/],
    [['report', tempDir(), '--colour'], /Unknown option '--colour'/],
  ] as const) {
    const result = run([...args]);
    t.equal(result.status, 1, args.join(' '));
    t.match(result.stderr, message);
    t.equal(result.stderr.trim().split('\n').length, 1, 'one line');
  }
  const noFiles = run(['--no-files', '--report']);
  t.equal(noFiles.status, 1);
  t.match(noFiles.stderr, /^phonehome: --report and --no-files: the report is made from the run's files\n$/);
});
