// A device that ends its side (a FIN) in the middle of a request's body. Direct, its server reads
// the body as far as it came, then the end, and answers as it will, or closes. Node's server
// calls it a parse error (HPE_INVALID_EOF_STATE), and the request it was reading stays open: until
// 2026-12-08 the device got a 400 of ours where its server might have said something else, and
// the server's request was never ended, its connection held open after the device had gone.
//
// Here the request ends where the device's bytes did: its relay ends the server's request with
// the bytes that came and nothing after them (endCutShort: a chunked body gets no last chunk), so
// that the server connection's writing side ends after it (ConnectionAgent.endWritingAfterRequests),
// and the server reads what it would direct. The flow is tagged `client:ended-mid-request`.
// Its answer still goes to the device, whose connection then ends, as Node ends one after a clean
// end (the last answer is marked `_last`).

import type http from 'node:http';
import type { Duplex } from 'node:stream';

const cutShort = new WeakSet<http.IncomingMessage>();

/** What Node's server leaves on a connection's socket that this reads: its parser's current request, and the answer being written. */
interface ServerSocketInternals {
  parser?: { incoming?: http.IncomingMessage | null } | null;
  _httpMessage?: (http.ServerResponse & { _last?: boolean }) | null;
}

/**
 * For a parse error on `socket`: when it is the device's end in the middle of a request's body,
 * that request ends there, its answer (or the one already written) closes the connection, and
 * true is returned; nothing is to be answered. False for any other error, or when an earlier
 * request's answer is still being written (pipelined: the error is answered as before).
 */
export function endRequestWhereDeviceEnded(err: NodeJS.ErrnoException, socket: Duplex): boolean {
  if (err.code !== 'HPE_INVALID_EOF_STATE') return false;
  const internals = socket as Duplex & ServerSocketInternals;
  const request = internals.parser?.incoming;
  if (!request || request.complete || request.readableEnded || request.destroyed) return false;
  const answering = internals._httpMessage;
  if (answering && answering.req !== request) return false;
  // Node destroys a request that ends before it is complete, and its connection with it (the
  // answer still to come would be lost): this one ends, and stays.
  (request as http.IncomingMessage & { _readableState: { autoDestroy: boolean } })._readableState.autoDestroy = false;
  cutShort.add(request);
  request.push(null);
  if (answering) answering._last = true;
  else if (socket.writable) socket.end();
  return true;
}

/** Whether `request` ended where its device ended its side, before the body it announced was whole. */
export function endedWhereDeviceEnded(request: http.IncomingMessage): boolean {
  return cutShort.has(request);
}

/**
 * Ends the server's request after the bytes of a body its device cut short, with nothing that
 * would make that body look whole: no last chunk (`0`) on a chunked one. The server reads the end
 * once they are written (ConnectionAgent.endWritingAfterRequests), as direct.
 */
export function endCutShort(upstream: http.ClientRequest): void {
  if (upstream.destroyed) return;
  (upstream as http.ClientRequest & { chunkedEncoding: boolean }).chunkedEncoding = false;
  upstream.end();
}
