// The next-layer decision as a table: first bytes and port in, layer out. No sockets.

import t from 'tap';
import { decideNextLayer, type ClientQuiet } from '../../../src/proxy/layers/next-layer.js';

const rows: Array<[string, Buffer | undefined, number, ClientQuiet | undefined, string]> = [
  ['a ClientHello', Buffer.from([0x16, 3, 1, 0, 200, 1]), 443, undefined, 'tls'],
  ['a ClientHello on an odd port', Buffer.from([0x16, 3, 3]), 8443, undefined, 'tls'],
  ['an SSL 2.0-format ClientHello that offers TLS 1.2 (an old Java or OpenSSL client)', Buffer.from('8095010303006c0000002000c02c', 'hex'), 443, undefined, 'tls'],
  ['look-alike: SSL 2.0 itself (version 0.2)', Buffer.from('802e0100020015', 'hex'), 443, undefined, 'raw'],
  ['look-alike: a binary protocol with the high bit set', Buffer.from([0x80, 0x10, 0x05, 0x03, 0x01]), 9000, undefined, 'raw'],
  ['look-alike: four bytes with the high bit set, too few to tell', Buffer.from([0x80, 0x95, 0x01, 0x03]), 9000, undefined, 'raw'],
  ['an HTTP/1.1 request line', Buffer.from('GET /index.html HTTP/1.1\r\n'), 80, undefined, 'http1'],
  ['a POST', Buffer.from('POST /upload HTTP/1.1\r\n'), 8080, undefined, 'http1'],
  ['the h2c preface', Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), 80, undefined, 'http2'],
  ['an SMTP client that speaks first (EHLO)', Buffer.from('EHLO phone\r\n'), 2526, undefined, 'raw'],
  ['random bytes', Buffer.from([0x00, 0x01, 0x02]), 9000, undefined, 'raw'],
  ['lower-case text is not a request line', Buffer.from('get / http/1.1\r\n'), 80, undefined, 'raw'],
  ['a method the parser knows beyond the common ones (LINK)', Buffer.from('LINK /a HTTP/1.1\r\n'), 80, undefined, 'http1'],
  ['an RTSP camera\'s first request: OPTIONS, but RTSP/1.0', Buffer.from('OPTIONS rtsp://cam.local/stream RTSP/1.0\r\nCSeq: 1\r\n\r\n'), 554, undefined, 'raw'],
  ['an RTSP DESCRIBE', Buffer.from('DESCRIBE rtsp://cam.local/stream RTSP/1.0\r\n'), 554, undefined, 'raw'],
  ['a method the parser does not know (BREW)', Buffer.from('BREW /pot HTTP/1.1\r\n'), 80, undefined, 'raw'],
  ['CONNECT to a proxy of the device\'s own, beyond us', Buffer.from('CONNECT example.com:443 HTTP/1.1\r\n'), 3128, undefined, 'raw'],
  ['HTTP/1.2: a version the layer would send on as 1.1', Buffer.from('GET / HTTP/1.2\r\n'), 80, undefined, 'raw'],
  ['a whole head our parser would refuse (a space before a colon): relayed as it is', Buffer.from('GET / HTTP/1.1\r\nX-Id : 7\r\n\r\n'), 80, undefined, 'raw'],
  ['the same head cut short just after the space: refused as surely', Buffer.from('GET / HTTP/1.1\r\nX-Id '), 80, undefined, 'raw'],
  ['the same head cut short before the space: the layer\'s parser decides, as before', Buffer.from('GET / HTTP/1.1\r\nX-Id'), 80, undefined, 'http1'],
  ['a whole head our parser reads', Buffer.from('GET / HTTP/1.1\r\nX-Id:7\r\n\r\n'), 80, undefined, 'http1'],
  ['nothing yet on SMTP\'s port: the server speaks first, and may agree to STARTTLS', undefined, 25, undefined, 'starttls'],
  ['nothing yet on IMAP\'s port', undefined, 143, undefined, 'starttls'],
  ['nothing yet on POP3\'s port', undefined, 110, undefined, 'starttls'],
  ['nothing yet on submission', undefined, 587, undefined, 'starttls'],
  ['nothing yet on 2525', undefined, 2525, undefined, 'starttls'],
  ['nothing yet on SSH\'s port: raw, no STARTTLS there', undefined, 22, undefined, 'raw'],
  ['nothing yet on FTP\'s port: raw', undefined, 21, undefined, 'raw'],
  ['nothing yet on XMPP\'s port: the client opens the stream, wait', undefined, 5222, undefined, 'wait'],
  ['an XMPP stream header on 5222', Buffer.from("<?xml version='1.0'?><stream:stream to='x'>"), 5222, undefined, 'starttls'],
  ['an XMPP stream header on a port of its own (openssl -starttls xmpp)', Buffer.from("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' to='chat.example' version='1.0'>"), 5280, undefined, 'starttls'],
  ['an XMPP stream header after an XML declaration, on 443', Buffer.from("<?xml version='1.0'?>\n<stream:stream to='x' version='1.0'>"), 443, undefined, 'starttls'],
  ['look-alike: other XML on a port of its own', Buffer.from("<?xml version='1.0'?><methodCall><methodName>x</methodName>"), 9000, undefined, 'raw'],
  ['look-alike: a stream element named otherwise', Buffer.from('<stream:streaming>'), 9000, undefined, 'raw'],
  ['an SMTP client that speaks before the greeting on 25', Buffer.from('EHLO phone\r\n'), 25, undefined, 'starttls'],
  ['a ClientHello on 587 (not STARTTLS, TLS from the first byte)', Buffer.from([0x16, 3, 1]), 587, undefined, 'tls'],
  ['nothing yet on 443: wait', undefined, 443, undefined, 'wait'],
  ['still nothing after the sniff window: the greeting will tell', undefined, 443, 'client-silent', 'starttls'],
  ['nothing, and the server spoke first on a port we do not know (MySQL\'s): its greeting tells', undefined, 3306, 'server-speaks-first', 'starttls'],
  ['the client\'s bytes decide even once the server spoke', Buffer.from([0x16, 3, 1]), 3306, 'server-speaks-first', 'tls'],
];

for (const [name, first, port, quiet, layer] of rows) {
  t.equal(decideNextLayer(first, port, quiet).layer, layer, name);
}

t.same(decideNextLayer(undefined, 25), { layer: 'starttls', protocol: 'smtp', why: 'server-speaks-first' });
t.same(decideNextLayer(undefined, 143), { layer: 'starttls', protocol: 'imap', why: 'server-speaks-first' });
t.same(decideNextLayer(undefined, 110), { layer: 'starttls', protocol: 'pop3', why: 'server-speaks-first' });
t.same(decideNextLayer(Buffer.from('<stream:stream>'), 5222), { layer: 'starttls', protocol: 'xmpp', why: 'client-speaks-first' });
t.same(decideNextLayer(Buffer.from("<stream:stream to='x'>"), 5280), { layer: 'starttls', protocol: 'xmpp', why: 'client-speaks-first' }, 'XMPP known by its stream header, whatever the port');
t.same(decideNextLayer(undefined, 8443, 'client-silent'), { layer: 'starttls', protocol: undefined, why: 'client-silent' });
t.same(decideNextLayer(undefined, 5900, 'server-speaks-first'), { layer: 'starttls', protocol: undefined, why: 'server-speaks-first' }, 'a VNC server\'s greeting on a port we do not know');
t.same(decideNextLayer(undefined, 22, 'client-silent'), { layer: 'raw', why: 'server-speaks-first' }, 'a known port says it first');
t.same(decideNextLayer(undefined, 22), { layer: 'raw', why: 'server-speaks-first' });
t.equal((decideNextLayer(Buffer.from([1, 2, 3]), 8443) as { why?: string }).why, 'not-tls-or-http');
t.same(decideNextLayer(Buffer.from('POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na'), 8080), { layer: 'raw', why: 'http1-parser-refuses' }, 'Content-Length sent twice: the server answers it');
