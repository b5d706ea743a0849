// Figures measured inside the bench process, on one load CPU: the detection engine's MB/s over a
// mixed corpus, and the terminal UI's frame time with 100,000 flows.

import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { installRoot } from '../util/install-paths.js';

const MB = 1024 * 1024;

/** A 2,000-row SQLite file, as a backup upload would carry one. */
async function sqliteFile(initSqlJs: (typeof import('sql.js'))['default']): Promise<Buffer> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.run('CREATE TABLE items (id INTEGER, name TEXT, price REAL, note TEXT)');
  for (let i = 0; i < 2000; i++) db.run('INSERT INTO items VALUES (?, ?, ?, ?)', [i, `item ${i}`, i * 1.5, 'lorem ipsum dolor sit amet']);
  const bytes = Buffer.from(db.export());
  db.close();
  return bytes;
}

/** MB/s of the detection engine (decode chain + detectors) on one core, over a mixed corpus. */
export async function detectorThroughput(): Promise<number> {
  const { inspectFlow } = await import('../inspect/inspector.js');
  const { defaultDetectors } = await import('../inspect/detect/registry.js');
  const { BodyCapture } = await import('../flow/body-capture.js');
  const { loadSqlite } = await import('../inspect/decode/sqlite.js');
  const { zipSync } = await import('fflate');
  const initSqlJs = (await import('sql.js')).default;
  await loadSqlite();
  const zlib = await import('node:zlib');
  // The demo's camera photo (the same bytes as the tests' camera.jpg), from assets/ rather than test/.
  const photo = fs.readFileSync(path.join(installRoot, 'assets', 'demo', 'IMG_20141012_183005.jpg'));
  const json = Buffer.from(JSON.stringify({ items: Array.from({ length: 2000 }, (_, i) => ({ id: i, name: `item ${i}`, price: i * 1.5, tags: ['a', 'b'], note: 'lorem ipsum dolor sit amet' })) }));
  const bodies: Array<[Buffer, Array<[string, string]>]> = [
    [photo, [['content-type', 'image/jpeg']]],
    [json, [['content-type', 'application/json']]],
    [zlib.gzipSync(json), [['content-type', 'application/json'], ['content-encoding', 'gzip']]],
    [Buffer.from(JSON.stringify({ blob: photo.toString('base64') })), [['content-type', 'application/json']]],
    [Buffer.alloc(8 * MB, 0x41), [['content-type', 'application/octet-stream']]],
    [Buffer.from('a=1&b=2&c=hello+world'.repeat(100)), [['content-type', 'application/x-www-form-urlencoded']]],
    // The second round's containers: an archive, a database, a text dump.
    [Buffer.from(zipSync({ 'DCIM/Camera/IMG_1.jpg': photo, 'data.json': json })), [['content-type', 'application/zip']]],
    [await sqliteFile(initSqlJs), [['content-type', 'application/octet-stream']]],
    [Buffer.from(Array.from({ length: 2000 }, (_, i) => `Row: ${i} _id=${i}, name=setting_${i}, value=${i * 7}`).join('\n')), [['content-type', 'text/plain']]],
  ];
  const flows = bodies.map(([bytes, headers], i) => {
    const capture = new BodyCapture(bytes.length);
    capture.push(bytes);
    return { id: `b${i}`, kind: 'http' as const, startedAt: '', endedAt: '', durationMs: 0, client: { ip: '127.0.0.1', port: 1 }, target: { host: 'x', port: 443 }, scheme: 'https' as const, request: { method: 'POST', url: 'https://x/', httpVersion: 'HTTP/1.1', headers, body: capture.result() }, bytesUp: bytes.length, bytesDown: 0, tags: [] };
  });
  const total = bodies.reduce((n, [b]) => n + b.length, 0);
  let bytes = 0;
  const started = performance.now();
  while (performance.now() - started < 3000) {
    for (const flow of flows) inspectFlow(flow, defaultDetectors);
    bytes += total;
  }
  return bytes / MB / ((performance.now() - started) / 1000);
}

/** Milliseconds to compute one UI frame with 100,000 flows and 10,000 findings (only visible rows are built). */
export async function tuiFrameMs(): Promise<number> {
  const { TuiModel } = await import('../sinks/tui/tui-model.js');
  const model = new TuiModel({ capacity: 100_000, proxyAddresses: ['192.168.1.5:8080'], insecureUpstream: false, redact: (f) => f });
  for (let i = 0; i < 100_000; i++) {
    model.addFlow({ id: `fl-${i}`, time: '18:30:11', method: 'POST', host: `h${i % 500}.example.com`, path: `/api/${i}`, status: '200', bytesUp: i, bytesDown: i, durationMs: 12, kind: 'http', tags: [], detail: [] }, '192.168.1.23');
  }
  for (let i = 0; i < 10_000; i++) {
    model.addFinding({ v: 1, id: `f-${i}`, time: '2026-11-27T18:30:11.000Z', flowId: `fl-${i}`, category: 'photo', severity: 'high', direction: 'request', detector: 'photo/jpeg', summary: `photo ${i}`, host: 'h.example.com', client: { ip: '1' }, destination: { country: 'CN' }, evidence: { path: [], bytes: 1 }, details: {}, canary: null });
  }
  const started = performance.now();
  for (let i = 0; i < 50; i++) model.render(200, 60);
  return (performance.now() - started) / 50;
}
