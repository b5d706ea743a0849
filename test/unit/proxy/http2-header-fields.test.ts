// HTTP/2 header fields relayed as they came: a repeated name as its fields, not Node's joined
// value; a single value that merely contains a comma left alone; what Node allows once, as Node kept it.

import t from 'tap';
import http2 from 'node:http2';
import { once } from 'node:events';
import { fieldsOf, forwardable, sendFields } from '../../../src/proxy/layers/http2-header-fields.js';

const cases: Array<{ name: string; headers: http2.IncomingHttpHeaders; raw: string[]; expected: http2.OutgoingHttpHeaders }> = [
  { name: 'a name sent twice goes as its two fields', headers: { 'x-seen': 'one, two' }, raw: ['x-seen', 'one', 'x-seen', 'two'], expected: { 'x-seen': ['one', 'two'] } },
  { name: 'cookie crumbs stay crumbs', headers: { cookie: 'a=1; b=2' }, raw: ['cookie', 'a=1', 'cookie', 'b=2'], expected: { cookie: ['a=1', 'b=2'] } },
  { name: 'one field whose value has a comma: as it is', headers: { accept: 'text/html, */*' }, raw: ['accept', 'text/html, */*'], expected: { accept: 'text/html, */*' } },
  { name: 'one cookie with two pairs: as it is', headers: { cookie: 'a=1; b=2' }, raw: ['cookie', 'a=1; b=2'], expected: { cookie: 'a=1; b=2' } },
  { name: 'set-cookie is already one value per field', headers: { 'set-cookie': ['a=1', 'b=2'] }, raw: ['set-cookie', 'a=1', 'set-cookie', 'b=2'], expected: { 'set-cookie': ['a=1', 'b=2'] } },
  { name: 'hop-by-hop fields are dropped, repeated or not', headers: { connection: 'a, b', te: 'gzip', 'x-a': '1' }, raw: ['connection', 'a', 'connection', 'b', 'te', 'gzip', 'x-a', '1'], expected: { 'x-a': '1' } },
  { name: 'te: trailers stays', headers: { te: 'trailers' }, raw: ['te', 'trailers'], expected: { te: 'trailers' } },
  { name: 'pseudo-headers cross', headers: { ':method': 'GET', ':path': '/a' }, raw: [':method', 'GET', ':path', '/a'], expected: { ':method': 'GET', ':path': '/a' } },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    t.same(forwardable(c.headers, c.raw), c.expected);
  });
}

t.test('without the raw list: Node\'s values as they are (what was relayed before)', async (t) => {
  t.same(forwardable({ 'x-seen': 'one, two' }), { 'x-seen': 'one, two' });
});

t.test('fieldsOf: the values of a repeated name in order; undefined for a name seen once or never', async (t) => {
  t.same(fieldsOf(['a', '1', 'b', '2', 'a', '3'], 'a'), ['1', '3']);
  t.equal(fieldsOf(['a', '1', 'b', '2'], 'a'), undefined);
  t.equal(fieldsOf(['a', '1'], 'c'), undefined);
});

t.test('through Node: a repeated name arrives as its fields; a name Node allows once falls back to what Node kept', async (t) => {
  const server = http2.createServer();
  const received: string[][] = [];
  server.on('stream', (stream: http2.ServerHttp2Stream, _headers: http2.IncomingHttpHeaders, _flags: number, raw: string[]) => {
    received.push(raw.filter((_, i) => !raw[i - (i % 2)]!.startsWith(':')));
    stream.respond({ ':status': 204 });
    stream.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const session = http2.connect(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  t.teardown(() => session.close());
  const send = async (headers: http2.IncomingHttpHeaders, raw: string[]): Promise<void> => {
    const stream = sendFields({ ':path': '/', ...headers }, raw, (fields) => session.request(fields, { endStream: true }));
    stream.resume();
    await once(stream, 'close');
  };
  await send({ 'x-seen': 'one, two' }, ['x-seen', 'one', 'x-seen', 'two']);
  await send({ 'user-agent': 'a, b' }, ['user-agent', 'a', 'user-agent', 'b']);
  t.same(received[0], ['x-seen', 'one', 'x-seen', 'two'], 'two fields');
  t.same(received[1], ['user-agent', 'a, b'], 'as Node kept it');
});
