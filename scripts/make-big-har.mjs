#!/usr/bin/env node
// Writes a large HAR for measuring `phonehome analyze` (issue #21: analyze of any size):
//   node scripts/make-big-har.mjs OUT.har SIZE_MB [--huge MB] [--cut]
// phonehome-style entries (with _phonehome) and browser-style ones (without), in turn: a camera
// photo uploaded as base64, an SMS sync in JSON, a download of incompressible bytes in base64,
// a page with quotes, backslashes and brackets in its strings. `log.pages` comes after the entries,
// as some writers put it. --huge adds one entry with a body of that many MB; --cut stops the file
// in the middle of its last entry. Deterministic: the same arguments give the same bytes.
// Then: /usr/bin/time -v node dist/cli.js analyze OUT.har --out /tmp/x

import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';

const [out, sizeText, ...rest] = process.argv.slice(2);
if (!out || !sizeText || !(Number(sizeText) > 0)) {
  console.error('usage: node scripts/make-big-har.mjs OUT.har SIZE_MB [--huge MB] [--cut]');
  process.exit(2);
}
const target = Number(sizeText) * 1024 * 1024;
const hugeIndex = rest.indexOf('--huge');
const hugeBytes = hugeIndex >= 0 ? Number(rest[hugeIndex + 1]) * 1024 * 1024 : 0;
const cut = rest.includes('--cut');

const photo = fs.readFileSync(path.join(import.meta.dirname, '..', 'test', 'fixtures', 'photos', 'camera.jpg'));

/** Deterministic bytes that do not compress (a hash chain). */
function noise(length, seed) {
  const bytes = Buffer.alloc(length);
  let block = createHash('sha256').update(seed).digest();
  for (let at = 0; at < length; at += block.length) {
    block.copy(bytes, at);
    block = createHash('sha256').update(block).digest();
  }
  return bytes;
}
const download = noise(256 * 1024, 'download').toString('base64');

const started = Date.parse('2026-11-27T18:30:00.000Z');
const ours = (n, kind) => ({ flowId: `f-${String(n).padStart(7, '0')}`, kind, client: { ip: '10.0.0.7', port: 40000 + (n % 20000) }, target: { host: 'upload.example.test', port: 443 }, tags: [], bytesUp: 0, bytesDown: 0, mode: 'http' });
const entry = (n) => {
  const base = { startedDateTime: new Date(started + n * 37).toISOString(), time: 12, cache: {}, timings: { send: 0, wait: 12, receive: 0 }, serverIPAddress: '93.184.216.34' };
  const empty = { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', cookies: [], headers: [], content: { size: 0, mimeType: '' }, redirectURL: '', headersSize: -1, bodySize: 0 };
  switch (n % 4) {
    case 0:
      return { ...base, request: { method: 'POST', url: `https://upload.example.test/photos/${n}`, httpVersion: 'HTTP/1.1', cookies: [], headers: [{ name: 'content-type', value: 'image/jpeg' }], queryString: [], headersSize: -1, bodySize: photo.length, postData: { mimeType: 'image/jpeg', text: photo.toString('base64'), encoding: 'base64' } }, response: empty, _phonehome: ours(n, 'http') };
    case 1: {
      const sms = JSON.stringify({ sms: [{ address: '+33612345678', body: `Rendez-vous demain {${n}} "à 18h" ]`, date: 1413131405000 + n, type: 1 }] });
      return { ...base, request: { method: 'POST', url: `https://sync.example.test/inbox?n=${n}`, httpVersion: 'HTTP/2.0', cookies: [], headers: [{ name: 'content-type', value: 'application/json' }], queryString: [], headersSize: -1, bodySize: sms.length, postData: { mimeType: 'application/json', text: sms } }, response: empty };
    }
    case 2:
      return { ...base, request: { method: 'GET', url: `https://cdn.example.test/blob/${n}`, httpVersion: 'HTTP/1.1', cookies: [], headers: [], queryString: [], headersSize: -1, bodySize: 0 }, response: { ...empty, headers: [{ name: 'content-type', value: 'application/octet-stream' }], content: { size: 196608, mimeType: 'application/octet-stream', text: download, encoding: 'base64' }, bodySize: 196608 }, _phonehome: ours(n, 'http') };
    default:
      return { ...base, request: { method: 'GET', url: `https://www.example.test/page/${n}`, httpVersion: 'HTTP/2.0', cookies: [], headers: [{ name: 'accept', value: 'text/html' }], queryString: [], headersSize: -1, bodySize: 0 }, response: { ...empty, headers: [{ name: 'content-type', value: 'text/html' }], content: { size: 80, mimeType: 'text/html', text: `<p class="x">a \\"quoted\\" [bracket] {brace} \\\\ ${n}</p>` } } };
  }
};

const fd = fs.openSync(out, 'w');
let written = 0;
const write = (text) => {
  written += fs.writeSync(fd, text);
};
write('{"log":{"version":"1.2","creator":{"name":"phonehome make-big-har","version":"1"},"entries":[\n');
let n = 0;
let pending = [];
let pendingBytes = 0;
const flush = () => {
  if (pending.length) write(pending.join(''));
  pending = [];
  pendingBytes = 0;
};
for (; written + pendingBytes < target - (hugeBytes * 4) / 3; n++) {
  const text = `${n ? ',\n' : ''}${JSON.stringify(entry(n))}`;
  pending.push(text);
  pendingBytes += text.length;
  if (pendingBytes > 8 * 1024 * 1024) flush();
}
flush();
if (hugeBytes) {
  // One entry whose body alone is hugeBytes (its base64 a third more), written in pieces.
  const head = JSON.stringify({ startedDateTime: new Date(started + n * 37).toISOString(), time: 1, request: { method: 'POST', url: 'https://backup.example.test/huge', httpVersion: 'HTTP/1.1', cookies: [], headers: [], queryString: [], headersSize: -1, bodySize: hugeBytes, postData: { mimeType: 'application/octet-stream', encoding: 'base64', text: '@' } }, response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', cookies: [], headers: [], content: { size: 0, mimeType: '' }, redirectURL: '', headersSize: -1, bodySize: 0 }, _phonehome: ours(n, 'http') });
  const [before, after] = head.split('"@"');
  write(`${n ? ',\n' : ''}${before}"`);
  const piece = noise(3 * 1024 * 1024, 'huge').toString('base64');
  for (let left = hugeBytes; left > 0; left -= 3 * 1024 * 1024) write(left >= 3 * 1024 * 1024 ? piece : noise(left, 'huge').toString('base64'));
  write(`"${after}`);
  n++;
}
if (cut) {
  // The start of one more entry, never finished (a crash, a full disk).
  const last = JSON.stringify(entry(n));
  write(`,\n${last.slice(0, Math.floor(last.length / 2))}`);
} else {
  write('\n],"pages":[{"startedDateTime":"2026-11-27T18:30:00.000Z","id":"page_1","title":"[entries] \\"log\\"","pageTimings":{}}]}}\n');
}
fs.closeSync(fd);
console.error(`${out}: ${n} entries, ${(written / 1048576).toFixed(1)} MiB${cut ? ', cut in its last entry' : ''}`);
