// Each answer head, looked at before Node's parser reads it (src/proxy/layers/answer-head-watch.ts).
// A socket's push() is what its handle calls with what it read; here the tests call it, in the
// pieces a connection may deliver, and read what a 'data' listener (Node's parser) is given.

import t from 'tap';
import net from 'node:net';
import { once } from 'node:events';
import { answerStatusVersion, takeAnswerHead, takeChunkedAnswerAsSent, takeInformationalHead, watchAnswerHeads } from '../../../src/proxy/layers/answer-head-watch.js';
import { limits } from '../../../src/limits.js';

/** A socket as a server connection: all its reader has been given so far, and a push() standing for its handle. */
function serverConnection(): { socket: net.Socket; read: () => string; deliver: (...pieces: string[]) => void } {
  const socket = new net.Socket();
  let read = '';
  return {
    socket,
    read: () => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) read += chunk.toString('latin1');
      return read;
    },
    deliver: (...pieces) => { for (const piece of pieces) socket.push(Buffer.from(piece, 'latin1')); },
  };
}

const REPEATED = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\nContent-Length: 2\r\n\r\n';
const AS_THE_PARSER_READS = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\n\r\n';

t.test('a repeated length is shown once; the header list comes back whole, once', async (t) => {
  const { socket, read, deliver } = serverConnection();
  watchAnswerHeads(socket);
  deliver(`${REPEATED}ok`);
  t.equal(read(), `${AS_THE_PARSER_READS}ok`);
  const response = { rawHeaders: ['Content-Length', '2', 'X-A', 'b'], socket };
  const head = takeAnswerHead(response);
  t.same(head.fields, ['Content-Length', '2', 'X-A', 'b', 'Content-Length', '2'], 'its lines as the server sent them');
  t.equal(head.asSent, REPEATED, 'its bytes as the server sent them');
  t.same(takeAnswerHead(response), { fields: ['Content-Length', '2', 'X-A', 'b'], asSent: undefined }, 'handed over once: the next answer has its own');
});

t.test('a head that comes in pieces is held until its empty line, then looked at whole', async (t) => {
  const { socket, read, deliver } = serverConnection();
  watchAnswerHeads(socket);
  deliver(REPEATED.slice(0, 30), REPEATED.slice(30, 50));
  t.equal(read(), '', 'nothing yet: the parser could do nothing with part of a head');
  deliver(`${REPEATED.slice(50)}o`, 'k');
  t.equal(read(), `${AS_THE_PARSER_READS}ok`, 'the head mended; the body after it as it came');
});

t.test('an informational head goes on at once; the final one after it is looked at', async (t) => {
  const { socket, read, deliver } = serverConnection();
  watchAnswerHeads(socket);
  deliver('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Len');
  t.equal(read(), 'HTTP/1.1 100 Continue\r\n\r\n', 'the 100 releases the device\'s body: it is not held');
  deliver(`gth: 2\r\nX-A: b\r\nContent-Length: 2\r\n\r\nok`);
  t.equal(read(), `HTTP/1.1 100 Continue\r\n\r\n${AS_THE_PARSER_READS}ok`);
});

t.test('informational heads are kept as sent, in order, for their events; a new request starts afresh', async (t) => {
  const { socket, read, deliver } = serverConnection();
  watchAnswerHeads(socket);
  deliver('HTTP/1.1 100 continue please\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink:</a.css>\r\n\r\n');
  read();
  t.equal(takeInformationalHead(socket), 'HTTP/1.1 100 continue please\r\n\r\n');
  t.equal(takeInformationalHead(socket), 'HTTP/1.1 103 Early Hints\r\nLink:</a.css>\r\n\r\n');
  t.equal(takeInformationalHead(socket), undefined, 'none waits');
  deliver('HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  watchAnswerHeads(socket);
  t.equal(takeInformationalHead(socket), undefined, 'one not taken goes with its answer');
  t.equal(takeInformationalHead(null), undefined, 'no socket, none');
});

t.test('on a kept connection each request\'s answer is looked at; bodies are not', async (t) => {
  const { socket, read, deliver } = serverConnection();
  watchAnswerHeads(socket);
  const body = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n';
  deliver('HTTP/1.1 200 OK\r\nContent-Length: 57\r\n\r\n', body);
  t.equal(read(), `HTTP/1.1 200 OK\r\nContent-Length: 57\r\n\r\n${body}`, 'a body that reads like a head is the body');
  watchAnswerHeads(socket);
  deliver(`${REPEATED}ok`);
  t.equal(read().slice(-AS_THE_PARSER_READS.length - 2), `${AS_THE_PARSER_READS}ok`, 'the second request\'s answer');
});

t.test('a SHOUTcast status line on a connection\'s first answer is read as HTTP/1.0; its version is ICY', async (t) => {
  const first = serverConnection();
  watchAnswerHeads(first.socket);
  first.deliver('ICY 200 OK\r\nicy-name: R\r\n\r\nmp3');
  t.equal(first.read(), 'ICE/1.0 200 OK\r\nicy-name: R\r\n\r\nmp3');
  t.equal(answerStatusVersion({ httpVersion: '1.0', socket: first.socket }), 'ICY');
  const other = serverConnection();
  watchAnswerHeads(other.socket);
  other.deliver('HTTP/1.0 200 OK\r\n\r\n');
  t.equal(answerStatusVersion({ httpVersion: '1.0', socket: other.socket }), 'HTTP/1.0');
});

t.test('what is not a head, a 101 and what follows it, and an endless head go on as they came', async (t) => {
  const notHead = serverConnection();
  watchAnswerHeads(notHead.socket);
  notHead.deliver('SSH-2.0-OpenSSH\r\n\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n');
  t.equal(notHead.read(), 'SSH-2.0-OpenSSH\r\n\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n');

  const upgrade = serverConnection();
  watchAnswerHeads(upgrade.socket);
  const switched = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n';
  upgrade.deliver(switched);
  t.equal(upgrade.read(), switched, 'after a 101 the bytes are another protocol\'s');

  const endless = serverConnection();
  watchAnswerHeads(endless.socket);
  const line = `X-Filler: ${'x'.repeat(1000)}\r\n`;
  const pieces = ['HTTP/1.1 200 OK\r\n', ...Array.from({ length: Math.ceil(limits.http1MaxResponseHeadBytes / line.length) + 1 }, () => line)];
  endless.deliver(...pieces);
  t.equal(endless.read(), pieces.join(''), 'past the head limit, all of it, for the parser to refuse');
});

t.test('the start of a head not yet whole is held; bytes that cannot start one go on at once, whole or not', async (t) => {
  // Each: what a server connection's first read brings, and whether it may still become a head.
  const cases: ReadonlyArray<readonly [bytes: string, held: boolean, why: string]> = [
    ['HTTP/1.1 200 OK\r\nContent-Le', true, 'a status line and part of a field'],
    ['HT', true, 'the first letters of HTTP/'],
    ['http/1.1 2', true, 'in lower case'],
    ['HTTP', true, 'HTTP, the slash still to come'],
    ['\r\nHTTP/1.1 200', true, 'behind an empty line, which the parser skips'],
    ['ICY 200 OK\r\n', true, "SHOUTcast's, on a connection's first answer"],
    ['IC', true, "the start of SHOUTcast's"],
    ['220 mail.example ESMTP\r\n250 OK\r\n', false, 'an SMTP greeting'],
    ['SSH-2.0-OpenSSH_9.6\r\n', false, "an SSH server's"],
    ['HTTPS 200 OK\r\n', false, 'HTTP and then not a slash'],
    ['HTX', false, 'H, T and then not T'],
    ['HTTP/1.1', true, 'a version, the space still to come'],
    ['HTTP/1.\f 204 No Content\r\n', false, 'a version with a control byte for its minor digit'],
    ['HTTP/x.1 200 OK\r\n', false, 'a version that is not a number'],
    ['HTTP/1,1 200 OK\r\n', false, 'a comma for the dot'],
    ['HTTP/1.1200 OK\r\n', false, 'no space after the version'],
    ['HTTP/1.1\t200 OK\r\n', true, 'a tab after the version (the parser takes it)'],
    ['\x16\x03\x03\x00\x02', false, 'a TLS record'],
    ['{"error":"no"}', false, 'JSON without a head (HTTP/0.9)'],
  ];
  for (const [bytes, held, why] of cases) {
    const { socket, read, deliver } = serverConnection();
    watchAnswerHeads(socket);
    deliver(bytes);
    t.equal(read(), held ? '' : bytes, `${why}: ${held ? 'held for its empty line' : 'on at once, for the parser to refuse'}`);
  }
  const kept = serverConnection();
  watchAnswerHeads(kept.socket);
  kept.deliver('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  kept.read();
  watchAnswerHeads(kept.socket);
  kept.deliver('IC');
  t.equal(kept.read(), 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nIC', "ICY only on a connection's first answer: on a kept one, IC is not a head");
});

t.test('a head cut short by the end of the connection goes to the parser before the end', async (t) => {
  const { socket, read, deliver } = serverConnection();
  watchAnswerHeads(socket);
  deliver('HTTP/1.1 200 OK\r\nContent-Le');
  const ended = once(socket, 'end');
  socket.push(null);
  t.equal(read(), 'HTTP/1.1 200 OK\r\nContent-Le');
  await ended;
});

/** The framing a chunked answer's body is taken with: what it sent, and whether it ended. */
function framingTaken(socket: net.Socket): { sent: string; ended: boolean } | undefined {
  const body = takeChunkedAnswerAsSent({ socket });
  if (!body) return undefined;
  const taken = { sent: '', ended: false };
  body.claim((piece) => {
    if (piece.kind === 'framing' || piece.kind === 'data') taken.sent += piece.bytes.toString('latin1');
    else if (piece.kind === 'end') taken.ended = true;
  });
  return taken;
}

t.test('a chunked answer\'s framing is taken as the server wrote it, across reads', async (t) => {
  const { socket, read, deliver } = serverConnection();
  watchAnswerHeads(socket, 'GET');
  const body = '0A;x=1\r\n0123456789\r\nED8\r\n' + 'y'.repeat(0xed8) + '\r\n0\r\nX-Sum: 1\r\n\r\n';
  deliver(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body.slice(0, 30)}`);
  const taken = framingTaken(socket);
  deliver(body.slice(30, 100), body.slice(100));
  t.same(taken, { sent: body, ended: true });
  t.equal(read(), `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body}`, 'the parser is given the same bytes');
  t.equal(takeChunkedAnswerAsSent({ socket }), undefined, 'taken once');
});

t.test('answers without a chunked body are not taken for one (look-alikes)', async (t) => {
  const heads: [string, string, string][] = [
    ['the answer to a HEAD', 'HEAD', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['204', 'GET', 'HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['304', 'GET', 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['chunked not last', 'GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n'],
    ['two Transfer-Encoding lines', 'GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['a folded Transfer-Encoding', 'GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,\r\n chunked\r\n\r\n'],
    ['a length', 'GET', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Transfer-Encoding: chunked\r\n\r\n'],
  ];
  for (const [name, method, head] of heads) {
    const { socket, deliver } = serverConnection();
    watchAnswerHeads(socket, method);
    deliver(`${head}5\r\nhello\r\n0\r\n\r\n`);
    t.equal(takeChunkedAnswerAsSent({ socket }), undefined, name);
  }
  const { socket, deliver } = serverConnection();
  watchAnswerHeads(socket, 'GET');
  deliver('HTTP/1.1 200 OK\r\ntransfer-encoding:  gzip , CHUNKED \r\n\r\n');
  t.ok(takeChunkedAnswerAsSent({ socket }), 'chunked last, in any case and spacing: taken');
});
