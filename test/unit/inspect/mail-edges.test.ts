// Mail on the wire at its edges (issue #23, planted bugs): ActiveSync's SendMail, SmartReply and
// SmartForward each carry a mail; AUTH PLAIN needs exactly three parts, a user and a password.

import t from 'tap';
import { parseMailClient } from '../../../src/inspect/decode/mail-protocols.js';
import { parseWbxml, tagName, wbxmlDecoder } from '../../../src/inspect/decode/wbxml.js';
import type { View } from '../../../src/inspect/detect/detector.js';
import { defaultDetectors } from '../../../src/inspect/detect/registry.js';
import { inspectFlow } from '../../../src/inspect/inspector.js';
import { makeFlow } from '../../helpers/flows.js';

const str = (s: string) => Buffer.concat([Buffer.from([0x03]), Buffer.from(s, 'utf8'), Buffer.from([0x00])]);
const opaque = (b: Buffer) => Buffer.concat([Buffer.from([0xc3, (b.length >> 7) | 0x80, b.length & 0x7f]), b]);
const HEADER = Buffer.from([0x03, 0x01, 0x6a, 0x00]);
const mime = Buffer.from('From: jane@example.com\r\nTo: bob@example.org\r\nSubject: Rendez-vous demain\r\nMIME-Version: 1.0\r\n\r\nA 18h devant la gare.\r\n');
// ComposeMail (page 21): <command> > ClientId, Mime (opaque); the command's token with its content bit.
const compose = (token: number) => Buffer.concat([HEADER, Buffer.from([0x00, 0x15, 0x40 | token, 0x51]), str('1234'), Buffer.from([0x01, 0x50]), opaque(mime), Buffer.from([0x01, 0x01])]);

t.test('SendMail, SmartForward and SmartReply each carry a mail; another ComposeMail tag does not', async (t) => {
  for (const [token, name] of [[0x05, 'SendMail'], [0x06, 'SmartForward'], [0x07, 'SmartReply']] as const) {
    const flow = makeFlow({ requestBody: compose(token), requestHeaders: [['Content-Type', 'application/vnd.ms-sync.wbxml']] });
    const mail = inspectFlow(flow, defaultDetectors).drafts.find((d) => d.category === 'mail');
    t.match(mail, { summary: /^Mail from jane@example\.com to bob@example\.org/, evidence: { path: ['body', `wbxml:ComposeMail.${name}.Mime`, 'message/rfc822'] } }, name);
  }
  const other = makeFlow({ requestBody: compose(0x08), requestHeaders: [['Content-Type', 'application/vnd.ms-sync.wbxml']] });
  t.notOk(inspectFlow(other, defaultDetectors).drafts.some((d) => d.evidence.path.some((p) => p.startsWith('wbxml:ComposeMail'))), 'token 0x08: no mail');
});

const plain = (parts: string[]) => `EHLO phone\r\nAUTH PLAIN ${Buffer.from(parts.join('\0')).toString('base64')}\r\nQUIT\r\n`;

t.test('AUTH PLAIN: exactly three parts with a user and a password', async (t) => {
  const creds = (parts: string[]) => parseMailClient(Buffer.from(plain(parts))).credentials;
  t.match(creds(['', 'jane', 'secret']), [{ mechanism: 'AUTH PLAIN', user: 'jane', passwordLength: 6 }]);
  t.match(creds(['admin', 'jane', 'secret']), [{ user: 'jane' }], 'an authorization identity first');
  t.same(creds(['jane', 'secret']), [], 'two parts');
  t.same(creds(['', 'jane', 'secret', 'x']), [], 'four parts');
  t.same(creds(['', '', 'secret']), [], 'no user');
  t.same(creds(['', 'jane', '']), [], 'no password');
});

t.test('WBXML: five bytes make a document (header and one tag), four do not', async (t) => {
  const five = parseWbxml(Buffer.from([0x03, 0x01, 0x6a, 0x00, 0x05]));
  t.equal(five && tagName(five.children[0]!), 'Sync');
  t.equal(parseWbxml(Buffer.from([0x03, 0x01, 0x6a, 0x00])), undefined);
});

// AirSync (page 0) Sync > Commands > Add > ServerId, ApplicationData > Email (page 2) fields, AirSyncBase (page 17) Body > Data.
const sync = (dataPage: number) => Buffer.concat([
  HEADER, Buffer.from([0x45, 0x56, 0x47, 0x4d]), str('5:1'), Buffer.from([0x01, 0x5d, 0x00, 0x02, 0x58]), str('"Jane" <jane@example.com>'), Buffer.from([0x01, 0x56]), str('bob@example.org'),
  Buffer.from([0x01, 0x54]), str('Rendez-vous demain'), Buffer.from([0x01, 0x00, dataPage, 0x4a, 0x4b]), str('A 18h devant la gare.'), Buffer.from([0x01, 0x01, 0x01, 0x01, 0x01, 0x01]),
]);

t.test("a synced mail's body is the Data of AirSyncBase's page, not a Data of another page", async (t) => {
  const mails = (bytes: Buffer) => {
    const [layer] = wbxmlDecoder.decode({ bytes, path: ['body'], depth: 0, direction: 'response', contentType: 'application/vnd.ms-sync.wbxml' } as unknown as View, undefined as never);
    return (layer?.structured as { mails?: Array<Record<string, string>> } | undefined)?.mails;
  };
  t.match(mails(sync(0x11)), [{ from: '"Jane" <jane@example.com>', to: 'bob@example.org', subject: 'Rendez-vous demain', body: 'A 18h devant la gare.' }]);
  const other = mails(sync(0x12));
  t.equal(other?.[0]?.subject, 'Rendez-vous demain');
  t.notOk(other && 'body' in other[0]!, 'page 18: no body');
});
