// A /proc/PID/stat line: the fields the bench, the WireGuard mode's run record and the tests read,
// from lines written by hand (names with spaces and parentheses) and from this process's own.

import t from 'tap';
import fs from 'node:fs';
import { parseProcStat } from '../../../src/util/proc-stat.js';

// Fields 3-22 after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt
// cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime, then more.
const tail = (state: string, ppid: number, utime: number, stime: number, start: number) =>
  `${state} ${ppid} 4242 17 0 -1 4194560 900 0 0 0 ${utime} ${stime} 3 1 20 0 11 0 ${start} 1000000 20000`;

t.test('lines Linux writes', async (t) => {
  const cases: Array<[string, string, { pid: number; ppid: number; state: string; ticks: number; startTime: string }]> = [
    ['a plain name', `4242 (node) ${tail('S', 17, 250, 75, 9000)}`, { pid: 4242, ppid: 17, state: 'S', ticks: 325, startTime: '9000' }],
    ['a name with spaces and parentheses: fields counted after the last )', `4242 (node (worker) x) ${tail('R', 17, 1, 2, 5)}`, { pid: 4242, ppid: 17, state: 'R', ticks: 3, startTime: '5' }],
    ['a name that looks like fields', `7 (a) S 1 2 3) ${tail('T', 1, 0, 0, 123456789)}`, { pid: 7, ppid: 1, state: 'T', ticks: 0, startTime: '123456789' }],
    ['a zombie', `99 (sh) ${tail('Z', 98, 4, 4, 77)}`, { pid: 99, ppid: 98, state: 'Z', ticks: 8, startTime: '77' }],
    ['a trailing newline, as read from the file', `1 (init) ${tail('S', 0, 10, 20, 1)}\n`, { pid: 1, ppid: 0, state: 'S', ticks: 30, startTime: '1' }],
  ];
  for (const [name, line, expected] of cases) t.same(parseProcStat(line), expected, name);
  t.equal(parseProcStat(`1 (x) ${tail('S', 0, 250, 75, 1)}`).ticks, 325, 'utime + stime only: the children\'s cutime and cstime are not counted twice');
});

t.test('anything else is refused', async (t) => {
  const bad: Array<[string, string]> = [
    ['not a stat line', 'garbage'],
    ['no name in parentheses', `4242 ${tail('S', 17, 1, 1, 1)}`],
    ['cut before the start time', `4242 (node) S 17 4242 17 0 -1 4194560 900 0 0 0 250 75`],
    ['a pid that is not a number', `x (node) ${tail('S', 17, 1, 1, 1)}`],
    ['an empty line', ''],
  ];
  for (const [name, line] of bad) t.throws(() => parseProcStat(line), /not a \/proc stat line/, name);
});

t.test('this process and its threads, read live', async (t) => {
  const self = parseProcStat(fs.readFileSync('/proc/self/stat', 'utf8'));
  t.equal(self.pid, process.pid);
  t.equal(self.ppid, process.ppid);
  t.equal(self.state, 'R', 'running: it is reading its own stat');
  const threads = fs.readdirSync('/proc/self/task').map((tid) => parseProcStat(fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')));
  t.ok(threads.length > 1, 'Node runs helper threads');
  t.ok(threads.every((thread) => thread.ppid === process.ppid && BigInt(thread.startTime) >= BigInt(self.startTime)), 'each thread\'s line parses: the process\'s parent, started with or after the process');
  const parent = parseProcStat(fs.readFileSync(`/proc/${process.ppid}/stat`, 'utf8'));
  t.ok(BigInt(parent.startTime) <= BigInt(self.startTime), 'the parent started first');
});
