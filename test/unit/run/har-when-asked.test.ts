// One durable record: flows.jsonl is always written; flows.har, a second copy of the same entries,
// is built on stop only while the log is at most the cap, and by `phonehome har` when asked — the
// same bytes the stop would have written. recover, the report and compare read a folder without it.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { EventBus } from '../../../src/flow/events.js';
import { RunFilesSink } from '../../../src/sinks/run-files-sink.js';
import { runHar } from '../../../src/cli/har-command.js';
import { main } from '../../../src/cli/main.js';
import { recoverRun } from '../../../src/run/recover.js';
import { writeRunRecord } from '../../../src/run/run-record.js';
import { reportRunFolder } from '../../../src/report/build-report.js';
import { loadRun } from '../../../src/run/run-view.js';
import { compareRuns } from '../../../src/run/compare.js';
import { ConfigError } from '../../../src/util/errors.js';
import { makeFlow } from '../../helpers/flows.js';
import { tempDir } from '../../helpers/lab.js';
import { makeFinding, writeRunFolder } from '../../helpers/runs.js';

const facts = { version: '9.9.9', startedAt: '2026-12-03T01:00:00.000Z', insecureUpstream: true, options: { listen: '127.0.0.1:0', redact: false } };
const FLOWS = 20;

function flows(): ReturnType<typeof makeFlow>[] {
  return Array.from({ length: FLOWS }, (_, i) => makeFlow({ id: `fl-${String(i + 1).padStart(6, '0')}`, requestBody: `imei=3520990012345${i}`, url: `https://api.example.com/up/${i}` }));
}

/** A capture's stop as the run files see it: every flow ended, then the close; run.json as the capture wrote it. */
async function captureInto(dir: string, harOnStopMaxLogBytes?: number) {
  fs.mkdirSync(dir, { recursive: true });
  writeRunRecord(dir, { v: 1, tool: { name: 'phonehome', version: facts.version }, insecureUpstream: facts.insecureUpstream, passthroughConfigured: [], sessions: [{ startedAt: facts.startedAt, options: facts.options }], finished: true });
  const bus = new EventBus();
  const sink = new RunFilesSink(dir, () => undefined, { redact: false, insecureUpstream: true, harFacts: () => facts, ...(harOnStopMaxLogBytes !== undefined ? { harOnStopMaxLogBytes } : {}) });
  sink.attach(bus);
  for (const flow of flows()) bus.emit('flow:end', flow);
  return sink.close();
}

function quietIo() {
  const err: string[] = [];
  return { io: { out: () => undefined, err: (line: string) => { err.push(line); } }, err };
}

t.test('a small run gets flows.har on stop; over the cap there is none, and `phonehome har` builds the very same file', async (t) => {
  const base = tempDir();
  const small = path.join(base, 'small');
  const stats = await captureInto(small);
  t.notMatch((stats.notes ?? []).join('\n'), /flows\.har/, 'nothing said of flows.har for a small run');
  t.equal(JSON.parse(fs.readFileSync(path.join(small, 'flows.har'), 'utf8')).log.entries.length, FLOWS, 'flows.har on stop, every flow');
  const logBytes = fs.statSync(path.join(small, 'flows.jsonl')).size;

  const atCap = path.join(base, 'at-cap');
  await captureInto(atCap, logBytes);
  t.ok(fs.existsSync(path.join(atCap, 'flows.har')), 'a log of exactly the cap still gets flows.har');

  const large = path.join(base, 'large');
  const over = await captureInto(large, logBytes - 1);
  t.notOk(fs.existsSync(path.join(large, 'flows.har')), 'one byte over the cap: no flows.har');
  t.notOk(fs.existsSync(path.join(large, 'flows.har.partial')));
  t.equal(fs.readFileSync(path.join(large, 'flows.jsonl'), 'utf8').trim().split('\n').length, FLOWS, 'flows.jsonl holds every flow');
  t.match(over.notes, [new RegExp(`flows.har not built: flows.jsonl \\(.* MiB\\) is over the .* built on stop and holds every flow; phonehome har ${large} builds it`)]);
  t.same(over.problems, [], 'a HAR left for later is no problem (exit 0)');

  const { io, err } = quietIo();
  t.equal(await runHar(large, undefined, io), 0);
  t.ok(fs.readFileSync(path.join(large, 'flows.har')).equals(fs.readFileSync(path.join(small, 'flows.har'))), 'byte for byte what the stop would have written');
  t.match(err, [new RegExp(`flows.har: ${FLOWS} flow\\(s\\)$`)]);

  // Through the command line, as `phonehome har RUN_DIR --out FILE`.
  const elsewhere = path.join(base, 'out', 'copy.har');
  fs.mkdirSync(path.dirname(elsewhere));
  t.equal(await main(['har', large, '--out', elsewhere], io, { isTTY: false } as NodeJS.WriteStream), 0);
  t.ok(fs.readFileSync(elsewhere).equals(fs.readFileSync(path.join(small, 'flows.har'))), '--out FILE: the same file there');
  t.equal(await main(['har'], io, { isTTY: false } as NodeJS.WriteStream), 1, 'no RUN_DIR: bad usage');
  t.match(err.at(-1), /har RUN_DIR/);
});

t.test('analyze RUN_DIR/flows.har of a run past the cap builds it from flows.jsonl first; another missing file is still refused', async (t) => {
  const dir = path.join(tempDir(), 'run');
  await captureInto(dir, 100);
  t.notOk(fs.existsSync(path.join(dir, 'flows.har')));
  const { io, err } = quietIo();
  const stdout = { isTTY: false } as NodeJS.WriteStream;
  const out = path.join(tempDir(), 'analysis');
  t.equal(await main(['analyze', path.join(dir, 'flows.har'), '--out', out], io, stdout), 0);
  t.match(err.join('\n'), new RegExp(`flows\\.har built from .*flows\\.jsonl \\(${FLOWS} flow\\(s\\)\\)`));
  t.equal(JSON.parse(fs.readFileSync(path.join(dir, 'flows.har'), 'utf8')).log.entries.length, FLOWS, 'built in the run folder, as phonehome har does');
  t.ok(fs.existsSync(path.join(out, 'summary.json')), 'and analyzed');
  t.equal(await main(['analyze', path.join(dir, 'other.har')], io, stdout), 1, 'a HAR of another name is not made up');
  t.equal(await main(['analyze', path.join(tempDir(), 'flows.har')], io, stdout), 1, 'nor one without a flow log beside it');
});

t.test('over the cap, a flows.har from an earlier session (it lacks the new flows) is removed, and said', async (t) => {
  const dir = path.join(tempDir(), 'run');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'flows.har'), '{"log":{"entries":[]}}');
  const stats = await captureInto(dir, 100);
  t.notOk(fs.existsSync(path.join(dir, 'flows.har')));
  t.match(stats.notes, [/the older flows\.har, which lacked this session's flows, was removed/]);
});

t.test('phonehome har refuses what is not a run folder, in one line', async (t) => {
  const { io } = quietIo();
  const empty = tempDir();
  await t.rejects(runHar(path.join(empty, 'nope'), undefined, io), new ConfigError(`${path.join(empty, 'nope')} is not a folder`));
  await t.rejects(runHar(empty, undefined, io), { name: 'ConfigError', message: /holds no flows\.jsonl/ });
  fs.writeFileSync(path.join(empty, 'flows.jsonl'), '');
  fs.mkdirSync(path.join(empty, 'dir.har'));
  await t.rejects(runHar(empty, path.join(empty, 'dir.har'), io), { name: 'ConfigError', message: /a folder; give a file name/ });
  t.equal(await runHar(empty, undefined, io), 0, 'an empty log is an empty HAR');
  t.same(JSON.parse(fs.readFileSync(path.join(empty, 'flows.har'), 'utf8')).log.entries, []);
});

t.test('a killed large run: recover writes summary.json without flows.har; report and compare read the folder; har builds it', async (t) => {
  const base = tempDir();
  const dir = path.join(base, 'killed');
  // What a kill -9 leaves: the two logs, run.json unfinished, a line cut mid-write.
  writeRunFolder(dir, { findings: [makeFinding(1), makeFinding(2, { host: 'ads.example.com' })], flows: flows() });
  fs.rmSync(path.join(dir, 'summary.json'));
  fs.appendFileSync(path.join(dir, 'flows.jsonl'), '{"startedDateTime":"2026-12-03T01:00:09.000Z","request":{"met');
  writeRunRecord(dir, { v: 1, tool: { name: 'phonehome', version: facts.version }, insecureUpstream: false, passthroughConfigured: [], sessions: [{ startedAt: facts.startedAt, options: facts.options }], finished: false });

  const recovered = await recoverRun(dir, { harOnStopMaxLogBytes: 1024 });
  t.match(recovered, { flows: FLOWS, findings: 2, cutFlowLines: 1, harBuilt: false });
  t.notOk(fs.existsSync(path.join(dir, 'flows.har')), 'no second copy of a large log');
  const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
  t.match(summary.notes, [/^recovered after an unclean stop/, /flows\.har not built: .*phonehome har .* builds it/]);
  t.equal(summary.findings.total, 2);

  const report = await reportRunFolder(dir);
  t.equal(report.findings, 2, 'the report reads the run from flows.jsonl');
  t.match(fs.readFileSync(report.file, 'utf8'), /api\.example\.com/, 'with its flows');

  const baseline = writeRunFolder(path.join(base, 'baseline'), { findings: [makeFinding(1)], hosts: ['gallery.example.cn'] });
  const lines = compareRuns(await loadRun(baseline), await loadRun(dir));
  t.ok(lines.some((line) => JSON.stringify(line).includes('ads.example.com')), 'compare finds what is new');

  const { io } = quietIo();
  t.equal(await runHar(dir, undefined, io), 0);
  t.equal(JSON.parse(fs.readFileSync(path.join(dir, 'flows.har'), 'utf8')).log.entries.length, FLOWS, 'har: every whole line, the cut one left out');

  // The same kill on a small run: recover still builds flows.har, as before.
  const smallRun = path.join(base, 'small-killed');
  writeRunFolder(smallRun, { findings: [], flows: flows().slice(0, 2) });
  fs.rmSync(path.join(smallRun, 'summary.json'));
  t.match(await recoverRun(smallRun), { flows: 2, harBuilt: true });
  t.equal(JSON.parse(fs.readFileSync(path.join(smallRun, 'flows.har'), 'utf8')).log.entries.length, 2);
});
