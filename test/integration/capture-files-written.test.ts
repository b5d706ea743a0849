// The capture files phonehome writes as traffic passes, read back by tshark: opaque.pcapng holds
// a passthrough tunnel's ciphertext with the real addresses and ports, reassembles, and opens
// with the client's own keys; --opaque-limit counts what it does not write; after a kill -9
// tshark reads every whole block and the next open trims a cut one; a full disk costs bytes, not
// the file; and the --pcap file shows the decrypted requests with no key file.

import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import tls from 'node:tls';
import t from 'tap';
import { DeviceTlsRecorder } from '../../src/capture-file/device-tls-recorder.js';
import { OpaqueRecorder } from '../../src/capture-file/opaque-recorder.js';
import { wholeBlocksEnd } from '../../src/capture-file/pcapng-blocks.js';
import { trimToWholeBlocks } from '../../src/capture-file/pcapng-file.js';
import { PassthroughPolicy } from '../../src/proxy/passthrough.js';
import { connectTunnel, getOriginCa, h2Request, h2ViaProxy, httpsViaProxy, startH2Origin, startLab, startOrigin, tempDir, within } from '../helpers/lab.js';

const hasTshark = spawnSync('tshark', ['--version']).status === 0;
const skip = hasTshark ? false : 'tshark is not installed';

function tshark(args: string[]): string {
  const run = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`tshark ${args.join(' ')}: exit ${run.status}: ${run.stderr}`);
  return run.stdout;
}

/** The bytes each side sent in TCP stream 0, as tshark reassembles them. */
function followed(file: string, stream = 0): { client: Buffer; server: Buffer } {
  const lines = tshark(['-r', file, '-q', '-z', `follow,tcp,raw,${stream}`]).split('\n').filter((l) => /^\t?[0-9a-f]+$/.test(l));
  return {
    client: Buffer.from(lines.filter((l) => !l.startsWith('\t')).join(''), 'hex'),
    server: Buffer.from(lines.filter((l) => l.startsWith('\t')).map((l) => l.trim()).join(''), 'hex'),
  };
}

/** A JPEG-looking upload: the bytes a pinned app would send. */
function photo(size: number): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), crypto.randomBytes(size - 6), Buffer.from([0xff, 0xd9])]);
}

async function uploadOrigin(t: { teardown(fn: () => unknown): void }): Promise<{ port: number; received: () => number }> {
  let received = 0;
  const origin = await startOrigin({
    tls: true, hostname: 'upload.bank.test',
    handler: (req: http.IncomingMessage, res: http.ServerResponse) => {
      req.on('data', (c: Buffer) => { received += c.length; });
      req.on('end', () => res.end('stored'));
    },
  });
  t.teardown(() => origin.close());
  return { port: origin.port, received: () => received };
}

/** A pinning app: trusts only the real server's CA, keeps its own key log, uploads over a CONNECT tunnel. */
async function pinnedUpload(proxyPort: number, port: number, body: Buffer): Promise<{ keys: Buffer[]; clientPort: number; answer: string }> {
  const { socket } = await connectTunnel(proxyPort, `upload.bank.test:${port}`);
  const clientPort = socket.localPort!;
  const keys: Buffer[] = [];
  const app = tls.connect({ socket, ca: getOriginCa().certPem, servername: 'upload.bank.test', ALPNProtocols: ['http/1.1'] });
  app.on('keylog', (line) => keys.push(line));
  await once(app, 'secureConnect');
  const answer: Buffer[] = [];
  app.on('data', (c: Buffer) => answer.push(c));
  app.write(`POST /v1/photos HTTP/1.1\r\nHost: upload.bank.test\r\nContent-Type: image/jpeg\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
  app.write(body);
  await once(app, 'close');
  return { keys, clientPort, answer: Buffer.concat(answer).toString() };
}

t.test('opaque.pcapng: a passthrough upload with the real addresses, reassembled, opened by the app\'s keys', { skip }, async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'opaque.pcapng');
  const logs: string[] = [];
  const recorder = new OpaqueRecorder(file, 256 * 1024 * 1024, (_level, message) => logs.push(message));
  const origin = await uploadOrigin(t);
  const lab = await startLab({ passthrough: new PassthroughPolicy(['*.bank.test']), opaqueObserver: recorder.observe });
  t.teardown(() => lab.close());

  const body = photo(200_000);
  const { keys, clientPort, answer } = await pinnedUpload(lab.port, origin.port, body);
  t.match(answer, /200 OK[\s\S]*stored$/, 'the app got the server\'s answer through the tunnel');
  t.equal(origin.received(), body.length, 'the server got the whole photo');
  const tunnel = await lab.next('tunnel:end');
  const stats = recorder.close();
  t.same(stats, { recordedBytes: tunnel.bytesUp + tunnel.bytesDown, notRecordedBytes: 0, sessions: 1 }, `${stats.recordedBytes} bytes of ciphertext recorded`);
  t.same(logs, []);

  const syn = tshark(['-r', file, '-Y', 'tcp.flags.syn == 1 && tcp.flags.ack == 0', '-T', 'fields', '-E', 'separator=,', '-e', 'ip.src', '-e', 'tcp.srcport', '-e', 'ip.dst', '-e', 'tcp.dstport']).trim();
  t.equal(syn, `127.0.0.1,${clientPort},${tunnel.destination!.ip},${origin.port}`, 'the device\'s address and port, and the server actually connected');
  const streams = new Set(tshark(['-r', file, '-T', 'fields', '-e', 'tcp.stream']).trim().split('\n'));
  t.same([...streams], ['0'], 'one TCP stream');
  const { client, server } = followed(file);
  t.equal(client.length, tunnel.bytesUp, `tshark reassembles the ${client.length} bytes the app sent`);
  t.equal(server.length, tunnel.bytesDown, `and the ${server.length} bytes the server sent`);
  t.equal(client[0], 0x16, 'the app\'s side starts with a TLS handshake record');
  t.match(tshark(['-r', file, '-Y', 'tls.handshake.type == 1', '-T', 'fields', '-e', 'tls.handshake.extensions_server_name']), 'upload.bank.test');
  t.equal(tshark(['-r', file, '-Y', 'http']).trim(), '', 'without keys it stays opaque');

  const keyFile = path.join(dir, 'app.keys');
  fs.writeFileSync(keyFile, Buffer.concat(keys));
  const requests = tshark(['-o', `tls.keylog_file:${keyFile}`, '-r', file, '-Y', 'http.request', '-T', 'fields', '-E', 'separator=,', '-e', 'http.request.method', '-e', 'http.request.uri', '-e', 'http.content_type', '-e', 'http.content_length']).trim();
  t.equal(requests, `POST,/v1/photos,image/jpeg,${body.length}`, 'with the app\'s key log, tshark shows the upload');
});

t.test('--opaque-limit: past it, tunnel bytes are counted, not written; the file stays readable', { skip }, async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'opaque.pcapng');
  const logs: string[] = [];
  const limit = 64 * 1024;
  const recorder = new OpaqueRecorder(file, limit, (_level, message) => logs.push(message));
  const origin = await uploadOrigin(t);
  const lab = await startLab({ passthrough: new PassthroughPolicy(['*.bank.test']), opaqueObserver: recorder.observe });
  t.teardown(() => lab.close());
  await pinnedUpload(lab.port, origin.port, photo(300_000));
  const first = await lab.next('tunnel:end');
  await pinnedUpload(lab.port, origin.port, photo(10_000));
  const second = await lab.next('tunnel:end', (f) => f.id !== first.id);
  const stats = recorder.close();
  const passed = first.bytesUp + first.bytesDown + second.bytesUp + second.bytesDown;
  t.equal(stats.recordedBytes + stats.notRecordedBytes, passed, `every byte is either recorded (${stats.recordedBytes}) or counted (${stats.notRecordedBytes})`);
  t.ok(stats.recordedBytes > 0 && stats.notRecordedBytes > 200_000, 'the start recorded, the rest counted');
  t.equal(stats.limitReached, true);
  t.equal(stats.sessions, 1, 'the tunnel after the limit is not begun');
  t.ok(fs.statSync(file).size <= limit, `${fs.statSync(file).size} bytes on disk, limit ${limit}`);
  t.equal(logs.filter((m) => m.includes('--opaque-limit')).length, 1, 'said once');
  const { client } = followed(file);
  t.equal(client.length, stats.recordedBytes - followed(file).server.length, 'what is in the file reassembles');
  t.equal(trimToWholeBlocks(file), 0, 'whole blocks only');
});

t.test('a second session (--append) adds a section tshark reads after the first', { skip }, async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'opaque.pcapng');
  for (const round of [1, 2]) {
    const recorder = new OpaqueRecorder(file, 1024 * 1024, () => undefined);
    const tap = recorder.observe({ id: `fl-${round}`, client: { ip: '10.0.0.2', port: 40000 + round }, server: { ip: '10.0.0.9', port: 443 } })!;
    tap.data(true, Buffer.from(`hello ${round}`));
    tap.close();
    recorder.close();
  }
  const rows = tshark(['-r', file, '-Y', 'tcp.len > 0', '-T', 'fields', '-e', 'tcp.srcport', '-e', 'tcp.payload']).trim().split('\n');
  t.same(rows, [`40001\t${Buffer.from('hello 1').toString('hex')}`, `40002\t${Buffer.from('hello 2').toString('hex')}`]);
  const sections = tshark(['-r', file, '-T', 'fields', '-e', 'frame.section_number']).trim().split('\n');
  t.same([...new Set(sections)], ['1', '2'], 'two sections');
});

t.test('kill -9 while writing: tshark reads every whole block, a cut last block is trimmed by the next open', { skip }, async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'opaque.pcapng');
  const script = path.join(dir, 'writer.mts');
  const recorderModule = path.resolve('src/capture-file/opaque-recorder.js');
  fs.writeFileSync(script, `
import { OpaqueRecorder } from ${JSON.stringify(recorderModule)};
const recorder = new OpaqueRecorder(${JSON.stringify(file)}, 1024 * 1024 * 1024, () => undefined);
let n = 0;
const tap = recorder.observe({ id: 'fl-1', client: { ip: '192.168.1.5', port: 51000 }, server: { ip: '203.0.113.4', port: 443 } });
const chunk = Buffer.alloc(60000, 7);
function more() {
  for (let i = 0; i < 20; i++) tap.data(n++ % 2 === 0, chunk.subarray(0, 1000 + (n * 7919) % 59000));
  if (n === 200) process.stdout.write('writing\\n');
  setImmediate(more);
}
more();
`);
  const loader = path.resolve('test/helpers/typescript.mjs');
  const child = spawn(process.execPath, ['--import', `file://${loader}`, script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  await within(new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => { if (c.toString().includes('writing')) resolve(); });
    child.once('exit', (code) => reject(new Error(`writer exited ${code}: ${stderr}`)));
  }), 60_000, 'the writer under way');
  child.kill('SIGKILL');
  await once(child, 'exit');
  const size = fs.statSync(file).size;
  t.ok(size > 1024 * 1024, `${size} bytes written before the kill`);
  // SIGKILL may land inside a write system call: the kernel stops copying between pages and keeps
  // what it has, so the last block may be cut (seen: files ending on a 4 KiB boundary). Readers get
  // every whole block before it; the next open (and recover) trims the cut one.
  const whole = wholeBlocksEnd((at, length) => readSlice(file, at, length), size);
  const read = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const packets = read.stdout.trim().split('\n').length;
  t.ok(packets > 1000, `tshark reads ${packets} packets`);
  t.equal(packets, packetBlocksIn(file, whole), 'every packet of the whole blocks');
  if (whole < size) t.match(read.stderr, /cut short in the middle of a packet/, `a cut last block (${size - whole} bytes) is only the end of the read`);
  else t.equal(read.status, 0, 'the kill fell between writes: nothing cut');
  t.equal(trimToWholeBlocks(file), size - whole, 'the next open trims what a kill cut');
  // A torn tail (a kill, a power cut) is trimmed by the next open, which then adds its section.
  fs.appendFileSync(file, Buffer.from([6, 0, 0, 0, 200, 0, 0, 0, 1, 2, 3]));
  const next = new OpaqueRecorder(file, 1024 * 1024, () => undefined);
  next.close();
  const after = fs.readFileSync(file);
  t.equal(after.readUInt32LE(whole), 0x0a0d0d0a, 'the torn block is gone: a new section starts where the whole blocks ended');
  t.equal(trimToWholeBlocks(file), 0, 'and the file is whole');
  t.equal(tshark(['-r', file, '-T', 'fields', '-e', 'frame.number']).trim().split('\n').length, packets, 'tshark reads every packet of the first section through to the second, without an error');
});

function readSlice(file: string, at: number, length: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const out = Buffer.alloc(length);
    return out.subarray(0, fs.readSync(fd, out, 0, length, at));
  } finally {
    fs.closeSync(fd);
  }
}

/** Enhanced Packet Blocks among the first `end` bytes. */
function packetBlocksIn(file: string, end: number): number {
  const data = fs.readFileSync(file).subarray(0, end);
  let count = 0;
  for (let at = 0; at + 8 <= data.length; at += data.readUInt32LE(at + 4)) if (data.readUInt32LE(at) === 6) count++;
  return count;
}

/** A 256 KiB tmpfs (root only): a disk that really fills up. */
function smallDisk(): string | undefined {
  const dir = tempDir('phonehome-small-disk-');
  return spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]).status === 0 ? dir : undefined;
}

t.test('a full disk (ENOSPC): whole blocks only, the rest counted, said once; writing resumes when space returns', { skip }, async (t) => {
  const disk = smallDisk();
  if (!disk) {
    t.plan(0, 'mounting a small tmpfs needs root');
    return;
  }
  t.teardown(() => { spawnSync('umount', [disk]); });
  const filler = path.join(disk, 'filler');
  fs.writeFileSync(filler, Buffer.alloc(64 * 1024));
  const file = path.join(disk, 'opaque.pcapng');
  const messages: string[] = [];
  const recorder = new OpaqueRecorder(file, 1024 * 1024 * 1024, (level, message) => messages.push(`${level} ${message}`), { retryMs: 0 });
  const tap = recorder.observe({ id: 'fl-1', client: { ip: '192.168.1.5', port: 51000 }, server: { ip: '203.0.113.4', port: 443 } })!;
  let fed = 0;
  const feed = (count: number): void => {
    for (let i = 0; i < count; i++) {
      const chunk = Buffer.alloc(5000 + i * 13, i);
      tap.data(i % 3 !== 0, chunk);
      fed += chunk.length;
    }
  };
  feed(100);
  const full = recorder.stats;
  t.ok(full.recordedBytes > 50_000 && full.notRecordedBytes > 200_000, `${full.recordedBytes} recorded, ${full.notRecordedBytes} counted once the disk was full`);
  t.match(full.error ?? '', /ENOSPC/);
  t.equal(messages.length, 1, 'said once');
  t.match(messages[0], /^error .*opaque\.pcapng: .*ENOSPC.*the proxy goes on/);
  t.equal(trimToWholeBlocks(file), 0, 'a cut block was taken back: whole blocks only');
  fs.unlinkSync(filler);
  feed(5);
  tap.close();
  const stats = recorder.close();
  t.equal(messages.length, 2);
  t.match(messages[1], /^info .*writing again/, 'writing resumed by itself');
  t.ok(stats.recordedBytes > full.recordedBytes, 'and the bytes after it are in the file');
  t.equal(stats.recordedBytes + stats.notRecordedBytes, fed, `${stats.recordedBytes} recorded + ${stats.notRecordedBytes} counted = ${fed} passed`);
  const lengths = tshark(['-r', file, '-T', 'fields', '-e', 'tcp.len']).trim().split('\n').map(Number);
  t.equal(lengths.reduce((a, b) => a + b, 0), stats.recordedBytes, 'tshark reads every recorded byte');
  const gaps = tshark(['-r', file, '-Y', 'tcp.analysis.lost_segment', '-T', 'fields', '-e', 'frame.number']).trim();
  t.ok(gaps.length > 0, 'and sees the gap where the disk was full (the sequence numbers went on)');
});

t.test('--pcap: the device side of decrypted connections, with its keys inside: tshark -Y http lists the requests', { skip }, async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'out.pcapng');
  const logs: string[] = [];
  const recorder = new DeviceTlsRecorder(file, (_level, message) => logs.push(message));
  const origin = await startOrigin({ tls: true, hostname: 'api.example.test', handler: (req, res) => res.end(`answer to ${req.url}`) });
  t.teardown(() => origin.close());
  const lab = await startLab({ deviceTlsObserver: recorder.observe });
  t.teardown(() => lab.close());
  const first = await httpsViaProxy({ proxyPort: lab.port, host: 'api.example.test', port: origin.port, path: '/first?imei=490154203237518', trust: lab.ca.certPem });
  const upload = photo(100_000);
  const second = await httpsViaProxy({ proxyPort: lab.port, host: 'api.example.test', port: origin.port, path: '/second', method: 'POST', body: upload, trust: lab.ca.certPem });
  t.equal(first.body.toString(), 'answer to /first?imei=490154203237518', 'the device got its answer');
  t.equal(second.body.toString(), 'answer to /second');
  await lab.next('flow:end', (f) => f.kind === 'http' && f.request?.url?.endsWith('/second') === true);
  await lab.close();
  const stats = recorder.close();
  t.equal(stats.connections, 2);
  t.ok(stats.keyLines >= 2, `${stats.keyLines} key lines embedded`);
  t.same(logs, []);
  t.equal(fs.statSync(file).mode & 0o777, 0o600, 'the file holds keys: 0600');
  const requests = tshark(['-r', file, '-Y', 'http.request', '-T', 'fields', '-E', 'separator=,', '-e', 'http.request.method', '-e', 'http.request.uri', '-e', 'tcp.dstport']).trim().split('\n').sort();
  t.same(requests, [`GET,/first?imei=490154203237518,${origin.port}`, `POST,/second,${origin.port}`], 'decrypted with no key file');
  const responses = tshark(['-r', file, '-Y', 'http.response', '-T', 'fields', '-e', 'http.response.code']).trim().split('\n');
  t.same(responses, ['200', '200']);
  const plain = tshark(['-r', file, '-Y', 'http.request.method == "POST"', '-T', 'fields', '-e', 'http.content_length']).trim();
  t.equal(plain, String(upload.length), 'the upload is whole');
});

t.test('--pcap with HTTP/2: tshark decodes the device\'s h2 requests from the embedded keys, and the device gets its answers', { skip }, async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'h2.pcapng');
  const recorder = new DeviceTlsRecorder(file, () => undefined);
  const origin = await startH2Origin({ hostname: 'grpc.example.test', onStream: (stream, headers) => {
    let n = 0;
    stream.on('data', (c: Buffer) => { n += c.length; });
    stream.on('end', () => { stream.respond({ ':status': 200 }); stream.end(`${headers[':path']} ${n}`); });
  } });
  t.teardown(() => origin.close());
  const lab = await startLab({ deviceTlsObserver: recorder.observe });
  t.teardown(() => lab.close());
  const { session, tls: secure } = await h2ViaProxy({ proxyPort: lab.port, host: 'grpc.example.test', port: origin.port, trust: lab.ca.certPem });
  t.ok(session, 'h2 agreed');
  const a = await h2Request(session!, { ':method': 'POST', ':path': '/sms.Send/Post' }, Buffer.alloc(40_000, 3));
  const b = await h2Request(session!, { ':method': 'GET', ':path': '/contacts' });
  t.equal(a.body.toString(), '/sms.Send/Post 40000');
  t.equal(b.body.toString(), '/contacts 0');
  session!.close();
  secure.destroy();
  await lab.next('flow:end', (f) => f.kind === 'http' && f.request?.url?.endsWith('/contacts') === true);
  await lab.close();
  recorder.close();
  const paths = tshark(['-r', file, '-Y', 'http2.type == 1', '-T', 'fields', '-e', 'http2.header.value']).trim();
  t.match(paths, /\/sms\.Send\/Post/, 'the POST\'s headers, decrypted with no key file');
  t.match(paths, /\/contacts/);
});

t.test('--pcap is not --pcap off: without the observer nothing is tapped and the same exchange works', async (t) => {
  const origin = await startOrigin({ tls: true, hostname: 'api.example.test', handler: (req, res) => res.end(`answer to ${req.url}`) });
  t.teardown(() => origin.close());
  const lab = await startLab();
  t.teardown(() => lab.close());
  const res = await httpsViaProxy({ proxyPort: lab.port, host: 'api.example.test', port: origin.port, path: '/x', trust: lab.ca.certPem });
  t.equal(res.body.toString(), 'answer to /x');
});
