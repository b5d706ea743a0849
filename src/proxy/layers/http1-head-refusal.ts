// Whether Node's HTTP/1 parser, run as leniently as the HTTP/1 layer runs it (http1-leniency.ts),
// refuses a connection's first request head. llhttp refuses some heads even then that servers
// read and answer, and curl sends as it is told to (`curl -H 'Host : a'`):
//   - a space before a header's colon, or inside its name (`X-Device-Id : 7`, `X Id: 7`: old
//     firmware that prints its heads with a format string of its own);
//   - `Content-Length` sent twice, or as a list (`2, 2`), which RFC 9110 §8.6 lets a recipient read
//     as the one length it repeats.
// The device got a 400 of ours where its server would have answered, so its traffic broke. On a
// connection with one destination (a tunnel, SOCKS5, transparent, WireGuard) such a connection is
// now relayed as a byte stream and captured, as one whose request line the parser would refuse
// (http1-request-line.ts): the server reads what the device wrote and answers as it does direct.
//
// The parser itself is asked (Node's own, from `_http_common`, the one its server uses), so this says
// what the layer's parser would say: a list of our own would drift from llhttp's. Only the first
// head is judged, as far as the bytes in hand go: nothing is waited for (the decision is the next
// layer's, made on a connection's first bytes, which hold a whole head for every client we know
// of). The parser refuses at the first byte it cannot take, so a refusal is as sure in a head cut
// short. What it refuses in a body, in a later request, or past the first bytes of a head that
// came in pieces is still a 400 that says why (README, "Limits, honestly"). Where Node no longer
// offers the parser this way, every head reads as accepted: the layer then refuses as before.

import { createRequire } from 'node:module';
import { limits } from '../../limits.js';
import { deviceParserOptions } from './http1-leniency.js';

/** Node 20's HTTPParser, as `_http_common` exports it, with what is used here. */
interface ParserClass {
  new (): Parser;
  readonly REQUEST: number;
  readonly kOnHeadersComplete: number;
  readonly kLenientAll: number;
  readonly kLenientNone: number;
}

interface Parser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(bytes: Buffer): unknown;
  [callback: number]: unknown;
}

const ParserOfNode: ParserClass | undefined = (() => {
  try {
    const { HTTPParser } = createRequire(import.meta.url)('_http_common') as { HTTPParser?: ParserClass };
    const usable = typeof HTTPParser === 'function' && [HTTPParser.REQUEST, HTTPParser.kOnHeadersComplete, HTTPParser.kLenientAll, HTTPParser.kLenientNone].every((value) => typeof value === 'number');
    return usable ? HTTPParser : undefined;
  } catch {
    return undefined;
  }
})();

/** One parser serves every question: each is asked whole, in one synchronous call. */
let probe: Parser | undefined;
/** Whether the probe's current head was read to its end. */
let headRead = false;

/**
 * The parser's reason for refusing the first request head in `bytes` (`Invalid header token`,
 * `Duplicate Content-Length`…), or undefined when it reads it, or when `bytes` end before it has
 * either refused or read the head. What follows the head (a body, a next request) is not judged.
 */
export function firstHeadRefusal(bytes: Buffer): string | undefined {
  if (!ParserOfNode || bytes.length === 0) return undefined;
  if (!probe) {
    probe = new ParserOfNode();
    // No other callback is set: Node's parser skips a callback that is not a function.
    probe[ParserOfNode.kOnHeadersComplete] = (): number => {
      headRead = true;
      return 0;
    };
  }
  headRead = false;
  const lenient = deviceParserOptions.insecureHTTPParser ? ParserOfNode.kLenientAll : ParserOfNode.kLenientNone;
  probe.initialize(ParserOfNode.REQUEST, {}, limits.http1MaxRequestHeadBytes, lenient);
  let result: unknown;
  try {
    result = probe.execute(bytes);
  } catch {
    return undefined;
  }
  if (headRead || !(result instanceof Error)) return undefined;
  const { reason, code } = result as Error & { reason?: unknown; code?: unknown };
  return typeof reason === 'string' && reason.length > 0 ? reason : typeof code === 'string' ? code : 'refused';
}
