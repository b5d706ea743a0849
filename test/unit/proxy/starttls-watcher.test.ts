// The STARTTLS watcher as playbooks: chunks from either side in, verdicts out. No sockets.

import t from 'tap';
import { StartTlsWatcher, protocolOfGreeting, type MailProtocol } from '../../../src/proxy/layers/starttls-watcher.js';

/** `c:` a client chunk, `s:` a server chunk; each with the verdict kind it must give. */
type Step = [from: 'c' | 's', text: string | Buffer, verdict: 'relay' | 'asked' | 'refused' | 'upgrade' | 'gave-up'];

const playbooks: Array<[name: string, protocol: MailProtocol | undefined, steps: Step[]]> = [
  ['SMTP: STARTTLS, 220', 'smtp', [
    ['s', '220 mx.example.test ESMTP\r\n', 'relay'], ['c', 'EHLO phone\r\n', 'relay'],
    ['s', '250-mx.example.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n', 'relay'],
    ['c', 'STARTTLS\r\n', 'asked'], ['s', '220 2.0.0 Ready to start TLS\r\n', 'upgrade'],
  ]],
  ['SMTP: lower case, the agreement split over chunks', 'smtp', [
    ['s', '220 mx ESMTP\r\n', 'relay'], ['c', 'ehlo phone\r\n', 'relay'], ['s', '250 mx\r\n', 'relay'],
    ['c', 'starttls\r\n', 'asked'], ['s', '220 go', 'relay'], ['s', ' ahead\r\n', 'upgrade'],
  ]],
  ['SMTP: a 454 refusal, then the dialogue goes on in clear and a later STARTTLS is followed', 'smtp', [
    ['s', '220 mx ESMTP\r\n', 'relay'], ['c', 'EHLO phone\r\n', 'relay'], ['s', '250 mx\r\n', 'relay'],
    ['c', 'STARTTLS\r\n', 'asked'], ['s', '454 4.7.0 TLS not available due to temporary reason\r\n', 'refused'],
    ['c', 'MAIL FROM:<a@example.test>\r\n', 'relay'], ['s', '250 ok\r\n', 'relay'],
    ['c', 'RSET\r\n', 'relay'], ['s', '250 ok\r\n', 'relay'],
    ['c', 'STARTTLS\r\n', 'asked'], ['s', '220 ready\r\n', 'upgrade'],
  ]],
  ['SMTP: STARTTLS inside a DATA body does not trigger, and a 220 in the body does not either', 'smtp', [
    ['s', '220 mx ESMTP\r\n', 'relay'], ['c', 'EHLO phone\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n', 'relay'],
    ['s', '250 mx\r\n250 ok\r\n250 ok\r\n354 go ahead\r\n', 'relay'],
    ['c', 'Subject: hi\r\n\r\nSTARTTLS\r\n', 'relay'], ['c', '220 looks like a reply\r\n.\r\n', 'relay'],
    ['s', '250 queued\r\n', 'relay'], ['c', 'QUIT\r\n', 'relay'], ['s', '221 bye\r\n', 'relay'],
  ]],
  ['SMTP: a DATA the server refused leaves the client in command mode', 'smtp', [
    ['s', '220 mx\r\n', 'relay'], ['c', 'DATA\r\n', 'relay'], ['s', '503 need RCPT\r\n', 'relay'],
    ['c', 'STARTTLS\r\n', 'asked'], ['s', '220 ok\r\n', 'upgrade'],
  ]],
  ['SMTP: STARTTLS inside a BDAT chunk does not trigger', 'smtp', [
    ['s', '220 mx\r\n', 'relay'], ['c', 'BDAT 10 LAST\r\nSTARTTLS\r\n', 'relay'], ['s', '250 ok\r\n', 'relay'],
  ]],
  ['SMTP: an AUTH LOGIN answer that reads STARTTLS is no command', 'smtp', [
    ['s', '220 mx\r\n', 'relay'], ['c', 'AUTH LOGIN\r\n', 'relay'], ['s', '334 VXNlcm5hbWU6\r\n', 'relay'],
    ['c', 'STARTTLS\r\n', 'relay'], ['s', '334 UGFzc3dvcmQ6\r\n', 'relay'],
  ]],
  ['SMTP: a 250 to an earlier pipelined command is not the answer; the reply after it is', 'smtp', [
    ['s', '220 mx\r\n', 'relay'], ['c', 'EHLO a\r\n', 'relay'], ['c', 'STARTTLS\r\n', 'asked'],
    ['s', '250 mx\r\n', 'relay'], ['s', '220 go\r\n', 'upgrade'],
  ]],
  ['SMTP: bytes after STARTTLS in the same chunk: pipelined, not followed', 'smtp', [
    ['s', '220 mx\r\n', 'relay'], ['c', 'STARTTLS\r\nMAIL FROM:<x@y.test>\r\n', 'gave-up'],
    ['s', '220 go\r\n', 'relay'],
  ]],
  ['SMTP: a client that sends before the answer: pipelined, not followed', 'smtp', [
    ['s', '220 mx\r\n', 'relay'], ['c', 'STARTTLS\r\n', 'asked'], ['c', Buffer.from([0x16, 3, 1, 0, 5]), 'gave-up'],
    ['s', '220 go\r\n', 'relay'],
  ]],
  ['SMTP: a server that says more after its 220: not followed', 'smtp', [
    ['s', '220 mx\r\n', 'relay'], ['c', 'STARTTLS\r\n', 'asked'], ['s', '220 go\r\n250 injected\r\n', 'gave-up'],
  ]],
  ['SMTP: a server line that is no reply: not followed', 'smtp', [
    ['s', 'SSH-2.0-OpenSSH_9.6\r\n', 'gave-up'], ['c', 'STARTTLS\r\n', 'relay'],
  ]],
  ['SMTP: a line longer than the kept head still ends where it ends', 'smtp', [
    ['s', '220 mx\r\n', 'relay'], ['c', `NOOP ${'x'.repeat(100_000)}\r\n`, 'relay'], ['s', `250 ${'y'.repeat(70_000)}\r\n`, 'relay'],
    ['c', 'STARTTLS\r\n', 'asked'], ['s', '220 go\r\n', 'upgrade'],
  ]],
  ['IMAP: a1 STARTTLS, a1 OK', 'imap', [
    ['s', '* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n', 'relay'], ['c', 'a1 CAPABILITY\r\n', 'relay'],
    ['s', '* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\n', 'relay'],
    ['c', 'a2 STARTTLS\r\n', 'asked'], ['s', 'a2 OK Begin TLS negotiation now\r\n', 'upgrade'],
  ]],
  ['IMAP: another tag\'s OK is not the answer', 'imap', [
    ['s', '* OK ready\r\n', 'relay'], ['c', 'x7 STARTTLS\r\n', 'asked'], ['s', 'a2 OK other\r\n', 'relay'],
    ['s', '* BYE not really\r\n', 'relay'], ['s', 'x7 OK go\r\n', 'upgrade'],
  ]],
  ['IMAP: NO is a refusal, BAD too', 'imap', [
    ['s', '* OK ready\r\n', 'relay'], ['c', 'a1 STARTTLS\r\n', 'asked'], ['s', 'a1 NO not now\r\n', 'refused'],
    ['c', 'a2 STARTTLS\r\n', 'asked'], ['s', 'a2 BAD unknown\r\n', 'refused'],
  ]],
  ['IMAP: STARTTLS inside an APPEND literal and an OK inside a FETCH literal do not trigger', 'imap', [
    ['s', '* OK ready\r\n', 'relay'], ['c', 'a1 APPEND INBOX {13+}\r\n', 'relay'], ['c', 'a9 STARTTLS\r\n\r\n', 'relay'],
    ['s', 'a1 OK appended\r\n', 'relay'],
    ['c', 'a2 STARTTLS\r\n', 'asked'], ['s', '* 1 FETCH (BODY[] {12}\r\na2 OK fake\r\n)\r\n', 'relay'], ['s', 'a2 OK real\r\n', 'upgrade'],
  ]],
  ['POP3: STLS, +OK', 'pop3', [
    ['s', '+OK POP3 ready\r\n', 'relay'], ['c', 'CAPA\r\n', 'relay'], ['s', '+OK\r\nSTLS\r\nUSER\r\n.\r\n', 'relay'],
    ['c', 'STLS\r\n', 'asked'], ['s', '+OK Begin TLS\r\n', 'upgrade'],
  ]],
  ['POP3: -ERR is a refusal', 'pop3', [
    ['s', '+OK ready\r\n', 'relay'], ['c', 'STLS\r\n', 'asked'], ['s', '-ERR not here\r\n', 'refused'],
    ['c', 'USER bob\r\n', 'relay'], ['s', '+OK\r\n', 'relay'],
  ]],
  ['POP3: a +OK inside a RETR body is not the answer', 'pop3', [
    ['s', '+OK ready\r\n', 'relay'], ['c', 'RETR 1\r\n', 'relay'], ['c', 'STLS\r\n', 'asked'],
    ['s', '+OK 40 octets\r\nSubject: x\r\n\r\n+OK fake\r\n.\r\n', 'relay'], ['s', '+OK real\r\n', 'upgrade'],
  ]],
  ['XMPP: <starttls/>, <proceed/>', 'xmpp', [
    ['c', "<?xml version='1.0'?><stream:stream to='chat.example.test' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>", 'relay'],
    ['s', "<stream:stream from='chat.example.test' id='x' version='1.0'><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>", 'relay'],
    ['c', "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 'asked'], ['s', "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 'upgrade'],
  ]],
  ['XMPP: <failure/> is a refusal; a starttls of another namespace is not asked', 'xmpp', [
    ['c', "<stream:stream><starttls xmlns='urn:example:other'/>", 'relay'], ['c', "<starttls xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"/>", 'asked'],
    ['s', "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>", 'refused'],
  ]],
  ['unknown port: an SMTP greeting teaches the protocol', undefined, [
    ['s', '220 mx.example.test ESMTP\r\n', 'relay'], ['c', 'EHLO a\r\n', 'relay'], ['s', '250 ok\r\n', 'relay'],
    ['c', 'STARTTLS\r\n', 'asked'], ['s', '220 go\r\n', 'upgrade'],
  ]],
  ['unknown port: an IMAP greeting split over two chunks', undefined, [
    ['s', '* OK [CAPA', 'relay'], ['s', 'BILITY IMAP4rev1] ready\r\n', 'relay'], ['c', 'a STARTTLS\r\n', 'asked'], ['s', 'a OK\r\n', 'upgrade'],
  ]],
  ['unknown port: no mail greeting, nothing is followed', undefined, [
    ['s', 'SSH-2.0-OpenSSH_9.6\r\n', 'gave-up'], ['c', 'STARTTLS\r\n', 'relay'], ['s', '220 ok\r\n', 'relay'],
  ]],
  ['unknown port: a client that speaks before any greeting', undefined, [['c', 'HELLO\r\n', 'gave-up'], ['s', '220 ok\r\n', 'relay']]],
];

for (const [name, protocol, steps] of playbooks) {
  t.test(name, async (t) => {
    const watcher = new StartTlsWatcher(protocol);
    steps.forEach(([from, text, expected], index) => {
      const chunk = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
      const verdict = from === 'c' ? watcher.clientSent(chunk) : watcher.serverSent(chunk);
      t.equal(verdict.kind, expected, `step ${index + 1} (${from}: ${JSON.stringify(chunk.toString('latin1').slice(0, 40))})`);
    });
  });
}

t.test('the give-up codes say what happened', async (t) => {
  const pipelined = new StartTlsWatcher('smtp');
  pipelined.serverSent(Buffer.from('220 mx\r\n'));
  t.match(pipelined.clientSent(Buffer.from('STARTTLS\r\nNOOP\r\n')), { kind: 'gave-up', code: 'pipelined' });
  t.match(pipelined.gaveUp, /client sent more/);
  const extra = new StartTlsWatcher('imap');
  extra.clientSent(Buffer.from('a STARTTLS\r\n'));
  t.match(extra.serverSent(Buffer.from('a OK\r\n* injected\r\n')), { kind: 'gave-up', code: 'server-extra' });
  t.match(new StartTlsWatcher().serverSent(Buffer.from('SSH-2.0-x\r\n')), { kind: 'gave-up', code: 'not-mail' });
  const lost = new StartTlsWatcher('pop3');
  t.match(lost.serverSent(Buffer.from('hello\r\n')), { kind: 'gave-up', code: 'lost' });
});

t.test('greetings', async (t) => {
  t.equal(protocolOfGreeting('220 mx ESMTP Postfix'), 'smtp');
  t.equal(protocolOfGreeting('220-mx ESMTP'), 'smtp');
  t.equal(protocolOfGreeting('* OK IMAP4rev1 ready'), 'imap');
  t.equal(protocolOfGreeting('* PREAUTH logged in'), 'imap');
  t.equal(protocolOfGreeting('+OK POP3 ready'), 'pop3');
  t.equal(protocolOfGreeting('2200 nope'), undefined);
  t.equal(protocolOfGreeting('SSH-2.0-OpenSSH'), undefined);
});
