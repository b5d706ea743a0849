// Which first bytes the HTTP/1 layer takes (a request line its parser reads as written) and which
// go on as a byte stream: a table of request lines and of look-alikes. No sockets.

import t from 'tap';
import { readRequestLine } from '../../../src/proxy/layers/http1-request-line.js';

const rows: Array<[string, string, ReturnType<typeof readRequestLine>]> = [
  ['GET, HTTP/1.1', 'GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n', 'http1'],
  ['POST, HTTP/1.0', 'POST /up HTTP/1.0\r\n', 'http1'],
  ['a bare LF ends the line (firmware that prints "\\n")', 'GET / HTTP/1.1\nHost: a\n\n', 'http1'],
  ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\n', 'http1'],
  ['WebDAV: PROPFIND', 'PROPFIND /dav/ HTTP/1.1\r\n', 'http1'],
  ['UPnP: M-SEARCH', 'M-SEARCH * HTTP/1.1\r\n', 'http1'],
  ['the newest safe method with a body: QUERY', 'QUERY /search HTTP/1.1\r\n', 'http1'],
  ['an absolute-form target', 'GET http://a.example/x HTTP/1.1\r\n', 'http1'],
  ['the line\'s end not read yet: the method decides', 'GET /a-very-long-path-that-goes-on', 'http1'],
  ['only the method and its space so far', 'GET ', 'http1'],
  ['a method cut short', 'PROPF', 'too-short'],
  ['nothing at all', '', 'too-short'],
  ['an empty line before the request (read past, as llhttp does)', '\r\nGET / HTTP/1.1\r\n', 'http1'],
  ['only empty lines so far', '\r\n', 'too-short'],
  ['RTSP: OPTIONS with RTSP/1.0 (llhttp reads it as HTTP)', 'OPTIONS rtsp://cam.local:554/stream RTSP/1.0\r\nCSeq: 1\r\n', 'other'],
  ['RTSP: DESCRIBE', 'DESCRIBE rtsp://cam.local/stream RTSP/1.0\r\n', 'other'],
  ['Icecast\'s SOURCE with ICE/1.0', 'SOURCE /live ICE/1.0\r\n', 'other'],
  ['a method the parser does not know', 'BREW /pot HTTP/1.1\r\n', 'other'],
  ['an extension method cut short is not a method yet', 'BRE', 'other'],
  ['lower case', 'get / HTTP/1.1\r\n', 'other'],
  ['HTTP/1.2', 'GET / HTTP/1.2\r\n', 'other'],
  ['HTTP/2.0 in a request line (not the preface)', 'GET / HTTP/2.0\r\n', 'other'],
  ['HTTP/0.9: no version', 'GET /\r\n', 'other'],
  ['two spaces after the method', 'GET  / HTTP/1.1\r\n', 'other'],
  ['a space in the target', 'GET /a b HTTP/1.1\r\n', 'other'],
  ['a UTF-8 path written as it is (llhttp refuses bytes above 0x7F)', 'GET /m\xc3\xbasica HTTP/1.1\r\n', 'other'],
  ['a DEL in the target', 'GET /a\x7f HTTP/1.1\r\n', 'other'],
  ['a percent-encoded path', 'GET /m%C3%BAsica HTTP/1.1\r\n', 'http1'],
  ['CONNECT: a proxy of the device\'s own beyond us', 'CONNECT example.com:443 HTTP/1.1\r\n', 'other'],
  ['the HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'other'],
  ['SMTP', 'EHLO phone\r\n', 'other'],
  ['POP3', 'USER jane\r\n', 'other'],
  ['a TLS record', '\x16\x03\x01\x00\xc8\x01', 'other'],
  ['a long token without a space', 'GETTINGLONGERTHANANYMETHOD', 'other'],
];

for (const [name, first, expected] of rows) {
  t.equal(readRequestLine(Buffer.from(first, 'latin1')), expected, name);
}
