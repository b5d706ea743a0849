// The offline HTTP/1 parser in tables: heads (request and status lines, header fields, folding,
// bare LF), body framing (Content-Length, Transfer-Encoding, HEAD/1xx/204/304/CONNECT), chunked
// bodies split anywhere across recorded chunks, and the direction's head search.

import t from 'tap';
import { readChunkedBody } from '../../../src/capture-file/chunked-body.js';
import { parseRequestHead, parseResponseHead, requestFraming, responseFraming } from '../../../src/capture-file/http1-head.js';
import { RecordedDirection } from '../../../src/capture-file/recorded-direction.js';

t.test('request heads', async (t) => {
  const cases: Array<[string, string, unknown]> = [
    ['a GET', 'GET /a?b=1 HTTP/1.1\r\nHost: x.test\r\nAccept: */*\r\n\r\n', { method: 'GET', target: '/a?b=1', httpVersion: 'HTTP/1.1', headers: [['Host', 'x.test'], ['Accept', '*/*']] }],
    ['HTTP/1.0 without headers', 'GET / HTTP/1.0\r\n\r\n', { method: 'GET', target: '/', httpVersion: 'HTTP/1.0', headers: [] }],
    ['bare LF line ends', 'POST /p HTTP/1.1\nContent-Length: 3\n\n', { method: 'POST', target: '/p', httpVersion: 'HTTP/1.1', headers: [['Content-Length', '3']] }],
    ['obsolete folding joins the value', 'GET / HTTP/1.1\r\nX-Long: one\r\n two\r\n\r\n', { method: 'GET', target: '/', httpVersion: 'HTTP/1.1', headers: [['X-Long', 'one two']] }],
    ['values trimmed, names kept as sent', 'GET / HTTP/1.1\r\nx-MiXed:   v  \r\n\r\n', { method: 'GET', target: '/', httpVersion: 'HTTP/1.1', headers: [['x-MiXed', 'v']] }],
    ['an absolute-form target', 'GET http://x.test/a HTTP/1.1\r\n\r\n', { method: 'GET', target: 'http://x.test/a', httpVersion: 'HTTP/1.1', headers: [] }],
  ];
  for (const [name, text, expected] of cases) {
    const parsed = parseRequestHead(Buffer.from(text, 'latin1'));
    t.ok(parsed.ok, name);
    if (parsed.ok) t.match(parsed.head, expected, name);
  }
  const bad: Array<[string, string, RegExp]> = [
    ['an SMTP line', 'EHLO phone\r\n\r\n', /not an HTTP\/1 request line/],
    ['HTTP/2 version', 'GET / HTTP/2.0\r\n\r\n', /unsupported HTTP version/],
    ['two spaces', 'GET  / HTTP/1.1\r\n\r\n', /not an HTTP\/1 request line/],
    ['a header without colon', 'GET / HTTP/1.1\r\nNoColon\r\n\r\n', /malformed header line/],
    ['a space before the colon', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n', /malformed header line/],
  ];
  for (const [name, text, reason] of bad) {
    const parsed = parseRequestHead(Buffer.from(text, 'latin1'));
    t.notOk(parsed.ok, name);
    if (!parsed.ok) t.match(parsed.reason, reason, name);
  }
});

t.test('status heads', async (t) => {
  const ok = parseResponseHead(Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
  t.match(ok, { ok: true, head: { status: 404, statusText: 'Not Found', httpVersion: 'HTTP/1.1' } });
  t.match(parseResponseHead(Buffer.from('HTTP/1.1 200\r\n\r\n')), { ok: true, head: { status: 200, statusText: '' } }, 'no reason phrase');
  t.match(parseResponseHead(Buffer.from('HTTP/1.0 200 OK\r\n\r\n')), { ok: true, head: { httpVersion: 'HTTP/1.0' } });
  t.match(parseResponseHead(Buffer.from('ICY 200 OK\r\n\r\n')), { ok: false });
  t.match(parseResponseHead(Buffer.from('HTTP/1.1 20 OK\r\n\r\n')), { ok: false });
});

t.test('body framing', async (t) => {
  const request = (headers: string): ReturnType<typeof requestFraming> => {
    const parsed = parseRequestHead(Buffer.from(`POST / HTTP/1.1\r\n${headers}\r\n`));
    if (!parsed.ok) throw new Error(parsed.reason);
    return requestFraming(parsed.head);
  };
  const response = (status: string, headers: string, method = 'GET'): ReturnType<typeof responseFraming> => {
    const parsed = parseResponseHead(Buffer.from(`HTTP/1.1 ${status}\r\n${headers}\r\n`));
    if (!parsed.ok) throw new Error(parsed.reason);
    return responseFraming(parsed.head, method);
  };
  t.same(request(''), { kind: 'none' }, 'a request without length has no body');
  t.same(request('Content-Length: 10\r\n'), { kind: 'length', bytes: 10 });
  t.same(request('Content-Length: 0\r\n'), { kind: 'none' });
  t.same(request('Content-Length: 10\r\nContent-Length: 10\r\n'), { kind: 'length', bytes: 10 }, 'repeated but equal');
  t.match(request('Content-Length: 10\r\nContent-Length: 11\r\n'), { kind: 'invalid' }, 'conflicting lengths');
  t.match(request('Content-Length: -1\r\n'), { kind: 'invalid' });
  t.match(request('Content-Length: 1e3\r\n'), { kind: 'invalid' });
  t.same(request('Transfer-Encoding: chunked\r\nContent-Length: 5\r\n'), { kind: 'chunked' }, 'chunked wins over a length');
  t.same(request('Transfer-Encoding: gzip, chunked\r\n'), { kind: 'chunked' });
  t.match(request('Transfer-Encoding: gzip\r\n'), { kind: 'invalid' }, 'a request whose end cannot be known');
  t.same(response('200 OK', ''), { kind: 'close' }, 'a response without length runs to the close');
  t.same(response('200 OK', 'Transfer-Encoding: gzip\r\n'), { kind: 'close' });
  t.same(response('200 OK', 'Content-Length: 5\r\n', 'HEAD'), { kind: 'none' }, 'HEAD');
  t.same(response('204 No Content', 'Content-Length: 5\r\n'), { kind: 'none' });
  t.same(response('304 Not Modified', 'Content-Length: 5\r\n'), { kind: 'none' });
  t.same(response('100 Continue', ''), { kind: 'none' });
  t.same(response('200 Connection established', '', 'CONNECT'), { kind: 'none' }, 'a CONNECT tunnel');
  t.same(response('407 Proxy Authentication Required', 'Content-Length: 3\r\n', 'CONNECT'), { kind: 'length', bytes: 3 });
});

/** A direction made of `text` cut into pieces of `size` bytes. */
function direction(text: string, size: number): RecordedDirection {
  const bytes = Buffer.from(text, 'latin1');
  const chunks = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push({ fromClient: true, time: `t${String(at).padStart(6, '0')}`, data: bytes.subarray(at, at + size) });
  return new RecordedDirection(chunks, true);
}

t.test('chunked bodies, split anywhere', async (t) => {
  const body = '5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: abc\r\nX-Other: 2\r\n\r\nNEXT';
  for (const size of [1, 2, 3, 7, 1000]) {
    const d = direction(body, size);
    const read = readChunkedBody(d, 0);
    t.equal(read.ranges.map(([a, b]) => d.slice(a, b).toString()).join(''), 'hello world', `data (pieces of ${size})`);
    t.same(read.trailers, [['X-Sum', 'abc'], ['X-Other', '2']], `trailers (pieces of ${size})`);
    t.equal(d.slice(read.end, d.length).toString(), 'NEXT', `end (pieces of ${size})`);
    t.notOk(read.error);
  }
  const cases: Array<[string, string, RegExp]> = [
    ['cut in the data', '5\r\nhel', /capture ended inside a chunked body/],
    ['cut in a size line', '5\r\nhello\r\n1', /capture ended inside a chunked body/],
    ['cut in the trailers', '0\r\nX-Sum: a', /capture ended inside the trailers/],
    ['not hex', 'zz\r\nhello\r\n0\r\n\r\n', /bad chunk-size line/],
    ['data longer than its size', '3\r\nhello\r\n0\r\n\r\n', /longer than its size/],
  ];
  for (const [name, text, error] of cases) t.match(readChunkedBody(direction(text, 4), 0).error, error, name);
  const noTrailers = readChunkedBody(direction('0\r\n\r\n', 2), 0);
  t.same([noTrailers.ranges, noTrailers.trailers, noTrailers.end, noTrailers.error], [[], [], 5, undefined], 'an empty body');
});

t.test('the direction finds heads and bytes across chunks, with their times', async (t) => {
  const text = 'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\n\nrest';
  for (const size of [1, 3, 5, 100]) {
    const d = direction(text, size);
    const first = d.headEnd(0, 1000);
    t.equal(first, 27, `CRLF head (pieces of ${size})`);
    t.equal(d.headEnd(first, 1000), 44, `bare LF head (pieces of ${size})`);
    t.equal(d.headEnd(44, 1000), -1, 'no head end yet');
    t.equal(d.headEnd(0, 20), -1, 'not before the limit');
    t.equal(d.slice(44, 48).toString(), 'rest');
    t.equal(d.indexOfByte(0x2f, 4, 1000), 4);
    t.equal(d.indexOfByte(0x2f, 5, 1000), 10);
    t.equal(d.indexOfByte(0x2f, 11, 1000), 31);
  }
  const d = direction(text, 10);
  t.equal(d.timeAt(0, 'none'), 't000000');
  t.equal(d.timeAt(15, 'none'), 't000010');
  t.equal(d.timeAt(999, 'none'), 't000040', 'past the end: the last chunk');
  t.equal(new RecordedDirection([], true).timeAt(0, 'none'), 'none');
  t.same(d.pieces(8, 22).map((p) => p.data.toString()), ['TP', '/1.1\r\nHost', ': '], 'views by chunk');
});
