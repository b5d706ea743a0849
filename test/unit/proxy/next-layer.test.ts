// The next-layer decision as a table: first bytes and port in, layer out. No sockets.

import t from 'tap';
import { decideNextLayer } from '../../../src/proxy/layers/next-layer.js';

const rows: Array<[string, Buffer | undefined, number, boolean, string]> = [
  ['a ClientHello', Buffer.from([0x16, 3, 1, 0, 200, 1]), 443, false, 'tls'],
  ['a ClientHello on an odd port', Buffer.from([0x16, 3, 3]), 8443, false, 'tls'],
  ['an HTTP/1.1 request line', Buffer.from('GET /index.html HTTP/1.1\r\n'), 80, false, 'http1'],
  ['a POST', Buffer.from('POST /upload HTTP/1.1\r\n'), 8080, false, 'http1'],
  ['the h2c preface', Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), 80, false, 'http2'],
  ['an SMTP client that speaks first (EHLO)', Buffer.from('EHLO phone\r\n'), 2526, false, 'raw'],
  ['random bytes', Buffer.from([0x00, 0x01, 0x02]), 9000, false, 'raw'],
  ['lower-case text is not a request line', Buffer.from('get / http/1.1\r\n'), 80, false, 'raw'],
  ['a method the parser knows beyond the common ones (LINK)', Buffer.from('LINK /a HTTP/1.1\r\n'), 80, false, 'http1'],
  ['an RTSP camera\'s first request: OPTIONS, but RTSP/1.0', Buffer.from('OPTIONS rtsp://cam.local/stream RTSP/1.0\r\nCSeq: 1\r\n\r\n'), 554, false, 'raw'],
  ['an RTSP DESCRIBE', Buffer.from('DESCRIBE rtsp://cam.local/stream RTSP/1.0\r\n'), 554, false, 'raw'],
  ['a method the parser does not know (BREW)', Buffer.from('BREW /pot HTTP/1.1\r\n'), 80, false, 'raw'],
  ['CONNECT to a proxy of the device\'s own, beyond us', Buffer.from('CONNECT example.com:443 HTTP/1.1\r\n'), 3128, false, 'raw'],
  ['HTTP/1.2: a version the layer would send on as 1.1', Buffer.from('GET / HTTP/1.2\r\n'), 80, false, 'raw'],
  ['nothing yet on SMTP\'s port: the server speaks first, and may agree to STARTTLS', undefined, 25, false, 'starttls'],
  ['nothing yet on IMAP\'s port', undefined, 143, false, 'starttls'],
  ['nothing yet on POP3\'s port', undefined, 110, false, 'starttls'],
  ['nothing yet on submission', undefined, 587, false, 'starttls'],
  ['nothing yet on 2525', undefined, 2525, false, 'starttls'],
  ['nothing yet on SSH\'s port: raw, no STARTTLS there', undefined, 22, false, 'raw'],
  ['nothing yet on FTP\'s port: raw', undefined, 21, false, 'raw'],
  ['nothing yet on XMPP\'s port: the client opens the stream, wait', undefined, 5222, false, 'wait'],
  ['an XMPP stream header on 5222', Buffer.from("<?xml version='1.0'?><stream:stream to='x'>"), 5222, false, 'starttls'],
  ['an SMTP client that speaks before the greeting on 25', Buffer.from('EHLO phone\r\n'), 25, false, 'starttls'],
  ['a ClientHello on 587 (not STARTTLS, TLS from the first byte)', Buffer.from([0x16, 3, 1]), 587, false, 'tls'],
  ['nothing yet on 443: wait', undefined, 443, false, 'wait'],
  ['still nothing after the sniff window: the greeting will tell', undefined, 443, true, 'starttls'],
];

for (const [name, first, port, silent, layer] of rows) {
  t.equal(decideNextLayer(first, port, silent).layer, layer, name);
}

t.same(decideNextLayer(undefined, 25), { layer: 'starttls', protocol: 'smtp', why: 'server-speaks-first' });
t.same(decideNextLayer(undefined, 143), { layer: 'starttls', protocol: 'imap', why: 'server-speaks-first' });
t.same(decideNextLayer(undefined, 110), { layer: 'starttls', protocol: 'pop3', why: 'server-speaks-first' });
t.same(decideNextLayer(Buffer.from('<stream:stream>'), 5222), { layer: 'starttls', protocol: 'xmpp', why: 'client-speaks-first' });
t.same(decideNextLayer(undefined, 8443, true), { layer: 'starttls', protocol: undefined, why: 'client-silent' });
t.same(decideNextLayer(undefined, 22), { layer: 'raw', why: 'server-speaks-first' });
t.equal((decideNextLayer(Buffer.from([1, 2, 3]), 8443) as { why?: string }).why, 'not-tls-or-http');
