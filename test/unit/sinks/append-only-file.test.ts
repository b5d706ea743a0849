// The durable line file: whole lines, and on a failing disk (/dev/full answers every write with
// ENOSPC) no exception, one message, a bounded backlog and an honest count of what was dropped.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { AppendOnlyFile } from '../../../src/sinks/append-only-file.js';
import { FlowLogSink } from '../../../src/sinks/flow-log-sink.js';
import { buildHar } from '../../../src/run/har-builder.js';
import { readHarFile } from '../../../src/flow/har-reader.js';
import { makeFlow } from '../../helpers/flows.js';
import { tempDir } from '../../helpers/lab.js';

t.test('lines are appended whole, pieces joined', async (t) => {
  const file = path.join(tempDir(), 'x.jsonl');
  const messages: string[] = [];
  const out = new AppendOnlyFile(file, { failed: (m) => messages.push(m), recovered: (m) => messages.push(m) }, { backlogLimitBytes: 1024, retryMs: 10 });
  out.append(['{"a":', '1}']);
  out.append(['{"b":2}']);
  t.same(out.close(), { lines: 2, dropped: 0, pending: 0 });
  t.equal(fs.readFileSync(file, 'utf8'), '{"a":1}\n{"b":2}\n');
  t.same(messages, []);
});

t.test('a piece made as bytes (a text body written as it is) is written byte for byte', async (t) => {
  const file = path.join(tempDir(), 'x.jsonl');
  const out = new AppendOnlyFile(file, { failed: () => undefined, recovered: () => undefined }, { backlogLimitBytes: 1024, retryMs: 10 });
  const text = Buffer.from('caf\u00e9 \u20ac');
  // A short line: its pieces are joined into one write.
  out.append(['{"t":"', { chars: text.length, text: () => text.subarray(1) }, '"}']);
  // A long line: written piece by piece.
  const long = Buffer.alloc(1024 * 1024 + 1, 0x7a);
  out.append(['{"l":"', { chars: long.length, text: () => long }, '"}']);
  out.close();
  t.equal(fs.readFileSync(file, 'utf8'), `{"t":"af\u00e9 \u20ac"}\n{"l":"${'z'.repeat(long.length)}"}\n`);
});

t.test('a full disk: no throw, said once, backlog bounded, the rest counted', { skip: fs.existsSync('/dev/full') ? false : 'no /dev/full here' }, async (t) => {
  const messages: string[] = [];
  const out = new AppendOnlyFile('/dev/full', { failed: (m) => messages.push(m), recovered: (m) => messages.push(m) }, { backlogLimitBytes: 100, retryMs: 60_000 });
  for (let i = 0; i < 10; i++) out.append([`{"n":${i},"pad":"${'x'.repeat(20)}"}`]);
  const stats = out.close();
  t.equal(messages.length, 1, 'said once');
  t.match(messages[0], /ENOSPC/);
  t.equal(stats.pending + stats.dropped, 10, 'every line is either waiting or counted as dropped');
  t.ok(stats.dropped > 0 && stats.pending > 0, `pending ${stats.pending}, dropped ${stats.dropped}`);
  t.match(stats.error, /ENOSPC/);
});

t.test('flows.jsonl holds whole HAR entries (large bodies in slices); flows.har is built from it and reads back byte for byte', async (t) => {
  const dir = tempDir();
  const log = path.join(dir, 'flows.jsonl');
  const sink = new FlowLogSink(log, { failed: () => undefined, recovered: () => undefined }, { redact: false, backlogLimitBytes: 1 << 20, retryMs: 1000 });
  const text = Buffer.from(`${'é€😀"\\\n'.repeat(400_000)}end`);
  const binary = crypto.randomBytes(3 * 1024 * 1024 + 7);
  sink.write(makeFlow({ id: 'fl-000001', requestBody: text, response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [['x-token', '@@phonehome-body-0']], body: { bytes: binary, totalBytes: binary.length, truncated: false } } }));
  sink.write(makeFlow({ id: 'fl-000002', requestBody: 'small "quoted" body' }));
  sink.close();
  t.equal(fs.readFileSync(log, 'utf8').trim().split('\n').length, 2, 'one line per flow');
  // A crash mid-line: the cut line is left out and counted.
  fs.appendFileSync(log, '{"startedDateTime":"2026-11-27T18:30:11.000Z","request":{"method":"PO');
  const built = await buildHar(log, path.join(dir, 'flows.har'), { version: 't', startedAt: '2026-11-27T18:30:11.000Z', insecureUpstream: false, options: {} });
  t.same(built, { entries: 2, skipped: 1 });
  const { flows } = readHarFile(fs.readFileSync(path.join(dir, 'flows.har'), 'utf8'));
  t.ok(flows[0]!.request!.body.bytes.equals(text), 'UTF-8 body intact');
  t.ok(flows[0]!.response!.body.bytes.equals(binary), 'binary body intact');
  t.equal(flows[0]!.response!.headers[0]![1], '@@phonehome-body-0', 'a header that looks like a placeholder is left alone');
  t.equal(flows[1]!.request!.body.bytes.toString(), 'small "quoted" body');
  t.notOk(fs.existsSync(path.join(dir, 'flows.har.partial')));
});

t.test('flows.har leaves out a cut line of several megabytes between whole ones (taken back out of the file)', async (t) => {
  const dir = tempDir();
  const log = path.join(dir, 'flows.jsonl');
  const big = (id: string, n: number): string => JSON.stringify({ startedDateTime: '2026-11-27T18:30:11.000Z', request: { method: 'POST', url: `https://x.test/${id}`, postData: { text: 'b'.repeat(n) } }, response: {}, _phonehome: { flowId: id } });
  const cut = big('cut', 2_500_000).slice(0, 2_000_000);
  fs.writeFileSync(log, `${big('fl-1', 3_000_000)}\n${cut}\n\n${big('fl-2', 10)}\n${cut}`);
  const built = await buildHar(log, path.join(dir, 'flows.har'), { version: 't', startedAt: '2026-11-27T18:30:11.000Z', insecureUpstream: false, options: {} });
  t.same(built, { entries: 2, skipped: 2 });
  const har = JSON.parse(fs.readFileSync(path.join(dir, 'flows.har'), 'utf8')) as { log: { entries: Array<{ request: { url: string; postData: { text: string } } }> } };
  t.same(har.log.entries.map((e) => e.request.url), ['https://x.test/fl-1', 'https://x.test/fl-2']);
  t.equal(har.log.entries[0]!.request.postData.text.length, 3_000_000);
});
