// A device connection's requests as it wrote them, heads and chunked bodies, followed in step with
// Node's parser (src/proxy/layers/requests-as-sent.ts): on a real connection to our HTTP/1 server
// (makeHttpServer), requests pipelined in one write, and what stops the following.

import t, { type Test } from 'tap';
import net from 'node:net';
import http from 'node:http';
import { once } from 'node:events';
import { makeHttpServer } from '../../../src/proxy/layers/http1-layer.js';
import { noteRequest, takeChunkedBodyAsSent, watchRequestFraming, withHeadAsSent } from '../../../src/proxy/layers/requests-as-sent.js';
import { limits } from '../../../src/limits.js';

interface Seen {
  readonly request: string;
  /** The body as the device framed it (framing and data), when it was followed to its end. */
  sent?: string;
  /** Why the following stopped, for a body that was not followed to its end. */
  stopped?: string;
  /** What the parser read of the body. */
  data: string;
}

/**
 * Our HTTP/1 server on 127.0.0.1, sent `bytes` (or written to by them), taking the body of each
 * request as sent at once, or once the parser has read it all (`late`), and answering each with a
 * 204 (after `onRequest`). Resolves with what it saw once `expected` requests were answered.
 */
async function serve(t: Test, bytes: string | ((client: net.Socket) => Promise<void>), expected: number, late = false, onRequest?: (req: http.IncomingMessage) => void): Promise<Seen[]> {
  const server = makeHttpServer((_err, socket) => socket.destroy(), 0);
  const seen: Seen[] = [];
  const allSeen = new Promise<void>((resolve) => {
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      onRequest?.(req);
      const entry: Seen = { request: `${req.method} ${req.url}`, data: '' };
      seen.push(entry);
      const take = (): void => {
        const asSent = takeChunkedBodyAsSent(req);
        if (!asSent) return;
        let sent = '';
        const claimed = asSent.claim((piece) => {
          if (piece.kind === 'framing' || piece.kind === 'data') sent += piece.bytes.toString('latin1');
          else if (piece.kind === 'end') entry.sent = sent;
          else entry.stopped = piece.reason;
        });
        if (!claimed) entry.stopped = 'not kept';
      };
      if (!late) take();
      req.on('data', (chunk: Buffer) => { entry.data += chunk.toString('latin1'); });
      req.on('end', () => {
        if (late) take();
        res.writeHead(204).end();
        // The parser's end may come before the framing of the same read is shown (parser-bytes.ts).
        if (seen.length === expected) setImmediate(resolve);
      });
    });
  });
  const listener = net.createServer((socket) => server.emit('connection', socket)).listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const client = net.connect({ port: (listener.address() as net.AddressInfo).port, host: '127.0.0.1', noDelay: true });
  t.teardown(() => { client.destroy(); listener.close(); });
  client.on('data', () => undefined);
  if (typeof bytes === 'string') client.write(Buffer.from(bytes, 'latin1'));
  else await bytes(client);
  await allSeen;
  return seen;
}

const CHUNKED = 'POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';

t.test('pipelined: a length body, a stray CRLF, chunked bodies around a GET, each followed in step', async (t) => {
  const upper = '0A;part=1\r\n0123456789\r\nED8\r\n' + 'y'.repeat(0xed8) + '\r\n0\r\nX-Sum: 9\r\n\r\n';
  const small = '5\r\nhello\r\n0\r\n\r\n';
  const seen = await serve(t, 'POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n\r\n5\r\nab\r\n' + '\r\n'
    + CHUNKED + upper + 'GET /c HTTP/1.1\r\nHost: a\r\n\r\n' + CHUNKED.replace('/b', '/d') + small, 4);
  t.same(seen.map((s) => s.request), ['POST /a', 'POST /b', 'GET /c', 'POST /d']);
  t.equal(seen[0]!.sent, undefined, 'a length-delimited body (which looks chunked) is not taken for one');
  t.equal(seen[1]!.sent, upper, 'upper-case sizes, an extension and trailers, as sent');
  t.equal(seen[1]!.data, '0123456789' + 'y'.repeat(0xed8), 'the parser read the same data');
  t.equal(seen[3]!.sent, small, 'the next chunked body, after a GET');
});

/** A head as withHeadAsSent hands it over, and whether it came within the call. */
interface HeadSeen { readonly url: string | undefined; readonly head: string | undefined; readonly atOnce: boolean }

/** Asks for `req`'s head as sent, recording what comes into `heads`. */
function askHead(req: http.IncomingMessage, heads: HeadSeen[]): void {
  let within = true;
  withHeadAsSent(req, (head) => heads.push({ url: req.url, head, atOnce: within }));
  within = false;
}

t.test('each request\'s head as sent: asked for when the request comes, it is handed over once the watch has read it', async (t) => {
  const first = 'POST /a HTTP/1.1\r\nHost: a\r\nX-A:1\r\nContent-Length: 3\r\n\r\n';
  const second = 'GET /b HTTP/1.1\r\nHost:  b \r\nX-Empty:\r\n\r\n';
  const heads: HeadSeen[] = [];
  // A stray CRLF between the two, which the parser skips.
  await serve(t, `${first}abc\r\n${second}`, 2, false, (req) => askHead(req, heads));
  t.same(heads, [
    { url: '/a', head: first, atOnce: false },
    { url: '/b', head: second, atOnce: false },
  ], 'in order, each after the parser\'s request (its read is shown to the watch after)');
});

t.test('a head asked for once the watch has read it comes at once; one written a byte at a time comes whole', async (t) => {
  const head = 'GET /late HTTP/1.1\r\nHost: a\r\nX-B:\t2 \r\n\r\n';
  const heads: HeadSeen[] = [];
  await serve(t, async (client) => {
    for (const byte of Buffer.from(head, 'latin1')) await new Promise<void>((resolve) => client.write(Buffer.of(byte), () => resolve()));
  }, 1, false, (req) => req.on('end', () => setImmediate(() => askHead(req, heads))));
  t.same(heads, [{ url: '/late', head, atOnce: true }]);
});

t.test('a request the watch no longer follows gets no head: the relay writes it again', async (t) => {
  // The watch stops at the chunk size followed by a space; the GET after it is in the same write.
  const heads: HeadSeen[] = [];
  await serve(t, CHUNKED + '3\r\nabc\r\n2 \r\nde\r\n0\r\n\r\nGET /c HTTP/1.1\r\nHost: a\r\n\r\n', 2, false, (req) => askHead(req, heads));
  t.same(heads, [
    { url: '/b', head: CHUNKED, atOnce: false },
    { url: '/c', head: undefined, atOnce: false },
  ]);
  const after: HeadSeen[] = [];
  await serve(t, async (client) => {
    client.write(CHUNKED + '2 \r\nab\r\n0\r\n\r\n');
    await once(client, 'data');
    client.write('GET /d HTTP/1.1\r\nHost: a\r\n\r\n');
  }, 2, false, (req) => askHead(req, after));
  t.same(after[1], { url: '/d', head: undefined, atOnce: true }, 'a request after the watch stopped: at once');
});

t.test('a head the watch has not read by the next turn: the relay goes on without it, once', async (t) => {
  let socket: net.Socket | undefined;
  await serve(t, 'GET /a HTTP/1.1\r\nHost: a\r\n\r\n', 1, false, (req) => { socket = req.socket as net.Socket; });
  // A request the parser never read on that connection: the watch expects it, and no head comes.
  const phantom = { socket, method: 'GET', headers: {} } as unknown as http.IncomingMessage;
  noteRequest(phantom);
  const heads: HeadSeen[] = [];
  askHead(phantom, heads);
  t.same(heads, [], 'not at once');
  await new Promise((resolve) => setImmediate(resolve));
  t.same(heads, [{ url: undefined, head: undefined, atOnce: false }], 'at the next turn, without a head');
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(heads.length, 1, 'once');
});

t.test('a body in pieces: its framing comes whole', async (t) => {
  const body = '3;x="a b"\r\nabc\r\n1\r\nd\r\n0\r\n\r\n';
  const seen = await serve(t, async (client) => {
    // Each byte its own write, each written once the last one left: as many reads as bytes.
    for (const byte of Buffer.from(CHUNKED + body, 'latin1')) await new Promise<void>((resolve) => client.write(Buffer.of(byte), () => resolve()));
  }, 1);
  t.equal(seen[0]!.sent, body);
  t.equal(seen[0]!.data, 'abcd');
});

t.test('a form the reader does not follow: that body stops at a boundary, and the connection is no longer followed', async (t) => {
  const seen = await serve(t, CHUNKED + '3\r\nabc\r\n2 \r\nde\r\n0\r\n\r\n', 1);
  t.equal(seen[0]!.sent, undefined);
  t.match(seen[0]!.stopped, /chunk-size line of another form/);
  t.equal(seen[0]!.data, 'abcde', 'the parser read it whole');
});

t.test('a connection no longer followed: bodies the parser had noted are told so before any of them is taken', async (t) => {
  const seen = await serve(t, CHUNKED + '3\r\nabc\r\n2 \r\nde\r\n0\r\n\r\n' + CHUNKED.replace('/b', '/c') + '1\r\nz\r\n0\r\n\r\n', 2);
  t.equal(seen[0]!.sent, undefined);
  t.match(seen[0]!.stopped, /chunk-size line of another form/);
  t.equal(seen[0]!.data, 'abcde', 'the parser read it whole');
  t.equal(seen[1]!.sent, undefined, 'the next body, read in the same write: none of it taken');
  t.match(seen[1]!.stopped, /chunk-size line of another form/, 'told at once, so Node frames it from its start');
  t.equal(seen[1]!.data, 'z');
});

t.test('a connection no longer followed: a later chunked body is not taken at all', async (t) => {
  const seen = await serve(t, async (client) => {
    client.write(CHUNKED + '2 \r\nab\r\n0\r\n\r\n');
    await once(client, 'data');
    client.write(CHUNKED.replace('/b', '/c') + '1\r\nz\r\n0\r\n\r\n');
  }, 2);
  t.same(seen[1], { request: 'POST /c', data: 'z' }, 'Node frames it, as before');
});

t.test('Node keeps reading the socket in C++ (no \'data\' listener of ours), and once it reads from JavaScript the watch still follows', async (t) => {
  const consumed: boolean[] = [];
  const body = 'A\r\n0123456789\r\n0\r\n\r\n';
  const seen = await serve(t, async (client) => {
    client.write('GET /a HTTP/1.1\r\nHost: a\r\n\r\n');
    await once(client, 'data');
    client.write(CHUNKED + body);
  }, 2, false, (req) => {
    const socket = req.socket as net.Socket & { parser?: { _consumed?: boolean } };
    consumed.push(socket.parser?._consumed === true);
    // What a tap on the connection would do: Node then feeds its parser from JavaScript.
    if (req.url === '/a') socket.on('data', () => undefined);
  });
  t.same(consumed, [true, false], 'read in C++ until the listener came');
  t.equal(seen[1]!.sent, body, 'the chunked body after it, followed whole');
});

t.test('a body not taken while it came is not kept past its bound', async (t) => {
  const saved = limits.unclaimedChunkedBodyBytes;
  (limits as { unclaimedChunkedBodyBytes: number }).unclaimedChunkedBodyBytes = 1024;
  t.teardown(() => { (limits as { unclaimedChunkedBodyBytes: number }).unclaimedChunkedBodyBytes = saved; });
  const seen = await serve(t, CHUNKED + '800\r\n' + 'q'.repeat(0x800) + '\r\n0\r\n\r\n', 1, true);
  t.equal(seen[0]!.stopped, 'not kept');
  t.equal(seen[0]!.data.length, 0x800);
});

t.test('a watch adds no \'close\' listener: Node adds one per answer in flight and warns past ten', async (t) => {
  const server = makeHttpServer((_err, socket) => socket.destroy(), 0);
  const counts: number[] = [];
  const given = new Promise<void>((resolve) => {
    server.prependListener('connection', (socket: net.Socket) => { counts.push(socket.listenerCount('close')); });
    server.on('connection', (socket: net.Socket) => {
      counts.push(socket.listenerCount('close'));
      // Given to a parser again, as after a refused upgrade: a new watch each time.
      for (let i = 0; i < 3; i++) watchRequestFraming(socket);
      counts.push(socket.listenerCount('close'));
      resolve();
    });
  });
  const listener = net.createServer((socket) => server.emit('connection', socket)).listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
  t.teardown(() => { client.destroy(); listener.close(); });
  await given;
  const [before, withNode, afterWatches] = counts;
  t.equal(afterWatches, withNode, 'no listener of ours');
  t.ok(before !== undefined && withNode! >= before, 'Node\'s own are there');
});
