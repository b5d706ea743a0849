// The upstream upgrade request's head, made the device's before it is sent (ws's finishRequest).
// ws writes a handshake of its own: the device's other headers first, then its Sec-WebSocket-Version,
// Connection, Upgrade and Sec-WebSocket-Protocol (the offers joined with "," where OkHttp had sent
// ", "), so the server read the device's upgrade reordered and reformatted (found by OkHttp's
// WebSocket in the conformance suite). Here the head becomes the device's fields in its order, with
// its names' case and its values, a repeated name as its lines (at the place of its first; Cookie
// lines joined with "; ", Node's rule for a repeated Cookie), except:
// - Sec-WebSocket-Key: ws's own, at the device's place. ws checks the server's Sec-WebSocket-Accept
//   against it; the device gets the accept for its own key from the device side's ws.
// - Sec-WebSocket-Extensions: ws's offer (the device's permessage-deflate parameters, which ws can
//   speak), at the device's place; an offer ws cannot speak is not sent.
// - Proxy-*: addressed to us.

import type http from 'node:http';

/** Fields whose value stays ws's, wherever the device put them: lower case, and as written where the device sent none. */
const WS_OWN = new Map([['sec-websocket-key', 'Sec-WebSocket-Key'], ['sec-websocket-extensions', 'Sec-WebSocket-Extensions']]);

export function setDeviceHead(request: http.ClientRequest, rawHeaders: readonly string[]): void {
  const own = new Map<string, ReturnType<http.ClientRequest['getHeader']>>();
  for (const name of WS_OWN.keys()) {
    const value = request.getHeader(name);
    if (value !== undefined) own.set(name, value);
  }
  for (const name of request.getHeaderNames()) request.removeHeader(name);
  const fields = new Map<string, { name: string; values: string[] }>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (lower.startsWith('proxy-')) continue;
    const field = fields.get(lower);
    if (field) field.values.push(rawHeaders[i + 1]!);
    else fields.set(lower, { name, values: [rawHeaders[i + 1]!] });
  }
  for (const [lower, { name, values }] of fields) {
    if (!WS_OWN.has(lower)) {
      request.setHeader(name, values.length === 1 ? values[0]! : values);
      continue;
    }
    const value = own.get(lower);
    own.delete(lower);
    if (value !== undefined) request.setHeader(name, value);
  }
  // What ws set and the device did not send (its key always comes: the relay refuses an upgrade without).
  for (const [lower, value] of own) request.setHeader(WS_OWN.get(lower)!, value!);
}
