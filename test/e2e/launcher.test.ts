// The installed command (package.json bin → bin/phonehome.js) runs the CLI with V8's nursery
// capped at 2 MB and a 32 MB floor under its old generation's limit: the flags reach the process
// V8 runs in (process.execArgv, and the new space's size after a busy start), while
// `node dist/cli.js` still runs without them. The build must exist
// (npm run build), as for the other end-to-end tests.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { tempDir } from '../helpers/lab.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const launcher = path.join(root, 'bin', 'phonehome.js');

/** What the probe saw inside phonehome's process. */
interface Facts { execArgv: string[]; arenaMax: string | null; tunables: string | null; newSpaceMb: number }

/** Runs a command with a preloaded probe that prints what V8 was given and its new space's size on exit. */
async function probe(command: string, args: string[]): Promise<{ code: number | null; stdout: string; facts: Facts }> {
  const dir = tempDir();
  const probeFile = path.join(dir, 'probe.cjs');
  const factsFile = path.join(dir, 'facts.json');
  // Only phonehome's own process writes its facts (npm, running `npm start`, gets the probe too).
  fs.writeFileSync(probeFile, `if (/[\\/\\\\](dist[\\/\\\\]cli|phonehome)\\.js$/.test(process.argv[1] ?? '')) process.on('exit', () => { const v8 = require('node:v8'); require('node:fs').writeFileSync(${JSON.stringify(factsFile)}, JSON.stringify({ execArgv: process.execArgv, arenaMax: process.env.MALLOC_ARENA_MAX ?? null, tunables: process.env.GLIBC_TUNABLES ?? null, newSpaceMb: v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576 })); });\n`);
  const child = spawn(command, args, { env: { ...process.env, NODE_OPTIONS: `--require ${probeFile}` }, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  const [code] = await once(child, 'exit') as [number | null];
  return { code, stdout, facts: JSON.parse(fs.readFileSync(factsFile, 'utf8')) as Facts };
}

t.test('package.json names the launcher, and the launcher is executable', async (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { bin: Record<string, string>; files: string[] };
  t.equal(pkg.bin['phonehome'], 'bin/phonehome.js');
  t.ok(pkg.files.includes('bin'), 'bin/ is in the package');
  t.ok((fs.statSync(launcher).mode & 0o111) !== 0, 'executable');
});

t.test('the launcher gives V8 --max-semi-space-size=2 and --initial-old-space-size=32 and glibc two malloc arenas, huge pages and a fixed mapping threshold; node dist/cli.js does not', async (t) => {
  const viaLauncher = await probe(launcher, ['--version']);
  t.equal(viaLauncher.code, 0);
  t.match(viaLauncher.stdout, /^\d+\.\d+\.\d+/);
  t.ok(viaLauncher.facts.execArgv.includes('--max-semi-space-size=2'), `execArgv ${viaLauncher.facts.execArgv.join(' ')}`);
  t.ok(viaLauncher.facts.execArgv.includes('--initial-old-space-size=32'), 'the old generation\'s floor');
  t.equal(viaLauncher.facts.arenaMax, '2', 'MALLOC_ARENA_MAX=2 in the process');
  t.equal(viaLauncher.facts.tunables, 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=131072', 'huge pages for glibc\'s large mappings, and a fixed threshold for them');
  const plain = await probe(process.execPath, [path.join(root, 'dist', 'cli.js'), '--version']);
  t.equal(plain.code, 0);
  t.equal(plain.stdout, viaLauncher.stdout, 'the same command behind it');
  t.notOk(plain.facts.execArgv.some((a) => a.startsWith('--max-semi-space-size')), 'no cap without the launcher');
  t.notOk(plain.facts.execArgv.some((a) => a.startsWith('--initial-old-space-size')), 'no floor without the launcher');
  t.equal(plain.facts.arenaMax, process.env.MALLOC_ARENA_MAX ?? null, 'the arenas as the caller left them');
  t.equal(plain.facts.tunables, process.env.GLIBC_TUNABLES ?? null, 'the tunables as the caller left them');
});

t.test('npm start gives the same settings as the launcher, without env -S (BusyBox has none)', async (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  t.notMatch(pkg.scripts['start'], /env -S/);
  const viaNpm = await probe('npm', ['start', '--silent', '--', '--version']);
  t.equal(viaNpm.code, 0);
  t.match(viaNpm.stdout, /^\d+\.\d+\.\d+/);
  t.ok(viaNpm.facts.execArgv.includes('--max-semi-space-size=2'), `execArgv ${viaNpm.facts.execArgv.join(' ')}`);
  t.ok(viaNpm.facts.execArgv.includes('--initial-old-space-size=32'), 'the old generation\'s floor');
  t.equal(viaNpm.facts.arenaMax, '2', 'MALLOC_ARENA_MAX=2 in the process');
  t.equal(viaNpm.facts.tunables, 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=131072', 'huge pages for glibc\'s large mappings, and a fixed threshold for them');
});

t.test('a capture through the launcher keeps its nursery within the cap after loading its tables', async (t) => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'probe.cjs'), `process.on('SIGTERM', () => { const v8 = require('node:v8'); process.stdout.write('NEWSPACE ' + v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576 + '\\n'); });\n`);
  const child = spawn(launcher, ['capture', '--listen', '127.0.0.1:0', '--ca-dir', path.join(dir, 'ca'), '--out', path.join(dir, 'run')], {
    env: { ...process.env, NODE_OPTIONS: `--require ${path.join(dir, 'probe.cjs')}` }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let listening!: () => void;
  const started = new Promise<void>((resolve) => { listening = resolve; });
  const read = (chunk: Buffer): void => { out += chunk.toString(); if (/listening|proxy on|127\.0\.0\.1:\d+/i.test(out)) listening(); };
  child.stdout.on('data', read);
  child.stderr.on('data', read);
  await started;
  child.kill('SIGTERM');
  await once(child, 'exit');
  const size = Number(/NEWSPACE ([\d.]+)/.exec(out)?.[1]);
  // V8 counts a 2 MB semi-space as 4 MB of new space; without the cap an idle capture showed 16.
  t.ok(size > 0 && size <= 4, `new space ${size} MB`);
});
