// Which first request heads Node's parser refuses even when lenient (the device's connection then
// goes on as a byte stream), and the look-alikes it reads, which stay HTTP: a table. No sockets.

import t from 'tap';
import { firstHeadRefusal } from '../../../src/proxy/layers/http1-head-refusal.js';

const refused: Array<[string, string, RegExp]> = [
  ['a space before a header\'s colon', 'GET / HTTP/1.1\r\nHost: a\r\nX-Device-Id : 7\r\n\r\n', /header token/i],
  ['a space inside a header\'s name', 'GET / HTTP/1.1\r\nHost: a\r\nX Id: 7\r\n\r\n', /header token/i],
  ['Content-Length sent twice with one value', 'POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok', /duplicate content-length/i],
  ['Content-Length sent twice with two values', 'POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok', /duplicate content-length/i],
  ['Content-Length as a list', 'POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\nok', /content-length/i],
  ['Content-Length that is not a number', 'POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: two\r\n\r\nok', /content-length/i],
  ['a header line without a colon', 'GET / HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n', /header token/i],
  ['the same in bare LF', 'GET / HTTP/1.1\nHost: a\nX-Device-Id : 7\n\n', /header token/i],
  ['refused in its first header line, the rest read', 'GET / HTTP/1.1\r\nX Id: 7\r\nHost: a\r\n\r\n', /header token/i],
  ['a head cut short just past the byte refused: nothing later could mend it', 'GET / HTTP/1.1\r\nHost: a\r\nX-Device ', /header token/i],
];

const read: Array<[string, string]> = [
  ['a plain head', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['no space after a colon, a tab, spaces after a value', 'GET / HTTP/1.1\r\nHost:a\r\nX-Tab:\tb\r\nX-Trail: c  \r\n\r\n'],
  ['an empty value', 'GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n'],
  ['bare LF line ends (lenient)', 'GET / HTTP/1.1\nHost: a\n\n'],
  ['a folded line (lenient)', 'GET / HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n two\r\n\r\n'],
  ['a control byte in a value (lenient)', 'GET / HTTP/1.1\r\nHost: a\r\nX-Ctl: a\x01b\r\n\r\n'],
  ['bytes above 0x7F in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX-Name: Jos\xe9\r\n\r\n'],
  ['one Content-Length and a body', 'POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok'],
  ['Content-Length with Transfer-Encoding (lenient)', 'POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['no Host (HTTP/1.1 without it is the server\'s to refuse)', 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n'],
  ['an upgrade request', 'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'],
  ['empty lines before the request', '\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['the head cut short before the byte that will be refused', 'GET / HTTP/1.1\r\nHost: a\r\nX-Device'],
  ['the head not whole yet', 'GET / HTTP/1.1\r\nHost: a\r\n'],
  ['a body the parser refuses after a head it read (a bad chunk size): judged by the layer, not here', 'POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
  ['a second request refused after a first one read: only the first head is judged', 'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nX Id: 7\r\n\r\n'],
  ['nothing at all', ''],
];

for (const [name, bytes, reason] of refused) {
  t.test(`refused: ${name}`, async (t) => {
    t.match(firstHeadRefusal(Buffer.from(bytes, 'latin1')), reason);
  });
}
for (const [name, bytes] of read) {
  t.test(`read: ${name}`, async (t) => {
    t.equal(firstHeadRefusal(Buffer.from(bytes, 'latin1')), undefined);
  });
}

t.test('each question is asked afresh: a refused head leaves nothing behind for the next', async (t) => {
  t.ok(firstHeadRefusal(Buffer.from('GET / HTTP/1.1\r\nX Id: 7\r\n\r\n')));
  t.equal(firstHeadRefusal(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n')), undefined);
  t.equal(firstHeadRefusal(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n')), undefined, 'a head cut short after one that was whole');
  t.ok(firstHeadRefusal(Buffer.from('POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na')));
});
