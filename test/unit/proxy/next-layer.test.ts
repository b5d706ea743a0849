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
  ['nothing yet on SMTP\'s port: the server speaks first', undefined, 25, false, 'raw'],
  ['nothing yet on IMAP\'s port', undefined, 143, false, 'raw'],
  ['nothing yet on submission', undefined, 587, false, 'raw'],
  ['nothing yet on 443: wait', undefined, 443, false, 'wait'],
  ['still nothing after the sniff window', undefined, 443, true, 'raw'],
];

for (const [name, first, port, silent, layer] of rows) {
  t.equal(decideNextLayer(first, port, silent).layer, layer, name);
}

t.equal((decideNextLayer(undefined, 25) as { why?: string }).why, 'server-speaks-first');
t.equal((decideNextLayer(undefined, 8443, true) as { why?: string }).why, 'client-silent');
t.equal((decideNextLayer(Buffer.from([1, 2, 3]), 8443) as { why?: string }).why, 'not-tls-or-http');
