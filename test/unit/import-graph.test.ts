// The import graph of src/ keeps its shape (issue #23): no module cycle, the report and the fleet
// never import the capture application, sinks never import the proxy engine, the product never
// imports its benchmark, and run/ stays below the commands. The rules are in .dependency-cruiser.cjs;
// dependency-cruiser reads the sources offline. Every offending edge is printed as FROM -> TO.

import t from 'tap';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { installRoot } from '../../src/util/install-paths.js';
import { tempDir } from '../helpers/lab.js';

const cruiser = path.join(installRoot, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const config = path.join(installRoot, '.dependency-cruiser.cjs');

interface Violation {
  readonly rule: { readonly name: string };
  readonly from: string;
  readonly to: string;
  readonly cycle?: ReadonlyArray<{ readonly name: string } | string>;
}

interface Cruise {
  readonly violations: Violation[];
  readonly modules: number;
  readonly rules: string[];
}

/** Runs dependency-cruiser over `folder` of `cwd` with the project's rules (exit code = errors found). */
function cruise(cwd: string, folder: string): Promise<Cruise> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cruiser, folder, '--config', config, '--output-type', 'json'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', () => {
      try {
        const result = JSON.parse(Buffer.concat(out).toString('utf8')) as { modules: unknown[]; summary: { violations: Violation[]; ruleSetUsed: { forbidden?: Array<{ name: string }> } } };
        resolve({ violations: result.summary.violations, modules: result.modules.length, rules: (result.summary.ruleSetUsed.forbidden ?? []).map((r) => r.name) });
      } catch (error) {
        reject(new Error(`dependency-cruiser gave no report: ${(error as Error).message}; ${Buffer.concat(err).toString('utf8').slice(0, 2000)}`));
      }
    });
  });
}

/** An edge as a reader wants it: FROM -> TO, or the whole loop for a cycle. */
function edge(v: Violation): string {
  const loop = (v.cycle ?? []).map((step) => (typeof step === 'string' ? step : step.name));
  return loop.length > 0 ? `${v.from} -> ${loop.join(' -> ')}` : `${v.from} -> ${v.to}`;
}

function edgesOf(result: Cruise, rule: string): string[] {
  return result.violations.filter((v) => v.rule.name === rule).map(edge).sort();
}

const enforced = ['no-runtime-cycle', 'no-cycle', 'report-not-app', 'fleet-not-app', 'sinks-not-proxy', 'app-not-bench', 'run-not-cli', 'run-not-report', 'run-not-fleet'];

t.test('src/ keeps the shape its rules give it', async (t) => {
  const result = await cruise(installRoot, 'src');
  t.ok(result.modules > 200, `the whole of src/ was read (${result.modules} modules)`);
  t.same(enforced.filter((rule) => !result.rules.includes(rule)), [], 'every rule is in .dependency-cruiser.cjs');
  for (const rule of enforced) {
    const edges = edgesOf(result, rule);
    t.same(edges, [], edges.length === 0 ? `${rule}: none` : `${rule}:\n  ${edges.join('\n  ')}`);
  }
});

t.test('each rule catches the edge it forbids, and says which', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (file: string, text: string): void => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  };
  write('tsconfig.json', JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src'] }));
  write('src/app/capture.ts', "export const capture = 1;\n");
  write('src/proxy/engine.ts', "export interface Engine { readonly port: number }\n");
  write('src/bench/load.ts', "export const load = 1;\n");
  write('src/cli/main.ts', "export const main = 1;\n");
  write('src/report/page.ts', "import { capture } from '../app/capture.js';\nexport const page = capture;\n");
  write('src/fleet/worker.ts', "import { capture } from '../app/capture.js';\nexport const worker = capture;\n");
  // A type-only import counts: it still ties the sink to the engine.
  write('src/sinks/banner.ts', "import type { Engine } from '../proxy/engine.js';\nexport const banner = (e: Engine): number => e.port;\n");
  write('src/app/demo.ts', "import { load } from '../bench/load.js';\nexport const demo = load;\n");
  write('src/run/folder.ts', "import { main } from '../cli/main.js';\nimport { page } from '../report/page.js';\nimport { worker } from '../fleet/worker.js';\nexport const folder = main + page + worker;\n");
  write('src/run/a.ts', "import { b } from './b.js';\nexport const a = (): number => b();\n");
  write('src/run/b.ts', "import { a } from './a.js';\nexport const b = (): number => a();\n");
  // Look-alikes: a cycle through a type-only import is no runtime cycle; run/ may import model/.
  write('src/model/x.ts', "import type { Y } from './y.js';\nexport interface X { y?: Y }\n");
  write('src/model/y.ts', "import type { X } from './x.js';\nexport interface Y { x?: X }\n");
  write('src/run/uses-model.ts', "import type { X } from '../model/x.js';\nexport const x: X = {};\n");
  const result = await cruise(dir, 'src');
  t.same(edgesOf(result, 'report-not-app'), ['src/report/page.ts -> src/app/capture.ts'], 'report-not-app');
  t.same(edgesOf(result, 'fleet-not-app'), ['src/fleet/worker.ts -> src/app/capture.ts'], 'fleet-not-app');
  t.same(edgesOf(result, 'sinks-not-proxy'), ['src/sinks/banner.ts -> src/proxy/engine.ts'], 'sinks-not-proxy');
  t.same(edgesOf(result, 'app-not-bench'), ['src/app/demo.ts -> src/bench/load.ts'], 'app-not-bench');
  t.same(edgesOf(result, 'run-not-cli'), ['src/run/folder.ts -> src/cli/main.ts'], 'run-not-cli');
  t.same(edgesOf(result, 'run-not-report'), ['src/run/folder.ts -> src/report/page.ts'], 'run-not-report');
  t.same(edgesOf(result, 'run-not-fleet'), ['src/run/folder.ts -> src/fleet/worker.ts'], 'run-not-fleet');
  t.same(edgesOf(result, 'no-runtime-cycle'), ['src/run/a.ts -> src/run/b.ts -> src/run/a.ts'], 'a runtime cycle, said once; the type-only one is not');
  t.same(edgesOf(result, 'no-cycle').filter((e) => e.startsWith('src/model/')), ['src/model/x.ts -> src/model/y.ts -> src/model/x.ts'], 'a type-only cycle is still a cycle, of its own rule');
});
