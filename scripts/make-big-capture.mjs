// Writes a capture file of about the size asked for, to measure `phonehome analyze FILE.pcap`:
// in a network namespace made for the purpose, tcpdump records loopback while a Node client makes
// TLS connections (TLS 1.2 HTTP/1.1 and TLS 1.3 HTTP/2, alternately) that each upload a body, and
// writes their keys. Needs root, ip (iproute2), tcpdump and openssl. MTU=1500 in the environment
// gives the loopback an Ethernet MTU, so the file holds as many packets as a phone's capture would.
// Usage: [MTU=1500] node scripts/make-big-capture.mjs OUT.pcap KEYLOG [MEGABYTES=200] [BODY_KB=200]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import http2 from 'node:http2';
import crypto from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const [out, keylog, megabytesText = '200', bodyKbText = '200', role] = process.argv.slice(2);
if (!out || !keylog) {
  console.error('usage: node scripts/make-big-capture.mjs OUT.pcap KEYLOG [MEGABYTES=200] [BODY_KB=200]');
  process.exit(1);
}
const megabytes = Number(megabytesText);
const bodyBytes = Number(bodyKbText) * 1024;

if (role === '--traffic') await traffic();
else await record();

/** The namespace, tcpdump around the traffic (this script again, inside the namespace), clean-up. */
async function record() {
  const ns = `phbig${process.pid % 10000}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-bigcap-'));
  fs.chmodSync(work, 0o777);
  const openssl = (...args) => execFileSync('openssl', args, { cwd: work, stdio: 'ignore' });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-subj', '/CN=upload.example.test', '-addext', 'subjectAltName=DNS:upload.example.test', '-days', '2');
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up', ...(process.env.MTU ? ['mtu', process.env.MTU, 'gso_max_size', process.env.MTU] : [])]);
    const pcap = path.join(work, 'cap.pcap');
    const tcpdump = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', 'lo', '-B', '262144', '-w', pcap, 'tcp port 443'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let said = '';
    await new Promise((resolve) => tcpdump.stderr.on('data', (c) => { said += c; if (said.includes('listening on')) resolve(); }));
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, fileURLToPath(import.meta.url), path.resolve(out), path.resolve(keylog), megabytesText, bodyKbText, '--traffic', work], { stdio: 'inherit' });
    const [code] = await once(child, 'exit');
    const exited = once(tcpdump, 'exit');
    tcpdump.kill('SIGINT');
    await exited;
    if (code !== 0) throw new Error(`traffic exited with ${code}`);
    fs.copyFileSync(pcap, out);
    console.error(`${out}: ${(fs.statSync(out).size / 1048576).toFixed(1)} MiB; ${said.trim().split('\n').slice(-3).join('; ')}`);
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Inside the namespace: two servers, uploads until about `megabytes` went over the wire. */
async function traffic() {
  const work = process.argv[7];
  const key = fs.readFileSync(path.join(work, 'key.pem'));
  const cert = fs.readFileSync(path.join(work, 'cert.pem'));
  const keys = fs.createWriteStream(keylog, { mode: 0o600 });
  const drain = async (stream) => { for await (const _ of stream); };
  const h1 = https.createServer({ key, cert, maxVersion: 'TLSv1.2' }, async (req, res) => { await drain(req); res.end('ok'); });
  const h2 = http2.createSecureServer({ key, cert, minVersion: 'TLSv1.3' });
  h2.on('stream', async (stream) => { await drain(stream); stream.respond({ ':status': 200 }); stream.end('ok'); });
  h1.listen(443, '127.0.0.2');
  h2.listen(443, '127.0.0.3');
  await Promise.all([once(h1, 'listening'), once(h2, 'listening')]);
  // Random bytes: nothing compresses them, as photos and most uploads.
  const body = crypto.randomBytes(bodyBytes);
  const agent = new https.Agent({ keepAlive: false, maxSockets: 4 });
  agent.on('keylog', (line) => keys.write(line));
  const uploads = Math.ceil((megabytes * 1048576) / (bodyBytes + 2000));
  const one = async (i) => {
    if (i % 2 === 0) {
      const req = https.request({ host: '127.0.0.2', port: 443, servername: 'upload.example.test', method: 'POST', path: `/u/${i}`, rejectUnauthorized: false, agent, headers: { host: 'upload.example.test', 'content-length': body.length } });
      req.end(body);
      const [res] = await once(req, 'response');
      await drain(res);
    } else {
      const session = http2.connect('https://upload.example.test', { host: '127.0.0.3', servername: 'upload.example.test', rejectUnauthorized: false });
      session.socket.on('keylog', (line) => keys.write(line));
      const stream = session.request({ ':method': 'POST', ':path': `/u/${i}` });
      stream.end(body);
      await drain(stream);
      session.close();
      await once(session, 'close');
    }
  };
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => { while (next < uploads) await one(next++); }));
  keys.end();
  await once(keys, 'finish');
  h1.close();
  h2.close();
}
