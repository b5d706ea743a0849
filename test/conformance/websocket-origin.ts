// A WebSocket origin for the conformance suite's real clients (OkHttp's WebSocket, the JDK's,
// Chromium): it echoes ("echo:" before a text, a binary as it came) and records, per connection,
// the upgrade request's head (its key left out: random in every run), every frame's shape as it
// arrived (opcode, FIN, RSV1, payload length: a proxy that re-frames or compresses again shows;
// listed after the messages), every message and the close it got. Frames are masked with random keys, so payloads are recorded
// as messages, not bytes. With `page`, a GET of /
// is answered with that HTML (a browser's page that opens the WebSocket). With `http2` (TLS only)
// it speaks h2 as well and allows WebSockets over it (RFC 8441: extended CONNECT, which Chromium
// uses on an h2 connection whose server allows it), recording the CONNECT stream's fields in order.

import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { createRequire } from 'node:module';
import type net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { WebSocket, WebSocketServer } from 'ws';
import { getOriginCa, tempDir } from '../helpers/lab.js';
import type { RecordingOrigin } from './differential.js';

/** ws's extension negotiation, which its ESM entry does not export. */
const wsInternals = createRequire(import.meta.url)('ws') as {
  PerMessageDeflate: new (options: { isServer: boolean; maxPayload?: number }) => { accept(offers: unknown[]): Record<string, unknown> };
  extension: { parse(header: string): Record<string, unknown[]>; format(extensions: Record<string, unknown>): string };
};

/** ws's server side over an already negotiated stream (not in @types/ws). */
type StreamWebSocket = WebSocket & { _extensions: Record<string, unknown>; _protocol: string; setSocket(socket: unknown, head: Buffer, options: object): void };

export async function startWebSocketOrigin(secure: boolean, page?: string, options: { http2?: boolean } = {}): Promise<RecordingOrigin> {
  const hostname = 'ws.example.test';
  const ca = getOriginCa();
  const caFile = path.join(tempDir('conformance-ws-origin-'), 'origin-ca.pem');
  fs.writeFileSync(caFile, ca.certPem);
  const leaf = ca.issueLeaf(hostname);
  const servePage = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    // No Date: the client's output would differ from run to run.
    res.sendDate = false;
    if (page !== undefined && req.url === '/') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(page);
    } else {
      res.statusCode = 404;
      res.end();
    }
  };
  const server = options.http2 ? http2.createSecureServer({ key: leaf.keyPem, cert: leaf.certPem, allowHTTP1: true, settings: { enableConnectProtocol: true } }, servePage as never)
    : secure ? https.createServer({ key: leaf.keyPem, cert: leaf.certPem }, servePage) : http.createServer(servePage);
  // The second protocol offered, so that a proxy answering on its own would show.
  const choose = (offered: Iterable<string>): string | false => [...offered][1] ?? false;
  // The frames' shapes are read off the bytes before ws reads them (its listeners come after).
  (server as http.Server).prependListener('upgrade', (_req: http.IncomingMessage, socket: net.Socket, head: Buffer) => tapFrames(socket, head, frameRecord()));
  const wss = new WebSocketServer({ server: server as http.Server, handleProtocols: choose });
  let lines: string[] = [];
  let open = 0;
  let wakeWhenClosed: Array<() => void> = [];
  const record = (line: string): void => { lines.push(line); };
  // Frame shapes per connection, in the order connections came; in the transcript after the
  // messages, since how frames and messages interleave depends on how TCP cut the bytes.
  let frames: string[][] = [];
  const frameRecord = (): ((line: string) => void) => {
    const list: string[] = [];
    frames.push(list);
    return (line) => { list.push(line); };
  };
  /** What close() ends besides ws's own: WebSockets over h2 streams, and h2 sessions. */
  const streamSockets = new Set<WebSocket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const echo = (ws: WebSocket): void => {
    open++;
    ws.on('message', (data: Buffer, binary) => {
      record(binary ? `binary ${data.toString('hex')}` : `text ${data.toString('utf8')}`);
      ws.send(binary ? data : `echo:${data.toString('utf8')}`, { binary });
    });
    ws.on('close', (code, reason) => {
      record(`close ${code} ${reason.toString('utf8')}`);
      open--;
      if (open === 0) for (const wake of wakeWhenClosed.splice(0)) wake();
    });
  };
  wss.on('connection', (ws, request) => {
    record(`${request.method} ${request.url} HTTP/${request.httpVersion}`);
    for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
      if (request.rawHeaders[i]!.toLowerCase() !== 'sec-websocket-key') record(`${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}`);
    }
    echo(ws);
  });
  if (options.http2) {
    // Node's compatibility layer answers a CONNECT stream 405 unless someone listens for 'connect':
    // a WebSocket over h2 is the 'stream' listener's.
    (server as http2.Http2SecureServer).on('connect', () => undefined);
    (server as http2.Http2SecureServer).on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
      if (headers[':method'] !== 'CONNECT') return;
      record(`CONNECT ${headers[':path']} HTTP/2 (${headers[':protocol']})`);
      for (let i = 0; i + 1 < rawHeaders.length; i += 2) record(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
      const offers = wsInternals.extension.parse(String(headers['sec-websocket-extensions'] ?? ''));
      const deflate = offers['permessage-deflate'] ? new wsInternals.PerMessageDeflate({ isServer: true }) : undefined;
      const accepted = deflate ? deflate.accept(offers['permessage-deflate']!) : undefined;
      const protocol = choose(String(headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean));
      stream.respond({ ':status': 200, ...(protocol ? { 'sec-websocket-protocol': protocol } : {}), ...(deflate ? { 'sec-websocket-extensions': wsInternals.extension.format({ 'permessage-deflate': [accepted] }) } : {}) });
      const ws = new WebSocket(null as never, undefined, {}) as StreamWebSocket;
      if (deflate) ws._extensions = { 'permessage-deflate': deflate };
      if (protocol) ws._protocol = protocol;
      tapFrames(stream, Buffer.alloc(0), frameRecord());
      ws.setSocket(stream, Buffer.alloc(0), { allowSynchronousEvents: true, maxPayload: 100 * 1024 * 1024, skipUTF8Validation: false });
      streamSockets.add(ws);
      ws.on('close', () => streamSockets.delete(ws));
      echo(ws);
    });
    (server as http2.Http2SecureServer).on('session', (session) => {
      sessions.add(session);
      session.on('close', () => sessions.delete(session));
    });
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    hostname,
    tls: secure,
    caPem: ca.certPem,
    caFile,
    transcript: () => [...lines, ...frames.flatMap((list, i) => [`frames of WebSocket ${i + 1}:`, ...list])].join('\n'),
    reset: async () => {
      lines = [];
      frames = [];
      wakeWhenClosed = [];
    },
    allClosed: () => (open === 0 && lines.length > 0 ? Promise.resolve() : new Promise<void>((resolve) => { wakeWhenClosed.push(resolve); })),
    close: () => new Promise<void>((resolve) => {
      for (const client of [...wss.clients, ...streamSockets]) client.terminate();
      wss.close();
      for (const session of sessions) session.destroy();
      if ('closeAllConnections' in server) server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const OPCODES: Record<number, string> = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

/**
 * Records the shape of each frame a client sends on `stream` (its first bytes `head`): opcode, FIN,
 * RSV1 (compressed) and payload length, as `frame text fin rsv1 12`. Reads only the frame heads,
 * across chunks; payloads are skipped.
 */
function tapFrames(stream: { on(event: 'data', listener: (chunk: Buffer) => void): unknown }, head: Buffer, record: (line: string) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  let skip = 0;
  const take = (chunk: Buffer): void => {
    let data: Buffer = chunk;
    for (;;) {
      if (skip > 0) {
        const skipped = Math.min(skip, data.length);
        skip -= skipped;
        data = data.subarray(skipped);
        if (skip > 0) return;
      }
      pending = pending.length > 0 ? Buffer.concat([pending, data]) : data;
      data = Buffer.alloc(0);
      if (pending.length < 2) return;
      const short = pending[1]! & 0x7f;
      const headLength = 2 + (short === 126 ? 2 : short === 127 ? 8 : 0) + (pending[1]! & 0x80 ? 4 : 0);
      if (pending.length < headLength) return;
      const length = short === 126 ? pending.readUInt16BE(2) : short === 127 ? Number(pending.readBigUInt64BE(2)) : short;
      const first = pending[0]!;
      record(`frame ${OPCODES[first & 0x0f] ?? `opcode-${first & 0x0f}`}${first & 0x80 ? ' fin' : ''}${first & 0x40 ? ' rsv1' : ''} ${length}`);
      skip = length;
      data = pending.subarray(headLength);
      pending = Buffer.alloc(0);
    }
  };
  if (head.length > 0) take(head);
  stream.on('data', take);
}
