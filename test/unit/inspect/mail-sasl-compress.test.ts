// How real mail clients log in and send once logged in: IMAP AUTHENTICATE (with or without an
// initial response, SASL-IR), POP3's AUTH after CAPA, and IMAP COMPRESS DEFLATE (RFC 4978), after
// which everything the client sends is one raw deflate stream, its APPENDs included. mbsync does
// all three against Dovecot; Thunderbird and K-9 Mail compress when the server offers it.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { parseMailClient } from '../../../src/inspect/decode/mail-protocols.js';
import { defaultDetectors } from '../../../src/inspect/detect/registry.js';
import { inspectFlow } from '../../../src/inspect/inspector.js';
import type { Flow } from '../../../src/model/flow.js';
import { body, makeFlow } from '../../helpers/flows.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const plainIr = b64('\0jane@example.com\0s3cret');

/** A client's deflate stream as RFC 4978 has it: raw deflate, sync-flushed, never finished. */
function deflated(commands: string[]): Buffer {
  return zlib.deflateRawSync(commands.join(''), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
}

const photo = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'fixtures', 'photos', 'camera.jpg'));
const mail = [
  'From: Jane <jane@example.com>', 'To: bob@example.org', 'Subject: Photos de vacances', 'Date: Sun, 12 Oct 2014 18:30:05 +0200', 'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"', '', '--b1', 'Content-Type: text/plain', '', 'Voici les photos.', '--b1',
  'Content-Type: image/jpeg', 'Content-Disposition: attachment; filename="IMG_0001.jpg"', 'Content-Transfer-Encoding: base64', '',
  ...(photo.toString('base64').match(/.{1,76}/g) ?? []), '--b1--', '',
].join('\r\n');
const append = (tag: string): string => `${tag} APPEND Sent (\\Seen) {${Buffer.byteLength(mail)}+}\r\n${mail}\r\n`;
const login = `1 AUTHENTICATE PLAIN ${plainIr}\r\n`;

function imapFlow(up: Buffer, scheme: Flow['scheme'] = 'tls'): Flow {
  return makeFlow({ kind: 'raw', scheme, request: undefined, target: { host: 'imap.example.com', port: scheme === 'tls' ? 993 : 143 }, tags: scheme === 'tls' ? ['decrypted', 'stream:raw'] : [], stream: { up: body(up), down: body('* OK ready\r\n') } });
}

t.test('logins: IMAP AUTHENTICATE and POP3 AUTH are read as theirs', async (t) => {
  const rows: Array<[string, string, unknown[]]> = [
    ['IMAP AUTHENTICATE PLAIN with an initial response (SASL-IR)', `a1 CAPABILITY\r\n${login}`, [{ protocol: 'imap', mechanism: 'AUTHENTICATE PLAIN', user: 'jane@example.com', passwordLength: 6 }]],
    ['IMAP AUTHENTICATE PLAIN, the response on the next line', `a1 AUTHENTICATE PLAIN\r\n${plainIr}\r\na2 SELECT INBOX\r\n`, [{ protocol: 'imap', mechanism: 'AUTHENTICATE PLAIN', user: 'jane@example.com' }]],
    ['IMAP AUTHENTICATE PLAIN with an empty initial response ("=")', `a1 AUTHENTICATE PLAIN =\r\n${plainIr}\r\n`, [{ protocol: 'imap', mechanism: 'AUTHENTICATE PLAIN', user: 'jane@example.com' }]],
    ['IMAP AUTHENTICATE LOGIN: the user, then the password', `a1 AUTHENTICATE LOGIN\r\n${b64('jane')}\r\n${b64('s3cret')}\r\n`, [{ protocol: 'imap', mechanism: 'AUTHENTICATE LOGIN', user: 'jane', passwordLength: 6 }]],
    ['POP3 AUTH PLAIN after CAPA (curl)', `CAPA\r\nAUTH PLAIN\r\n${plainIr}\r\nSTAT\r\nQUIT\r\n`, [{ protocol: 'pop3', mechanism: 'AUTH PLAIN', user: 'jane@example.com' }]],
    ['SMTP AUTH PLAIN after EHLO, as before', `EHLO phone\r\nAUTH PLAIN ${plainIr}\r\nQUIT\r\n`, [{ protocol: 'smtp', mechanism: 'AUTH PLAIN', user: 'jane@example.com' }]],
    // Look-alikes: no password crossed.
    ['IMAP AUTHENTICATE PLAIN cancelled with "*"', `a1 AUTHENTICATE PLAIN\r\n*\r\na2 LOGOUT\r\n`, []],
    ['IMAP AUTHENTICATE XOAUTH2: a token, not a password', `a1 AUTHENTICATE XOAUTH2 ${b64('user=jane@example.com\x01auth=Bearer ya29.x\x01\x01')}\r\n`, []],
    ['"AUTHENTICATE PLAIN" inside an APPEND literal', `a1 APPEND Sent {28}\r\na9 AUTHENTICATE PLAIN ${b64('\0j\0p').slice(0, 4)}\r\n\r\n`, []],
  ];
  for (const [name, up, credentials] of rows) t.match(parseMailClient(Buffer.from(up)).credentials, credentials, name);
  for (const [name, up, credentials] of rows) if (credentials.length === 0) t.same(parseMailClient(Buffer.from(up)).credentials, [], `${name}: none`);
});

t.test('IMAP COMPRESS DEFLATE: what follows is inflated and read on', async (t) => {
  const cap = 16 * 1024 * 1024;
  const tail = deflated(['3 NAMESPACE\r\n', '4 SELECT "Sent"\r\n', append('5'), '6 LOGOUT\r\n']);
  const stream = Buffer.concat([Buffer.from(`${login}2 COMPRESS DEFLATE\r\n`), tail]);
  const read = parseMailClient(stream, { inflateCap: cap });
  t.equal(read.protocol, 'imap');
  t.same(read.compressed, { messagesBefore: 0, inflated: true });
  t.equal(read.messages.length, 1);
  t.equal(read.messages[0]!.toString('latin1'), mail, 'the APPEND literal, whole');
  t.match(read.credentials, [{ mechanism: 'AUTHENTICATE PLAIN' }], 'the login before it');

  const notAsked = parseMailClient(stream);
  t.same(notAsked.compressed, { messagesBefore: 0, inflated: false }, 'not asked to inflate');
  t.same(notAsked.messages, [], 'nothing after it read');
  t.equal(notAsked.credentials.length, 1, 'the login still read');

  const cut = parseMailClient(stream.subarray(0, stream.length - Math.floor(tail.length / 3)), { inflateCap: cap });
  t.ok(cut.compressed?.inflated, 'a capture cut inside the stream');
  t.ok(cut.messages.length <= 1 && (cut.messages[0]?.length ?? 0) < Buffer.byteLength(mail), 'what was readable, no more');

  const refused = parseMailClient(Buffer.from(`${login}2 COMPRESS DEFLATE\r\n${append('3')}4 LOGOUT\r\n`), { inflateCap: cap });
  t.same(refused.compressed, { messagesBefore: 0, inflated: false }, 'the server said NO: the client went on in clear text');
  t.equal(refused.messages[0]?.toString('latin1'), mail, 'and its APPEND is read as such');

  const bomb = parseMailClient(stream, { inflateCap: 1024 });
  t.match(bomb.compressed, { inflated: false, problem: /expands beyond 1024 bytes/ }, 'over the cap: said, not read');

  const notImap = parseMailClient(Buffer.concat([Buffer.from('2 COMPRESS DEFLATE\r\n'), zlib.deflateRawSync(photo)]), { inflateCap: cap });
  t.same(notImap.messages, [], 'deflate that is not IMAP commands is not read as them');
});

t.test('a mail with a photo sent inside IMAP COMPRESS: found, and the path says where', async (t) => {
  const up = Buffer.concat([Buffer.from(`1 CAPABILITY\r\n${login}2 COMPRESS DEFLATE\r\n`), deflated(['3 SELECT "Sent"\r\n', append('4'), '5 LOGOUT\r\n'])]);
  const { drafts } = inspectFlow(imapFlow(up), defaultDetectors);
  const found = drafts.find((d) => d.category === 'mail');
  t.match(found?.summary, /^Mail sent over IMAP from jane@example\.com to bob@example\.org, 'Photos de vacances'/);
  t.same(found?.evidence.path, ['stream:up', 'imap:deflate:append[0]', 'message/rfc822'], 'the mail, inside the deflate stream');
  const attached = drafts.find((d) => d.category === 'photo');
  t.match(attached?.summary, /JPEG camera photo/);
  t.same(attached?.evidence.path, ['stream:up', 'imap:deflate:append[0]', 'mime:part[1]', 'image/jpeg'], 'the attached photo, inside it');
  t.notOk(drafts.find((d) => d.category === 'credential'), 'inside TLS: not a clear-text password');

  const clear = inspectFlow(imapFlow(up, 'tcp'), defaultDetectors).drafts.find((d) => d.category === 'credential');
  t.match(clear, { summary: 'IMAP AUTHENTICATE PLAIN password for jane@example.com sent to imap.example.com:143 without TLS', evidence: { path: ['stream:up', 'imap:authenticate-plain'] } }, 'in clear text: a clear-text password');
});
