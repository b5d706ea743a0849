import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { parseProtobuf, splitGrpcFrames } from '../../../src/inspect/decode/protobuf.js';
import { inspectFlow } from '../../../src/inspect/inspector.js';
import { defaultDetectors } from '../../../src/inspect/detect/registry.js';
import { makeFlow } from '../../helpers/flows.js';
import { pbField, pbMessage } from '../../helpers/protobuf-writer.js';

const field = pbField;
const message = pbMessage;

const sms = (address: string, text: string, ms: number) => message(field(1, address), field(2, text), field(3, ms), field(4, 1));
const dump = message(field(1, 'device-42'), field(2, sms('+33612345678', 'Rendez-vous demain', 1413131405000)), field(2, sms('+33612345678', 'OK à demain', 1413131505000)));

t.test('parses nested messages, repeated fields, text and large varints', async (t) => {
  const parsed = parseProtobuf(message(field(1, 'hello world'), field(2, 2 ** 60), field(3, message(field(1, 7), field(2, 'x y'))), field(3, message(field(1, 8), field(2, 'z w')))));
  t.same(parsed, { 1: 'hello world', 2: String(2n ** 60n), 3: [{ 1: 7, 2: 'x y' }, { 1: 8, 2: 'z w' }] });
});

t.test('gRPC frames must fill the body exactly', async (t) => {
  const frame = (m: Buffer) => Buffer.concat([Buffer.from([0]), Buffer.from([0, 0, 0, m.length]), m]);
  t.equal(splitGrpcFrames(Buffer.concat([frame(dump), frame(dump)]))?.length, 2);
  t.equal(splitGrpcFrames(Buffer.concat([frame(dump), Buffer.from([0, 0])])), undefined);
});

t.test('SMS-shaped records inside protobuf are found by their values', async (t) => {
  const { drafts } = inspectFlow(makeFlow({ requestBody: dump, requestHeaders: [['Content-Type', 'application/x-protobuf']] }), defaultDetectors);
  t.match(drafts.map((d) => d.summary), [/^2 SMS with \+33612…, 'Rendez-vous demain'$/]);
  t.equal(drafts[0]?.detector, 'sms/protobuf');
});

t.test('inside gRPC too, and a photo in a bytes field is carved out as a layer', async (t) => {
  const photo = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'fixtures', 'photos', 'camera.jpg'));
  const upload = message(field(1, 'IMG_20141012_183005.jpg'), field(2, photo));
  const framed = Buffer.concat([Buffer.from([0]), Buffer.alloc(4), upload]);
  framed.writeUInt32BE(upload.length, 1);
  const { drafts } = inspectFlow(makeFlow({ requestBody: framed, requestHeaders: [['Content-Type', 'application/grpc']] }), defaultDetectors);
  const photoFinding = drafts.find((d) => d.category === 'photo');
  t.ok(photoFinding);
  t.same(photoFinding?.evidence.path, ['body', 'grpc:message[0]', 'protobuf:2', 'image/jpeg']);
});

t.test('random bytes, text and analytics-shaped protobuf stay quiet', async (t) => {
  let parsed = 0;
  for (let i = 0; i < 2000; i++) if (parseProtobuf(crypto.randomBytes(40))) parsed++;
  t.ok(parsed < 20, `${parsed} of 2,000 random 40-byte buffers parsed`);
  t.equal(parseProtobuf(Buffer.from('{"json": true}')), undefined);
  const analytics = message(field(1, message(field(1, 'screen_view'), field(2, 'settings'), field(3, 1732700000000))));
  const { drafts } = inspectFlow(makeFlow({ requestBody: analytics, requestHeaders: [['Content-Type', 'application/x-protobuf']] }), defaultDetectors);
  t.same(drafts, []);
});
