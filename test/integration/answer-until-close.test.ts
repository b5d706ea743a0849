// An answer that runs until its server closes (HTTP/1.0, no length) reaches the device whole. Its
// server's connection is gone as soon as the last bytes arrive, while the relay may still hold
// some for the device; ending the device's connection then (answers-in-flight.ts) cut the answer,
// and the client could not tell: curl exited 0 with 196,608 of 200,000 bytes. Real TLS on both
// sides, curl through a CONNECT tunnel, as a phone's app would fetch a file from an old server.

import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import t, { type Test } from 'tap';
import { getOriginCa, pemFile, startLab, within } from '../helpers/lab.js';

const HOST = 'files.example.test';
const haveCurl = spawnSync('curl', ['--version']).status === 0;

/** A TLS server that answers any request with `body` until it closes: HTTP/1.0, no Content-Length. */
async function startUntilCloseServer(t: Test, body: Buffer): Promise<number> {
  const leaf = getOriginCa().issueLeaf(HOST);
  const server = tls.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (socket) => {
    let head = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.write('HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n');
      socket.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => { server.close(); });
  return (server.address() as net.AddressInfo).port;
}

t.test('an answer that runs until its server closes reaches the device whole (curl through CONNECT, decrypted)', { skip: !haveCurl && 'curl not installed' }, async (t) => {
  const body = crypto.randomBytes(200_000);
  const port = await startUntilCloseServer(t, body);
  const lab = await startLab();
  t.teardown(() => lab.close());
  for (const round of [1, 2, 3]) {
    const curl = spawn('curl', ['-sS', '--max-time', '20', '--cacert', pemFile(lab.ca.certPem), '--proxy', `http://127.0.0.1:${lab.port}`, `https://${HOST}:${port}/firmware.bin`], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    curl.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    let stderr = '';
    curl.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const [code] = (await within(once(curl, 'exit'), 25_000, 'curl to finish')) as [number | null];
    t.equal(code, 0, `curl succeeded (${stderr.trim()})`);
    const got = Buffer.concat(chunks);
    t.equal(got.length, body.length, `round ${round}: every byte of the answer`);
    t.ok(got.equals(body), `round ${round}: the bytes the server sent`);
  }
  const flow = await lab.next('flow:end', (f) => f.kind === 'http');
  t.equal(flow.kind === 'http' ? flow.response?.body.totalBytes : undefined, body.length, 'the flow records the whole answer');
});
