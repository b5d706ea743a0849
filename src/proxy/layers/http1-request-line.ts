// Whether a connection's first bytes are an HTTP/1 request line that Node's parser (llhttp) reads
// as the device wrote it. The HTTP/1 layer parses each request and writes it again upstream, so
// what the parser misreads or refuses changes what the server gets:
//   - an RTSP camera's or player's first request, `OPTIONS rtsp://cam/stream RTSP/1.0`, was read
//     as HTTP (llhttp knows OPTIONS, and takes RTSP/1.0 for a version), went on as
//     `OPTIONS /stream HTTP/1.0`, and the camera's `RTSP/1.0 200 OK` could not be read back: the
//     player got nothing;
//   - a method the parser does not know (`BREW`, an app's own verb) got a 400 of ours, where the
//     server answers it;
//   - a version other than 1.0 and 1.1 (`HTTP/1.2`), read leniently, went on as HTTP/1.1;
//   - a request target with raw bytes above 0x7F (firmware that writes a UTF-8 path as it is) or
//     a DEL got a 400 of ours: llhttp refuses them even when lenient.
// Such a connection is relayed as a byte stream instead, as it is, and captured (raw-layer.ts).
// Pure; the parser's methods are Node's own list (http.METHODS). CONNECT is left out: on a
// connection whose destination is known it is a device talking to a proxy of its own beyond us,
// whose tunnel is relayed as it is.

import http from 'node:http';

const PARSER_METHODS: ReadonlySet<string> = new Set(http.METHODS.filter((method) => method !== 'CONNECT'));
const LONGEST_METHOD = Math.max(...[...PARSER_METHODS].map((method) => method.length));

/** The rest of the line after the method: a request target of visible ASCII, and one of the versions the layer relays. */
const TARGET_AND_VERSION = /^ [\x21-\x7e]+ HTTP\/1\.[01]\r?$/;

/**
 * `http1`: a request line the HTTP/1 layer relays faithfully (a method the parser knows, and
 * HTTP/1.0 or 1.1 when the line's end has come); `other`: not one; `too-short`: not enough yet to
 * tell (no space after a method it could still be).
 */
export function readRequestLine(bytes: Buffer): 'http1' | 'other' | 'too-short' {
  // Empty lines before a request are read past (RFC 9112 section 2.2; llhttp does).
  let start = 0;
  while (start < bytes.length && (bytes[start] === 0x0d || bytes[start] === 0x0a)) start++;
  const first = start === 0 ? bytes : bytes.subarray(start);
  const space = first.indexOf(0x20);
  if (space < 0) {
    if (first.length > LONGEST_METHOD) return 'other';
    const start = first.toString('latin1');
    return [...PARSER_METHODS].some((method) => method.startsWith(start)) ? 'too-short' : 'other';
  }
  if (!PARSER_METHODS.has(first.toString('latin1', 0, space))) return 'other';
  const end = first.indexOf(0x0a, space);
  // The version comes at the line's end, which may be in a later chunk: the method decides alone.
  if (end < 0) return 'http1';
  return TARGET_AND_VERSION.test(first.toString('latin1', space, end)) ? 'http1' : 'other';
}
