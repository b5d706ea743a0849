import t from 'tap';
import { parseWbxml, tagName } from '../../../src/inspect/decode/wbxml.js';
import { inspectFlow } from '../../../src/inspect/inspector.js';
import { defaultDetectors } from '../../../src/inspect/detect/registry.js';
import { makeFlow } from '../../helpers/flows.js';

const str = (s: string) => Buffer.concat([Buffer.from([0x03]), Buffer.from(s, 'utf8'), Buffer.from([0x00])]);
const opaque = (b: Buffer) => Buffer.concat([Buffer.from([0xc3, b.length >> 7 | 0x80, b.length & 0x7f]), b]);
const HEADER = Buffer.from([0x03, 0x01, 0x6a, 0x00]);

const mime = Buffer.from('From: jane@example.com\r\nTo: bob@example.org\r\nSubject: Rendez-vous demain\r\nDate: Sun, 12 Oct 2014 18:30:05 +0200\r\nMIME-Version: 1.0\r\n\r\nA 18h devant la gare.\r\n');
// ComposeMail (page 21): SendMail > ClientId, SaveInSentItems, Mime (opaque).
const sendMail = Buffer.concat([HEADER, Buffer.from([0x00, 0x15, 0x45, 0x51]), str('1234'), Buffer.from([0x01, 0x08, 0x50]), opaque(mime), Buffer.from([0x01, 0x01])]);
// AirSync (page 0) Sync > Commands > Add > ServerId, ApplicationData > Email (page 2) fields, AirSyncBase (page 17) Body > Data.
const sync = Buffer.concat([
  HEADER, Buffer.from([0x45, 0x56, 0x47, 0x4d]), str('5:1'), Buffer.from([0x01, 0x5d, 0x00, 0x02, 0x58]), str('"Jane" <jane@example.com>'), Buffer.from([0x01, 0x56]), str('bob@example.org'),
  Buffer.from([0x01, 0x54]), str('Rendez-vous demain'), Buffer.from([0x01, 0x00, 0x11, 0x4a, 0x4b]), str('A 18h devant la gare.'), Buffer.from([0x01, 0x01, 0x01, 0x01, 0x01, 0x01]),
]);

t.test('tokenizes code pages, inline strings and opaque data', async (t) => {
  const root = parseWbxml(sendMail)!;
  const send = root.children[0]!;
  t.equal(tagName(send), 'SendMail');
  t.same(send.children.map(tagName), ['21:11', '21:8', 'Mime']);
  t.same(send.children[2]!.opaque, mime);
});

t.test('SendMail over ActiveSync is a mail finding', async (t) => {
  const flow = makeFlow({ requestBody: sendMail, requestHeaders: [['Content-Type', 'application/vnd.ms-sync.wbxml']], url: 'https://mail.example.com/Microsoft-Server-ActiveSync?Cmd=SendMail&User=jane&DeviceId=abc&DeviceType=Android' });
  const { drafts } = inspectFlow(flow, defaultDetectors);
  t.match(drafts, [{ category: 'mail', summary: /^Mail from jane@example\.com to bob@example\.org, 'Rendez-vous demain'$/, evidence: { path: ['body', 'wbxml:ComposeMail.SendMail.Mime', 'message/rfc822'] } }]);
});

t.test('Sync items on the Email page are mail records', async (t) => {
  const flow = makeFlow({ requestBody: sync, requestHeaders: [['Content-Type', 'application/vnd.ms-sync.wbxml']] });
  const { drafts } = inspectFlow(flow, defaultDetectors);
  t.match(drafts, [{ category: 'mail', summary: /^1 mail from jane@example\.com to bob@example\.org, 'Rendez-vous demain'$/ }]);
});

t.test('truncated or foreign WBXML is refused without throwing', async (t) => {
  for (let cut = 1; cut < sync.length; cut += 3) parseWbxml(sync.subarray(0, cut));
  t.equal(parseWbxml(Buffer.from([0x03, 0x01, 0x04, 0x00, 0x45, 0x01])), undefined, 'not UTF-8: not ActiveSync');
  t.equal(parseWbxml(Buffer.from('<?xml version="1.0"?>')), undefined);
});
