// Long-lived exchanges through a real capture, written in parts while open: a real ws client and
// server over wss, and grpc-js on both sides over HTTP/2. What they carry is found before they
// close, every message reaches the server, and the parts are on disk as flows of their own.

import t from 'tap';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import grpc from '@grpc/grpc-js';
import { WebSocket, WebSocketServer } from 'ws';
import { readHar } from '../../src/flow/har-reader.js';
import type { Finding } from '../../src/model/finding.js';
import type { Flow, HttpFlow, WebSocketFlow } from '../../src/model/flow.js';
import { limits } from '../../src/limits.js';
import { getOriginCa, TunnelAgent, within } from '../helpers/lab.js';
import { startCaptureRun } from '../helpers/capture-run.js';
import { pbField, pbMessage } from '../helpers/protobuf-writer.js';
import { grpcClientThroughProxy, startGrpcOrigin } from '../helpers/grpc-lab.js';

const sms = (body: string): string => JSON.stringify({ sms: [{ address: '+33612345678', body, date: 1413131405000, type: 1 }] });

t.test('a WebSocket still open is written in parts: its SMS is found before it closes, and nothing is lost', async (t) => {
  const leaf = getOriginCa().issueLeaf('push.example.test');
  const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem });
  const wss = new WebSocketServer({ server });
  const received: string[] = [];
  let allReceived!: () => void;
  const serverGotAll = new Promise<void>((resolve) => { allReceived = resolve; });
  const total = limits.streamPartMessages + 10;
  wss.on('connection', (ws) => ws.on('message', (data) => {
    received.push((data as Buffer).toString());
    if (received.length === total) allReceived();
  }));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const { session, out } = await startCaptureRun();
  t.teardown(() => { wss.close(); server.close(); });

  const flows: Flow[] = [];
  const findings: Finding[] = [];
  session.bus.on('flow:end', (flow) => flows.push(flow));
  const firstPartFinding = new Promise<Finding>((resolve) => session.bus.on('finding', (f) => { findings.push(f); if (f.category === 'sms') resolve(f); }));

  const agent = new TunnelAgent(session.port, session.ca.certPem);
  const client = new WebSocket(`wss://push.example.test:${port}/channel`, { agent });
  await once(client, 'open');
  const sent: string[] = [];
  for (let i = 0; i < limits.streamPartMessages; i++) sent.push(i === 500 ? sms('Rendez-vous demain') : JSON.stringify({ event: 'heartbeat', n: i }));
  for (const message of sent) client.send(message);

  const found = await within(firstPartFinding, 20_000, 'the SMS finding from the first part');
  t.equal(client.readyState, WebSocket.OPEN, 'found while the connection is still open');
  t.same(found.evidence.path[0], 'websocket:message[500]');
  const firstPart = flows.find((f) => f.id === found.flowId) as WebSocketFlow | undefined;
  t.same(firstPart?.part, { of: found.flowId, index: 1, firstMessage: 0, last: false });
  t.equal(firstPart?.messages.length, limits.streamPartMessages);

  const rest = Array.from({ length: 10 }, (_, i) => (i === 5 ? sms('On se voit a la gare') : JSON.stringify({ event: 'heartbeat', n: limits.streamPartMessages + i })));
  for (const message of rest) client.send(message);
  sent.push(...rest);
  await within(serverGotAll, 20_000, 'every message at the server');
  client.close();
  await once(client, 'close');
  await session.stop();
  agent.destroy();

  t.same(received, sent, 'the server got every message, in order, unchanged');
  const onDisk = fs.readFileSync(path.join(out, 'flows.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  const entries = onDisk.filter((e) => e._phonehome.kind === 'websocket');
  t.same(entries.map((e) => [e._phonehome.part?.index, e._phonehome.part?.last, e._webSocketMessages.length]), [[1, false, limits.streamPartMessages], [2, true, 10]], 'two parts on disk, every message in one of them');
  const back = readHar(fs.readFileSync(path.join(out, 'flows.har'), 'utf8')).filter((f): f is WebSocketFlow => f.kind === 'websocket');
  t.same(back.map((f) => f.part?.of), [found.flowId, found.flowId], 'flows.har says which connection each part belongs to');
  const smsFindings = findings.filter((f) => f.category === 'sms');
  t.same(smsFindings.map((f) => f.evidence.path[0]), ['websocket:message[500]', `websocket:message[${limits.streamPartMessages + 5}]`], 'each SMS found once, named by its place in the whole connection');
  t.equal(findings.filter((f) => f.flowId !== found.flowId && f.category !== 'sms').length, 0, 'the upgrade request is not inspected again in the second part');
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  t.equal(summary.flows.websocket, 1, 'the summary counts one WebSocket connection');
});

/** field 1 a name, field 3 bytes, as a gallery-sync stream would send. */
const fileMessage = (name: string, bytes: Buffer): Buffer => pbMessage(pbField(1, name), pbField(3, bytes));

t.test('a gRPC client stream still open is written in parts: the photo it sent is found before the call ends', async (t) => {
  const photo = fs.readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'photos', 'camera.jpg'));
  const passThrough = { serialize: (b: Buffer): Buffer => b, deserialize: (b: Buffer): Buffer => b };
  const received: Buffer[] = [];
  const port = await startGrpcOrigin(t, 'sync.example.test', { Sync: { path: '/gallery.Sync/Stream', requestStream: true, responseStream: false, requestSerialize: passThrough.serialize, requestDeserialize: passThrough.deserialize, responseSerialize: passThrough.serialize, responseDeserialize: passThrough.deserialize } }, {
    Sync: (call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      call.on('data', (message: Buffer) => received.push(message));
      call.on('end', () => callback(null, Buffer.from(`stored ${received.length}`)));
    },
  });
  const { session, out } = await startCaptureRun();
  const flows: Flow[] = [];
  const findings: Finding[] = [];
  session.bus.on('flow:end', (flow) => flows.push(flow));
  const photoFound = new Promise<Finding>((resolve) => session.bus.on('finding', (f) => { findings.push(f); if (f.category === 'photo') resolve(f); }));
  const client = grpcClientThroughProxy(t, session.port, `sync.example.test:${port}`, session.ca.certPem);

  let callEnded = false;
  const reply = new Promise<Buffer>((resolve, reject) => {
    const call = client.makeClientStreamRequest('/gallery.Sync/Stream', passThrough.serialize, passThrough.deserialize, (err, value) => { callEnded = true; return err ? reject(err) : resolve(value!); });
    const sent: Buffer[] = [];
    for (let i = 0; i < limits.streamPartMessages; i++) sent.push(i === 300 ? fileMessage('IMG_20141012_183005.jpg', photo) : fileMessage(`note-${i}.txt`, Buffer.from(`entry ${i}`)));
    for (const message of sent) call.write(message);
    void photoFound.then(() => call.end());
  });
  const found = await within(photoFound, 20_000, 'the photo finding from the first part');
  t.equal(callEnded, false, 'found while the call was still open');
  t.equal(found.evidence.path[0], 'grpc:message[300]');
  t.equal((await within(reply, 20_000, 'the server\'s answer')).toString(), `stored ${limits.streamPartMessages}`);
  await session.stop();

  t.equal(received.length, limits.streamPartMessages, 'every message reached the server');
  t.same(received[300], fileMessage('IMG_20141012_183005.jpg', photo), 'unchanged');
  const parts = flows.filter((f): f is HttpFlow => f.kind === 'http' && f.request.url.endsWith('/gallery.Sync/Stream'));
  t.same(parts.map((f) => [f.part?.index, f.part?.last]), [[1, false], [2, true]], 'the part written while open, and the last one with the answer');
  t.equal(parts[1]?.grpc?.status, 0, 'grpc-status is in the last part');
  t.same(parts.map((f) => f.messages?.length ?? 0), [limits.streamPartMessages, 1], 'every message in one part');
  t.equal(findings.filter((f) => f.category === 'photo').length, 1, 'the photo is one finding');
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  t.equal(summary.flows.http, 1, 'the summary counts one call');
});
