import t from 'tap';
import { parseXml } from '../../../src/inspect/decode/xml.js';
import { inspectFlow } from '../../../src/inspect/inspector.js';
import { defaultDetectors } from '../../../src/inspect/detect/registry.js';
import { makeFlow } from '../../helpers/flows.js';

const flowOf = (xml: string) => makeFlow({ requestBody: xml, requestHeaders: [['Content-Type', 'application/xml']] });

t.test('SMS records as XML elements are found like JSON ones', async (t) => {
  const xml = `<?xml version="1.0"?><sync><messages><message><address>+33612345678</address><body>Rendez-vous demain &amp; bises</body><date>1413131405000</date><type>1</type></message></messages></sync>`;
  const { drafts } = inspectFlow(flowOf(xml), defaultDetectors);
  t.match(drafts, [{ category: 'sms', summary: /^1 SMS with \+33612…, 'Rendez-vous demain & bises'$/, evidence: { path: ['body', 'xml'] } }]);
});

t.test('attribute values and text go on to the string decoders (a base64 photo in an attribute)', async (t) => {
  const jpegHead = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const { drafts, problems } = inspectFlow(flowOf(`<upload name="x"><blob enc="b64">${jpegHead.toString('base64')}</blob></upload>`), defaultDetectors);
  t.same(problems, []);
  t.same(drafts, [], 'a 20-byte JPEG header is no photo, but it was decoded without error');
});

t.test('not XML, or broken XML, is refused without throwing', async (t) => {
  t.equal(parseXml('<a><b></a></b>'), undefined);
  t.equal(parseXml('<a><b>text</b>')?.children[0]?.text, 'text', 'a document cut at the body limit is read as far as it goes');
  t.equal(parseXml('plain text'), undefined);
  t.ok(parseXml('<a x="1" y=\'2\'><!-- c --><![CDATA[<raw>]]><b/></a>'));
  const { drafts } = inspectFlow(flowOf('<html><body><p>address: +33612345678, body text</p></body></html>'), defaultDetectors);
  t.same(drafts, []);
});
