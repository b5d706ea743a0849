// Formats told apart at their edges (issue #23, planted bugs): TIFF by either byte order's magic,
// protobuf field numbers below 2^29 only and the protobuf decoder's gate, a mail header line
// needing a field name before its colon, a People API name from its given and family names.

import t from 'tap';
import { sniff } from '../../../src/inspect/decode/magic.js';
import { parseMailMessage } from '../../../src/inspect/decode/mail-message.js';
import { parseProtobuf, protobufDecoder } from '../../../src/inspect/decode/protobuf.js';
import { DecodeBudget } from '../../../src/inspect/decode/budget.js';
import type { View } from '../../../src/inspect/detect/detector.js';
import { defaultDetectors } from '../../../src/inspect/detect/registry.js';
import { inspectFlow } from '../../../src/inspect/inspector.js';
import { makeFlow } from '../../helpers/flows.js';

t.test('TIFF in both byte orders; the magic with its bytes swapped is not TIFF', async (t) => {
  t.equal(sniff(Buffer.from('49492a0008000000', 'hex')), 'image/tiff', 'II*\\0');
  t.equal(sniff(Buffer.from('4d4d002a00000008', 'hex')), 'image/tiff', 'MM\\0*');
  t.not(sniff(Buffer.from('4949002a00000008', 'hex')), 'image/tiff', 'II\\0*');
  t.not(sniff(Buffer.from('4d4d2a0008000000', 'hex')), 'image/tiff', 'MM*\\0');
});

const varint = (n: number): Buffer => {
  const out: number[] = [];
  while (n >= 0x80) { out.push((n % 0x80) | 0x80); n = Math.floor(n / 0x80); }
  out.push(n);
  return Buffer.from(out);
};
// A field of wire type 0 (varint 1), then a second ordinary one so the message is long enough.
const withField = (field: number): Buffer => Buffer.concat([varint(field * 8), Buffer.from([0x01, 0x08, 0x01, 0x10, 0x02])]);

t.test('protobuf field numbers: 2^29 - 1 is the largest, 2^29 is none', async (t) => {
  t.ok(parseProtobuf(withField(2 ** 29 - 1))?.[String(2 ** 29 - 1)] !== undefined);
  t.equal(parseProtobuf(withField(2 ** 29)), undefined);
  t.equal(parseProtobuf(withField(0)), undefined, 'field 0 is none either');
});

t.test("the protobuf decoder leaves alone what is parsed already, a stream's bytes and a single byte", async (t) => {
  const message = Buffer.from('0801120568656c6c6f', 'hex');
  const view = (overrides: Partial<View>): View => ({ bytes: message, path: ['body'], depth: 0, direction: 'request', contentType: 'application/x-protobuf', origin: 'body', ...overrides } as View);
  t.equal(protobufDecoder.decode(view({}), new DecodeBudget()).length, 1, 'declared protobuf: a layer');
  t.same(protobufDecoder.decode(view({ structured: { already: true } }), new DecodeBudget()), []);
  t.same(protobufDecoder.decode(view({ origin: 'stream' } as Partial<View>), new DecodeBudget()), []);
  t.same(protobufDecoder.decode(view({ bytes: Buffer.from([0x08]) }), new DecodeBudget()), []);
});

t.test('a mail header line needs a field name before its colon', async (t) => {
  const mail = (header: string) => parseMailMessage(Buffer.from(`From: jane@example.com\r\nTo: bob@example.org\r\n${header}\r\nSubject: hello\r\n\r\nbody\r\n`));
  t.ok(mail('X-Mailer: phone'));
  t.equal(mail('Bad Field: x'), undefined, 'a space in the name');
  t.equal(mail(': no name'), undefined, 'nothing before the colon');
  t.equal(mail('NoColonAtAll'), undefined, 'no colon');
});

t.test('a People API entry named by given and family name is a contact', async (t) => {
  const flow = makeFlow({ requestBody: JSON.stringify({ connections: [
    { names: [{ givenName: 'Jean', familyName: 'Dupont' }], phoneNumbers: ['+33612345678'] },
    { names: [{ givenName: 'Marie', familyName: 'Curie' }], phoneNumbers: ['+33698765432'] },
  ] }), requestHeaders: [['Content-Type', 'application/json']] });
  const contact = inspectFlow(flow, defaultDetectors).drafts.find((d) => d.category === 'contact');
  t.match(contact?.summary, /^2 contacts/);
});
