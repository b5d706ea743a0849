// gRPC end to end with @grpc/grpc-js on both sides (TLS, the server's own CA given with
// --upstream-ca), through a capture session: a unary call with a photo in a protobuf bytes field,
// and a bidirectional stream of 100 messages relayed as they flow. Each message is in the flow,
// the photo is a finding with its gRPC path, grpc-status is recorded, and the host is never
// mistaken for a pinned one.

import fs from 'node:fs';
import path from 'node:path';
import grpc from '@grpc/grpc-js';
import t from 'tap';
import { CaptureSession } from '../../src/app/capture-session.js';
import { resolveCaptureOptions } from '../../src/app/options.js';
import type { Flow } from '../../src/model/flow.js';
import { defaultDetectors } from '../../src/inspect/detect/registry.js';
import { inspectFlow } from '../../src/inspect/inspector.js';
import { pbField, pbMessage } from '../helpers/protobuf-writer.js';
import { grpcClientThroughProxy, startGrpcOrigin } from '../helpers/grpc-lab.js';
import { getOriginCa, httpsViaProxy, startLab, startOrigin, tempDir, testLookup } from '../helpers/lab.js';

const photo = fs.readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'photos', 'camera.jpg'));

/** field 1 a string, field 3 bytes (what a gallery-sync API would send). */
const uploadRequest = (name: string, bytes: Buffer): Buffer => pbMessage(pbField(1, name), pbField(3, bytes));

const raw = { serialize: (b: Buffer): Buffer => b, deserialize: (b: Buffer): Buffer => b };
const service: grpc.ServiceDefinition = {
  Upload: { path: '/gallery.Sync/Upload', requestStream: false, responseStream: false, requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize },
  Chat: { path: '/gallery.Sync/Chat', requestStream: true, responseStream: true, requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize },
};

t.test('gRPC unary and bidirectional calls through the proxy are relayed, recorded message by message, and inspected', async (t) => {
  const port = await startGrpcOrigin(t, 'grpc.example.test', service, {
    Upload: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.from(`stored ${call.request.length} bytes`)),
    Chat: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (message: Buffer) => call.write(Buffer.from(`echo ${message.toString()}`)));
      call.on('end', () => call.end());
    },
  });
  const work = tempDir();
  const caFile = path.join(work, 'origin.pem');
  fs.writeFileSync(caFile, getOriginCa().certPem);
  const out = path.join(work, 'run');
  const session = await CaptureSession.start(resolveCaptureOptions({ listen: '127.0.0.1:0', 'ca-dir': path.join(work, 'ca'), out, 'upstream-ca': [caFile] }, 'capture'), { lookup: testLookup });
  const flows: Flow[] = [];
  session.bus.on('flow:end', (flow) => flows.push(flow));
  const client = grpcClientThroughProxy(t, session.port, `grpc.example.test:${port}`, session.ca.certPem);

  const reply = await new Promise<Buffer>((resolve, reject) => client.makeUnaryRequest('/gallery.Sync/Upload', raw.serialize, raw.deserialize, uploadRequest('IMG_20141012_183005.jpg', photo), (err, value) => (err ? reject(err) : resolve(value!))));
  t.equal(reply.toString(), `stored ${uploadRequest('IMG_20141012_183005.jpg', photo).length} bytes`);

  const call = client.makeBidiStreamRequest('/gallery.Sync/Chat', raw.serialize, raw.deserialize);
  const echoes: string[] = [];
  const ended = new Promise<void>((resolve, reject) => { call.on('end', resolve); call.on('error', reject); });
  // One message out, its echo back, then the next: a relay that buffered the stream would hang here.
  for (let i = 0; i < 100; i++) {
    const echo = new Promise<Buffer>((resolve) => call.once('data', resolve));
    call.write(Buffer.from(`m${i}`));
    echoes.push((await echo).toString());
  }
  call.end();
  call.on('data', () => undefined);
  await ended;
  t.equal(echoes.length, 100);
  t.equal(echoes[99], 'echo m99');

  await session.stop();
  const upload = flows.find((f) => f.request?.url.endsWith('/gallery.Sync/Upload'));
  const chat = flows.find((f) => f.request?.url.endsWith('/gallery.Sync/Chat'));
  t.ok(upload && chat, 'both calls are flows');
  t.equal(upload!.request?.httpVersion, 'HTTP/2.0');
  t.equal(upload!.alpn, 'h2');
  t.match(upload!.grpc, { flavour: 'grpc', status: 0 });
  t.equal(upload!.messages?.length, 2, 'one request and one response message');
  t.equal(upload!.messages?.[0]?.totalBytes, uploadRequest('IMG_20141012_183005.jpg', photo).length);
  t.match(chat!.grpc, { flavour: 'grpc', status: 0 });
  t.equal(chat!.messages?.filter((m) => m.fromClient).length, 100, '100 messages up');
  t.equal(chat!.messages?.filter((m) => !m.fromClient).length, 100, '100 messages down');
  t.equal(chat!.messages?.[1]?.data.toString(), 'echo m0', 'in the order they passed');
  t.same(session.options.passthrough.learned(), [], 'the gRPC host was never learned as pinned');
  t.notOk(flows.some((f) => f.kind === 'tls-failed'), 'no failed handshakes');

  const findings = fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const photoFinding = findings.find((f) => f.category === 'photo');
  t.ok(photoFinding, 'the photo in the protobuf bytes field is a finding');
  t.equal(photoFinding.evidence.path[0], 'grpc:message[0]');
  t.ok(photoFinding.evidence.path.includes('protobuf:3'), `path ${photoFinding.evidence.path.join(' > ')}`);
  t.equal(photoFinding.host, 'grpc.example.test');

  const har = JSON.parse(fs.readFileSync(path.join(out, 'flows.har'), 'utf8'));
  const entry = har.log.entries.find((e: { request: { url: string } }) => e.request.url.endsWith('/gallery.Sync/Upload'));
  t.equal(entry.request.httpVersion, 'HTTP/2.0');
  t.equal(entry._phonehome.grpc.status, 0);
  t.equal(entry._phonehome.grpc.messages.length, 2);
  t.match(entry._phonehome.responseTrailers, [{ name: 'grpc-status', value: '0' }]);
});

t.test('gRPC-Web over HTTP/1.1 through the proxy is read the same way', async (t) => {
  const framed = (message: Buffer, flag = 0): Buffer => { const head = Buffer.alloc(5); head[0] = flag; head.writeUInt32BE(message.length, 1); return Buffer.concat([head, message]); };
  const origin = await startOrigin({
    tls: true, hostname: 'grpcweb.example.test',
    handler: (req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/grpc-web+proto' });
        res.end(Buffer.concat([framed(Buffer.from('pong')), framed(Buffer.from('grpc-status: 0\r\ngrpc-message: ok\r\n'), 0x80)]));
      });
    },
  });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const response = await httpsViaProxy({ proxyPort: lab.port, host: 'grpcweb.example.test', port: origin.port, method: 'POST', path: '/svc.Ping/Ping', body: framed(uploadRequest('IMG_1.jpg', photo)), headers: { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1' }, trust: lab.ca.certPem });
  t.equal(response.status, 200);
  const flow = await lab.next('flow:end', (f) => f.request?.url.endsWith('/svc.Ping/Ping') === true);
  t.match(flow.grpc, { flavour: 'grpc-web', status: 0, message: 'ok' });
  t.same(flow.messages?.map((m) => m.fromClient), [true, false]);
  t.equal(flow.request?.httpVersion, 'HTTP/1.1');
  const photoFinding = inspectFlow(flow, defaultDetectors).drafts.find((d) => d.category === 'photo');
  t.equal(photoFinding?.evidence.path[0], 'grpc:message[0]');
});
