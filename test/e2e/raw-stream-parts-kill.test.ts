// A kill loses at most one part of a raw stream still open: the built CLI captures an SMTPS
// session that sends a mail with a photo and more than the 4 MiB a part captures, then holds the
// connection (as a mail app does between mails). The full capture makes its part due, the quiet
// that follows (rawStreamPartQuietMs, 10 s) cuts it, and it is on disk with its findings when the
// process gets kill -9; `recover` rebuilds flows.har and summary.json from it.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import t from 'tap';
import { limits } from '../../src/limits.js';
import { cli, startCapture } from '../helpers/cli.js';
import { connectTunnel, getOriginCa, tempDir, until, within } from '../helpers/lab.js';
import { originCaFile } from '../helpers/capture-run.js';

const photo = fs.readFileSync(new URL('../fixtures/photos/camera.jpg', import.meta.url));

/** A mail with the camera's photo attached, then a large attachment: more than a part captures. */
function bigMail(): string {
  const base64 = (bytes: Buffer): string[] => bytes.toString('base64').match(/.{1,76}/g) ?? [];
  return [
    'From: Jane <jane@example.com>', 'To: bob@example.org', 'Subject: Photos de vacances', 'Date: Sun, 12 Oct 2014 18:30:05 +0200', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"', '', '--b1', 'Content-Type: image/jpeg', 'Content-Transfer-Encoding: base64', '', ...base64(photo),
    '--b1', 'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64', '', ...base64(Buffer.alloc(limits.rawStreamCaptureBytes, 0x41)), '--b1--',
  ].join('\r\n');
}

t.test('kill -9 with an SMTPS session open: its first part, the mail and the photo in it survive, recover reads them', async (t) => {
  // The CLI resolves names itself: the server is named by its address.
  const leaf = getOriginCa().issueLeaf('127.0.0.1');
  let queued!: () => void;
  const mailQueued = new Promise<void>((resolve) => { queued = resolve; });
  // SMTP enough for one mail: an answer to each command, 250 once the message's lone dot came.
  const server = tls.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (socket) => {
    socket.on('error', () => undefined);
    socket.write('220 smtp.example.test ESMTP\r\n');
    let text = '';
    let inData = false;
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      for (;;) {
        if (inData) {
          const end = text.indexOf('\r\n.\r\n');
          if (end < 0) return;
          text = text.slice(end + 5);
          inData = false;
          socket.write('250 queued\r\n');
          queued();
          continue;
        }
        const eol = text.indexOf('\r\n');
        if (eol < 0) return;
        const line = text.slice(0, eol);
        text = text.slice(eol + 2);
        if (line === 'DATA') inData = true;
        socket.write(line === 'DATA' ? '354 go\r\n' : '250 ok\r\n');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const dir = tempDir();
  const out = path.join(dir, 'run');
  const caDir = path.join(dir, 'ca');
  const { child, port } = await startCapture(['--out', out, '--ca-dir', caDir, '--upstream-ca', originCaFile()]);
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); server.close(); });

  const { socket: tunnel } = await connectTunnel(port, `127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  const app = tls.connect({ socket: tunnel, host: '127.0.0.1', ca: fs.readFileSync(path.join(caDir, 'ca.pem'), 'utf8') });
  app.on('error', () => undefined);
  await once(app, 'secureConnect');
  // Pipelined, as mail apps do when the server offers it: the server answers each in turn.
  app.write(`EHLO phone\r\nMAIL FROM:<jane@example.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n${bigMail()}\r\n.\r\n`);
  await within(mailQueued, 30_000, 'the mail at the server');

  const flowsFile = path.join(out, 'flows.jsonl');
  const findingsFile = path.join(out, 'findings.jsonl');
  // The capture is another process: its files are what there is to wait on.
  await until(() => fs.existsSync(findingsFile) && fs.readFileSync(findingsFile, 'utf8').includes('"photo"'), limits.rawStreamPartQuietMs + 20_000, 'the part cut after 10 s of quiet, and its photo on disk');
  t.notOk(app.destroyed, 'the session is still open');
  child.kill('SIGKILL');
  await once(child, 'exit');
  app.destroy();

  const parts = fs.readFileSync(flowsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e._phonehome.kind === 'raw');
  t.match(parts.map((e) => e._phonehome.part), [{ index: 1, last: false, bytesBefore: { up: 0, down: 0 } }], 'the written part is on disk');
  t.ok(parts[0]._phonehome.tags.includes('inspected:partial'), 'cut at the capture, and said');
  const recovered = spawnSync(process.execPath, [cli, 'recover', out], { encoding: 'utf8', timeout: 60_000 });
  t.equal(recovered.status, 0, recovered.stderr);
  const har = JSON.parse(fs.readFileSync(path.join(out, 'flows.har'), 'utf8'));
  t.same(har.log.entries.find((e: { _phonehome: { kind: string } }) => e._phonehome.kind === 'raw')?._phonehome.part, parts[0]._phonehome.part, 'flows.har says which part it is');
  const findings = fs.readFileSync(findingsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.match(findings.find((f) => f.category === 'mail')?.summary, /^Mail sent over SMTP from jane@example\.com to bob@example\.org, 'Photos de vacances'/);
  t.match(findings.find((f) => f.category === 'photo'), { flowId: parts[0]._phonehome.flowId, summary: /GPS 48\.853 N/ });
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  t.equal(summary.flows.raw, 1);
});
