// A mail password is a clear-text finding only when it crossed the network in clear text: not
// inside implicit TLS we decrypted (SMTPS), not after a STARTTLS we intercepted. One given before
// the STARTTLS still is.
import t from 'tap';
import { inspectFlow } from '../../../src/inspect/inspector.js';
import { defaultDetectors } from '../../../src/inspect/detect/registry.js';
import type { Flow } from '../../../src/model/flow.js';
import { body, makeFlow } from '../../helpers/flows.js';

const plain = `AUTH PLAIN ${Buffer.from('\0jane@example.com\0s3cret').toString('base64')}`;
const mail = 'MAIL FROM:<jane@example.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nFrom: Jane <jane@example.com>\r\nTo: bob@example.org\r\nSubject: Rendez-vous\r\nDate: Sun, 12 Oct 2014 18:30:05 +0200\r\n\r\nA 18h.\r\n.\r\nQUIT\r\n';

function smtp(up: string, scheme: Flow['scheme'], tags: string[]): Flow {
  return makeFlow({ kind: 'raw', scheme, request: undefined, target: { host: 'smtp.example.com', port: scheme === 'tls' ? 465 : 587 }, tags, stream: { up: body(up), down: body('220 smtp.example.com ESMTP\r\n') } });
}

const rows: Array<[string, Flow, string[]]> = [
  ['AUTH in clear text on 587', smtp(`EHLO phone\r\n${plain}\r\n${mail}`, 'tcp', ['plain']), ['credential', 'mail']],
  ['AUTH inside SMTPS we decrypted', smtp(`EHLO phone\r\n${plain}\r\n${mail}`, 'tls', ['decrypted', 'stream:raw']), ['mail']],
  ['AUTH after a STARTTLS we intercepted', smtp(`EHLO phone\r\nSTARTTLS\r\nEHLO phone\r\n${plain}\r\n${mail}`, 'tcp', ['starttls', 'starttls:smtp']), ['mail']],
  ['AUTH before a STARTTLS we intercepted: still clear text', smtp(`EHLO phone\r\n${plain}\r\nSTARTTLS\r\nEHLO phone\r\n${mail}`, 'tcp', ['starttls', 'starttls:smtp']), ['credential', 'mail']],
  ['a STARTTLS we could not intercept: the rest is opaque, said once', smtp('EHLO phone\r\nSTARTTLS\r\n\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 'tcp', ['plain']), ['opaque']],
];

for (const [name, flow, categories] of rows) {
  t.test(name, async (t) => {
    const { drafts } = inspectFlow(flow, defaultDetectors);
    t.same(drafts.map((d) => d.category).sort(), categories);
  });
}
