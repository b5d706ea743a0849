// The bench's pieces that decide its figures: the median and spread of rounds, CPU per request
// from /proc ticks, which processes count as the subject's, the CPU plan and taskset's
// arguments (checked against a real taskset when the machine has one), the options, and the
// goals' verdicts. No timing is measured here.

import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { cpuMicrosPerRequest, cpuMillisPerMb, formatSpread, median, spreadOf } from '../../../src/bench/figures.js';
import { clockTicksPerSecond, processTreeTicks, treeTicks } from '../../../src/bench/proc-cpu.js';
import { parseProcStat } from '../../../src/util/proc-stat.js';
import { expandCpuList, pinnedCommand, planCpus, tasksetPidArgs } from '../../../src/bench/pinning.js';
import { parseBenchOptions } from '../../../src/bench/options.js';
import { goalVerdicts, markdownTable, rowSpecs, type Column, type ColumnFigures, type FigureKey, type GoalVerdict } from '../../../src/bench/bench-table.js';

t.test('median and spread of rounds', async (t) => {
  t.equal(median([3, 1, 2]), 2, 'odd count: the middle one');
  t.equal(median([4, 1, 3, 2]), 2.5, 'even count: the mean of the middle two');
  t.equal(median([]), undefined);
  t.equal(median([Number.NaN, 5]), 5, 'a NaN is no figure');
  t.same(spreadOf([1374, undefined, 1200, 1500]), { median: 1374, min: 1200, max: 1500, rounds: 3 }, 'a failed round is left out, not a zero');
  t.equal(spreadOf([undefined, undefined]), undefined);
  t.equal(formatSpread(spreadOf([5239, 5095, 6962])), '5,239 (5,095–6,962)');
  t.equal(formatSpread(spreadOf([7.94, 7.91]), 1), '7.9', 'rounds that print the same show no range');
  t.equal(formatSpread(undefined), '–');
});

t.test('CPU per request from clock ticks', async (t) => {
  // 150 ticks at 100/s = 1.5 s of CPU over 10,000 requests = 150 µs each.
  t.equal(cpuMicrosPerRequest(1000, 1150, 100, 10_000), 150);
  t.equal(cpuMicrosPerRequest(0, 51, 1000, 1000), 51, 'another tick rate');
  t.equal(cpuMicrosPerRequest(10, 10, 100, 500), 0, 'no tick spent');
  t.equal(cpuMicrosPerRequest(10, 20, 100, 0), undefined, 'no request: no figure');
  t.equal(cpuMicrosPerRequest(20, 10, 100, 5), undefined, 'ticks never go back');
  // 56 ticks at 100/s = 560 ms of CPU over a 128 MB upload = 4.375 ms per MB.
  t.equal(cpuMillisPerMb(100, 156, 100, 128), 4.375, 'per MB moved');
  t.equal(cpuMillisPerMb(100, 156, 100, 0), undefined, 'nothing moved: no figure');
});

t.test('the subject\'s process tree, read from /proc', async (t) => {
  const self = parseProcStat(fs.readFileSync('/proc/self/stat', 'utf8'));
  t.equal(self.pid, process.pid);
  t.equal(self.ppid, process.ppid);

  const stats = [
    { pid: 10, ppid: 1, ticks: 100 },
    { pid: 11, ppid: 10, ticks: 20 },
    { pid: 12, ppid: 11, ticks: 3 },
    { pid: 13, ppid: 1, ticks: 1000 },
  ];
  t.equal(treeTicks(stats, 10), 123, 'the subject, its child and grandchild');
  t.equal(treeTicks(stats, 11), 23);
  t.equal(treeTicks(stats, 99), 0, 'a process gone: nothing');
  t.ok(processTreeTicks(process.pid) >= self.ticks, 'this test process, read live');

  // utime and stime are the right fields: this process's ticks follow its own CPU clock. Burn
  // until the process has used 0.4 s more CPU (a loop on CPU used, not on time), then compare.
  const ticksPerSecond = clockTicksPerSecond();
  const cpuSeconds = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  const [ticksBefore, secondsBefore] = [processTreeTicks(process.pid), cpuSeconds()];
  let sink = 0;
  while (cpuSeconds() - secondsBefore < 0.4) for (let i = 0; i < 100_000; i++) sink += Math.sqrt(i);
  const [ticksAfter, secondsAfter] = [processTreeTicks(process.pid), cpuSeconds()];
  t.ok(sink > 0);
  const fromProc = (ticksAfter - ticksBefore) / ticksPerSecond;
  t.ok(Math.abs(fromProc - (secondsAfter - secondsBefore)) < 0.1, `/proc says ${fromProc.toFixed(2)} s of CPU, the process ${(secondsAfter - secondsBefore).toFixed(2)} s`);
});

t.test('the CPU plan and taskset\'s arguments', async (t) => {
  t.match(planCpus(1, true), { pinned: false, note: /1 CPU: too few/ }, 'one CPU: unpinned and said so');
  t.match(planCpus(2, false), { pinned: false, note: /taskset not found/ });
  t.match(planCpus(2, true), { pinned: true, subjectCpus: '0', loadCpus: '1' });
  t.match(planCpus(16, true), { pinned: true, subjectCpus: '0', loadCpus: '1-15' });
  t.throws(() => planCpus(0, true), /whole number/);

  t.same(pinnedCommand(planCpus(2, true), 'mitmdump', ['-q']), { command: 'taskset', args: ['-c', '0', 'mitmdump', '-q'] });
  t.same(pinnedCommand(planCpus(1, true), 'mitmdump', ['-q']), { command: 'mitmdump', args: ['-q'] }, 'unpinned: the command itself');
  t.same(tasksetPidArgs('1-3', 4242), ['-a', '-p', '-c', '1-3', '4242'], 'every thread (-a) of a running pid (-p)');
  t.throws(() => tasksetPidArgs('1', 0), /not a process id/);

  t.same(expandCpuList('0'), [0]);
  t.same(expandCpuList('0,2-4'), [0, 2, 3, 4]);
  t.throws(() => expandCpuList('3-1'), /not a CPU list/);
  t.throws(() => expandCpuList('a'), /not a CPU list/);
});

const hasTaskset = spawnSync('sh', ['-c', 'command -v taskset']).status === 0;
t.test('a pinned command runs on the subject CPU only', { skip: hasTaskset && os.cpus().length >= 2 ? false : 'needs taskset and 2 CPUs' }, async (t) => {
  const plan = planCpus(os.cpus().length, true);
  const pinned = pinnedCommand(plan, 'grep', ['Cpus_allowed_list', '/proc/self/status']);
  const answer = spawnSync(pinned.command, pinned.args, { encoding: 'utf8' });
  t.equal(answer.status, 0, answer.stderr);
  t.match(answer.stdout, /Cpus_allowed_list:\s+0\n/);
});

t.test('options: --only, --rounds and their mistakes', async (t) => {
  t.same(parseBenchOptions([]), { subjects: ['bare-pipe', 'bare-http', 'phonehome', 'mockttp', 'mitmproxy'], rounds: 3, detectionOnly: false }, 'all five, three rounds');
  t.same(parseBenchOptions(['--only', 'mockttp,phonehome', '--rounds', '1']).subjects, ['phonehome', 'mockttp'], 'in the table\'s order');
  t.same(parseBenchOptions(['--only=http,pipe']).subjects, ['bare-pipe', 'bare-http'], 'short names');
  t.same(parseBenchOptions(['--only', 'phonehome-threads-2,phonehome']).subjects, ['phonehome', 'phonehome-threads-2'], 'two proxy loops only when named');
  t.equal(parseBenchOptions(['--rounds=5']).rounds, 5);
  t.same(parseBenchOptions(['--phonehome-only']).subjects, ['phonehome']);
  t.throws(() => parseBenchOptions(['--only', 'phonehome,charles']), /--only takes .* not "charles"/);
  t.throws(() => parseBenchOptions(['--only']), /--only needs a value/);
  t.throws(() => parseBenchOptions(['--rounds', '0']), /--rounds takes a whole number/);
  t.throws(() => parseBenchOptions(['--rounds', '1.5']), /--rounds takes a whole number/);
  t.throws(() => parseBenchOptions(['--fast']), /unknown option "--fast"/);
});

function result(figures: Record<string, number>): ColumnFigures {
  return { figures: Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, { median: v, min: v, max: v, rounds: 3 }])) };
}

t.test('the goals from the medians', async (t) => {
  const results = new Map<Column, ColumnFigures>([
    ['bare-pipe', result({ upload: 500 })],
    ['bare-http', result({ small: 6000, smallCpuUs: 51 })],
    ['phonehome', result({ small: 3000, smallCpuUs: 102, h2Small: 5000, upload: 449, newHostP50: 8, peakRss: 250, idleRss: 101 })],
    ['mockttp', result({ small: 3000 })],
    ['mitmproxy', result({ small: 600, h2Small: 1001, newHostP50: 9 })],
  ]);
  const verdict = Object.fromEntries(goalVerdicts(results).map((v) => [v.goal, v.verdict]));
  t.equal(verdict['small requests >= 0.5x the bare HTTP relay'], 'met', 'exactly 0.5x is met');
  t.equal(verdict['small requests >= 5x mitmproxy'], 'met');
  t.equal(verdict['small requests ahead of mockttp'], 'NOT met', 'a tie is not ahead');
  t.equal(verdict['CPU per small request <= 2x the bare HTTP relay'], 'met', '102 µs against 2 x 51');
  t.equal(verdict['HTTP/2 small requests >= 5x mitmproxy'], 'NOT met', '5000 < 5 x 1001');
  t.equal(verdict['upload >= 0.9x the bare pipe relay'], 'NOT met', '449 < 450');
  t.equal(verdict['new host first byte p50 <= mitmproxy'], 'met');
  t.equal(verdict['peak RSS <= 250 MB'], 'met');
  t.equal(verdict['idle RSS <= 100 MB'], 'NOT met');

  const upload = goalVerdicts(results).find((v) => v.goal === 'upload >= 0.9x the bare pipe relay')!;
  t.equal(upload.detail, '0.90x', 'no CPU figures: the rate alone');
  const withCpu = new Map(results);
  withCpu.set('bare-pipe', result({ upload: 230, uploadCpuMs: 2.8 }));
  withCpu.set('phonehome', result({ upload: 210, uploadCpuMs: 4.4 }));
  const both = goalVerdicts(withCpu).find((v) => v.goal === 'upload >= 0.9x the bare pipe relay')!;
  t.same([both.verdict, both.detail], ['NOT met', '0.64x per core: 4.40 against 2.80 ms of CPU per MB; measured rates 0.91x; cores busy 92 % and 64 %'], 'one core\'s rate decides, the measured rates and busy cores beside it');
  withCpu.set('phonehome', result({ upload: 150, uploadCpuMs: 3.1 }));
  const perCore = goalVerdicts(withCpu).find((v) => v.goal === 'upload >= 0.9x the bare pipe relay')!;
  t.same([perCore.verdict, perCore.detail], ['met', '0.90x per core: 3.10 against 2.80 ms of CPU per MB; measured rates 0.65x; cores busy 47 % and 64 %'], 'nor does a measured rate held back by the load side');

  const h2 = (phonehome: Partial<Record<FigureKey, number>>, mitmproxy: Partial<Record<FigureKey, number>>): GoalVerdict => {
    const figures = new Map(results);
    figures.set('phonehome', result(phonehome));
    figures.set('mitmproxy', result(mitmproxy));
    return goalVerdicts(figures).find((v) => v.goal === 'HTTP/2 small requests >= 5x mitmproxy')!;
  };
  const h2Held = h2({ h2Small: 3274, h2CpuUs: 213 }, { h2Small: 755, h2CpuUs: 1304 });
  t.same([h2Held.verdict, h2Held.detail], ['met', '6.12x per core: 213 against 1,304 µs of CPU per request; measured rates 4.34x; cores busy 70 % and 98 %'], 'HTTP/2 judged per core too: a batch of streams held back by the load side does not decide');
  const h2Costly = h2({ h2Small: 3600, h2CpuUs: 270 }, { h2Small: 700, h2CpuUs: 1304 });
  t.same([h2Costly.verdict, h2Costly.detail], ['NOT met', '4.83x per core: 270 against 1,304 µs of CPU per request; measured rates 5.14x; cores busy 97 % and 91 %'], 'and a measured rate that passes does not either');
  t.equal(h2({ h2Small: 5000 }, { h2Small: 1001 }).detail, '5.00x', 'no CPU figures: the rate alone');

  const withoutMitm = new Map(results);
  withoutMitm.set('mitmproxy', { figures: {}, failed: 'mitmdump not installed' });
  const missing = goalVerdicts(withoutMitm).find((v) => v.goal === 'small requests >= 5x mitmproxy')!;
  t.same([missing.verdict, missing.detail], ['not measured', 'no mitmproxy figure'], 'a subject that did not run is never a pass');
});

t.test('the table: a cell per subject, and why a subject did not run', async (t) => {
  const results = new Map<Column, ColumnFigures>([
    ['direct', result({ small: 18694, smallWarmUp: 9021 })],
    ['phonehome', { figures: { small: { median: 5239, min: 5095, max: 6962, rounds: 3 } } }],
    ['mitmproxy', { figures: {}, failed: 'exited during start-up (code 1): address in use' }],
  ]);
  const table = markdownTable(['direct', 'phonehome', 'mitmproxy'], results, rowSpecs(128, 10, 8, 2));
  t.match(table, '| figure | direct (no proxy) | phonehome | mitmproxy |');
  t.match(table, '| small keep-alive requests, 10 connections, after the warm-up, req/s | 18,694 | 5,239 (5,095–6,962) | did not run |');
  t.match(table, '| small requests in the first 2 s (warming up), 10 connections, req/s | 9,021 | – | did not run |');
  t.ok(table.indexOf('warming up') < table.indexOf('after the warm-up'), 'the warm-up row comes before the measured one');
  t.match(table, '- mitmproxy did not run: exited during start-up (code 1): address in use');
  t.notMatch(table, /HTTPS upload/, 'a row nobody measured is left out');
  const uploads = markdownTable(['phonehome'], new Map([['phonehome', result({ upload: 231, uploadCpuMs: 4.375 })]]), rowSpecs(128, 10, 8, 2));
  t.match(uploads, '| HTTPS upload, 128 MB (after one untimed), MB/s | 231 |');
  t.match(uploads, '| CPU per uploaded MB, ms (all threads) | 4.38 |', 'two decimals');
});

t.test('a subject that cannot start is stopped and says why in one line', async (t) => {
  const { startPinned, freePort, liveSubjectCount, stopChild } = await import('../../../src/bench/subjects.js');
  const plan = planCpus(os.cpus().length, hasTaskset);
  const port = await freePort();
  await t.rejects(startPinned(plan, process.execPath, ['-e', 'console.error("no CA here"); process.exit(3)'], port, 30), /exited during start-up \(code 3\): no CA here/);
  await t.rejects(startPinned(plan, '/nonexistent/proxy', [], port, 30), hasTaskset && plan.pinned ? /exited during start-up/ : /could not start/);
  await t.rejects(startPinned(planCpus(1, true), '/nonexistent/proxy', [], port, 30), /could not start \/nonexistent\/proxy: .*ENOENT/, 'unpinned, the spawn itself fails');
  // One that never listens: the start-up limit (a guard, 1 s) ends it, and the child with it.
  const silent = startPinned(plan, process.execPath, ['-e', 'setInterval(() => {}, 1000)'], port, 1);
  await t.rejects(silent, /nothing listened on port \d+ within 1 s/);
  t.equal(liveSubjectCount(), 0, 'no subject process left running');
  // And one that does listen is running until stopped.
  const child = await startPinned(plan, process.execPath, ['-e', `require('net').createServer().listen(${port}, '127.0.0.1')`], port, 30);
  const pid = child.pid;
  t.equal(liveSubjectCount(), 1);
  await stopChild(child);
  t.equal(liveSubjectCount(), 0);
  t.throws(() => process.kill(pid!, 0), /ESRCH/, 'the stopped subject is gone');
});
