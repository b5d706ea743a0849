// --keylog: the TLS secrets of both sides of a decrypted connection, in NSS key log format. Checked
// against what the device's TLS stack and the server's report for the very same connections: a
// line in our file is exactly a line they would give Wireshark.

import fs from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { once } from 'node:events';
import t from 'tap';
import { CaptureSession } from '../../src/app/capture-session.js';
import { resolveCaptureOptions } from '../../src/app/options.js';
import { connectTunnel, getOriginCa, tempDir, testLookup } from '../helpers/lab.js';

const NSS_LINE = /^(CLIENT_RANDOM|CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) [0-9a-f]{64} [0-9a-f]{64,96}$/;

t.test('--keylog appends both sides\' TLS secrets, mode 0600, and says so in summary.json', async (t) => {
  const leaf = getOriginCa().issueLeaf('keys.example.test');
  const serverLines: string[] = [];
  const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (_req, res) => res.end('ok'));
  server.on('keylog', (line: Buffer) => serverLines.push(line.toString().trim()));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const work = tempDir();
  const caFile = path.join(work, 'origin.pem');
  fs.writeFileSync(caFile, getOriginCa().certPem);
  const keylog = path.join(work, 'keys.log');
  fs.writeFileSync(keylog, '# an older line\n', { mode: 0o644 });
  const out = path.join(work, 'run');
  const session = await CaptureSession.start(resolveCaptureOptions({ listen: '127.0.0.1:0', 'ca-dir': path.join(work, 'ca'), out, 'upstream-ca': [caFile], keylog }, 'capture', new Date(), {}), { lookup: testLookup });
  t.teardown(() => { server.closeAllConnections(); server.close(); });

  const deviceLines: string[] = [];
  const { socket } = await connectTunnel(session.port, `keys.example.test:${port}`);
  const device = tls.connect({ socket, ca: session.ca.certPem, servername: 'keys.example.test' });
  device.on('keylog', (line) => deviceLines.push(line.toString().trim()));
  await once(device, 'secureConnect');
  device.write('GET / HTTP/1.1\r\nHost: keys.example.test\r\nConnection: close\r\n\r\n');
  device.resume();
  await once(device, 'end');
  await session.stop();

  t.equal(fs.statSync(keylog).mode & 0o777, 0o600, 'tightened to 0600');
  const lines = fs.readFileSync(keylog, 'utf8').trim().split('\n');
  t.equal(lines[0], '# an older line', 'appended, never truncated');
  const keyLines = lines.slice(1);
  t.ok(keyLines.length >= 10, `${keyLines.length} key lines`);
  t.same(keyLines.filter((l) => !NSS_LINE.test(l)), [], 'every line is NSS key log format');
  t.ok(deviceLines.length > 0 && serverLines.length > 0);
  t.same(deviceLines.filter((l) => !keyLines.includes(l)), [], 'the device side: the same secrets the device itself has');
  t.same(serverLines.filter((l) => !keyLines.includes(l)), [], 'the server side: the same secrets the server itself has');
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  t.match(summary.options.keylog, { file: keylog, from: '--keylog', sensitive: true });
  t.ok(summary.notes.some((n: string) => n.includes(keylog)), 'a note says where the keys went');
});

t.test('SSLKEYLOGFILE is used when --keylog is not given', async (t) => {
  const options = resolveCaptureOptions({ listen: '127.0.0.1:0' }, 'capture', new Date(), { SSLKEYLOGFILE: '/tmp/from-env.log' });
  t.equal(options.keylogFile, '/tmp/from-env.log');
  t.match(options.record['keylog'], { from: 'SSLKEYLOGFILE' });
  t.equal(resolveCaptureOptions({ listen: '127.0.0.1:0' }, 'capture', new Date(), {}).keylogFile, undefined);
});
