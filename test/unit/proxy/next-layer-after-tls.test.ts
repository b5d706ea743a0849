import t from 'tap';
import { decideAfterTls } from '../../../src/proxy/layers/next-layer-after-tls.js';

const rows: Array<[string, Parameters<typeof decideAfterTls>, ReturnType<typeof decideAfterTls>]> = [
  ['ALPN h2', ['h2', 443], { layer: 'http2' }],
  ['ALPN http/1.1 and a request line', ['http/1.1', 443, Buffer.from('GET / HTTP/1.1\r\n')], { layer: 'http1' }],
  ['ALPN http/1.1, nothing read yet', ['http/1.1', 443], { layer: 'http1' }],
  ['ALPN http/1.1, a request line cut short in its method', ['http/1.1', 443, Buffer.from('PROP')], { layer: 'http1' }],
  ['ALPN http/1.1, a method the parser does not know: relayed as it is, for the server to answer', ['http/1.1', 443, Buffer.from('BREW /pot HTTP/1.1\r\n')], { layer: 'raw', why: 'not-http' }],
  ['ALPN http/1.1, a head our parser would refuse (a space in a name): relayed as it is', ['http/1.1', 443, Buffer.from('GET / HTTP/1.1\r\nX Id: 7\r\n\r\n')], { layer: 'raw', why: 'http1-parser-refuses' }],
  ['ALPN http/1.1, a head it reads', ['http/1.1', 443, Buffer.from('GET / HTTP/1.1\r\nX-Id:7\r\n\r\n')], { layer: 'http1' }],
  ['no ALPN, a head our parser would refuse', [undefined, 443, Buffer.from('GET / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n')], { layer: 'raw', why: 'http1-parser-refuses' }],
  ['ALPN http/1.1, odd first bytes: the server answers them, not our parser', ['http/1.1', 443, Buffer.from('\x10\x20')], { layer: 'raw', why: 'not-http' }],
  ['ALPN of another protocol (imap)', ['imap', 993], { layer: 'raw', why: 'alpn' }],
  ['no ALPN, SMTPS port, nothing yet: the server speaks first', [undefined, 465], { layer: 'raw', why: 'server-speaks-first' }],
  ['no ALPN, IMAPS port', [undefined, 993], { layer: 'raw', why: 'server-speaks-first' }],
  ['no ALPN, POP3S port', [undefined, 995], { layer: 'raw', why: 'server-speaks-first' }],
  ['no ALPN, port 443, nothing yet: wait', [undefined, 443], { layer: 'wait' }],
  ['no ALPN, a request line (old Android without ALPN)', [undefined, 443, Buffer.from('GET / HTTP/1.1\r\n')], { layer: 'http1' }],
  ['no ALPN, the HTTP/2 preface', [undefined, 443, Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')], { layer: 'http2' }],
  ['no ALPN, MQTT CONNECT on 8883', [undefined, 8883, Buffer.from([0x10, 0x12, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54])], { layer: 'raw', why: 'not-http' }],
  ['no ALPN, "EHLO" is not HTTP', [undefined, 2525, Buffer.from('EHLO phone\r\n')], { layer: 'raw', why: 'not-http' }],
  ['no ALPN, a ClientHello inside TLS is relayed, not decrypted twice', [undefined, 443, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05])], { layer: 'raw', why: 'not-http' }],
  ['no ALPN, silent past the sniff window', [undefined, 5223, undefined, 'client-silent'], { layer: 'raw', why: 'client-silent' }],
  ['no ALPN, nothing yet, and the server spoke first (IMAPS on a port of its own)', [undefined, 9993, undefined, 'server-speaks-first'], { layer: 'raw', why: 'server-speaks-first' }],
  ['no ALPN, the client\'s request decides even once the server spoke', [undefined, 9993, Buffer.from('GET / HTTP/1.1\r\n'), 'server-speaks-first'], { layer: 'http1' }],
  ['ALPN h2: the server speaking first changes nothing', ['h2', 9993, undefined, 'server-speaks-first'], { layer: 'http2' }],
];
for (const [name, args, expected] of rows) {
  t.test(name, async (t) => {
    t.same(decideAfterTls(...args), expected);
  });
}
