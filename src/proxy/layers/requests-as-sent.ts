// The device's requests as it wrote them, for the relay to send on unchanged: each request's head
// (request-head-as-sent.ts says what of it goes as sent) and its chunked body's framing
// (chunked-framing.ts says why). Node's parser reads a device connection in C++ and hands over
// each value trimmed and only what is inside the chunks; so each connection our HTTP/1 servers
// take is also read here, in step with the parser: each read is shown here just after the parser
// read it (parser-bytes.ts, which says what that costs and how it is kept small).
//
// Keeping in step: the parser emits 'request' while it reads the bytes that end a request's head,
// before this watch is shown those bytes. So each head found here already has its request
// noted (noteRequest, from the server's first 'request' listener), in order, with the framing the
// parser chose for its body: none, a length to skip, or chunked, read here. A head found with no
// request noted for it (an upgrade or a CONNECT, which leave the parser; a head the parser
// refused), or one that does not start with its request's method, a bare CR (which the lenient
// parser may take for a line end), a head past the size limit, a body framing not read here: each
// ends the watch for the rest of the connection, and its later requests are written again from the
// parser's reading, as they all were before. The watch never guesses: what it hands over is what
// the parser read too.
//
// When the parser refuses a read, the watch is shown that read too: the requests the parser
// handed over from it are followed as usual, and the first head with no request (whole or not)
// is the one it refused. What the device sent from that head's first byte (earlier pieces of it
// included) is kept for the HTTP/1 layer, which relays the rest of the connection as bytes
// (takeRefusedRequest). A refusal inside a body keeps nothing.
//
// A relay that wants a head the watch has not reached yet (it is in the read the parser is in)
// waits for it: withHeadAsSent calls back once the watch reads it, in the same turn of the event
// loop, or at once with nothing where the watch will not (and, should the watch not have read it
// by the next turn, with nothing then). An upgrade request's head is the last
// one the watch reads on its connection, before the parser hands the request over.

import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { limits } from '../../limits.js';
import { ChunkedBodyAsSent, ChunkedFramingReader, endsInChunked } from './chunked-framing.js';
import { showParserBytes } from './parser-bytes.js';

type Framing =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; remaining: number }
  | { readonly kind: 'chunked'; readonly body: ChunkedBodyAsSent; readonly reader: ChunkedFramingReader };

const EMPTY = Buffer.alloc(0);
const watches = new WeakMap<Duplex, RequestFramingWatch>();
const bodies = new WeakMap<http.IncomingMessage, ChunkedBodyAsSent>();
/** Heads read before their relay asked for them (latin1, through the empty line). */
const heads = new WeakMap<http.IncomingMessage, string>();
/** The head that took a connection out of the parser (an upgrade, a CONNECT), for its relay. */
const leavingHeads = new WeakMap<Duplex, string>();
/** What the device sent from the first byte of a head the parser refused, through the read it refused (takeRefusedRequest). */
const refusedRequests = new WeakMap<Duplex, Buffer>();

/** Follows `socket`'s requests from here on, with the parser that was just given it (a parser given it again starts a new watch). */
export function watchRequestFraming(socket: Duplex): void {
  watches.get(socket)?.stop('the connection was given to a parser again');
  leavingHeads.delete(socket);
  watches.set(socket, new RequestFramingWatch(socket));
}

/** Notes a request the parser read, in order: call from the server's first 'request' listener. */
export function noteRequest(req: http.IncomingMessage): void {
  watches.get(req.socket)?.expect(req);
}

/**
 * Calls `use` with `req`'s head as the device sent it (latin1, through its empty line) once its
 * connection's watch has read it: at once when it has, later in the same turn when the parser's
 * read holds it, at once with undefined when the watch does not follow `req`.
 */
export function withHeadAsSent(req: http.IncomingMessage, use: (head: string | undefined) => void): void {
  const head = heads.get(req);
  if (head !== undefined) {
    heads.delete(req);
    use(head);
    return;
  }
  let answered = false;
  const answer = (asSent: string | undefined): void => {
    if (answered) return;
    answered = true;
    use(asSent);
  };
  if (watches.get(req.socket)?.waitForHead(req, answer)) goOnWithoutNextTurn(answer);
  else answer(undefined);
}

/** Relays waiting for a head in this turn of the event loop (withHeadAsSent). */
let waitingThisTurn: Array<(head: undefined) => void> = [];

/**
 * A safety net: the watch is shown a head in the turn its request came in (parser-bytes.ts), so a
 * relay still waiting at the next turn (a Node whose parser no longer calls what parser-bytes
 * hooks, say) goes on without it, its head written again, rather than wait for ever. One
 * immediate serves every request of a turn.
 */
function goOnWithoutNextTurn(answer: (head: undefined) => void): void {
  if (waitingThisTurn.length === 0) {
    setImmediate(() => {
      const late = waitingThisTurn;
      waitingThisTurn = [];
      for (const giveUp of late) giveUp(undefined);
    });
  }
  waitingThisTurn.push(answer);
}

/**
 * The head of an upgrade request as the device sent it, when its connection's watch read it: the
 * parser hands such a request over after its read was shown here ('upgrade', not 'request'). Taken once.
 */
export function takeUpgradeHeadAsSent(req: http.IncomingMessage): string | undefined {
  const head = leavingHeads.get(req.socket);
  leavingHeads.delete(req.socket);
  return head !== undefined && head.startsWith(`${req.method} `) ? head : undefined;
}

/**
 * After Node's parser refused a request head on `socket` (its 'clientError'): the bytes the device
 * sent from that head's first byte through the read the parser refused, when the watch followed
 * the connection to that head; undefined when it did not, or when the refusal came inside a body.
 * Every request before it was read whole (the parser handed each over). Taken once.
 */
export function takeRefusedRequest(socket: Duplex): Buffer | undefined {
  const rest = refusedRequests.get(socket);
  refusedRequests.delete(socket);
  return rest;
}

/** The device's own framing of `req`'s chunked body, when its connection's watch follows it; taken once. */
export function takeChunkedBodyAsSent(req: http.IncomingMessage): ChunkedBodyAsSent | undefined {
  const body = bodies.get(req);
  bodies.delete(req);
  return body;
}

/** The body framing Node's parser reads for a request, from its headers; undefined for one not followed here. */
function framingOf(req: http.IncomingMessage): Framing | undefined {
  const transferEncoding = req.headers['transfer-encoding'];
  if (transferEncoding !== undefined) {
    // Chunked last is chunked, whatever a Content-Length says (the lenient parser takes it so).
    if (!endsInChunked(transferEncoding)) return undefined;
    const body = new ChunkedBodyAsSent();
    bodies.set(req, body);
    return { kind: 'chunked', body, reader: new ChunkedFramingReader() };
  }
  const length = req.headers['content-length'];
  if (length === undefined) return { kind: 'none' };
  return /^\d{1,15}$/.test(length) ? { kind: 'length', remaining: Number(length) } : undefined;
}

interface ExpectedRequest {
  readonly req: http.IncomingMessage;
  readonly framing: Framing | undefined;
  /** A relay waiting for the head (withHeadAsSent). */
  waiting?: (head: string | undefined) => void;
}

class RequestFramingWatch {
  /** Requests the parser read whose heads this watch has not reached yet. */
  readonly #expected: ExpectedRequest[] = [];
  /** A head's bytes so far. */
  #head: Buffer = EMPTY;
  /** The body being followed. */
  #body: Exclude<Framing, { kind: 'none' }> | undefined;
  #stopped = false;
  /** Reading the read the parser refused: the first head with no request is where it refused. */
  #refusing = false;
  readonly #socket: Duplex;
  readonly #stopReading: () => void;

  constructor(socket: Duplex) {
    this.#socket = socket;
    this.#stopReading = showParserBytes(socket, {
      countOnly: () => (this.#body?.kind === 'length' ? this.#body.remaining : 0),
      count: (length) => this.#count(length),
      read: (bytes) => this.#read(bytes),
      lost: (reason, refused) => this.#refusedIn(refused, reason),
    });
  }

  /**
   * The parser refused `read` (or the reading failed: no read). The requests it handed over from
   * that read are followed to their ends as usual; the head it refused on is the first one with
   * no request, whole or not, and what the device sent from its first byte is kept for the layer
   * (takeRefusedRequest). Then the watch stops.
   */
  #refusedIn(read: Buffer | undefined, reason: string): void {
    if (read && !this.#stopped) {
      this.#refusing = true;
      this.#read(read);
      this.#refusing = false;
    }
    this.stop(reason);
  }

  expect(req: http.IncomingMessage): void {
    if (!this.#stopped) this.#expected.push({ req, framing: framingOf(req) });
  }

  /** Has `use` called with `req`'s head when it is read (or undefined if the watch stops first); false when `req` is not expected. */
  waitForHead(req: http.IncomingMessage, use: (head: string | undefined) => void): boolean {
    const request = this.#expected.find((expected) => expected.req === req);
    if (!request) return false;
    request.waiting = use;
    return true;
  }

  /**
   * Follows no more of the connection. Bodies not reached yet go as Node frames them, from their
   * start; one being read, which only a reader's 'unsure' leaves at a chunk boundary, is cut.
   */
  stop(reason: string): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stopReading();
    const body = this.#body;
    if (body?.kind === 'chunked' && !body.reader.done) body.body.deliver({ kind: 'cut', reason });
    const expected = this.#expected.splice(0);
    for (const { framing } of expected) if (framing?.kind === 'chunked') framing.body.deliver({ kind: 'unsure', reason });
    for (const { waiting } of expected) waiting?.(undefined);
    this.#head = EMPTY;
    this.#body = undefined;
  }

  /** Bytes of a length-delimited body, counted. */
  #count(length: number): void {
    const body = this.#body;
    if (body?.kind !== 'length') return;
    body.remaining -= length;
    if (body.remaining === 0) this.#body = undefined;
  }

  #read(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.#stopped) {
      const body = this.#body;
      if (!body) {
        at = this.#readHead(chunk, at);
        continue;
      }
      if (body.kind === 'length') {
        const take = Math.min(body.remaining, chunk.length - at);
        this.#count(take);
        at += take;
        continue;
      }
      const rest = at === 0 ? chunk : chunk.subarray(at);
      at = chunk.length;
      for (const piece of body.reader.read(rest)) {
        body.body.deliver(piece);
        if (piece.kind === 'end') {
          this.#body = undefined;
          at = chunk.length - piece.rest.length;
        } else if (piece.kind === 'unsure') {
          this.#body = undefined;
          this.stop(piece.reason);
        }
      }
    }
  }

  /** Reads head bytes from `at`; returns where the body (or the next head) starts, or the end of `chunk` while the head is not whole. */
  #readHead(chunk: Buffer, at: number): number {
    const from = at;
    if (this.#head.length === 0) {
      // The parser skips line ends before a request line (a client's stray CRLF after a body).
      while (at < chunk.length && (chunk[at] === 0x0d || chunk[at] === 0x0a)) at++;
      if (at === chunk.length) return at;
    }
    const held = this.#head.length;
    const head = held === 0 ? chunk.subarray(at) : Buffer.concat([this.#head, chunk.subarray(at)]);
    const end = headEnd(head, Math.max(0, held - 2));
    if (end === 'bare CR') {
      this.stop('a bare CR in a request head');
      return chunk.length;
    }
    if (this.#refusing && (end === undefined || this.#expected.length === 0)) {
      // From the line ends the parser skipped before it, as the server would read them.
      refusedRequests.set(this.#socket, Buffer.from(held === 0 ? chunk.subarray(from) : head));
      this.stop('the parser refused a request head');
      return chunk.length;
    }
    if (end === undefined) {
      if (head.length > limits.http1MaxRequestHeadBytes) this.stop('a request head past its limit');
      else this.#head = head;
      return chunk.length;
    }
    this.#head = EMPTY;
    const request = this.#expected.shift();
    if (!request) leavingHeads.set(this.#socket, head.toString('latin1', 0, end));
    if (!request || !request.framing || !startsWithMethod(head, request.req.method ?? '')) {
      this.stop(!request ? 'a head the parser gave no request for (an upgrade, a CONNECT)' : !request.framing ? 'a body framing not followed' : 'a head that does not start with its method');
      request?.waiting?.(undefined);
      return chunk.length;
    }
    const framing = request.framing;
    this.#body = framing.kind === 'none' || (framing.kind === 'length' && framing.remaining === 0) ? undefined : framing;
    const asSent = head.toString('latin1', 0, end);
    if (request.waiting) request.waiting(asSent);
    else heads.set(request.req, asSent);
    return at + end - held;
  }
}

/**
 * Where a head ends (after its empty line), looking from `from`; undefined while it is not whole;
 * 'bare CR' for a CR not followed by LF before that (the lenient parser may end a line there).
 */
function headEnd(head: Buffer, from: number): number | 'bare CR' | undefined {
  let end: number | undefined;
  for (let lf = head.indexOf(0x0a, from); lf >= 0 && end === undefined; lf = head.indexOf(0x0a, lf + 1)) {
    const next = head[lf + 1];
    if (next === 0x0a) end = lf + 2;
    else if (next === 0x0d && head[lf + 2] === 0x0a) end = lf + 3;
  }
  const last = end ?? head.length;
  for (let cr = head.indexOf(0x0d, from); cr >= 0 && cr < last; cr = head.indexOf(0x0d, cr + 1)) {
    // A CR at the very end of what came so far waits for the next byte.
    if (cr + 1 < head.length && head[cr + 1] !== 0x0a) return 'bare CR';
  }
  return end;
}

function startsWithMethod(head: Buffer, method: string): boolean {
  return method.length > 0 && head.length > method.length && head[method.length] === 0x20 && head.toString('latin1', 0, method.length) === method;
}
