// A short lab day in CI (the 30-minute one is `npm run labday -- 30`, figures and plot in the
// README): 6 phones, 2 of them over SOCKS5, at a quickened pace for 25 s through the built CLI.
// It asserts what must hold whatever the machine's speed — every completed flow recorded, every
// phone in the summary as its own client with the model its User-Agent names, the pinned app
// refused once and then passed through, samples taken, the files written — and no timing.

import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { labDay, writeLabDayFiles } from '../../src/bench/lab-day.js';

t.test('a short lab day: 6 phones, nothing lost, each its own client, plot written', async (t) => {
  const devices = 6;
  const result = await labDay({ seconds: 25, devices, socksDevices: 2, sampleEverySeconds: 3, gaps: { api: 0.5, websocket: 1, upload: 5, pinned: 3 } });
  t.equal(result.exitCode, 0, 'the capture stopped cleanly');
  t.equal(result.errors, 0, `no action failed${result.lastErrors.length ? `: ${result.lastErrors.join('; ')}` : ''}`);
  t.comment(`completed ${JSON.stringify(result.completed)}, recorded ${JSON.stringify(result.recorded)}`);
  t.ok(result.completed.http > 50, `${result.completed.http} HTTP exchanges through the capture`);
  t.equal(result.completed.websocket, devices, 'one WebSocket per phone, open all along');
  t.ok(result.completed['tls-failed'] >= devices, 'each pinned app refused our certificate at least once');
  t.ok(result.completed.tunnel >= 1, 'and once its host was learned, it passed through and succeeded');
  t.equal(result.missing, 0, 'every completed flow is in flows.jsonl');
  for (const kind of ['http', 'websocket', 'tunnel', 'tls-failed'] as const) t.equal(result.recorded[kind], result.completed[kind], `${kind}: recorded = completed`);
  t.ok(result.harWhole, 'flows.har is a whole document');

  const clients = result.summaryDevices.map((d) => d.client).sort();
  t.same(clients, Array.from({ length: devices }, (_, i) => `127.0.0.${i + 2}`).sort(), 'the summary lists each phone as its own client');
  for (const device of result.summaryDevices) {
    const nn = String(Number(device.client.split('.')[3]) - 1).padStart(2, '0');
    t.equal(device.model, `Lab Phone ${nn}`, `${device.client}: the model its User-Agent names`);
  }

  t.same(result.latency.map((l) => l.kind), ['api', 'upload', 'websocket', 'pinned'], 'every kind of action was paired direct and through');
  t.ok(result.photoBytes >= 200 * 1024 && result.photoBytes <= 2 * 1024 * 1024, `a ${Math.round(result.photoBytes / 1024)} KB photo`);
  t.ok(result.samples.length >= 5, `${result.samples.length} samples`);
  t.ok(result.samples.every((s) => s.rssMb > 0), 'every sample has the capture\'s RSS');
  t.ok(result.samples.slice(1).every((s) => s.cpuPercent !== null && s.cpuPercent >= 0), 'and, after the first, its CPU over the interval');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-labday-test-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  writeLabDayFiles(result, { json: path.join(dir, 'lab-day.json'), svg: path.join(dir, 'lab-day.svg') });
  const svg = fs.readFileSync(path.join(dir, 'lab-day.svg'), 'utf8');
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  t.equal((svg.match(/<polyline /g) ?? []).length, 2, 'an RSS line and a CPU line');
  t.match(svg, 'lab day: 6 devices, 0.4 minutes');
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'lab-day.json'), 'utf8')) as { samples: unknown[]; summaryDevices: unknown[] };
  t.equal(json.samples.length, result.samples.length, 'the JSON holds the samples');
  t.equal(json.summaryDevices.length, devices);
});
