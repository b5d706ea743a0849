// HTTP/2 header fields passed from one side to the other as they came. Node hands a stream's
// headers as an object in which a name sent twice is one value ("x-seen: one, two"; cookie crumbs
// joined with "; "), and sends an object's string as one field: relayed so, the server read one
// field where the device had sent two (found by the JDK's HttpClient, which sends a repeated
// header as separate fields). The raw list Node also hands over has every field; a repeated name
// goes on as an array, which Node sends as one field per value.
// Still changed: the fields of a repeated name go out together, at the place of its first (Node's
// API takes an object), and a name Node allows only once (content-type, :path, user-agent…) goes
// as Node kept it. Hop-by-hop fields, which HTTP/2 forbids, are dropped.

import http2 from 'node:http2';

/** Connection-specific headers HTTP/2 forbids; Node refuses to send them. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'proxy-authorization', 'proxy-authenticate', 'host']);

/**
 * Headers that may cross to the other side (pseudo-headers included), from Node's header object,
 * with each repeated name of `raw` (Node's raw list: name, value, name, value…) as its fields.
 */
export function forwardable(headers: http2.IncomingHttpHeaders, raw?: readonly string[]): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  // for-in, not Object.entries: no array of pairs for each of a request's two header sets. Node's
  // header objects have no prototype, and the symbol it adds (sensitive headers) is skipped by both.
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    if (name === 'te' && String(value).toLowerCase() !== 'trailers') continue;
    // Only a value Node could have joined is looked up in the raw list (most are not).
    out[name] = raw && typeof value === 'string' && value.includes(name === 'cookie' ? '; ' : ', ') ? fieldsOf(raw, name) ?? value : value;
  }
  return out;
}

/** The values of `name` in a raw list when it occurs more than once; else undefined. HTTP/2 names are lower case. */
export function fieldsOf(raw: readonly string[], name: string): string[] | undefined {
  let values: string[] | undefined;
  let first: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i] !== name) continue;
    if (first === undefined) first = raw[i + 1]!;
    else (values ??= [first]).push(raw[i + 1]!);
  }
  return values;
}

/** Whether Node refused headers because a name it allows once came as an array. */
function isSingleValueRefusal(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'ERR_HTTP2_HEADER_SINGLE_VALUE';
}

/**
 * Sends `headers` with `send`; where Node refuses a repeated name it allows only once, sends them
 * as Node merged them instead (what was relayed before repeated fields were kept).
 */
export function sendFields<T>(headers: http2.IncomingHttpHeaders, raw: readonly string[] | undefined, send: (fields: http2.OutgoingHttpHeaders) => T): T {
  try {
    return send(forwardable(headers, raw));
  } catch (error) {
    if (!raw || !isSingleValueRefusal(error)) throw error;
    return send(forwardable(headers));
  }
}
