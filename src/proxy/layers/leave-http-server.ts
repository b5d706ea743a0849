// Taking a device connection away from Node's HTTP/1 server after its parser refused a request,
// so that the rest of the connection can be relayed as bytes (Http1Layer). Node has no API for
// it; it does the same for an upgrade (`_http_server.js`, where a request with `Upgrade` leaves the
// parser), and this follows those steps on Node 20:
//   - Node's listeners that read and judge the connection go: 'data', 'end', 'error', 'timeout',
//     'pause' and 'resume'. Its 'close' and 'drain' ones stay: answers to earlier requests may still
//     be on their way to the device, and their writing needs them;
//   - the socket stops flowing, so that what the device sends next waits in its buffer;
//   - the parser gives the socket back to JavaScript reads (unconsume) and is freed.
// The conformance test of later refused heads (test/conformance/request-lines.test.ts) fails if
// Node's internals change; where they are not as expected, nothing is touched and the caller
// answers as before.

import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';

/** Node's parser as its server leaves it on `socket.parser`, with what is used here. */
interface ServerParser {
  _consumed?: boolean;
  unconsume(): void;
}

type FreeParser = (parser: ServerParser, req: null, socket: Duplex) => void;

const freeParser: FreeParser | undefined = (() => {
  try {
    const common = createRequire(import.meta.url)('_http_common') as { freeParser?: unknown };
    return typeof common.freeParser === 'function' ? (common.freeParser as FreeParser) : undefined;
  } catch {
    return undefined;
  }
})();

/**
 * The listeners Node's server puts on a connection that go, by event and by function name, and
 * whether one must be there. Its 'error' one takes itself away before it tells of a parse error
 * ('clientError'), and leaves a no-op one that keeps an error from throwing: that one stays.
 */
const NODE_LISTENERS: ReadonlyArray<readonly [event: string, name: string, required: boolean]> = [
  ['data', 'bound socketOnData', true],
  ['end', 'bound socketOnEnd', true],
  ['pause', 'onSocketPause', true],
  ['resume', 'onSocketResume', true],
  ['error', 'socketOnError', false],
  ['timeout', 'socketOnTimeout', false],
];

/**
 * Takes `socket` from Node's HTTP/1 server: paused, no longer read or judged by it, its parser
 * freed. False, with nothing touched, when Node's server is not as expected.
 */
export function leaveHttpServer(socket: Duplex): boolean {
  const parser = (socket as Duplex & { parser?: ServerParser | null }).parser;
  if (!parser || typeof parser.unconsume !== 'function' || !freeParser) return false;
  const found = NODE_LISTENERS.map(([event, name, required]) => [event, socket.listeners(event).find((listener) => listener.name === name), required] as const);
  if (found.some(([, listener, required]) => required && listener === undefined)) return false;
  for (const [event, listener] of found) if (listener) socket.removeListener(event, listener as (...args: unknown[]) => void);
  // Not flowing: what the device sends from now on waits for the relay (its 'pause' listener is
  // gone, so the socket is still read, into the stream's buffer, with its backpressure).
  socket.pause();
  if (parser._consumed) {
    parser.unconsume();
    parser._consumed = false;
  }
  freeParser(parser, null, socket);
  const internals = socket as Duplex & { _paused?: boolean; _handle?: { reading?: boolean } | null; _readableState: { reading: boolean } };
  // Node resumes a connection it paused for its answers' sake once they drain; it is ours now.
  internals._paused = false;
  // While the parser read the socket, the stream waited for a read of its own that never came: a
  // socket no longer read (Node stops one whose answers wait to be written) starts again when the
  // relay reads it only if the stream does not believe a read is under way.
  if (internals._handle && !internals._handle.reading) internals._readableState.reading = false;
  return true;
}
