// Forms of the mail commands a careful reader of the wire would know, table-tested with their
// look-alikes: an IMAP LOGIN whose user or password is a literal (what clients send for a
// password with quotes, backslashes or 8-bit characters), MULTIAPPEND (several messages in one
// APPEND, RFC 3502) and SMTP BDAT (the message in chunks of a stated size, RFC 3030: Postfix,
// Exim and Exchange send it when the server offers CHUNKING).

import t from 'tap';
import { parseMailClient } from '../../../src/inspect/decode/mail-protocols.js';

const mail = (subject: string): string => `From: jane@example.com\r\nTo: bob@example.org\r\nSubject: ${subject}\r\n\r\nHi\r\n`;
const size = (text: string): number => Buffer.byteLength(text, 'latin1');

t.test('IMAP LOGIN: quoted, atom and literal strings', async (t) => {
  const rows: Array<[string, string, unknown[]]> = [
    ['atoms', 'a1 LOGIN jane s3cret\r\n', [{ user: 'jane', passwordLength: 6 }]],
    ['quoted, with an escaped quote', 'a1 LOGIN "jane" "pa\\"ss"\r\n', [{ user: 'jane', passwordLength: 5 }]],
    ['a literal password', 'a1 LOGIN jane {7}\r\np"a\\ss\xe9\r\na2 SELECT INBOX\r\n', [{ user: 'jane', passwordLength: 7 }]],
    ['both literal, non-synchronizing (LITERAL+)', 'a1 LOGIN {4+}\r\njane {6+}\r\ns3cret\r\n', [{ user: 'jane', passwordLength: 6 }]],
    ['the stream cut right after the password', 'a1 LOGIN jane s3cret', [{ user: 'jane', passwordLength: 6 }]],
    // Look-alikes.
    ['a literal cut short', 'a1 LOGIN jane {40}\r\nsecret\r\n', []],
    ['LOGIN with one argument', 'a1 LOGIN jane\r\n', []],
    ['"LOGIN" as the mailbox of a SELECT', 'a1 SELECT LOGIN\r\n', []],
  ];
  for (const [name, up, credentials] of rows) {
    const found = parseMailClient(Buffer.from(up, 'latin1')).credentials;
    if (credentials.length === 0) t.same(found, [], name);
    else t.match(found, credentials.map((c) => ({ protocol: 'imap', mechanism: 'LOGIN', ...(c as object) })), name);
  }
  const after = parseMailClient(Buffer.from(`a1 LOGIN jane {6}\r\ns3cret\r\na2 APPEND Sent {${size(mail('x'))}}\r\n${mail('x')}\r\n`, 'latin1'));
  t.equal(after.messages.length, 1, 'the APPEND after a literal login is read');
});

t.test('IMAP MULTIAPPEND: every message of one APPEND', async (t) => {
  const [one, two] = [mail('Photos de vacances'), mail('Encore des photos')];
  const multi = parseMailClient(Buffer.from(`a2 APPEND Sent (\\Seen) {${size(one)}}\r\n${one} (\\Seen) "12-Oct-2014 18:30:05 +0200" {${size(two)}+}\r\n${two}\r\na3 LOGOUT\r\n`, 'latin1'));
  t.same(multi.messages.map((m) => m.toString('latin1')), [one, two]);
  const single = parseMailClient(Buffer.from(`a2 APPEND Sent {${size(one)}}\r\n${one}\r\na3 NOOP {5}\r\n`, 'latin1'));
  t.same(single.messages.map((m) => m.toString('latin1')), [one], 'a later command with braces is not another message');
});

t.test('SMTP BDAT: the chunks joined into one message at LAST', async (t) => {
  const body = mail('Rendez-vous demain');
  const [head, rest] = [body.slice(0, 20), body.slice(20)];
  const chunked = parseMailClient(Buffer.from(`EHLO phone\r\nMAIL FROM:<jane@example.com>\r\nRCPT TO:<bob@example.org>\r\nBDAT ${size(head)}\r\n${head}BDAT ${size(rest)} LAST\r\n${rest}QUIT\r\n`, 'latin1'));
  t.equal(chunked.protocol, 'smtp');
  t.same(chunked.messages.map((m) => m.toString('latin1')), [body], 'one message, its chunks joined, nothing of the commands between');
  t.same(chunked.envelope, { from: 'jane@example.com', to: ['bob@example.org'] });
  const open = parseMailClient(Buffer.from(`EHLO phone\r\nBDAT ${size(head)}\r\n${head}`, 'latin1'));
  t.same(open.messages.map((m) => m.toString('latin1')), [head], 'a message whose LAST has not come yet: what was sent of it');
  const two = parseMailClient(Buffer.from(`BDAT ${size(body)} LAST\r\n${body}BDAT 0 LAST\r\n`, 'latin1'));
  t.same(two.messages.map((m) => m.length), [size(body), 0], 'BDAT 0 LAST ends an empty message');
  t.same(parseMailClient(Buffer.from('Subject: how BDAT works\r\n', 'latin1')).messages, [], 'the word in a line is not the command');
});
