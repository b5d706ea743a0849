// HTTP/2 header fields passed from one side to the other as they came. Node hands a stream's
// headers as an object in which a name sent twice is one value ("x-seen: one, two"; cookie crumbs
// joined with "; "), and sends an object's string as one field: relayed so, the server read one
// field where the device had sent two (found by the JDK's HttpClient, which sends a repeated
// header as separate fields). The raw list Node also hands over has every field; a repeated name
// goes on as an array, which Node sends as one field per value.
// A name that comes back after other names goes out where it came too: Node sends an object's keys
// in their order, lower-casing each as it goes, so each later run of the name is written under
// another case of it ("x-a", then "X-a"), and the server reads the fields in the device's order.
// Until 2026-12-07 they went out together, at the place of the first. Still changed: a name Node
// allows only once (content-type, :path, user-agent…) goes as Node kept it, and one that comes
// back more often than it has cases (a name of few letters) goes with its fields together.
// Hop-by-hop fields, which HTTP/2 forbids, are dropped.

import http2 from 'node:http2';

/** Connection-specific headers HTTP/2 forbids; Node refuses to send them. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'proxy-authorization', 'proxy-authenticate', 'host']);

/**
 * Headers that may cross to the other side (pseudo-headers included), from Node's header object,
 * with each repeated name of `raw` (Node's raw list: name, value, name, value…) as its fields.
 */
export function forwardable(headers: http2.IncomingHttpHeaders, raw?: readonly string[]): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  let repeated = false;
  // for-in, not Object.entries: no array of pairs for each of a request's two header sets. Node's
  // header objects have no prototype, and the symbol it adds (sensitive headers) is skipped by both.
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || !crosses(name, value)) continue;
    // Only a value Node could have joined is looked up in the raw list (most are not).
    const fields = raw && typeof value === 'string' && value.includes(name === 'cookie' ? '; ' : ', ') ? fieldsOf(raw, name) : undefined;
    if (fields) repeated = true;
    out[name] = fields ?? value;
  }
  // Node hands set-cookie as an array already, whatever the order of its fields: more than one
  // may have come back after other names too.
  const setCookie = headers['set-cookie'];
  if (raw && (repeated || (setCookie !== undefined && setCookie.length > 1))) return inRawOrder(raw) ?? out;
  return out;
}

/** Whether a field may cross to the other side: not hop-by-hop (`te` only as `trailers`). */
function crosses(name: string, value: string | string[]): boolean {
  if (HOP_BY_HOP.has(name)) return false;
  return name !== 'te' || String(value).toLowerCase() === 'trailers';
}

/**
 * The raw list as a header object Node sends in the same order: a run of one name's fields is an
 * array (sent one field per value), and a name that comes back after others goes under another
 * case of itself (caseVariant). Undefined when a name comes back more often than it has cases.
 */
function inRawOrder(raw: readonly string[]): http2.OutgoingHttpHeaders | undefined {
  const out: Record<string, string | string[]> = {};
  const runs = new Map<string, number>();
  let previous: string | undefined;
  let key = '';
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (!crosses(name, value)) continue;
    if (name === previous) {
      const sent = out[key]!;
      if (Array.isArray(sent)) sent.push(value);
      else out[key] = [sent, value];
      continue;
    }
    const run = runs.get(name) ?? 0;
    const variant = caseVariant(name, run);
    if (variant === undefined) return undefined;
    runs.set(name, run + 1);
    key = variant;
    out[key] = value;
    previous = name;
  }
  return out;
}

/**
 * The `n`th spelling of a lower-case name for a header object (0: the name itself): its letters
 * upper-cased as the bits of `n` say. Undefined past the last (a name of k letters has 2^k).
 */
export function caseVariant(name: string, n: number): string | undefined {
  if (n === 0) return name;
  const chars = [...name];
  let bits = n;
  for (let i = 0; i < chars.length && bits > 0; i++) {
    const c = chars[i]!;
    if (c < 'a' || c > 'z') continue;
    if (bits & 1) chars[i] = c.toUpperCase();
    bits >>>= 1;
  }
  return bits === 0 ? chars.join('') : undefined;
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
