#!/usr/bin/env node
// `npm run mutate [-- COUNT]`: mutation testing, our own small version. Plants one deliberate bug
// at a time (a flipped comparison, a negated condition, a changed constant…) in a scratch copy of
// the repository — never in this working tree — runs the tests that cover the mutated file, and
// counts the bugs the tests caught. Run before a release, not in CI: it takes many minutes.
// Folders: src/inspect (decoders, detectors), src/proxy/access (who may use the proxy), src/sinks,
// src/proxy/layers (the protocol layers), src/report and src/run (the run folder).
//
// Speed matters more than anything here: every test second costs COUNT seconds. So a mutant runs
// only the test files of its folder's list that import the mutated file (directly or through other
// files), each file straight under node (no tap runner start-up), the fastest first, stopping at
// the first failure. A mutant no listed test reaches survives unrun.
// The test files run as JavaScript: the scratch copy's TypeScript is transpiled once, file by file
// (tap's loader, test/helpers/typescript.mjs, would do it again in every test process), and a
// mutant's file again with its bug, so a test file starts in a fraction of a second.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import ts from 'typescript';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
// The first plain number is the count; options take the word after them.
const count = Number(process.argv.slice(2).find((a, i, all) => /^\d+$/.test(a) && !/^--(recheck|before|seed|at|range)$/.test(all[i - 1] ?? '')) ?? 40);
// `-- 100 --list`: only say which mutants this commit and seed draw (the changed line, how many test
// files reach it), run nothing: for writing the tests before the long run.
const listOnly = process.argv.includes('--list');
// `-- 100 --recheck LOG`: after adding tests (and only adding: a caught mutant stays caught), run
// again only the mutants LOG (one or more earlier runs' output, concatenated, same seed) does not
// say were caught; mutants are matched by id, so LOG may come from an earlier commit.
const recheckAt = process.argv.indexOf('--recheck');
const earlier = recheckAt > 0 ? fs.readFileSync(process.argv[recheckAt + 1], 'utf8') : undefined;
// `-- 100 --before REV`: the score the tests of commit REV would get as well, in the same pass: a
// mutant runs the test files REV had first, and the files added since only if those all pass.
const beforeAt = process.argv.indexOf('--before');
const beforeRev = beforeAt > 0 ? process.argv[beforeAt + 1] : undefined;
// Generous: under `nice -n 19` on a shared 2-core machine a 30-second file can take minutes, and a
// file killed for slowness would count as a caught mutant (or, unmutated, leave the file out).
const FILE_TIMEOUT_MS = 300_000;
const targets = [
  { dir: 'src/inspect', tests: ['test/unit/inspect'] },
  { dir: 'src/proxy/access', tests: ['test/unit/proxy/access.test.ts', 'test/unit/proxy/target.test.ts', 'test/integration/access-and-hostile-input.test.ts'] },
  { dir: 'src/sinks', tests: ['test/unit/sinks', 'test/unit/flow', 'test/tui/tui-model.test.ts', 'test/tui/tui-screen.test.ts', 'test/tui/tui-who.test.ts', 'test/tui/tui-decrypted-later.test.ts', 'test/tui/tui-wireguard.test.ts', 'test/tui/drawing-boundaries.test.ts', 'test/tui/screen-boundaries.test.ts', 'test/tui/preview-edges.test.ts', 'test/tui/finding-row-edges.test.ts'] },
  {
    dir: 'src/proxy/layers',
    tests: [
      'test/unit/proxy', // the unit tests that import a layer (sniffing, ClientHello, alerts, STARTTLS, Alt-Svc)
      'test/integration/request-relay.test.ts',
      'test/integration/http2.test.ts',
      'test/integration/streams-websocket.test.ts',
      'test/integration/https-interception.test.ts',
      // The layers' other behaviour end to end: each was a place a planted bug went unseen.
      'test/integration/alt-svc.test.ts',
      'test/integration/grpc.test.ts',
      'test/integration/websocket-deflate.test.ts',
      'test/integration/tls-fidelity.test.ts',
      'test/integration/pinning-passthrough.test.ts',
      'test/integration/bodies-and-connections.test.ts',
      'test/integration/engine-defects.test.ts',
      'test/integration/relay-failure-tags.test.ts',
    ],
  },
  { dir: 'src/report', tests: ['test/unit/report'] },
  { dir: 'src/run', tests: ['test/unit/run', 'test/unit/flow', 'test/unit/sinks/append-only-file.test.ts', 'test/unit/sinks/summary-opaque.test.ts', 'test/integration/capture-files-written.test.ts'] },
];
const operators = [
  { name: '=== → !==', from: / === /g, to: ' !== ' },
  { name: '!== → ===', from: / !== /g, to: ' === ' },
  { name: '< → <=', from: / < (?!=)/g, to: ' <= ' },
  { name: '> → >=', from: / > (?!=)/g, to: ' >= ' },
  { name: '&& → ||', from: / && /g, to: ' || ' },
  { name: '|| → &&', from: / \|\| /g, to: ' && ' },
  { name: 'true → false', from: /\btrue\b/g, to: 'false' },
  { name: 'return [] early', from: /(decode\(view(?:, budget)?\) \{\n)/g, to: '$1    return [];\n' },
  { name: 'integer + 1', from: /(?<![\w.])([2-9]|[1-9]\d+)(?![\w.x])/g, to: (m) => String(Number(m) + 1) },
];

// A seeded draw that edits elsewhere do not disturb: every candidate gets an id from its file,
// operator, the text of its line and its place among identical ones, and the COUNT lowest hashes of
// seed + id are drawn. The same seed (`--seed N`) draws the same mutants again at the same commit,
// and mostly the same ones after unrelated commits (a line moving down keeps its mutant).
const seedAt = process.argv.indexOf('--seed');
const seed = seedAt > 0 ? process.argv[seedAt + 1] : '20261130';
const random = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };

// Everything is read from the scratch copy (this commit), not the working tree, whose files other
// people may be editing: a mutant's offset must point into the very text it mutates.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-mutate-'));
// `--at REV`: the mutants and tests of commit REV, so a run can be repeated, or split over several
// processes (`--range 1-50`, `--range 51-100`, each with the same --at) whose logs add up.
const atAt = process.argv.indexOf('--at');
const rev = atAt > 0 ? process.argv[atAt + 1] : 'HEAD';
const rangeAt = process.argv.indexOf('--range');
const [rangeFirst, rangeLast] = rangeAt > 0 ? process.argv[rangeAt + 1].split('-').map(Number) : [1, Infinity];
execFileSync('git', ['worktree', 'add', '--detach', scratch, rev], { cwd: root, stdio: 'ignore' });
fs.symlinkSync(path.join(root, 'node_modules'), path.join(scratch, 'node_modules'));
// As the test loader transpiles (one file at a time, types dropped, no checking), to ES modules.
const transpile = (file, text) => ts.transpileModule(text, {
  fileName: file,
  compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true, isolatedModules: true, esModuleInterop: true },
}).outputText;
const jsOf = (file) => file.replace(/\.ts$/, '.js');
const removeScratch = () => execFileSync('git', ['worktree', 'remove', '--force', scratch], { cwd: root, stdio: 'ignore' });
// Stopped early (a time box): the score so far, then the scratch copy goes.
const stop = (code) => () => { report(); removeScratch(); process.exit(code); };
process.on('SIGINT', stop(130));
process.on('SIGTERM', stop(143));
const gitFiles = (...paths) => {
  const out = execFileSync('git', ['ls-files', ...paths], { cwd: scratch, encoding: 'utf8' }).trim();
  return out === '' ? [] : out.split('\n');
};

function candidates(activeTargets) {
  const all = [];
  for (const target of activeTargets) {
    for (const file of gitFiles(target.dir).filter((f) => f.endsWith('.ts'))) {
      const text = fs.readFileSync(path.join(scratch, file), 'utf8');
      const seen = new Map();
      for (const op of operators) {
        for (const match of text.matchAll(op.from)) {
          // Leave comments alone: a mutant there changes nothing.
          const lineStart = text.lastIndexOf('\n', match.index) + 1;
          const line = text.slice(lineStart, text.indexOf('\n', match.index));
          if (/^\s*(\/\/|\*|\/\*)/.test(line)) continue;
          // Identical lines (even indented differently) are told apart by their order in the file.
          const column = match.index - lineStart - (line.length - line.trimStart().length);
          const key = `${op.name}\n${line.trim()}\n${column}`;
          const sameBefore = seen.get(key) ?? 0;
          seen.set(key, sameBefore + 1);
          const id = crypto.createHash('sha256').update(`${seed}\n${file}\n${key}\n${sameBefore}`).digest('hex').slice(0, 8);
          all.push({ id, target, file, op, index: match.index, length: match[0].length, replacement: typeof op.to === 'function' ? op.to(match[0]) : match[0].replace(op.from, op.to) });
        }
      }
    }
  }
  return all;
}

// The relative imports of every TypeScript file in src/ and test/, so a mutant runs only the tests
// that can see it. Type-only imports count too: being conservative costs time, never a wrong score.
function importGraph() {
  const graph = new Map();
  for (const file of gitFiles('src', 'test').filter((f) => f.endsWith('.ts'))) {
    const text = fs.readFileSync(path.join(scratch, file), 'utf8');
    const deps = [];
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g)) {
      deps.push(path.normalize(path.join(path.dirname(file), m[1])).replace(/\.js$/, '.ts'));
    }
    graph.set(file, deps);
  }
  return graph;
}

function reaches(graph, from, wanted, seen = new Set()) {
  if (from === wanted) return true;
  if (seen.has(from)) return false;
  seen.add(from);
  return (graph.get(from) ?? []).some((dep) => reaches(graph, dep, wanted, seen));
}

function runTestFile(cwd, testFile) {
  const started = Date.now();
  const run = spawnSync(process.execPath, [jsOf(testFile)], {
    cwd,
    encoding: 'utf8',
    timeout: FILE_TIMEOUT_MS,
    env: { ...process.env, TAP_TIMEOUT: '240' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const failure = run.status === 0 ? undefined : /^\s*not ok .*$/m.exec(run.stdout ?? '')?.[0]?.trim() ?? (run.error ? String(run.error.message) : `exit ${run.status ?? run.signal}`);
  return { passed: run.status === 0, ms: Date.now() - started, timedOut: run.error?.code === 'ETIMEDOUT', failure };
}

const activeTargets = targets.filter((t) => gitFiles(t.dir).length > 0);
const pool = candidates(activeTargets);
const chosen = [...pool].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, count);

const graph = importGraph();
if (!listOnly) {
  for (const file of gitFiles('src', 'test').filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))) {
    fs.writeFileSync(path.join(scratch, jsOf(file)), transpile(file, fs.readFileSync(path.join(scratch, file), 'utf8')));
  }
}
const testsOf = new Map(activeTargets.map((t) => [t, gitFiles(...t.tests).filter((f) => f.endsWith('.test.ts'))]));
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: scratch, encoding: 'utf8' }).trim();
process.stdout.write(`commit ${commit}, seed ${seed}: ${chosen.length} mutants drawn from ${pool.length}\n`);
if (listOnly) {
  for (const [i, m] of chosen.entries()) {
    const text = fs.readFileSync(path.join(scratch, m.file), 'utf8');
    const line = text.slice(0, m.index).split('\n').length;
    const reached = testsOf.get(m.target).filter((t) => reaches(graph, t, m.file)).length;
    process.stdout.write(`${String(i + 1).padStart(3)} [${m.id}] ${m.file}:${line} ${m.op.name} (${reached} test files) :: ${text.split('\n')[line - 1].trim()}\n`);
  }
  removeScratch();
  process.exit(0);
}

const started = Date.now();
let caught = 0;
let caughtBefore = 0;
const survivors = [];
// The files added since REV; a test moved since (git sees a rename) is an old test in a new place.
const addedTests = new Set(beforeRev
  ? execFileSync('git', ['diff', '--name-status', '--find-renames', '--diff-filter=A', beforeRev, 'HEAD', '--', 'test'], { cwd: root, encoding: 'utf8' }).trim().split('\n').map((l) => l.split('\t')[1])
  : []);
// A test file that fails without any mutant would "catch" every one: a file that fails under a
// mutant is run once unmutated too (remembered), and a failure there is no catch (said once).
// Files run fastest first: by their time when known, else by their size.
const baseline = new Map();
const killersOf = new Map();
const cost = (testFile) => baseline.get(testFile)?.ms ?? fs.statSync(path.join(scratch, testFile)).size / 100;
const failsUnmutated = (testFile) => {
  if (!baseline.has(testFile)) {
    // Twice before a file is left out: one failure under load is no reason to lose a file.
    let result = runTestFile(scratch, testFile);
    if (!result.passed) result = runTestFile(scratch, testFile);
    baseline.set(testFile, result);
    if (!result.passed) process.stdout.write(`    (left out: ${testFile} fails without a mutant, twice: ${result.failure})\n`);
  }
  return !baseline.get(testFile).passed;
};
try {
  for (const [i, m] of chosen.entries()) {
    if (i + 1 < rangeFirst || i + 1 > rangeLast) continue;
    // Every test run is synchronous: a turn of the event loop lets a SIGINT or SIGTERM stop us here.
    await new Promise((resolve) => setImmediate(resolve));
    const file = path.join(scratch, m.file);
    const original = fs.readFileSync(file, 'utf8');
    const line = original.slice(0, m.index).split('\n').length;
    const where = `[${m.id}] ${m.file}:${line} ${m.op.name}`;
    // The id, not the number or the line, names a mutant across commits: lines move, ids stay.
    if (earlier && new RegExp(`^ *\\d+/\\d+ \\[${m.id}\\] .*: caught`, 'm').test(earlier)) {
      caught++;
      process.stdout.write(`${String(i + 1).padStart(3)}/${chosen.length} ${where}: caught before (not run again)\n`);
      continue;
    }
    const tests = testsOf.get(m.target).filter((t) => reaches(graph, t, m.file) && !(baseline.get(t)?.passed === false));
    const isNew = (testFile) => addedTests.has(testFile);
    // A file that caught a bug planted in the same source file is the likeliest to catch this one.
    const caughtHere = (testFile) => Number(!(killersOf.get(m.file)?.has(testFile) ?? false));
    tests.sort((a, b) => Number(isNew(a)) - Number(isNew(b)) || caughtHere(a) - caughtHere(b) || cost(a) - cost(b));
    const mutantStarted = Date.now();
    const mutated = original.slice(0, m.index) + m.replacement + original.slice(m.index + m.length);
    let killer;
    for (const testFile of tests) {
      // A turn between test files too, so a stop does not wait for a survivor's every file.
      await new Promise((resolve) => setImmediate(resolve));
      // The TypeScript too: a test may start a process or worker of its own on it.
      fs.writeFileSync(file, mutated);
      fs.writeFileSync(jsOf(file), transpile(m.file, mutated));
      let result;
      try {
        result = runTestFile(scratch, testFile);
        // A mutant may loop forever, but a file can also be slow because the machine is busy:
        // killed for time, it runs once more before the kill counts.
        if (result.timedOut) result = runTestFile(scratch, testFile);
      } finally {
        fs.writeFileSync(file, original);
        fs.writeFileSync(jsOf(file), transpile(m.file, original));
      }
      if (result.passed) {
        if (!baseline.has(testFile)) baseline.set(testFile, result);
      } else if (!failsUnmutated(testFile)) {
        killer = testFile;
        killersOf.set(m.file, (killersOf.get(m.file) ?? new Set()).add(testFile));
        break;
      }
    }
    if (killer && !isNew(killer)) caughtBefore++;
    if (killer) caught++;
    else survivors.push(tests.length === 0 ? `${where} (no listed test reaches it)` : where);
    const verdict = killer ? `caught   by ${path.basename(killer)}` : `SURVIVED ${tests.length} test files`;
    process.stdout.write(`${String(i + 1).padStart(3)}/${chosen.length} ${where}: ${verdict} (${Math.round((Date.now() - mutantStarted) / 1000)} s)\n`);
  }
} finally {
  removeScratch();
}
report();
function report() {
  const done = caught + survivors.length;
  if (done === 0) return;
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  process.stdout.write(`\nmutation score: ${caught} of ${done} planted bugs caught (${Math.round((caught / done) * 100)}%)${rangeAt > 0 ? ` (mutants ${rangeFirst}-${Math.min(rangeLast, chosen.length)} of ${chosen.length})` : done < chosen.length ? ` (stopped after ${done} of ${chosen.length})` : ''} in ${minutes} min\n`);
  if (beforeRev) process.stdout.write(`with the tests of ${beforeRev}: ${caughtBefore} of ${done} (${Math.round((caughtBefore / done) * 100)}%)\n`);
  process.stdout.write(`folders: ${activeTargets.map((t) => t.dir).join(', ')}\n`);
  if (survivors.length > 0) process.stdout.write(`survived:\n${survivors.map((s) => `  ${s}`).join('\n')}\n`);
}
