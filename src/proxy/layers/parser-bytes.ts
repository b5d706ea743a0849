// Each piece of a connection's bytes, shown to a reader just after Node's HTTP/1 server parser read
// it, for requests-as-sent.ts. The plain way, a 'data' listener on the socket, makes Node
// stop reading the socket in C++ and feed its parser from JavaScript streams instead: measured
// with scripts/profile-capture.mjs --upload 64, about 15 % more CPU per uploaded MB. So the reader
// is called where the parser is fed, in both of Node's ways:
//   - reading the socket in C++ (a TCP or TLS socket), Node calls the parser's after-each-read
//     callback (`kOnExecute`, which its server sets); the read is copied out for the reader
//     (`getCurrentBuffer`, what Node itself uses for an upgrade's first bytes) only when it must
//     look at it: the inside of a length-delimited body is only counted;
//   - from JavaScript (bytes put back after the first look at a connection, a stream of ours, or a
//     socket someone added a 'data' listener to), Node's 'data' listener calls `execute`.
// Both are Node 20 internals, like the writer's in http1-request-relay.ts; the conformance tests
// (http1-headers, the JDK and Python clients) and test/unit/proxy/requests-as-sent.test.ts
// fail if they change. Where they are missing, a 'data' listener does the same, at its cost.
//
// In the C++ way, the callbacks the parser made for a read (a request, its body's data, its end)
// and the ticks they queued have run before the reader is shown the read: a relay may see a
// body's end before its framing (chunked-body-relay.ts waits for it).

import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';

/** What is shown the bytes. */
export interface ParserBytesReader {
  /** How many of the next bytes it only counts (the rest of a length-delimited body). */
  countOnly(): number;
  /** Counts `length` bytes it need not see (at most countOnly). */
  count(length: number): void;
  /** The next bytes the parser read. */
  read(bytes: Buffer): void;
  /**
   * The parser refused what it read (`refused`: that read, whole), or this reading failed:
   * nothing more comes.
   */
  lost(reason: string, refused?: Buffer): void;
}

/** Node's HTTP parser as its server leaves it on `socket.parser`, with what is used here. */
interface ServerParser {
  /** The connection it reads; Node sets it for each, and clears it when the parser is freed. */
  socket?: unknown;
  execute(bytes: Buffer): unknown;
  getCurrentBuffer(): Buffer;
  [callback: number]: unknown;
}

const kOnExecute: number | undefined = (() => {
  try {
    const { HTTPParser } = createRequire(import.meta.url)('_http_common') as { HTTPParser?: { kOnExecute?: unknown } };
    return typeof HTTPParser?.kOnExecute === 'number' ? HTTPParser.kOnExecute : undefined;
  } catch {
    return undefined;
  }
})();

/**
 * Shows `reader` each piece of `socket`'s bytes once the server's parser, just given the socket,
 * has read it. Returns what stops it.
 */
export function showParserBytes(socket: Duplex, reader: ParserBytesReader): () => void {
  const parser = (socket as Duplex & { parser?: ServerParser }).parser;
  if (kOnExecute === undefined || !parser || typeof parser[kOnExecute] !== 'function' || typeof parser.getCurrentBuffer !== 'function' || typeof parser.execute !== 'function') {
    const onData = (chunk: Buffer): void => reader.read(chunk);
    socket.on('data', onData);
    return () => { socket.off('data', onData); };
  }
  /** After the parser read `bytes` (undefined: the read it is in, copied out only when needed), `parsed` of them. */
  const show = (parsed: unknown, bytes: Buffer | undefined): void => {
    try {
      if (typeof parsed !== 'number') reader.lost('the parser refused what it read', bytes ?? parser.getCurrentBuffer());
      else if (parsed > 0 && reader.countOnly() >= parsed) reader.count(parsed);
      else if (parsed > 0) reader.read(bytes ?? parser.getCurrentBuffer());
    } catch (error) {
      reader.lost(`reading alongside the parser failed: ${String(error)}`);
    }
  };
  const onExecute = parser[kOnExecute] as (ret: unknown) => unknown;
  const afterRead = (ret: unknown): unknown => {
    show(ret, undefined);
    return onExecute(ret);
  };
  // Own properties over the prototype's method, taken away again when this stops. Parsers are
  // reused for later connections (Node sets kOnExecute afresh for each): a parser no longer this
  // socket's takes its own execute back at its first call. No 'close' listener does it: Node adds
  // one per answer in flight, and a device that pipelines ten requests would then pass Node's
  // limit of ten and print a warning.
  const execute = (bytes: Buffer): unknown => {
    const ret = Object.getPrototypeOf(parser).execute.call(parser, bytes) as unknown;
    if (parser.socket === socket) show(ret, bytes);
    else restore();
    return ret;
  };
  const restore = (): void => {
    if (parser[kOnExecute] === afterRead) parser[kOnExecute] = onExecute;
    if (parser.execute === execute) delete (parser as Partial<ServerParser>).execute;
  };
  parser[kOnExecute] = afterRead;
  parser.execute = execute;
  return restore;
}
