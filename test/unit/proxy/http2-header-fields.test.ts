// HTTP/2 header fields relayed as they came: a repeated name as its fields, not Node's joined
// value; a single value that merely contains a comma left alone; what Node allows once, as Node kept it.

import t from 'tap';
import http2 from 'node:http2';
import { once } from 'node:events';
import { caseVariant, fieldsOf, forwardable, sendFields } from '../../../src/proxy/layers/http2-header-fields.js';

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

// Order matters here: t.same does not look at the order of keys, so entries are compared.
const inOrder: Array<{ name: string; headers: http2.IncomingHttpHeaders; raw: string[]; expected: Array<[string, string | string[]]> }> = [
  { name: 'a name that comes back after another goes under another case of itself, in its place', headers: { 'x-a': '1, 3', 'x-b': '2' }, raw: ['x-a', '1', 'x-b', '2', 'x-a', '3'], expected: [['x-a', '1'], ['x-b', '2'], ['X-a', '3']] },
  { name: 'a third run takes the next case', headers: { 'x-a': '1, 3, 5', 'x-b': '2, 4' }, raw: ['x-a', '1', 'x-b', '2', 'x-a', '3', 'x-b', '4', 'x-a', '5'], expected: [['x-a', '1'], ['x-b', '2'], ['X-a', '3'], ['X-b', '4'], ['x-A', '5']] },
  { name: 'a run of one name stays one array', headers: { 'x-a': '1, 2, 4', 'x-b': '3' }, raw: ['x-a', '1', 'x-a', '2', 'x-b', '3', 'x-a', '4'], expected: [['x-a', ['1', '2']], ['x-b', '3'], ['X-a', '4']] },
  { name: 'set-cookie apart (Node hands it as an array already)', headers: { 'set-cookie': ['a=1', 'b=2'], 'x-b': '2' }, raw: ['set-cookie', 'a=1', 'x-b', '2', 'set-cookie', 'b=2'], expected: [['set-cookie', 'a=1'], ['x-b', '2'], ['Set-cookie', 'b=2']] },
  { name: 'a hop-by-hop field between two of a name is dropped, and they are one run', headers: { 'x-a': '1, 2', connection: 'close' }, raw: ['x-a', '1', 'connection', 'close', 'x-a', '2'], expected: [['x-a', ['1', '2']]] },
  { name: 'pseudo-headers first, as they came', headers: { ':status': '200', 'x-a': '1, 3', 'x-b': '2' }, raw: [':status', '200', 'x-a', '1', 'x-b', '2', 'x-a', '3'], expected: [[':status', '200'], ['x-a', '1'], ['x-b', '2'], ['X-a', '3']] },
  { name: 'a name with more runs than cases goes with its fields together (what Node\'s grouping gives)', headers: { a: '1, 3, 5', b: '2, 4' }, raw: ['a', '1', 'b', '2', 'a', '3', 'b', '4', 'a', '5'], expected: [['a', ['1', '3', '5']], ['b', ['2', '4']]] },
];

for (const c of inOrder) {
  t.test(c.name, async (t) => {
    t.same(Object.entries(forwardable(c.headers, c.raw)), c.expected);
  });
}

t.test('caseVariant: the letters upper-cased as the bits of n say; none past the last', async (t) => {
  t.same([0, 1, 2, 3].map((n) => caseVariant('x-a', n)), ['x-a', 'X-a', 'x-A', 'X-A']);
  t.equal(caseVariant('x-a', 4), undefined);
  t.equal(caseVariant('x-1', 2), undefined, 'one letter: two spellings');
  t.equal(caseVariant('123', 1), undefined, 'no letter: one');
});

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
  await send({ 'x-a': '1, 3', 'x-b': '2' }, ['x-a', '1', 'x-b', '2', 'x-a', '3']);
  t.same(received[0], ['x-seen', 'one', 'x-seen', 'two'], 'two fields');
  t.same(received[1], ['user-agent', 'a, b'], 'as Node kept it');
  t.same(received[2], ['x-a', '1', 'x-b', '2', 'x-a', '3'], 'in their order, in lower case');
});
