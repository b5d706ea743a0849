import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { parseMms } from '../../../src/inspect/decode/mms.js';
import { inspectFlow } from '../../../src/inspect/inspector.js';
import { defaultDetectors } from '../../../src/inspect/detect/registry.js';
import { makeFlow } from '../../helpers/flows.js';

const photo = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'fixtures', 'photos', 'camera.jpg'));

function uintvar(n: number): Buffer {
  const out = [n & 0x7f];
  for (n = Math.floor(n / 128); n > 0; n = Math.floor(n / 128)) out.unshift((n & 0x7f) | 0x80);
  return Buffer.from(out);
}
const text = (s: string) => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);

/** An m-send-req as a phone's MMS stack builds it (OMA-TS-MMS-ENC), with a photo and a text part. */
function sendReq(parts: Array<{ type: number; name: string; data: Buffer }>): Buffer {
  const headers = Buffer.concat([
    Buffer.from([0x8c, 0x80]), Buffer.from([0x98]), text('T123'), Buffer.from([0x8d, 0x92]),
    Buffer.from([0x89, 0x01, 0x81]), // From: insert-address-token (the phone does not know its number)
    Buffer.from([0x97]), text('+33698765432/TYPE=PLMN'),
    Buffer.from([0x96]), text('Photos de ce soir'),
    Buffer.from([0x84, 0xa3]), // Content-Type: application/vnd.wap.multipart.mixed
  ]);
  const body = [uintvar(parts.length)];
  for (const part of parts) {
    const partHeaders = Buffer.concat([Buffer.from([part.type | 0x80])]);
    const withName = Buffer.concat([Buffer.from([partHeaders.length + 1 + Buffer.byteLength(part.name) + 1]), partHeaders, Buffer.from([0x85]), text(part.name)]);
    body.push(uintvar(withName.length), uintvar(part.data.length), withName, part.data);
  }
  return Buffer.concat([headers, ...body]);
}

const mms = sendReq([{ type: 0x1e, name: 'IMG_20141012_183005.jpg', data: photo }, { type: 0x03, name: 'text.txt', data: Buffer.from('Rendez-vous demain à 18h') }]);

t.test('parses an m-send-req: recipients, subject, parts', async (t) => {
  t.match(parseMms(mms), { type: 'send-req', to: ['+33698765432'], subject: 'Photos de ce soir', parts: [{ contentType: 'image/jpeg', name: 'IMG_20141012_183005.jpg' }, { contentType: 'text/plain', name: 'text.txt' }] });
});

t.test('an MMS upload gives an MMS finding and a photo finding for its picture', async (t) => {
  const { drafts } = inspectFlow(makeFlow({ requestBody: mms, requestHeaders: [['Content-Type', 'application/vnd.wap.mms-message']] }), defaultDetectors);
  t.match(drafts.find((d) => d.category === 'sms')?.summary, /^MMS to \+33698…, subject 'Photos de ce soir', 2 parts \(image\/jpeg, text\/plain\), 'Rendez-vous demain à 18h'$/);
  t.same(drafts.find((d) => d.category === 'photo')?.evidence.path, ['body', 'mms:send-req', 'mms:part[0]', 'image/jpeg']);
});

t.test('a PDU whose parts do not fill it exactly, or with an unknown header, is refused', async (t) => {
  t.equal(parseMms(Buffer.concat([mms, Buffer.from([0])])), undefined);
  t.equal(parseMms(mms.subarray(0, mms.length - 1)), undefined);
  const badHeader = Buffer.from(mms);
  badHeader[2] = 0x40; // not a well-known header code
  t.equal(parseMms(badHeader), undefined);
  for (let cut = 1; cut < 200; cut += 7) parseMms(mms.subarray(0, cut));
  t.equal(parseMms(Buffer.from([0x8c, 0x80, 0xff, 0xff])), undefined);
});
