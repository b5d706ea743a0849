// A chunked body relayed in its sender's framing (src/proxy/layers/chunked-body-relay.ts), with the
// framing handed in by the test: agreeing readings go out as framed; a framing that stops being
// followed hands over to Node's framing; readings that part stop the exchange before the parted
// bytes leave. A real request (curl-like, raw) to a Node server, relayed to a raw origin.

import t, { type Test } from 'tap';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { relayChunkedAsSent } from '../../../src/proxy/layers/chunked-body-relay.js';
import { ChunkedBodyAsSent, type FramingPiece } from '../../../src/proxy/layers/chunked-framing.js';

const framing = (text: string): FramingPiece => ({ kind: 'framing', bytes: Buffer.from(text, 'latin1') });
const data = (text: string): FramingPiece => ({ kind: 'data', bytes: Buffer.from(text, 'latin1') });
const END: FramingPiece = { kind: 'end', rest: Buffer.alloc(0) };

/**
 * Sends a chunked POST whose body the parser reads as `hello`, relays it with `pieces` as its
 * framing, and resolves with what the origin received after the head and why the relay stopped, if it did.
 */
async function relay(t: Test, pieces: FramingPiece[]): Promise<{ origin: string; misread?: string }> {
  let received = '';
  let closed!: () => void;
  const originClosed = new Promise<void>((resolve) => { closed = resolve; });
  const origin = net.createServer((socket) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      // Answered once the body's last chunk came (the head's empty line is not it).
      if (received.endsWith('\r\n\r\n') && received.indexOf('\r\n\r\n') < received.length - 4) socket.end('HTTP/1.1 204 No Content\r\n\r\n');
    });
    socket.on('close', () => closed());
  }).listen(0, '127.0.0.1');
  t.teardown(() => origin.close());
  await once(origin, 'listening');
  let misread: string | undefined;
  const front = http.createServer((req, res) => {
    const upstream = http.request({ host: '127.0.0.1', port: (origin.address() as net.AddressInfo).port, method: 'POST', path: '/', headers: { 'Transfer-Encoding': 'chunked' }, agent: false });
    upstream.on('response', (answer) => { answer.resume(); res.writeHead(answer.statusCode ?? 502).end(); });
    upstream.on('error', () => undefined);
    // Its head stored, as the relays' are (storeRequestHead, writeHead), before its framing is taken over.
    upstream.flushHeaders();
    const asSent = new ChunkedBodyAsSent();
    relayChunkedAsSent(req, upstream, asSent, () => undefined, () => upstream.end(), (reason) => {
      misread = reason;
      upstream.destroy();
      res.writeHead(502).end();
    });
    for (const piece of pieces) asSent.deliver(piece);
  }).listen(0, '127.0.0.1');
  t.teardown(() => front.close());
  await once(front, 'listening');
  const client = net.connect((front.address() as net.AddressInfo).port, '127.0.0.1');
  t.teardown(() => client.destroy());
  client.on('data', () => undefined);
  client.write('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
  await originClosed;
  const body = received.slice(received.indexOf('\r\n\r\n') + 4);
  return { origin: body, ...(misread ? { misread } : {}) };
}

t.test('readings that agree: the framing goes out as the sender wrote it', async (t) => {
  t.same(await relay(t, [framing('5;x=1\r\n'), data('hello'), framing('\r\n'), framing('0\r\n\r\n'), END]), { origin: '5;x=1\r\nhello\r\n0\r\n\r\n' });
});

t.test('a framing no longer followed from the start: Node frames the body', async (t) => {
  t.same(await relay(t, [{ kind: 'unsure', reason: 'test' }]), { origin: '5\r\nhello\r\n0\r\n\r\n' });
});

t.test('a framing no longer followed after a chunk: the rest framed by Node', async (t) => {
  t.same(await relay(t, [framing('3\r\n'), data('hel'), framing('\r\n'), { kind: 'unsure', reason: 'test' }]), { origin: '3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n' });
});

t.test('readings that part: stopped before the parted bytes leave', async (t) => {
  const got = await relay(t, [framing('5\r\n'), data('hallo'), framing('\r\n'), framing('0\r\n\r\n'), END]);
  t.match(got.misread, /read two ways/);
  t.notMatch(got.origin, /hallo|hello/, 'neither reading\'s data went out');
});

t.test('a framing that never ends: stopped once the parser ended', async (t) => {
  const got = await relay(t, [framing('5\r\n'), data('hello'), framing('\r\n')]);
  t.match(got.misread, /ended for the parser and not for its framing/);
});
