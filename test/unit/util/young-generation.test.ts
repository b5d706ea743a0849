// Long-lived data loaded at start-up does not grow V8's young generation (an idle capture kept
// what it grew to); afterwards it may grow again. Run in a fresh plain node process, whose nursery
// starts small (the test runner's TypeScript loader grows its own to the maximum): the module is
// transpiled to JavaScript for it first.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import ts from 'typescript';
import { execFileSync } from 'node:child_process';

const source = fs.readFileSync(new URL('../../../src/util/young-generation.ts', import.meta.url), 'utf8');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-nursery-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
const modulePath = path.join(dir, 'young-generation.mjs');
fs.writeFileSync(modulePath, ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText);
const moduleUrl = new URL(`file://${modulePath}`).href;

function nurseryAfter(paused: boolean): { before: number; during: number; after: number } {
  const code = `
    import v8 from 'node:v8';
    import { withoutNurseryGrowth } from ${JSON.stringify(moduleUrl)};
    const nursery = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    // 300,000 small objects that all survive, as the offline tables do.
    const load = async () => { const kept = []; for (let i = 0; i < 300000; i++) kept.push({ i, name: 'org ' + i }); return kept; };
    const before = nursery();
    const tables = ${paused ? 'await withoutNurseryGrowth(load)' : 'await load()'};
    const during = nursery();
    const more = await load();
    process.stdout.write(JSON.stringify({ before, during, after: nursery(), kept: tables.length + more.length }));
  `;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' })) as { before: number; during: number; after: number };
}

t.test('loading survivors inside withoutNurseryGrowth leaves the nursery as it was; outside, it grows', async (t) => {
  const paused = nurseryAfter(true);
  t.comment(JSON.stringify(paused));
  t.equal(paused.during, paused.before, 'no growth while paused');
  t.ok(paused.after > paused.during, 'growth allowed again afterwards');
  const plain = nurseryAfter(false);
  t.comment(JSON.stringify(plain));
  t.ok(plain.during > plain.before, 'the look-alike: the same load outside the pause grows it');
});
