// HTTP/1 heads and framing as sent (issue 19, "Headers as sent"). Each scenario runs once straight
// to a raw origin and through phonehome by each route a device takes — against a plain origin, the
// plain HTTP proxy (absolute-form), a CONNECT tunnel in clear and SOCKS5; against a TLS origin, a
// CONNECT tunnel with TLS — and each proxied run must agree with the direct one byte for
// byte: what the origin received and what the client received. The origin and the client are raw
// sockets that record every byte and send exactly the bytes chosen here. The only difference a
// proxied request may carry is the documented one: the absolute-form request line and Proxy-*
// headers of a client talking to a proxy, which never reach the origin. A malformed head that real
// peers read (bare LF line ends, obs-fold, spaces after a chunk size) must pass too, written again
// well formed: such a scenario says how (`rewritten`), from the direct run's record.
// curl covers the same ground with a real client where it helps (HTTP/1.0, HEAD, a 3 MB upload
// with Expect: 100-continue, --compressed).

import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { once } from 'node:events';
import { promisify } from 'node:util';
import t from 'tap';
import { limits } from '../../src/limits.js';
import { connectTunnel, getOriginCa, socks5Connect, startLab, tempDir, within, type Lab } from '../helpers/lab.js';

const HOST = 'api.example.test';
const DEADLINE_MS = 10_000;

// ---- raw peers --------------------------------------------------------------------------------

/** One side of a raw connection: every byte it received, and ways to wait on them. */
class RawPeer {
  received = Buffer.alloc(0);
  /** The other side ended its side (a FIN); a half-open socket stays open for writing. */
  ended = false;
  closed = false;
  /** Where the current exchange starts: an origin's keep-alive connection carries several. */
  start = 0;
  /** What the origin's take() already handed out. */
  taken = 0;
  readonly #socket: net.Socket;
  readonly #waiters = new Set<() => void>();

  constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      for (const wake of this.#waiters) wake();
    });
    socket.on('end', () => {
      this.ended = true;
      for (const wake of this.#waiters) wake();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const wake of this.#waiters) wake();
    });
  }

  /** What was received since the current exchange started. */
  get text(): string {
    return this.received.subarray(this.start).toString('latin1');
  }

  /** Resolves when a byte past the current exchange arrives, or the connection closes. */
  nextExchange(): Promise<void> {
    this.start = this.received.length;
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.received.length === this.start && !this.closed) return;
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
  }

  write(bytes: string | Buffer): void {
    this.#socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  end(): void {
    this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /** Resolves once `ready` holds for what was received (a close without it fails). */
  waitFor(ready: (text: string) => boolean, what: string): Promise<void> {
    return within(new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (ready(this.text)) {
          this.#waiters.delete(check);
          resolve();
        } else if (this.closed) {
          this.#waiters.delete(check);
          reject(new Error(`closed before ${what}; received ${JSON.stringify(this.text.slice(0, 400))}`));
        }
      };
      this.#waiters.add(check);
      check();
    }), DEADLINE_MS, what);
  }

  waitEnd(): Promise<void> {
    return this.waitFor(() => this.ended, 'the other side to end its side');
  }

  waitClose(): Promise<void> {
    return within(new Promise<void>((resolve) => {
      const check = (): void => {
        if (!this.closed) return;
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
      check();
    }), DEADLINE_MS, 'the connection to close');
  }
}

/** The end of the first header block, with the number of body bytes it announces. */
function headEnd(text: string): number {
  const end = text.indexOf('\r\n\r\n');
  return end < 0 ? -1 : end + 4;
}

function hasHead(text: string): boolean {
  return headEnd(text) >= 0;
}

function contentLength(text: string): number {
  const match = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, headEnd(text)));
  return match ? Number(match[1]) : 0;
}

/** A request (or response) head plus its Content-Length body arrived. */
function hasLengthBody(text: string): boolean {
  return hasHead(text) && text.length - headEnd(text) >= contentLength(text);
}

type OriginScript = (peer: RawPeer) => Promise<void>;

interface RawOrigin {
  readonly port: number;
  script: OriginScript;
  /** What each connection received since the last take(), in order of connection. */
  take(): Buffer[];
  close(): Promise<void>;
}

/** A raw origin on 127.0.0.1:0 (TLS with a certificate from the origins' CA when `secure`). */
async function startRawOrigin(secure: boolean): Promise<RawOrigin> {
  let peers: RawPeer[] = [];
  const sockets = new Set<net.Socket>();
  const origin = {
    port: 0,
    script: (async () => undefined) as OriginScript,
    take: () => {
      const taken = peers.map((peer) => peer.received.subarray(peer.taken)).filter((bytes) => bytes.length > 0);
      for (const peer of peers) peer.taken = peer.received.length;
      peers = peers.filter((peer) => !peer.closed);
      return taken;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
  const onSocket = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const peer = new RawPeer(socket);
    peers.push(peer);
    // One script run per request: a proxy may send the next one on the same connection.
    void (async () => {
      while (!peer.closed) {
        await origin.script(peer);
        await peer.nextExchange();
      }
    })().catch(() => socket.destroy());
  };
  let server: net.Server;
  if (secure) {
    const leaf = getOriginCa().issueLeaf(HOST);
    server = tls.createServer({ key: leaf.keyPem, cert: leaf.certPem, allowHalfOpen: true }, onSocket);
  } else {
    // As nginx does: a client's closed side leaves the server's open for the answer.
    server = net.createServer({ allowHalfOpen: true }, onSocket);
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin.port = (server.address() as net.AddressInfo).port;
  return origin;
}

type Route = 'direct' | 'absolute-form' | 'tunnel' | 'socks5' | 'direct-tls' | 'tunnel-tls';

/** A client connection by the given route; `head` rewrites a request head for that route. */
async function connectClient(route: Route, lab: Lab, port: number, proxyConnection = true): Promise<{ peer: RawPeer; head: (text: string) => string }> {
  const asIs = (text: string): string => text;
  if (route === 'direct') {
    const socket = net.connect(port, '127.0.0.1');
    const peer = new RawPeer(socket);
    await once(socket, 'connect');
    return { peer, head: asIs };
  }
  if (route === 'absolute-form') {
    const socket = net.connect(lab.port, '127.0.0.1');
    const peer = new RawPeer(socket);
    await once(socket, 'connect');
    // What a client configured with an HTTP proxy sends: the absolute URL and a Proxy-* header.
    const head = (text: string): string => text
      .replace(/^(\S+) (\/\S*) /, `$1 http://${HOST}:${port}$2 `)
      .replace(/\r\n\r\n/, proxyConnection ? '\r\nProxy-Connection: keep-alive\r\n\r\n' : '\r\n\r\n');
    return { peer, head };
  }
  if (route === 'tunnel' || route === 'socks5') {
    // A client that asks for a connection and then speaks as it would direct: the head as is.
    const connected = route === 'tunnel'
      ? await connectTunnel(lab.port, `${HOST}:${port}`).then(({ status, socket }) => ({ ok: status === 200, socket, answer: `CONNECT answered ${status}` }))
      : await socks5Connect(lab.port, { host: HOST, port }).then(({ reply, socket }) => ({ ok: reply === 0, socket, answer: `SOCKS5 replied ${reply}` }));
    if (!connected.ok) throw new Error(connected.answer);
    const peer = new RawPeer(connected.socket);
    connected.socket.resume();
    return { peer, head: asIs };
  }
  let carrier: net.Socket | undefined;
  if (route === 'tunnel-tls') {
    const tunnel = await connectTunnel(lab.port, `${HOST}:${port}`);
    if (tunnel.status !== 200) throw new Error(`CONNECT answered ${tunnel.status}`);
    carrier = tunnel.socket;
  }
  const secure = tls.connect({
    ...(carrier ? { socket: carrier } : { host: '127.0.0.1', port }),
    servername: HOST, ca: route === 'tunnel-tls' ? lab.ca.certPem : getOriginCa().certPem, ALPNProtocols: ['http/1.1'],
  });
  const peer = new RawPeer(secure);
  await once(secure, 'secureConnect');
  return { peer, head: asIs };
}

// ---- scenarios ----------------------------------------------------------------------------------

interface Scenario {
  readonly name: string;
  /** False for a client that sends no Proxy-Connection to the proxy (it changes HTTP/1.0 answers). */
  readonly proxyConnection?: boolean;
  readonly origin: OriginScript;
  /** Sends the request (its head through `head`) and resolves once the answer is complete. */
  readonly client: (peer: RawPeer, head: (text: string) => string, authority: string) => Promise<void>;
  /**
   * For a malformed head that real peers accept (http1-leniency.ts): what the proxied run must
   * equal, made from the direct run's record, because phonehome writes the head again, well formed.
   */
  readonly rewritten?: { readonly origin?: (direct: string) => string; readonly client?: (direct: string) => string };
}

/** A client that sends an upgrade request, ends its side at once, and reads until the connection closes. */
async function upgradeRequestThenEnd(peer: RawPeer, head: (text: string) => string, authority: string): Promise<void> {
  peer.write(head(`GET /lines HTTP/1.1\r\nHost: ${authority}\r\nConnection: Upgrade\r\nUpgrade: lines\r\n\r\n`));
  peer.end();
  await peer.waitClose();
}

/** 1,500 short header lines named `prefix`-n. */
function manyFields(prefix: string): string {
  return Array.from({ length: 1_500 }, (_, n) => `${prefix}-${n}: ${n}\r\n`).join('');
}

/** A head with lines that end in a bare LF, as phonehome writes it again: each line ends in CRLF; the body is left alone. */
function crlfHead(text: string): string {
  const end = /\n\r?\n/.exec(text);
  if (!end) return text;
  const bodyAt = end.index + end[0].length;
  return text.slice(0, bodyAt).replace(/\r?\n/g, '\r\n') + text.slice(bodyAt);
}

/** Answers one request (head and Content-Length body) with `bytes`, then closes when asked. */
function answer(bytes: string, options: { close?: boolean; until?: (text: string) => boolean } = {}): OriginScript {
  return async (peer) => {
    await peer.waitFor(options.until ?? hasLengthBody, 'the request');
    peer.write(bytes);
    if (options.close) peer.end();
  };
}

/** A client that GETs `path` and waits for the answer to end with `suffix`. */
function getUntil(path: string, suffix: string): Scenario['client'] {
  return async (peer, head, authority) => {
    peer.write(head(`GET ${path} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
    await endsWith(peer, suffix);
  };
}

/** Answers Expect: 100-continue with a 100, reads the body, then answers `final`. */
function continueThenAnswer(final: string): OriginScript {
  return async (peer) => {
    await peer.waitFor(hasHead, 'the request head');
    peer.write('HTTP/1.1 100 Continue\r\n\r\n');
    await peer.waitFor(hasLengthBody, 'the body');
    peer.write(final);
  };
}

/** POSTs `body` with Expect: 100-continue, sends it once the 100 came, and waits for the answer to end with `suffix`. */
function uploadAfterContinue(body: string, suffix: string): Scenario['client'] {
  return async (peer, head, authority) => {
    peer.write(head(`POST /upload HTTP/1.1\r\nHost: ${authority}\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`));
    await peer.waitFor((text) => text.includes('100 Continue\r\n\r\n'), 'the 100 Continue');
    peer.write(body);
    await endsWith(peer, suffix);
  };
}

const headDone = (peer: RawPeer): Promise<void> => peer.waitFor((text) => hasHead(text.slice(text.lastIndexOf('HTTP/1.1 '))), 'a whole response head');
const endsWith = (peer: RawPeer, suffix: string): Promise<void> => peer.waitFor((text) => text.endsWith(suffix), `the answer ending ${JSON.stringify(suffix)}`);

const scenarios: Scenario[] = [
  {
    name: 'names keep their case, order and repeats both ways; nothing is added',
    origin: answer('HTTP/1.1 200 OK\r\nX-Dup: 1\r\ncontent-TYPE: text/plain\r\nx-dup: 2\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 5\r\n\r\nhello'),
    client: async (peer, head, authority) => {
      peer.write(head(`GET /headers?x=1 HTTP/1.1\r\nHost: ${authority}\r\nX-Dup: a\r\nuser-AGENT: raw/1\r\nX-Dup: b\r\nACCEPT: */*\r\n\r\n`));
      await endsWith(peer, 'hello');
    },
  },
  {
    name: 'a body delimited by the close of the connection stays so, and the device connection ends',
    origin: answer('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nthe body runs until the server closes', { close: true }),
    client: async (peer, head, authority) => {
      peer.write(head(`GET /stream HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
      await peer.waitClose();
    },
  },
  {
    name: 'chunked both ways, with the trailers',
    origin: answer('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n', { until: (text) => text.endsWith('0\r\n\r\n') }),
    client: async (peer, head, authority) => {
      peer.write(head(`POST /upload HTTP/1.1\r\nHost: ${authority}\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n`) + '7\r\npayload\r\n0\r\n\r\n');
      await endsWith(peer, 'X-Checksum: abc\r\n\r\n');
    },
  },
  {
    name: '102 Processing and 103 Early Hints reach the device before the final answer',
    origin: async (peer) => {
      await peer.waitFor(hasHead, 'the request');
      peer.write('HTTP/1.1 102 Processing\r\n\r\n');
      peer.write('HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload; as=style\r\nX-Hint: 1\r\n\r\n');
      peer.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    },
    client: getUntil('/page', '\r\n\r\nok'),
  },
  {
    name: "Expect: 100-continue is answered by the server's 100",
    origin: continueThenAnswer('HTTP/1.1 201 Created\r\nContent-Length: 6\r\n\r\nstored'),
    client: uploadAfterContinue('hello world', 'stored'),
  },
  {
    name: 'Expect: 100-continue refused by the server: its final answer, no 100 from us',
    origin: answer('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="x"\r\nContent-Length: 0\r\n\r\n', { until: hasHead }),
    client: async (peer, head, authority) => {
      peer.write(head(`PUT /big HTTP/1.1\r\nHost: ${authority}\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n`));
      await peer.waitFor((text) => text.includes(' 401 ') && text.endsWith('\r\n\r\n'), 'the 401');
    },
  },
  {
    name: 'HEAD: the length of the body that was not sent',
    origin: answer('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1234\r\n\r\n'),
    client: async (peer, head, authority) => {
      peer.write(head(`HEAD /file.bin HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
      await headDone(peer);
    },
  },
  {
    name: 'HEAD of a chunked resource: no chunk follows',
    origin: answer('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'),
    client: async (peer, head, authority) => {
      peer.write(head(`HEAD /feed HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
      await headDone(peer);
    },
  },
  {
    name: '204 No Content',
    origin: answer('HTTP/1.1 204 No Content\r\nX-Request-Id: 42\r\n\r\n'),
    client: async (peer, head, authority) => {
      peer.write(head(`DELETE /items/1 HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
      await headDone(peer);
    },
  },
  {
    name: '304 Not Modified',
    origin: answer('HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nCache-Control: max-age=60\r\n\r\n'),
    client: async (peer, head, authority) => {
      peer.write(head(`GET /cached HTTP/1.1\r\nHost: ${authority}\r\nIf-None-Match: "v1"\r\n\r\n`));
      await headDone(peer);
    },
  },
  {
    name: 'an HTTP/1.0 request stays one, and its connection ends with the answer',
    proxyConnection: false,
    origin: answer('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nlegacy', { close: true }),
    client: async (peer, head, authority) => {
      peer.write(head(`GET /legacy HTTP/1.0\r\nHost: ${authority}\r\nUser-Agent: old/1\r\n\r\n`));
      await peer.waitClose();
    },
  },
  {
    name: 'an HTTP/1.0 device gets the answer head byte for byte too (until 2026-12-07: written again, `Name: value` with one space)',
    proxyConnection: false,
    origin: answer('HTTP/1.0 200 OK\r\nX-A:b\r\nX-B:\tc  \r\nServer:  old-firmware/1.0 \r\n\r\nuntil the server closes', { close: true }),
    client: async (peer, head, authority) => {
      peer.write(head(`GET /status HTTP/1.0\r\nHost: ${authority}\r\n\r\n`));
      await peer.waitClose();
    },
  },
  {
    name: 'a POST without a body gets no framing header added',
    origin: answer('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\npong'),
    client: async (peer, head, authority) => {
      peer.write(head(`POST /ping HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
      await endsWith(peer, 'pong');
    },
  },
  {
    name: "the server's Connection: close ends the device's connection after the body",
    origin: answer('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye', { close: true }),
    client: async (peer, head, authority) => {
      peer.write(head(`POST /form HTTP/1.1\r\nHost: ${authority}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=1&b=2`));
      await peer.waitClose();
    },
  },
  {
    name: 'an HTTP/1.1 request without Host goes as sent: the server is the one to answer it',
    origin: answer('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'),
    client: async (peer, head) => {
      peer.write(head('GET /firmware HTTP/1.1\r\nUser-Agent: iot/1\r\n\r\n'));
      await endsWith(peer, '\r\n\r\nok');
    },
  },
  {
    name: 'a request whose lines all end in a bare LF is read, and goes on as sent (until 2026-12-07: in CRLF)',
    origin: answer('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', { until: (text) => /\n\r?\nhi$/.test(text) }),
    client: async (peer, head, authority) => {
      peer.write(head(`POST /lf HTTP/1.1\r\nHost: ${authority}\r\nContent-Length: 2\r\n\r\n`).replace(/\r\n/g, '\n') + 'hi');
      await endsWith(peer, '\r\n\r\nok');
    },
  },
  {
    name: 'a request whose line ends are mixed (one bare LF among CRLFs) is read, and goes on in CRLF',
    origin: answer('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', { until: (text) => /\n\r?\nhi$/.test(text) }),
    client: async (peer, head, authority) => {
      peer.write(head(`POST /mixed HTTP/1.1\r\nHost: ${authority}\r\nX-Firmware: 2.1\r\nContent-Length: 2\r\n\r\n`).replace('X-Firmware: 2.1\r\n', 'X-Firmware: 2.1\n') + 'hi');
      await endsWith(peer, '\r\n\r\nok');
    },
    rewritten: { origin: crlfHead },
  },
  {
    name: 'an answer whose lines end in a bare LF reaches the device as sent (until 2026-12-07: in CRLF)',
    origin: answer('HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 3\n\nyes'),
    client: getUntil('/lf-answer', 'yes'),
  },
  {
    name: 'a header folded on the next line (obs-fold) is read both ways: the request\'s goes on as one line (the CRLF out, the fold\'s whitespace kept), the answer\'s as sent',
    origin: answer('HTTP/1.1 200 OK\r\nX-Folded: one\r\n two\r\nContent-Length: 2\r\n\r\nok'),
    client: async (peer, head, authority) => {
      peer.write(head(`GET /fold HTTP/1.1\r\nHost: ${authority}\r\nX-Note: first\r\n\tsecond\r\n\r\n`));
      await endsWith(peer, '\r\n\r\nok');
    },
    rewritten: { origin: (direct) => direct.replace('first\r\n\tsecond', 'first\tsecond') },
  },
  {
    name: 'a chunk size followed by spaces is read, and the body goes on chunked',
    origin: answer('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2  \r\nok\r\n0\r\n\r\n'),
    client: getUntil('/chunks', '0\r\n\r\n'),
    rewritten: { client: (direct) => direct.replace('2  \r\n', '2\r\n') },
  },
  {
    name: 'a head of 1,500 header lines passes whole both ways (Node keeps about 1,000 unless told)',
    origin: answer(`HTTP/1.1 200 OK\r\n${manyFields('X-A')}Content-Length: 2\r\n\r\nok`),
    client: async (peer, head, authority) => {
      peer.write(head(`GET /many HTTP/1.1\r\nHost: ${authority}\r\n${manyFields('X-Q')}\r\n`));
      await endsWith(peer, '\r\n\r\nok');
    },
  },
  {
    name: 'a device that closes its side once its request is sent still reads the answer',
    proxyConnection: false,
    origin: answer('HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nanswer', { close: true }),
    client: async (peer, head, authority) => {
      peer.write(head(`GET /half HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`));
      peer.end();
      await peer.waitClose();
    },
  },
  {
    // A server that answers once its client is done sending (or drops a request whose client went,
    // as nginx does with its 499): direct it reads the device's end; until 2026-12-07 it never did
    // through phonehome, and both waited, the device's connection left half-open.
    name: 'a device that ends its side after its request: its server reads that end, as direct, and answers after it',
    proxyConnection: false,
    origin: async (peer) => {
      await peer.waitFor(hasHead, 'the request');
      await peer.waitEnd();
      peer.write('HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nyou ended');
      peer.end();
    },
    client: async (peer, head, authority) => {
      peer.write(head(`GET /ended HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
      peer.end();
      await peer.waitClose();
    },
  },
  {
    name: 'a device that pipelines two requests and ends its side: its server reads the end after both, and answers both',
    proxyConnection: false,
    origin: async (peer) => {
      await peer.waitFor((text) => (text.match(/\r\n\r\n/g) ?? []).length >= 1, 'the first request');
      peer.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none');
      await peer.waitFor((text) => (text.match(/\r\n\r\n/g) ?? []).length >= 2, 'the second request');
      await peer.waitEnd();
      peer.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\ntwo');
      peer.end();
    },
    client: async (peer, head, authority) => {
      peer.write(head(`GET /1 HTTP/1.1\r\nHost: ${authority}\r\n\r\n`) + head(`GET /2 HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
      peer.end();
      await peer.waitClose();
    },
  },
  {
    name: 'a device that ends its side right after an upgrade request and its first bytes still reads what the server sends after the 101',
    proxyConnection: false,
    origin: async (peer) => {
      await peer.waitFor(hasHead, 'the upgrade request');
      peer.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: lines\r\n\r\n');
      await peer.waitEnd();
      peer.write(`you said: ${peer.text.slice(headEnd(peer.text))}`);
      peer.end();
    },
    client: async (peer, head, authority) => {
      peer.write(`${head(`GET /lines HTTP/1.1\r\nHost: ${authority}\r\nConnection: Upgrade\r\nUpgrade: lines\r\n\r\n`)}reading 42`);
      peer.end();
      await peer.waitClose();
    },
  },
  {
    // A client that gives up on a slow handshake. Until 2026-12-08 the device's socket was not read
    // before the answer, so its end waited: the server, which answers only then, waited with it.
    name: 'a device that ends its side right after an upgrade request: its server reads that end before it answers, as direct, and its refusal reaches the device',
    proxyConnection: false,
    origin: async (peer) => {
      await peer.waitFor(hasHead, 'the upgrade request');
      await peer.waitEnd();
      peer.write('HTTP/1.1 403 Forbidden\r\nContent-Length: 13\r\nConnection: close\r\n\r\nyou had ended');
      peer.end();
    },
    client: upgradeRequestThenEnd,
  },
  {
    name: 'a device that ends its side right after an upgrade request: its server reads that end, then switches and says goodbye, and the device reads both',
    proxyConnection: false,
    origin: async (peer) => {
      await peer.waitFor(hasHead, 'the upgrade request');
      await peer.waitEnd();
      peer.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: lines\r\n\r\ngoodbye');
      peer.end();
    },
    client: upgradeRequestThenEnd,
  },
  {
    // An upgrade a server refuses with an answer until the close that it ends once its client has
    // ended (as a server of the device's own may). Until 2026-12-08 what the device sent after the
    // answer began, and its end, waited unread: the server and the device both waited for good.
    name: 'an upgrade refused with an answer until the close: what the device sends after it, and its end, reach the server, which then ends its answer',
    proxyConnection: false,
    origin: async (peer) => {
      await peer.waitFor(hasHead, 'the upgrade request');
      peer.write('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nno upgrade here; ');
      await peer.waitEnd();
      peer.write(`you then said: ${peer.text.slice(headEnd(peer.text))}`);
      peer.end();
    },
    client: async (peer, head, authority) => {
      peer.write(head(`GET /lines HTTP/1.1\r\nHost: ${authority}\r\nConnection: Upgrade\r\nUpgrade: lines\r\n\r\n`));
      await peer.waitFor((text) => text.endsWith('no upgrade here; '), 'the refusal');
      peer.write('goodbye');
      peer.end();
      await peer.waitClose();
    },
  },
  {
    // Until 2026-12-08 the head waited for the body's first bytes (Node writes them together):
    // the server saw nothing of a request whose body had not come.
    name: 'a request whose body has not come: its head reaches the server at once, and the server\'s early answer (a 413) reaches the device',
    origin: async (peer) => {
      await peer.waitFor(hasHead, 'the request head');
      peer.write('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntoo big!');
      peer.end();
    },
    client: async (peer, head, authority) => {
      peer.write(head(`PUT /photo.jpg HTTP/1.1\r\nHost: ${authority}\r\nContent-Type: image/jpeg\r\nContent-Length: 4000000\r\n\r\n`));
      await peer.waitClose();
    },
  },
  {
    // Until 2026-12-08 the device got a 400 of ours (Node's parser calls it malformed), and the
    // server's request was never ended: the server never read the device's end, and waited.
    name: 'a device that ends its side in the middle of its upload: its server reads the body as far as it came, then the end, and its own answer reaches the device',
    proxyConnection: false,
    origin: async (peer) => {
      await peer.waitFor(hasHead, 'the request head');
      await peer.waitEnd();
      peer.write(`HTTP/1.1 400 Bad Request\r\nContent-Length: 22\r\nConnection: close\r\n\r\ngot ${String(peer.text.length - headEnd(peer.text)).padStart(2, '0')} bytes, then end`);
      peer.end();
    },
    client: async (peer, head, authority) => {
      peer.write(head(`PUT /photo.jpg HTTP/1.1\r\nHost: ${authority}\r\nContent-Length: 100\r\n\r\n\xff\xd8\xff\xe0 half a photo`));
      peer.end();
      await peer.waitClose();
    },
  },
  {
    name: 'a device that ends its side in the middle of a chunked upload: its server reads the chunks as far as they came, no last chunk, then the end, and its own answer reaches the device',
    proxyConnection: false,
    origin: async (peer) => {
      await peer.waitFor(hasHead, 'the request head');
      await peer.waitEnd();
      const body = peer.text.slice(headEnd(peer.text));
      peer.write(`HTTP/1.1 400 Bad Request\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      peer.end();
    },
    client: async (peer, head, authority) => {
      peer.write(head(`POST /events HTTP/1.1\r\nHost: ${authority}\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nevent1\r\nA\r\nevent2`));
      peer.end();
      await peer.waitClose();
    },
  },
  {
    // A size line our lenient parser reads and the framing reader does not (spaces after it): the
    // chunks go framed again as they pass (see the chunk-size scenario above), and still no last
    // chunk is added, which would make the body look whole.
    name: 'a device that ends its side in the middle of a chunked upload framed again as it passes: no last chunk is added, and the server\'s answer reaches the device',
    proxyConnection: false,
    origin: async (peer) => {
      await peer.waitFor(hasHead, 'the request head');
      await peer.waitEnd();
      peer.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 9\r\nConnection: close\r\n\r\ncut short');
      peer.end();
    },
    client: async (peer, head, authority) => {
      peer.write(head(`POST /events HTTP/1.1\r\nHost: ${authority}\r\nTransfer-Encoding: chunked\r\n\r\n6  \r\nevent1\r\nA\r\nevent2`));
      peer.end();
      await peer.waitClose();
    },
    // Framed again, the last chunk's size is what came of it.
    rewritten: { origin: (direct) => direct.replace('6  \r\nevent1\r\nA\r\nevent2', '6\r\nevent1\r\n6\r\nevent2\r\n') },
  },
  {
    name: 'a device that ends its side in the middle of a chunked upload its server has answered already: the server reads the end, and both connections close',
    proxyConnection: false,
    origin: async (peer) => {
      await peer.waitFor((text) => text.endsWith('half\r\n'), 'the first chunk');
      peer.write('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nthanks');
      await peer.waitEnd();
      peer.end();
    },
    client: async (peer, head, authority) => {
      peer.write(head(`POST /events HTTP/1.1\r\nHost: ${authority}\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nhalf\r\n`));
      await peer.waitFor((text) => text.endsWith('thanks'), 'the answer');
      peer.end();
      await peer.waitClose();
    },
  },
  {
    // Node's parser took the excess for a malformed next answer and dropped the connection: until
    // 2026-12-08 the device got nothing. Direct, its client reads the answer and drops the excess.
    name: 'an answer with more bytes than its Content-Length: the answer reaches the device whole, without the excess (a client drops it)',
    origin: async (peer) => {
      await peer.waitFor(hasHead, 'the request');
      peer.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello, and more');
      await peer.waitEnd();
      peer.end();
    },
    client: async (peer, head, authority) => {
      peer.write(head(`GET /excess HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
      await peer.waitFor((text) => text.endsWith('hello') || text.endsWith('more'), 'the answer');
      peer.end();
      await peer.waitClose();
    },
    rewritten: { client: (direct) => direct.replace(/, and more$/, '') },
  },
  {
    name: 'two requests pipelined in one packet are answered in order, on one server connection',
    origin: async (peer) => {
      for (let answered = 0; answered < 2; answered++) {
        await peer.waitFor((text) => (text.match(/\r\n\r\n/g) ?? []).length > answered, 'a request');
        peer.write(`HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n${answered === 0 ? 'one' : 'two'}`);
      }
    },
    client: async (peer, head, authority) => {
      peer.write(head(`GET /1 HTTP/1.1\r\nHost: ${authority}\r\n\r\n`) + head(`GET /2 HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
      await endsWith(peer, 'two');
    },
  },
  {
    name: 'a chunked request\'s trailers reach the server',
    origin: answer('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', { until: (text) => text.endsWith('\r\n\r\n') && text.includes('X-Sum') }),
    client: async (peer, head, authority) => {
      peer.write(head(`POST /t HTTP/1.1\r\nHost: ${authority}\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n`) + '3\r\nabc\r\n0\r\nX-Sum: 42\r\n\r\n');
      await endsWith(peer, 'ok');
    },
  },
  {
    // Node's parser hands over only the data; relayed as read, the server got one chunk per read,
    // sizes in lower-case hex, and no extensions (requests-as-sent.ts).
    name: 'a chunked request goes in the device\'s own chunks: upper-case sizes, extensions, trailers, written in pieces',
    origin: answer('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', { until: (text) => text.endsWith('X-Sum: 7\r\n\r\n') }),
    client: async (peer, head, authority) => {
      peer.write(head(`POST /chunks HTTP/1.1\r\nHost: ${authority}\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n`) + '0A;part=1;name="first one"\r\n0123456789\r\n1F');
      peer.write(`4\r\n${'x'.repeat(0x1f4 - 3)}`);
      peer.write('abc\r\n0;last\r\nX-Sum: 7\r\n\r\n');
      await endsWith(peer, 'ok');
    },
  },
  {
    // The server's chunks too (answer-head-watch.ts): relayed as read, the device got one chunk
    // per read, sizes in lower-case hex, and no extensions.
    name: 'a chunked answer goes in the server\'s own chunks: upper-case sizes, extensions, trailers, written in pieces',
    origin: async (peer) => {
      await peer.waitFor(hasLengthBody, 'the request');
      peer.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n0A;part=1;name="first one"\r\n0123456789\r\n1F');
      peer.write(`4\r\n${'x'.repeat(0x1f4 - 3)}`);
      peer.write('abc\r\n0;last\r\nX-Sum: 7\r\n\r\n');
    },
    client: getUntil('/chunks', 'X-Sum: 7\r\n\r\n'),
  },
  {
    // A form the framing reader does not follow (here a space after a size, which the lenient
    // parser reads) is framed again by Node from there, whole chunks on both sides of the change.
    name: 'a chunked request with a size line of another form: the chunks before it as sent, the rest framed again',
    origin: answer('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', { until: (text) => text.endsWith('0\r\n\r\n') }),
    client: async (peer, head, authority) => {
      peer.write(head(`POST /chunks HTTP/1.1\r\nHost: ${authority}\r\nTransfer-Encoding: chunked\r\n\r\n`) + 'A\r\n0123456789\r\n3 \r\nabc\r\n0\r\n\r\n');
      await endsWith(peer, 'ok');
    },
    rewritten: { origin: (direct) => direct.replace('A\r\n0123456789\r\n3 \r\nabc\r\n', 'A\r\n0123456789\r\n3\r\nabc\r\n') },
  },
  {
    name: 'a status line\'s reason phrase passes as written (two spaces before it, a Latin-1 letter, a space after)',
    origin: answer('HTTP/1.1 299  Tr\xe8s bien \r\nContent-Length: 2\r\n\r\nok'),
    client: getUntil('/r', 'ok'),
  },
  {
    name: 'an answer with both Content-Length and chunked framing is read as chunked (RFC 9112 section 6.3), as a direct client reads it',
    origin: answer('HTTP/1.1 200 OK\r\nContent-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'),
    client: getUntil('/clte', '0\r\n\r\n'),
  },
  {
    name: 'OPTIONS * (a question about the server itself) goes on as OPTIONS *; a proxy client\'s absolute URL without a path means the same',
    origin: answer('HTTP/1.1 200 OK\r\nAllow: GET\r\nContent-Length: 0\r\n\r\n', { until: hasHead }),
    client: async (peer, head, authority) => {
      // head() makes a proxy client's request line from an origin-form one; `/*` stands for the
      // asterisk here: `OPTIONS *` direct and in a tunnel, `OPTIONS http://host:port` to the proxy.
      const asked = head(`OPTIONS /* HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
      peer.write(asked.startsWith('OPTIONS /*') ? asked.replace('OPTIONS /*', 'OPTIONS *') : asked.replace(/^OPTIONS (\S+)\/\* /, 'OPTIONS $1 '));
      await endsWith(peer, '\r\n\r\n');
    },
  },
  {
    name: 'an HTTP/1.0 server\'s answer says HTTP/1.0, and the device\'s connection ends after it, as the server\'s does',
    origin: answer('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok', { close: true }),
    client: async (peer, head, authority) => {
      peer.write(head(`GET /old HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
      await peer.waitClose();
    },
  },
  {
    name: 'an HTTP/1.0 server\'s keep-alive answer says HTTP/1.0 and keep-alive',
    origin: answer('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok'),
    client: getUntil('/old2', 'ok'),
  },
  {
    name: 'a request body compressed and chunked (Transfer-Encoding: gzip, chunked) goes as sent',
    origin: answer('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', { until: (text) => text.endsWith('0\r\n\r\n') }),
    client: async (peer, head, authority) => {
      peer.write(head(`POST /te HTTP/1.1\r\nHost: ${authority}\r\nTransfer-Encoding: gzip, chunked\r\n\r\n`) + '3\r\nabc\r\n0\r\n\r\n');
      await endsWith(peer, 'ok');
    },
  },
  {
    name: 'a 32 kB request target goes as sent',
    origin: answer('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', { until: hasHead }),
    client: getUntil(`/q?${'a=1&'.repeat(8000)}`, 'ok'),
  },
  {
    name: 'a Content-Length repeated with one value (NanoHTTPD), in a kept connection\'s second answer too',
    origin: async (peer) => {
      await peer.waitFor(hasLengthBody, 'the request');
      // The first exchange on a connection starts at its first byte.
      peer.write(peer.start === 0 ? 'HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 5\r\nETag: f00962f7\r\nContent-Length: 5\r\n\r\nimage'
        : 'HTTP/1.1 200 OK\r\ncontent-length: 4\r\nContent-Length: 4\r\n\r\nmore');
    },
    client: async (peer, head, authority) => {
      peer.write(head(`GET /photo.jpg HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
      await endsWith(peer, 'image');
      peer.write(head(`GET /more HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
      await endsWith(peer, 'more');
    },
  },
  {
    name: 'a Content-Length given as a list of one value (`5, 5`)',
    origin: answer('HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello'),
    client: getUntil('/list', 'hello'),
  },
  {
    name: 'a 100 Continue, then an answer with its Content-Length repeated',
    origin: continueThenAnswer('HTTP/1.1 201 Created\r\nContent-Length: 6\r\nContent-Length: 6\r\n\r\nstored'),
    client: uploadAfterContinue('hello', 'stored'),
  },
  {
    name: 'an answer head arrives byte for byte: whitespace around values, and a status line without a reason (until 2026-12-07: `Name: value` with one space, and `HTTP/1.1 200 `)',
    origin: answer('HTTP/1.1 200\r\nX-A:b\r\nX-B:\tc  \r\nX-C:   d\r\nContent-Length: 2\r\n\r\nok'),
    client: getUntil('/ws', 'ok'),
  },
  {
    name: 'a request head arrives byte for byte: no space after a colon, a tab, spaces after a value, an empty value (until 2026-12-07: `Name: value` with one space)',
    origin: answer('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'),
    client: async (peer, head, authority) => {
      peer.write(head(`GET /spacing HTTP/1.1\r\nHost: ${authority}\r\nX-Empty:\r\nX-Tight:value\r\nX-Tab:\tvalue\t\r\nX-Wide:   spaced out   \r\nUser-Agent: raw/1\r\n\r\n`));
      await endsWith(peer, '\r\n\r\nok');
    },
  },
  {
    name: 'request heads byte for byte on a kept connection: pipelined in one write, and one written a byte at a time',
    origin: async (peer) => {
      const answers = ['one', 'two', 'three'];
      for (let answered = 0; answered < answers.length; answered++) {
        // The first request's body follows its head: it is answered once the body is in too.
        await peer.waitFor((text) => (text.match(/\r\n\r\n/g) ?? []).length > answered && (answered > 0 || text.includes('abc')), 'a request');
        peer.write(`HTTP/1.1 200 OK\r\nContent-Length: ${answers[answered]!.length}\r\n\r\n${answers[answered]}`);
      }
    },
    client: async (peer, head, authority) => {
      peer.write(head(`POST /one HTTP/1.1\r\nHost: ${authority}\r\nX-A:1\r\nContent-Length: 3\r\n\r\n`) + 'abc' + head(`GET /two HTTP/1.1\r\nHost: ${authority}\r\nX-B:\t2 \r\n\r\n`));
      await endsWith(peer, 'two');
      for (const byte of head(`GET /three HTTP/1.1\r\nHost: ${authority}\r\nX-C:  3\r\n\r\n`)) peer.write(byte);
      await endsWith(peer, 'three');
    },
  },
  {
    name: 'lines that are not quite fields reach the device as sent: a space before a colon, no colon, a name with a space (until 2026-12-07: a 502)',
    origin: answer('HTTP/1.1 200 OK\r\nContent-Type : text/plain\r\nGarbage\r\nX Foo: bar\r\nContent-Length: 2\r\n\r\nok'),
    client: getUntil('/odd', 'ok'),
  },
  {
    name: 'a status line in lower case, or with two spaces before its code, as sent (until 2026-12-07: a 502)',
    origin: async (peer) => {
      await peer.waitFor(hasLengthBody, 'the request');
      peer.write(peer.start === 0 ? 'http/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' : 'HTTP/1.1  201 Created\r\nContent-Length: 4\r\n\r\nmade');
    },
    client: async (peer, head, authority) => {
      peer.write(head(`GET /lower HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
      await endsWith(peer, 'ok');
      peer.write(head(`GET /spaces HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
      await endsWith(peer, 'made');
    },
  },
  {
    name: 'a control byte in a header value reaches the other side as sent, both ways (until 2026-12-07: a 502 that named the field)',
    origin: answer('HTTP/1.1 200 OK\r\nX-Raw: a\x01b\x7fc\r\nContent-Length: 2\r\n\r\nok'),
    client: async (peer, head, authority) => {
      peer.write(head(`GET /ctl HTTP/1.1\r\nHost: ${authority}\r\nX-Device: d\x01e\x7ff\r\n\r\n`));
      await endsWith(peer, 'ok');
    },
  },
  {
    name: 'an upgrade request and its 101 arrive byte for byte (until 2026-12-07: their lines written again, `Name: value`)',
    origin: async (peer) => {
      await peer.waitFor(hasHead, 'the upgrade request');
      peer.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade:chat\r\nConnection:  Upgrade\r\n\r\nhello from chat');
    },
    client: async (peer, head, authority) => {
      peer.write(head(`GET /chat HTTP/1.1\r\nHost: ${authority}\r\nConnection:Upgrade\r\nUpgrade:\tchat \r\n\r\n`));
      await endsWith(peer, 'hello from chat');
    },
  },
  {
    name: 'an upgrade refused with a repeated Content-Length: the refusal as sent (until 2026-12-07: a 502)',
    origin: answer('HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nno', { until: hasHead }),
    client: async (peer, head, authority) => {
      peer.write(head(`GET /chat HTTP/1.1\r\nHost: ${authority}\r\nConnection: Upgrade\r\nUpgrade: chat\r\n\r\n`));
      await endsWith(peer, 'no');
    },
  },
  {
    name: 'informational heads arrive byte for byte too: a 100 as the server words it, a 103 without spaces (until 2026-12-07: written again)',
    origin: async (peer) => {
      if (peer.start > 0) {
        await answer('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain')(peer);
        return;
      }
      await peer.waitFor(hasHead, 'the request head');
      peer.write('HTTP/1.1 100 continue please\r\nX-Seen:yes\r\n\r\n');
      await peer.waitFor(hasLengthBody, 'the body');
      peer.write('HTTP/1.1 103 Early Hints\r\nLink:</app.css>; rel=preload\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 6\r\n\r\nstored');
    },
    client: async (peer, head, authority) => {
      peer.write(head(`POST /upload HTTP/1.1\r\nHost: ${authority}\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n`));
      await peer.waitFor((text) => text.includes('X-Seen:yes\r\n\r\n'), 'the 100');
      peer.write('hello');
      await endsWith(peer, 'stored');
      // The device's connection is kept after an answer its 100 preceded, as direct: a second request is answered.
      peer.write(head(`GET /again HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
      await endsWith(peer, 'again');
    },
  },
  {
    name: 'a 60 kB header block passes both ways',
    origin: answer(`HTTP/1.1 200 OK\r\nX-Big-Answer: ${'b'.repeat(60_000)}\r\nContent-Length: 2\r\n\r\nok`),
    client: async (peer, head, authority) => {
      peer.write(head(`GET /big HTTP/1.1\r\nHost: ${authority}\r\nCookie: ${'c'.repeat(60_000)}\r\n\r\n`));
      await endsWith(peer, '\r\n\r\nok');
    },
  },
];

/** Runs one scenario by one route; resolves with what the origin and the client received. */
async function run(scenario: Scenario, route: Route, origin: RawOrigin, lab: Lab): Promise<{ origin: string; client: string }> {
  origin.take();
  origin.script = scenario.origin;
  const { peer, head } = await connectClient(route, lab, origin.port, scenario.proxyConnection);
  try {
    await scenario.client(peer, head, `${HOST}:${origin.port}`);
  } finally {
    peer.destroy();
  }
  return { origin: Buffer.concat(origin.take()).toString('latin1'), client: peer.text };
}

t.test('HTTP/1 heads and framing through phonehome are as sent, by every route (raw origin, raw client)', async (t) => {
  const lab = await startLab();
  const plain = await startRawOrigin(false);
  const secure = await startRawOrigin(true);
  t.teardown(async () => { await lab.close(); await plain.close(); await secure.close(); });
  for (const scenario of scenarios) {
    await t.test(scenario.name, async (t) => {
      for (const [direct, proxied, origin] of [['direct', 'absolute-form', plain], ['direct', 'tunnel', plain], ['direct', 'socks5', plain], ['direct-tls', 'tunnel-tls', secure]] as const) {
        const expected = await run(scenario, direct, origin, lab);
        const seen = await run(scenario, proxied, origin, lab);
        t.equal(seen.origin, scenario.rewritten?.origin?.(expected.origin) ?? expected.origin, `${proxied}: the origin received what a direct client sends`);
        t.equal(seen.client, scenario.rewritten?.client?.(expected.client) ?? expected.client, `${proxied}: the client received what the origin sent`);
      }
    });
  }
});

t.test('the HAR records the head the device sent, with its case and repeats', async (t) => {
  const lab = await startLab();
  const origin = await startRawOrigin(false);
  t.teardown(async () => { await lab.close(); await origin.close(); });
  await run(scenarios[0]!, 'absolute-form', origin, lab);
  const flow = await lab.next('flow:end', (f) => f.request?.url.endsWith('/headers?x=1') ?? false);
  t.same(flow.request?.headers, [['Host', `${HOST}:${origin.port}`], ['X-Dup', 'a'], ['user-AGENT', 'raw/1'], ['X-Dup', 'b'], ['ACCEPT', '*/*'], ['Proxy-Connection', 'keep-alive']]);
  t.same(flow.response?.headers, [['X-Dup', '1'], ['content-TYPE', 'text/plain'], ['x-dup', '2'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['Content-Length', '5']]);
});

t.test('a repeated Content-Length and lines that are not quite fields are recorded as sent; lengths that differ are a 502 that says why', async (t) => {
  const lab = await startLab();
  const origin = await startRawOrigin(false);
  t.teardown(async () => { await lab.close(); await origin.close(); });
  await run(scenarios.find((scenario) => scenario.name.includes('NanoHTTPD'))!, 'absolute-form', origin, lab);
  const flow = await lab.next('flow:end', (f) => f.request?.url.endsWith('/photo.jpg') ?? false);
  t.same(flow.response?.headers, [['Content-Type', 'image/jpeg'], ['Content-Length', '5'], ['ETag', 'f00962f7'], ['Content-Length', '5']]);
  await run(scenarios.find((scenario) => scenario.name.includes('not quite fields'))!, 'absolute-form', origin, lab);
  const odd = await lab.next('flow:end', (f) => f.request?.url.endsWith('/odd') ?? false);
  t.same(odd.response?.headers, [['Content-Type ', 'text/plain'], ['Garbage', ''], ['X Foo', 'bar'], ['Content-Length', '2']], 'each line, its name as written');

  // Which length frames the body is not ours to guess (RFC 9112 §6.3); Chromium refuses it too.
  origin.script = answer('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!');
  const { peer, head } = await connectClient('absolute-form', lab, origin.port);
  peer.write(head(`GET /differ HTTP/1.1\r\nHost: ${HOST}:${origin.port}\r\n\r\n`));
  await peer.waitFor(hasLengthBody, 'the answer');
  peer.destroy();
  t.match(peer.text, /^HTTP\/1\.1 502 Bad Gateway\r\n[^]*x-phonehome-error: upstream: HPE_UNEXPECTED_CONTENT_LENGTH: Parse Error: Duplicate Content-Length\r\n/);
});

t.test('an answer in another protocol (an SMTP greeting) from a server that then waits: a 502 that says why, at once, to a request and to an upgrade', async (t) => {
  const lab = await startLab();
  const plain = await startRawOrigin(false);
  const secure = await startRawOrigin(true);
  t.teardown(async () => { await lab.close(); await plain.close(); await secure.close(); });
  // It greets and waits for a command, as a mail server on a port the device took for HTTP's.
  // Direct the device's client reads the line and gives up; until 2026-12-08 the line was held
  // for the empty line a head ends with, and the device waited with nothing.
  const greet: OriginScript = async (peer) => {
    await peer.waitFor(hasHead, 'the request');
    peer.write('220 mail.example.test ESMTP ready\r\n');
  };
  plain.script = greet;
  secure.script = greet;
  for (const [route, origin] of [['absolute-form', plain], ['tunnel-tls', secure]] as const) {
    for (const [what, fields, opened] of [['a request', '', 'the request could not be completed'], ['a WebSocket upgrade', 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n', 'the WebSocket could not be opened']] as const) {
      const { peer, head } = await connectClient(route, lab, origin.port);
      peer.write(head(`GET /mail HTTP/1.1\r\nHost: ${HOST}:${origin.port}\r\n${fields}\r\n`));
      await peer.waitFor(hasLengthBody, `the answer to ${what}`);
      peer.destroy();
      t.match(peer.text, /^HTTP\/1\.1 502 Bad Gateway\r\n/i, `${route}, ${what}: a 502`);
      t.match(peer.text, new RegExp(`phonehome: ${opened}: upstream: HPE_INVALID_CONSTANT`), 'that says the answer was not HTTP');
    }
  }
});

t.test('a 101 to a request that asked for no upgrade: a 502 that says so, and the flow says it too', async (t) => {
  const lab = await startLab();
  const plain = await startRawOrigin(false);
  const secure = await startRawOrigin(true);
  t.teardown(async () => { await lab.close(); await plain.close(); await secure.close(); });
  // Node's client drops such a connection without a word to the request; until 2026-12-08 the
  // device then waited with nothing for good. (Direct, curl reads the 101 and what follows as a
  // body until the close; a browser fails the request.)
  const switches = answer('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nframes');
  plain.script = switches;
  secure.script = switches;
  for (const [route, origin] of [['absolute-form', plain], ['socks5', plain], ['tunnel-tls', secure]] as const) {
    const { peer, head } = await connectClient(route, lab, origin.port);
    peer.write(head(`GET /no-upgrade-asked HTTP/1.1\r\nHost: ${HOST}:${origin.port}\r\n\r\n`));
    await peer.waitFor(hasLengthBody, 'the answer');
    peer.destroy();
    t.match(peer.text, /^HTTP\/1\.1 502 Bad Gateway\r\n[^]*\r\n\r\nphonehome: the request could not be completed: upstream: the server answered 101 Switching Protocols to a request that asked for no upgrade\n$/, route);
    const flow = await lab.next('flow:end', (f) => f.request?.url.endsWith('/no-upgrade-asked') ?? false);
    t.match(flow.error, /asked for no upgrade/, 'the flow says why');
  }
});

t.test('a refused WebSocket upgrade: the frames the device sent before the answer, and the bytes after it, are recorded as the request\'s body', async (t) => {
  const lab = await startLab();
  const origin = await startRawOrigin(false);
  t.teardown(async () => { await lab.close(); await origin.close(); });
  origin.script = async (peer) => {
    await peer.waitFor(hasHead, 'the upgrade request');
    peer.write('HTTP/1.0 403 Forbidden\r\n\r\nno');
    await peer.waitEnd();
    peer.end();
  };
  const early = '\x81\x85abcd\x09\x07\x0f\x08\x0e';
  const { peer, head } = await connectClient('absolute-form', lab, origin.port);
  peer.write(`${head(`GET /refused HTTP/1.1\r\nHost: ${HOST}:${origin.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`)}${early}`);
  await peer.waitFor((text) => text.endsWith('no'), 'the refusal');
  peer.write('late');
  peer.end();
  await peer.waitClose();
  const flow = await lab.next('flow:end', (f) => f.request?.url.endsWith('/refused') ?? false);
  t.equal(flow.response?.status, 403);
  t.equal(flow.request?.body.bytes.toString('latin1'), `${early}late`, 'both, in order: they left the device, and are inspected like any body');
});

t.test('an answer with more bytes than its Content-Length: the flow is tagged; in a tunnel the device\'s connection ends after the answer, as the server\'s did', async (t) => {
  const lab = await startLab();
  const origin = await startRawOrigin(false);
  t.teardown(async () => { await lab.close(); await origin.close(); });
  origin.script = answer('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello, and more');
  for (const route of ['absolute-form', 'tunnel'] as const) {
    const { peer, head } = await connectClient(route, lab, origin.port);
    peer.write(head(`GET /excess-${route} HTTP/1.1\r\nHost: ${HOST}:${origin.port}\r\n\r\n`));
    await peer.waitFor((text) => text.endsWith('hello'), 'the answer');
    // On the proxy port the device's connection is to phonehome, and may go on to other servers.
    if (route === 'tunnel') await peer.waitClose();
    peer.destroy();
    t.match(peer.text, /\r\n\r\nhello$/, `${route}: the answer, whole`);
    const flow = await lab.next('flow:end', (f) => f.request?.url.endsWith(`/excess-${route}`) ?? false);
    t.equal(flow.error, undefined, 'not a failed exchange');
    t.ok(flow.tags?.includes('upstream:bytes-after-answer'), 'tagged: its server wrote bytes after it');
  }
});

t.test('a later request the parser refuses: in a plain CONNECT tunnel its server reads it and answers it; to the proxy port, a 400 that says why', async (t) => {
  const lab = await startLab();
  const origin = await startRawOrigin(false);
  t.teardown(async () => { await lab.close(); await origin.close(); });
  // Two lengths that differ: no one can tell which frames the body (RFC 9112 §6.3). A server
  // answers such a request its own way.
  const malformed = `POST /upload HTTP/1.1\r\nHost: ${HOST}:${origin.port}\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc`;
  origin.script = async (peer) => {
    await peer.waitFor(hasHead, 'the first request');
    peer.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    await peer.waitFor((text) => text.endsWith('abc'), 'the request our parser refuses');
    peer.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 9\r\n\r\ntwo sizes');
  };
  // In a tunnel the rest of the connection goes on as bytes, on the same server connection
  // (test/conformance/request-lines.test.ts compares it with curl, direct and through). Until
  // 2026-12-07 it was answered with a 400 of ours, and before that day closed without a word.
  const tunnel = await connectTunnel(lab.port, `${HOST}:${origin.port}`);
  t.equal(tunnel.status, 200);
  const inTunnel = new RawPeer(tunnel.socket);
  inTunnel.write(`GET /first HTTP/1.1\r\nHost: ${HOST}:${origin.port}\r\n\r\n`);
  await endsWith(inTunnel, 'ok');
  inTunnel.write(malformed);
  await endsWith(inTunnel, 'two sizes');
  t.match(inTunnel.text, /^HTTP\/1\.1 200 OK\r\n[^]*okHTTP\/1\.1 400 Bad Request\r\nContent-Length: 9\r\n\r\ntwo sizes$/, 'in a plain tunnel, the server\'s own answer');
  const [received, ...others] = origin.take();
  t.equal(received?.toString('latin1'), `GET /first HTTP/1.1\r\nHost: ${HOST}:${origin.port}\r\n\r\n${malformed}`, 'read on the one connection, as sent');
  t.equal(others.length, 0);
  inTunnel.destroy();
  // On the proxy port, once a first exchange is done on the connection: a 400 of ours.
  const { peer, head } = await connectClient('absolute-form', lab, origin.port);
  peer.write(head(`GET /first HTTP/1.1\r\nHost: ${HOST}:${origin.port}\r\n\r\n`));
  await endsWith(peer, 'ok');
  peer.write(head(malformed));
  await peer.waitClose();
  t.match(peer.text, /^HTTP\/1\.1 200 OK\r\n[^]*ok(?:HTTP\/1\.1 400 Bad Request\r\n)/, 'after a first answer');
  const rejected = await lab.next('flow:end', (f) => f.kind === 'rejected');
  t.match(rejected.error, /Duplicate Content-Length/, 'and a rejected flow says why');
});

t.test('Public-Key-Pins is still dropped, the rest of the head as sent', async (t) => {
  const lab = await startLab();
  const origin = await startRawOrigin(true);
  t.teardown(async () => { await lab.close(); await origin.close(); });
  origin.script = answer('HTTP/1.1 200 OK\r\nPublic-Key-Pins: pin-sha256="AAAA"; max-age=10\r\nX-A: 1\r\npublic-key-pins-report-only: pin-sha256="AAAA"\r\nContent-Length: 2\r\n\r\nok');
  const { peer } = await connectClient('tunnel-tls', lab, origin.port);
  peer.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  await endsWith(peer, 'ok');
  peer.destroy();
  t.equal(peer.text, 'HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nok');
});

t.test(`a header block over ${limits.http1MaxRequestHeadBytes} bytes: 431 that says why, and a rejected flow`, async (t) => {
  const lab = await startLab();
  const plain = await startRawOrigin(false);
  const secure = await startRawOrigin(true);
  t.teardown(async () => { await lab.close(); await plain.close(); await secure.close(); });
  let requests = 0;
  const count: OriginScript = async (peer) => {
    await peer.waitFor(hasHead, 'a request');
    requests++;
  };
  plain.script = count;
  secure.script = count;
  for (const [route, origin] of [['absolute-form', plain], ['tunnel-tls', secure]] as const) {
    const { peer, head } = await connectClient(route, lab, origin.port);
    peer.write(head(`GET /too-big HTTP/1.1\r\nHost: ${HOST}:${origin.port}\r\nCookie: ${'c'.repeat(limits.http1MaxRequestHeadBytes)}\r\n\r\n`));
    await peer.waitClose();
    t.match(peer.text, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/, route);
    t.match(peer.text, new RegExp(`\\r\\n\\r\\nphonehome: 431 Request Header Fields Too Large: the request line and headers are larger than ${limits.http1MaxRequestHeadBytes} bytes`));
    const length = Number(/Content-Length: (\d+)/.exec(peer.text)?.[1]);
    t.equal(peer.text.length - headEnd(peer.text), length, 'the body is as long as announced');
  }
  const rejected = await lab.next('flow:end', (f) => f.kind === 'rejected' && /larger than/.test(f.error ?? ''));
  t.match(rejected.tags, ['client:HPE_HEADER_OVERFLOW']);
  t.equal(requests, 0, 'no request reached an origin');
});

t.test('an HTTP/1.0 client that asked the proxy to keep its connection is told keep-alive, and keeps it', async (t) => {
  const lab = await startLab();
  const origin = await startRawOrigin(false);
  t.teardown(async () => { await lab.close(); await origin.close(); });
  origin.script = answer('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nlegacy');
  const { peer, head } = await connectClient('absolute-form', lab, origin.port);
  const request = head(`GET /legacy HTTP/1.0\r\nHost: ${HOST}:${origin.port}\r\n\r\n`);
  peer.write(request);
  await endsWith(peer, 'legacy');
  t.equal(peer.text, 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\nProxy-Connection: keep-alive\r\nConnection: keep-alive\r\n\r\nlegacy', 'the documented addition, nothing else');
  t.same(origin.take().map((bytes) => bytes.toString('latin1')), [`GET /legacy HTTP/1.0\r\nHost: ${HOST}:${origin.port}\r\n\r\n`], 'the origin gets the request without it');
  peer.write(request);
  await peer.waitFor((text) => text.split('legacy').length === 3, 'a second answer on the same connection');
  peer.destroy();
});

// ---- curl ----------------------------------------------------------------------------------------

const execFileAsync = promisify(execFile);

/** A generic origin for curl: 100 Continue when asked, the body by Content-Length, then the answer. */
function curlOrigin(answerFor: (head: string, body: Buffer) => string | Buffer, options: { close?: boolean } = {}): OriginScript {
  return async (peer) => {
    await peer.waitFor(hasHead, 'a request head');
    const head = peer.text.slice(0, headEnd(peer.text));
    if (/\r\nexpect: 100-continue/i.test(head)) peer.write('HTTP/1.1 100 Continue\r\n\r\n');
    await peer.waitFor(hasLengthBody, 'the request body');
    const body = peer.received.subarray(peer.start + head.length, peer.start + head.length + contentLength(head));
    peer.write(answerFor(head, body));
    if (options.close) peer.end();
  };
}

async function curl(args: string[], dir: string, name: string): Promise<{ headers: string; body: Buffer }> {
  const headers = path.join(dir, `${name}.headers`);
  const body = path.join(dir, `${name}.body`);
  await within(execFileAsync('curl', ['-sS', '--max-time', '20', '-D', headers, '-o', body, ...args]), 25_000, `curl ${name}`);
  return { headers: fs.readFileSync(headers, 'latin1'), body: fs.readFileSync(body) };
}

t.test('curl: direct and through phonehome (-x) get the same answers, and the origin the same requests', async (t) => {
  const lab = await startLab();
  const origin = await startRawOrigin(false);
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const dir = tempDir('phonehome-curl-');
  const upload = path.join(dir, 'upload.bin');
  fs.writeFileSync(upload, crypto.randomBytes(3 * 1024 * 1024));
  const gzipped = zlib.gzipSync(Buffer.from('compressed '.repeat(100)));
  const cases: Array<{ name: string; args: (url: string) => string[]; origin: OriginScript }> = [
    {
      name: 'GET with repeated mixed-case headers',
      args: (url) => ['-H', 'X-Dup: a', '-H', 'x-dup: b', url],
      origin: curlOrigin(() => 'HTTP/1.1 200 OK\r\nX-Dup: 1\r\nx-DUP: 2\r\nContent-Length: 2\r\n\r\nok'),
    },
    {
      name: '--http1.0',
      args: (url) => ['--http1.0', url],
      origin: curlOrigin(() => 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close', { close: true }),
    },
    {
      name: '-I (HEAD)',
      args: (url) => ['-I', url],
      origin: curlOrigin(() => 'HTTP/1.1 200 OK\r\nContent-Length: 99\r\nETag: "e"\r\n\r\n'),
    },
    {
      name: 'a 3 MB upload with Expect: 100-continue',
      args: (url) => ['-H', 'Expect: 100-continue', '--data-binary', `@${upload}`, url],
      origin: curlOrigin((_head, body) => {
        const digest = crypto.createHash('sha256').update(body).digest('hex');
        return `HTTP/1.1 200 OK\r\nContent-Length: ${digest.length}\r\n\r\n${digest}`;
      }),
    },
    {
      name: '--compressed',
      args: (url) => ['--compressed', url],
      origin: curlOrigin(() => Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nVary: Accept-Encoding\r\nContent-Length: ${gzipped.length}\r\n\r\n`), gzipped])),
    },
  ];
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      origin.script = c.origin;
      const url = `http://${HOST}:${origin.port}/curl?case=${encodeURIComponent(c.name)}`;
      origin.take();
      const direct = await curl(['--resolve', `${HOST}:${origin.port}:127.0.0.1`, ...c.args(url)], dir, 'direct');
      const directOrigin = Buffer.concat(origin.take()).toString('latin1');
      const proxied = await curl(['-x', `http://127.0.0.1:${lab.port}`, ...c.args(url)], dir, 'proxied');
      const proxiedOrigin = Buffer.concat(origin.take()).toString('latin1');
      // curl sends the absolute URL and its own Proxy-Connection to a proxy; the origin sees neither.
      t.equal(proxiedOrigin, directOrigin, 'the origin received the same request');
      t.equal(proxied.headers, direct.headers, 'curl saw the same heads');
      t.ok(proxied.body.equals(direct.body), 'and the same body');
    });
  }
});
