// More of the report page's edges (issue #23, planted bugs): lines cut by a crash are counted only
// when there are some; an app's version and evidence, and a compared finding's host and summary,
// are whole at exactly their limit and cut one character past it.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { reportRunFolder } from '../../../src/report/build-report.js';
import { tempDir } from '../../helpers/lab.js';
import { makeFinding, writeRunFolder } from '../../helpers/runs.js';

const summary = { v: 1, destinations: [], coverage: { totals: { bytesUp: 10, bytesUpInspected: 10, bytesDown: 10, bytesDownInspected: 10 } } };

t.test('lines cut by a crash: said with their count when there are some, not at all when none', async (t) => {
  const whole = writeRunFolder(path.join(tempDir(), 'run'), { findings: [makeFinding(1)], summary });
  const clean = fs.readFileSync((await reportRunFolder(whole)).file, 'utf8');
  t.notMatch(clean, /cut by a crash/);
  fs.appendFileSync(path.join(whole, 'findings.jsonl'), '{"v":1,"id":"f-000002","cat');
  const cut = fs.readFileSync((await reportRunFolder(whole)).file, 'utf8');
  t.match(cut, /; 1 line\(s\) cut by a crash were left out/);
});

t.test("an app's version is whole at 40 characters and cut at 41; its evidence at 200 and 201", async (t) => {
  const app = (version: string, evidence: string) => ({ id: 'com.example.app', version, confidence: 'medium' as const, evidence });
  const dir = writeRunFolder(path.join(tempDir(), 'run'), {
    summary,
    findings: [
      makeFinding(1, { app: app('1'.repeat(40), 'E'.repeat(200)) }),
      makeFinding(2, { app: app('2'.repeat(41), 'F'.repeat(201)), evidence: { path: ['body'], bytes: 10, sha256: 'b'.repeat(64) } }),
    ],
  });
  const html = fs.readFileSync((await reportRunFolder(dir)).file, 'utf8');
  const article = (id: string): string => new RegExp(`<article[^>]* id="${id}"[\\s\\S]*?</article>`).exec(html)?.[0] ?? '';
  t.match(article('f-000001'), ` ${'1'.repeat(40)} <small class="muted">medium confidence: ${'E'.repeat(200)}</small>`, 'at the limits: whole');
  t.match(article('f-000002'), ` ${'2'.repeat(40)}… <small class="muted">medium confidence: ${'F'.repeat(200)}…</small>`, 'one past: cut, and says so');
});

t.test("--baseline: a new or gone finding's host is whole at 200 characters, its summary at 300; one more is cut", async (t) => {
  const root = tempDir();
  const host = (c: string, n: number): string => `${c.repeat(n - '.example'.length)}.example`;
  const finding = (id: number, c: string, extra: number) => makeFinding(id, { host: host(c, 200 + extra), summary: c.toUpperCase().repeat(300 + extra), evidence: { path: ['body'], bytes: 10, sha256: c.repeat(64) } });
  const run = writeRunFolder(path.join(root, 'run'), { summary, findings: [finding(1, 'a', 0), finding(2, 'b', 1)] });
  const base = writeRunFolder(path.join(root, 'base'), { summary, findings: [finding(3, 'c', 0), finding(4, 'd', 1)] });
  const html = fs.readFileSync((await reportRunFolder(run, { baselineDir: base, out: path.join(root, 'cmp.html') })).file, 'utf8');
  const section = /<section id="comparison">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? '';
  t.match(section, `<code>${host('a', 200)}</code>: <a href="#f-000001">${'A'.repeat(300)}</a>`, 'new, at the limits: whole');
  t.match(section, `<code>${host('b', 201).slice(0, 200)}…</code>: <a href="#f-000002">${'B'.repeat(300)}…</a>`, 'new, one past: cut');
  t.match(section, `<code>${host('c', 200)}</code>: ${'C'.repeat(300)}</li>`, 'gone, at the limits: whole');
  t.match(section, `<code>${host('d', 201).slice(0, 200)}…</code>: ${'D'.repeat(300)}…</li>`, 'gone, one past: cut');
});
