#!/usr/bin/env node
// `npm run mutate [-- COUNT]`: mutation testing, our own small version. Plants one deliberate bug
// at a time (a flipped comparison, a negated condition, a changed constant…) in a scratch copy of
// the repository — never in this working tree — runs the tests that cover that folder, and counts
// the bugs the tests caught. Run before a release, not in CI: it takes minutes.
// Folders: src/inspect (decoders, detectors), src/proxy/access (who may use the proxy), src/sinks.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const count = Number(process.argv[2] ?? 40);
const targets = [
  { dir: 'src/inspect', tests: ['test/unit/inspect'] },
  { dir: 'src/proxy/access', tests: ['test/unit/proxy/access.test.ts', 'test/unit/proxy/target.test.ts', 'test/integration/access-and-hostile-input.test.ts'] },
  { dir: 'src/sinks', tests: ['test/unit/sinks', 'test/unit/flow', 'test/tui'] },
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

// A seeded generator, so the same mutants are drawn on every run (scores can be compared).
let seed = 20261130;
const random = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };

function candidates() {
  const all = [];
  for (const target of targets) {
    const files = execFileSync('git', ['ls-files', target.dir], { cwd: root, encoding: 'utf8' }).trim().split('\n').filter((f) => f.endsWith('.ts'));
    for (const file of files) {
      const text = fs.readFileSync(path.join(root, file), 'utf8');
      for (const op of operators) {
        for (const match of text.matchAll(op.from)) {
          // Leave comments alone: a mutant there changes nothing.
          const lineStart = text.lastIndexOf('\n', match.index) + 1;
          const line = text.slice(lineStart, text.indexOf('\n', match.index));
          if (/^\s*(\/\/|\*|\/\*)/.test(line)) continue;
          all.push({ target, file, op, index: match.index, length: match[0].length, replacement: typeof op.to === 'function' ? op.to(match[0]) : match[0].replace(op.from, op.to) });
        }
      }
    }
  }
  return all;
}

const pool = candidates();
const chosen = [];
while (chosen.length < Math.min(count, pool.length)) {
  const pick = pool.splice(Math.floor(random() * pool.length), 1)[0];
  chosen.push(pick);
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-mutate-'));
execFileSync('git', ['worktree', 'add', '--detach', scratch, 'HEAD'], { cwd: root, stdio: 'ignore' });
fs.symlinkSync(path.join(root, 'node_modules'), path.join(scratch, 'node_modules'));
let caught = 0;
const survivors = [];
try {
  for (const [i, m] of chosen.entries()) {
    const file = path.join(scratch, m.file);
    const original = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, original.slice(0, m.index) + m.replacement + original.slice(m.index + m.length));
    const line = original.slice(0, m.index).split('\n').length;
    const run = spawnSync('npx', ['tap', '--timeout=60', '--disable-coverage', ...m.target.tests], { cwd: scratch, encoding: 'utf8', timeout: 300_000 });
    fs.writeFileSync(file, original);
    const killed = run.status !== 0;
    if (killed) caught++;
    else survivors.push(`${m.file}:${line} ${m.op.name}`);
    process.stdout.write(`${String(i + 1).padStart(3)}/${chosen.length} ${killed ? 'caught  ' : 'SURVIVED'} ${m.file}:${line} ${m.op.name}\n`);
  }
} finally {
  execFileSync('git', ['worktree', 'remove', '--force', scratch], { cwd: root, stdio: 'ignore' });
}
process.stdout.write(`\nmutation score: ${caught} of ${chosen.length} planted bugs caught (${Math.round((caught / chosen.length) * 100)}%)\n`);
if (survivors.length > 0) process.stdout.write(`survived:\n${survivors.map((s) => `  ${s}`).join('\n')}\n`);
