// mockttp (HTTP Toolkit's interception engine) as a bench subject, in a process of its own so it
// can be pinned to one CPU and its memory is its own. Set up as HTTP Toolkit uses it to watch an
// app: every request and WebSocket passed through to the real server, HTTP/2 offered to clients that want it,
// and each request and response delivered to listeners with its body (up to 32 MB, phonehome's
// default body limit), not kept in mockttp's own history (recordTraffic off).
//   NODE_EXTRA_CA_CERTS=ORIGIN_CA_PEM node dist-bench/bench/mockttp-proxy.js PORT CA_DIR
// Writes CA_DIR/ca.pem (the CA a client must trust) before it listens.
// The origins' CA comes in through NODE_EXTRA_CA_CERTS, so upstream servers are trusted as public
// ones would be, by Node's default context: passthrough's additionalTrustedCAs builds a new TLS
// context per request (measured here: 8.7 ms of CPU per small request against 2.0 ms), a cost no
// user watching real servers pays.

import fs from 'node:fs';
import path from 'node:path';
import * as mockttp from 'mockttp';

const [portText, caDir] = process.argv.slice(2);
if (!portText || !caDir || !process.env['NODE_EXTRA_CA_CERTS']) {
  process.stderr.write('usage: NODE_EXTRA_CA_CERTS=ORIGIN_CA_PEM mockttp-proxy.js PORT CA_DIR\n');
  process.exit(2);
}

const ca = await mockttp.generateCACertificate({ subject: { commonName: 'phonehome bench mockttp CA' } });
fs.mkdirSync(caDir, { recursive: true });
fs.writeFileSync(path.join(caDir, 'ca.pem'), ca.cert);

const server = mockttp.getLocal({ https: { key: ca.key, cert: ca.cert }, http2: true, recordTraffic: false, maxBodySize: 32 * 1024 * 1024 });
await server.forAnyRequest().thenPassThrough();
// WebSockets have rules of their own (without one mockttp answers an upgrade 503).
await server.forAnyWebSocket().thenPassThrough();
// HTTP Toolkit's UI takes every exchange from these events; a listener makes mockttp build them.
let exchanges = 0;
await server.on('request', () => { exchanges++; });
await server.on('response', () => { exchanges++; });
// …and every WebSocket message (without a listener mockttp pipes a WebSocket's frames unread).
await server.on('websocket-message-received', () => { exchanges++; });
await server.on('websocket-message-sent', () => { exchanges++; });
await server.start(Number(portText));
process.stdout.write(`listening on ${server.port}\n`);

const stop = (): void => {
  void server.stop().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
