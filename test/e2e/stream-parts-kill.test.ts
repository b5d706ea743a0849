// A kill loses at most one part of a long-lived WebSocket: the built CLI captures a wss push
// channel that is still open when the process gets kill -9; the part already written is on disk
// with its finding, and `recover` rebuilds flows.har and summary.json from it.

import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import t from 'tap';
import { WebSocket, WebSocketServer } from 'ws';
import { limits } from '../../src/limits.js';
import { cli, startCapture } from '../helpers/cli.js';
import { getOriginCa, tempDir, TunnelAgent, until } from '../helpers/lab.js';
import { originCaFile } from '../helpers/capture-run.js';

t.test('kill -9 with a WebSocket open: its first part and the SMS in it survive, recover reads them', async (t) => {
  const leaf = getOriginCa().issueLeaf('127.0.0.1');
  const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem });
  const wss = new WebSocketServer({ server });
  let received = 0;
  wss.on('connection', (ws) => ws.on('message', () => { received++; }));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const originPort = (server.address() as net.AddressInfo).port;
  const dir = tempDir();
  const originCa = originCaFile();
  const out = path.join(dir, 'run');
  const caDir = path.join(dir, 'ca');
  const { child, port } = await startCapture(['--out', out, '--ca-dir', caDir, '--upstream-ca', originCa]);
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); wss.close(); server.close(); });

  const agent = new TunnelAgent(port, fs.readFileSync(path.join(caDir, 'ca.pem'), 'utf8'));
  const client = new WebSocket(`wss://127.0.0.1:${originPort}/channel`, { agent });
  client.on('error', () => undefined);
  await once(client, 'open');
  const sms = JSON.stringify({ sms: [{ address: '+33612345678', body: 'Rendez-vous demain', date: 1413131405000, type: 1 }] });
  const total = limits.streamPartMessages + 5;
  for (let i = 0; i < total; i++) client.send(i === 10 ? sms : JSON.stringify({ event: 'heartbeat', n: i }));
  const flowsFile = path.join(out, 'flows.jsonl');
  const findingsFile = path.join(out, 'findings.jsonl');
  // The capture is another process: its files are what there is to wait on.
  await until(() => received === total && fs.existsSync(findingsFile) && fs.readFileSync(findingsFile, 'utf8').includes('"sms"'), 30_000, 'all messages at the server and the SMS finding on disk');
  t.equal(client.readyState, WebSocket.OPEN, 'the connection is still open');
  child.kill('SIGKILL');
  await once(child, 'exit');
  agent.destroy();

  const lines = fs.readFileSync(flowsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const parts = lines.filter((e) => e._phonehome.kind === 'websocket');
  t.same(parts.map((e) => [e._phonehome.part?.index, e._phonehome.part?.last, e._webSocketMessages.length]), [[1, false, limits.streamPartMessages]], 'the written part is on disk; only the 5 messages after it were lost');
  const recovered = spawnSync(process.execPath, [cli, 'recover', out], { encoding: 'utf8', timeout: 60_000 });
  t.equal(recovered.status, 0, recovered.stderr);
  const har = JSON.parse(fs.readFileSync(path.join(out, 'flows.har'), 'utf8'));
  const entry = har.log.entries.find((e: { _phonehome: { kind: string } }) => e._phonehome.kind === 'websocket');
  t.same(entry?._phonehome.part, parts[0]._phonehome.part, 'flows.har says which part it is');
  const finding = fs.readFileSync(findingsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).find((f) => f.category === 'sms');
  t.equal(finding?.evidence.path[0], 'websocket:message[10]');
  t.equal(finding?.flowId, parts[0]._phonehome.flowId);
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  t.equal(summary.flows.websocket, 1);
});
