// A WebSocket origin for the conformance suite's real clients (OkHttp's WebSocket, Chromium): it
// echoes ("echo:" before a text, a binary as it came) and records, per connection, the upgrade
// request's head (its key left out: random in every run), every message and the close it got.
// Frames are masked with random keys, so it records messages, not bytes. With `page`, a GET of /
// is answered with that HTML (a browser's page that opens the WebSocket).

import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { WebSocketServer } from 'ws';
import { getOriginCa, tempDir } from '../helpers/lab.js';
import type { RecordingOrigin } from './differential.js';

export async function startWebSocketOrigin(secure: boolean, page?: string): Promise<RecordingOrigin> {
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
  const server = secure ? https.createServer({ key: leaf.keyPem, cert: leaf.certPem }, servePage) : http.createServer(servePage);
  // The second protocol offered, so that a proxy answering on its own would show.
  const wss = new WebSocketServer({ server, handleProtocols: (offered) => [...offered][1] ?? false });
  let lines: string[] = [];
  let open = 0;
  let wakeWhenClosed: Array<() => void> = [];
  wss.on('connection', (ws, request) => {
    open++;
    const record = (line: string): void => { lines.push(line); };
    record(`${request.method} ${request.url} HTTP/${request.httpVersion}`);
    for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
      if (request.rawHeaders[i]!.toLowerCase() !== 'sec-websocket-key') record(`${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}`);
    }
    ws.on('message', (data: Buffer, binary) => {
      record(binary ? `binary ${data.toString('hex')}` : `text ${data.toString('utf8')}`);
      ws.send(binary ? data : `echo:${data.toString('utf8')}`, { binary });
    });
    ws.on('close', (code, reason) => {
      record(`close ${code} ${reason.toString('utf8')}`);
      open--;
      if (open === 0) for (const wake of wakeWhenClosed.splice(0)) wake();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    hostname,
    tls: secure,
    caPem: ca.certPem,
    caFile,
    transcript: () => lines.join('\n'),
    reset: async () => {
      lines = [];
      wakeWhenClosed = [];
    },
    allClosed: () => (open === 0 && lines.length > 0 ? Promise.resolve() : new Promise<void>((resolve) => { wakeWhenClosed.push(resolve); })),
    close: () => new Promise<void>((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
